// The module executor against a fake module host on 127.0.0.1 (tests/fakes/module_server): the
// signed request, every failure kind, sequential and parallel execution, and the Lambda and
// OpenWhisk wire forms. Order is observed through the fake's start/end marks, never by timing.

#include <algorithm>
#include <chrono>
#include <exception>
#include <regex>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "crypto/encoding.hpp"
#include "crypto/module_signature.hpp"
#include "crypto/sigv4.hpp"
#include "error/error.hpp"
#include "fakes/module_server.hpp"
#include "model/event.hpp"
#include "net/http_client.hpp"
#include "router/executor.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;
using waddle::fakes::ModuleBehaviour;
using waddle::fakes::ModuleScenario;
using waddle::fakes::ModuleServer;
using waddle::fakes::RecordedModuleRequest;
using waddle::router::build_module_request;
using waddle::router::Executor;
using waddle::router::ExecutorOptions;
using waddle::router::ModuleRequestContext;
using waddle::router::ModuleResult;
using waddle::router::ModuleTarget;

// Upper bound on each test's run; the tests never measure time.
constexpr auto kTestBound = 30s;
// 2026-01-01T12:00:00Z: the executor's pinned clock.
constexpr std::int64_t kNow = 1767268800;
constexpr char kSecret[] = "whsec_test_secret";

std::chrono::system_clock::time_point pinned_now() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
}

waddle::model::Event sample_event() {
  return waddle::model::parse_event(json::parse(R"({
    "event_id": "twitch:abc123",
    "platform": "twitch",
    "message_type": "chatMessage",
    "entity_id": "twitch:channel:waddlebot",
    "user": {"id": "123", "name": "alice", "display_name": "Alice",
             "roles": ["moderator", "subscriber"]},
    "message": "!so bob loud",
    "timestamp": "2026-01-01T12:00:00Z"
  })"));
}

ModuleRequestContext sample_context() {
  ModuleRequestContext context;
  context.session_id = "sess_01";
  context.execution_id = "exec_01";
  context.community_id = 42;
  context.community_name = "Waddlers";
  context.community_role = "moderator";
  context.reputation = 650;
  context.trigger = "command";
  context.prefix = "!";
  context.command = "so";
  context.args = {"bob", "loud"};
  context.raw_args = "bob loud";
  context.event = sample_event();
  context.config = json{{"greeting", "hi"}};
  return context;
}

// Each test's world: a fake module host, a client and an executor on one single-threaded
// io_context. Members are destroyed before the io_context.
struct World {
  asio::io_context io;
  ModuleServer modules{io, 5s};
  waddle::net::HttpClient client{io.get_executor()};
  Executor executor{io.get_executor(), client, options()};

  ExecutorOptions options() {
    ExecutorOptions o;
    o.now = pinned_now;
    o.lambda_endpoint = modules.base_url();
    return o;
  }

  ModuleTarget container(const std::string& key, int priority = 100,
                         std::string mode = "sequential") {
    ModuleTarget t;
    t.command_id = priority;
    t.name = key;
    t.type = "container";
    t.url = modules.module_url(key);
    t.timeout = 5s;
    t.priority = priority;
    t.execution_mode = std::move(mode);
    t.secret = kSecret;
    return t;
  }

  // Runs `body` to completion on the io_context, bounded by kTestBound.
  template <typename Coroutine>
  void run(Coroutine body) {
    bool done = false;
    std::exception_ptr failure;
    io.restart();  // a previous run() stopped it
    asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
      failure = e;
      done = true;
      io.stop();
    });
    io.run_for(kTestBound);
    REQUIRE(done);
    if (failure) std::rethrow_exception(failure);
  }

  ModuleResult call(const ModuleTarget& target, const json& body) {
    ModuleResult result;
    run([&]() -> asio::awaitable<void> { result = co_await executor.call(target, body); });
    return result;
  }

  std::vector<ModuleResult> run_all(std::vector<ModuleTarget> targets) {
    std::vector<ModuleResult> results;
    Executor::RequestBuilder builder = [](const ModuleTarget& target) {
      ModuleRequestContext context = sample_context();
      context.execution_id = "exec_" + target.name;
      return build_module_request(context);
    };
    run([&]() -> asio::awaitable<void> {
      results = co_await executor.run_all(std::move(targets), builder);
    });
    return results;
  }
};

// A port on 127.0.0.1 with nobody listening (bound once, then closed).
std::uint16_t closed_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

const ModuleResult& result_named(const std::vector<ModuleResult>& results,
                                 const std::string& execution_id) {
  auto it = std::find_if(results.begin(), results.end(),
                         [&](const ModuleResult& r) { return r.execution_id == execution_id; });
  REQUIRE(it != results.end());
  return *it;
}

}  // namespace

TEST_CASE("build_module_request carries every field of DESIGN.md 2.3") {
  const json body = build_module_request(sample_context());
  for (const char* key :
       {"session_id", "execution_id", "entity_id", "community", "platform", "user", "trigger",
        "prefix", "command", "args", "raw_args", "message", "message_type", "event", "config"}) {
    INFO(key);
    CHECK(body.contains(key));
  }
  CHECK(body.size() == 15);
  CHECK(body["community"] == json{{"id", 42}, {"name", "Waddlers"}});
  CHECK(body["user"] == json{{"id", "123"},
                             {"name", "alice"},
                             {"display_name", "Alice"},
                             {"roles", {"moderator", "subscriber"}},
                             {"community_role", "moderator"},
                             {"reputation", 650}});
  CHECK(body["entity_id"] == "twitch:channel:waddlebot");
  CHECK(body["args"] == json{"bob", "loud"});
  CHECK(body["raw_args"] == "bob loud");
  CHECK(body["message"] == "!so bob loud");
  CHECK(body["message_type"] == "chatMessage");
  CHECK(body["event"] == waddle::model::to_json(sample_event()));
  CHECK(body["config"] == json{{"greeting", "hi"}});

  ModuleRequestContext bad = sample_context();
  bad.trigger = "cron";
  CHECK_THROWS_WITH(build_module_request(bad), Catch::Contains("trigger"));
  bad = sample_context();
  bad.config = json::array();
  CHECK_THROWS_WITH(build_module_request(bad), Catch::Contains("config"));
}

TEST_CASE("container call: signed request over the exact body, actions parsed") {
  World world;
  const json body = build_module_request(sample_context());
  const ModuleResult result = world.call(world.container("greeter"), body);

  CHECK(result.status == "success");
  CHECK(result.error.empty());
  CHECK(result.http_status == 200);
  CHECK(result.execution_id == "exec_01");
  REQUIRE(result.actions.size() == 1);
  CHECK(std::get<waddle::model::ChatAction>(result.actions[0]).text == "hello from greeter");

  const auto received = world.modules.request_for("greeter");
  REQUIRE(received);
  CHECK(received->method == "POST");
  CHECK(received->header("Content-Type") == "application/json");
  const auto timestamp = received->header("X-Waddle-Timestamp");
  const auto signature = received->header("X-Waddle-Signature");
  REQUIRE(timestamp);
  REQUIRE(signature);
  CHECK(*timestamp == std::to_string(kNow));
  CHECK(waddle::crypto::verify_module_signature(kSecret, *timestamp, *signature, received->body,
                                                kNow) == waddle::crypto::SignatureCheck::ok);
  CHECK(waddle::crypto::verify_module_signature("another secret", *timestamp, *signature,
                                                received->body,
                                                kNow) == waddle::crypto::SignatureCheck::mismatch);
  // The body on the wire is the module request, every field included.
  CHECK(json::parse(received->body) == body);
}

TEST_CASE("every failure kind is recorded while the other modules still run") {
  World world;
  world.modules.set("accepted", {ModuleScenario::accepted});
  world.modules.set("broken", {ModuleScenario::server_error});
  world.modules.set("garbled", {ModuleScenario::invalid_json});
  world.modules.set("sloppy", {ModuleScenario::invalid_actions});
  world.modules.set("sleepy", {ModuleScenario::hang});

  ModuleTarget refused = world.container("refused", 6);
  refused.url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/modules/refused";
  ModuleTarget sleepy = world.container("sleepy", 5);
  sleepy.timeout = 300ms;
  ModuleTarget unsigned_module = world.container("unsigned", 8);
  unsigned_module.secret.clear();
  ModuleTarget mystery = world.container("mystery", 9);
  mystery.type = "carrier-pigeon";

  // Given out of order on purpose: the results come back in priority order.
  const auto results = world.run_all(
      {world.container("last_ok", 10), mystery, unsigned_module, world.container("first_ok", 0),
       world.container("accepted", 1), world.container("broken", 2), world.container("garbled", 3),
       world.container("sloppy", 4), sleepy, refused});
  REQUIRE(results.size() == 10);
  for (std::size_t i = 1; i < results.size(); ++i) {
    CHECK(results[i - 1].command_id < results[i].command_id);
  }

  const auto& first_ok = result_named(results, "exec_first_ok");
  CHECK(first_ok.status == "success");
  CHECK(first_ok.actions.size() == 1);
  const auto& last_ok = result_named(results, "exec_last_ok");
  CHECK(last_ok.status == "success");
  CHECK(last_ok.actions.size() == 1);

  const auto& accepted = result_named(results, "exec_accepted");
  CHECK(accepted.status == "accepted");
  CHECK(accepted.http_status == 202);
  CHECK(accepted.error.empty());

  const auto& broken = result_named(results, "exec_broken");
  CHECK(broken.status == "failed");
  CHECK(broken.http_status == 500);
  CHECK_THAT(broken.error, Catch::Contains("broken") && Catch::Contains("HTTP 500") &&
                               Catch::Contains("module exploded"));

  const auto& garbled = result_named(results, "exec_garbled");
  CHECK(garbled.status == "failed");
  CHECK_THAT(garbled.error, Catch::Contains("not valid JSON"));
  CHECK(garbled.response_json.is_null());

  const auto& sloppy = result_named(results, "exec_sloppy");
  CHECK(sloppy.status == "failed");
  CHECK_THAT(sloppy.error, Catch::Contains("actions[0].text"));

  const auto& timed_out = result_named(results, "exec_sleepy");
  CHECK(timed_out.status == "timeout");
  CHECK(timed_out.http_status == 0);
  CHECK_THAT(timed_out.error, Catch::Contains("sleepy"));

  const auto& no_listener = result_named(results, "exec_refused");
  CHECK(no_listener.status == "failed");
  CHECK(no_listener.http_status == 0);
  CHECK_THAT(no_listener.error, Catch::Contains("refused"));

  const auto& unsigned_result = result_named(results, "exec_unsigned");
  CHECK(unsigned_result.status == "failed");
  CHECK_THAT(unsigned_result.error, Catch::Contains("signing secret"));

  const auto& mystery_result = result_named(results, "exec_mystery");
  CHECK(mystery_result.status == "failed");
  CHECK_THAT(mystery_result.error, Catch::Contains("carrier-pigeon"));

  // Neither the unsigned nor the unknown-type module was sent anything.
  CHECK_FALSE(world.modules.request_for("unsigned"));
  CHECK_FALSE(world.modules.request_for("mystery"));
}

TEST_CASE("a hanging module is cut at its timeout, before it answers") {
  World world;
  world.modules.set("sleepy", {ModuleScenario::hang});
  ModuleTarget sleepy = world.container("sleepy");
  sleepy.timeout = 200ms;
  const ModuleResult result = world.call(sleepy, build_module_request(sample_context()));
  CHECK(result.status == "timeout");
  CHECK_THAT(result.error, Catch::Contains("timed out"));
  // The result came back while the module was still sleeping: its request has no end mark yet.
  const auto received = world.modules.request_for("sleepy");
  REQUIRE(received);
  CHECK(received->end_mark == 0);
}

TEST_CASE("sequential modules run one after another in priority order") {
  World world;
  // A delay makes each request stay open for a while, so an overlapping run would show.
  world.modules.set("a", {ModuleScenario::actions, nullptr, 100ms});
  world.modules.set("b", {ModuleScenario::actions, nullptr, 100ms});
  world.modules.set("c", {ModuleScenario::actions, nullptr, 100ms});
  const auto results =
      world.run_all({world.container("c", 30), world.container("a", 10), world.container("b", 20)});
  REQUIRE(results.size() == 3);
  CHECK(results[0].execution_id == "exec_a");
  CHECK(results[1].execution_id == "exec_b");
  CHECK(results[2].execution_id == "exec_c");
  for (const auto& r : results) CHECK(r.status == "success");

  const auto a = world.modules.request_for("a");
  const auto b = world.modules.request_for("b");
  const auto c = world.modules.request_for("c");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->end_mark < b->start_mark);
  CHECK(b->end_mark < c->start_mark);
}

TEST_CASE("parallel modules overlap, beside the sequential chain") {
  World world;
  // Each parallel module answers only once both have arrived (504 otherwise).
  ModuleBehaviour meet{ModuleScenario::rendezvous};
  meet.rendezvous_count = 2;
  world.modules.set("p1", meet);
  world.modules.set("p2", meet);
  const auto results =
      world.run_all({world.container("p2", 20, "parallel"), world.container("s", 5),
                     world.container("p1", 10, "parallel")});
  REQUIRE(results.size() == 3);
  CHECK(results[0].execution_id == "exec_s");
  CHECK(results[1].execution_id == "exec_p1");
  CHECK(results[2].execution_id == "exec_p2");
  for (const auto& r : results) {
    INFO(r.execution_id << ": " << r.error);
    CHECK(r.status == "success");
  }
  const auto p1 = world.modules.request_for("p1");
  const auto p2 = world.modules.request_for("p2");
  REQUIRE(p1);
  REQUIRE(p2);
  CHECK(p1->start_mark < p2->end_mark);
  CHECK(p2->start_mark < p1->end_mark);
}

TEST_CASE("lambda: Invoke path, SigV4 Authorization and the function's answer") {
  World world;
  const std::string function = "arn:aws:lambda:eu-west-1:123456789012:function:greeter";
  ModuleTarget target;
  target.command_id = 7;
  target.name = "greeter";
  target.type = "lambda";
  target.url = function;
  target.timeout = 5s;
  target.aws_access_key_id = "AKIDEXAMPLE";
  target.aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  target.aws_session_token = "session-token-example";
  const json body = build_module_request(sample_context());
  world.modules.set(function, {ModuleScenario::actions,
                               json::array({{{"type", "ticker"}, {"text", "from lambda"}}})});

  const ModuleResult result = world.call(target, body);
  CHECK(result.status == "success");
  REQUIRE(result.actions.size() == 1);
  CHECK(std::get<waddle::model::TickerAction>(result.actions[0]).text == "from lambda");

  const auto received = world.modules.request_for(function);
  REQUIRE(received);
  CHECK(received->method == "POST");
  CHECK(received->target ==
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Agreeter/"
        "invocations");
  CHECK(received->header("X-Amz-Date") == "20260101T120000Z");
  CHECK(received->header("X-Amz-Security-Token") == "session-token-example");
  CHECK(json::parse(received->body) == body);
  const auto authorization = received->header("Authorization");
  REQUIRE(authorization);
  const std::regex shape(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/lambda/aws4_request, "
      "SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}");
  CHECK(std::regex_match(*authorization, shape));

  // Recompute the signature over what the fake received.
  waddle::crypto::SigV4Request resigned;
  resigned.method = received->method;
  resigned.host = received->header("Host").value_or("");
  resigned.path = received->target;
  for (const char* name : {"Host", "Content-Type", "X-Amz-Invocation-Type"}) {
    const auto value = received->header(name);
    REQUIRE(value);
    resigned.headers.emplace_back(name, *value);
  }
  resigned.body = received->body;
  const auto expected = waddle::crypto::sigv4_sign(
      resigned, {target.aws_access_key_id, target.aws_secret_access_key, target.aws_session_token},
      "eu-west-1", "lambda", "20260101T120000Z");
  const auto expected_authorization =
      std::find_if(expected.begin(), expected.end(),
                   [](const auto& header) { return header.first == "Authorization"; });
  REQUIRE(expected_authorization != expected.end());
  CHECK(*authorization == expected_authorization->second);
}

TEST_CASE("lambda: a function error and a missing region are failures that say so") {
  World world;
  ModuleTarget target;
  target.name = "crasher";
  target.type = "lambda";
  target.url = "crasher";
  target.aws_region = "us-east-1";
  target.aws_access_key_id = "AKIDEXAMPLE";
  target.aws_secret_access_key = "secret";
  world.modules.set("crasher", {ModuleScenario::lambda_function_error});
  const json body = build_module_request(sample_context());

  const ModuleResult crashed = world.call(target, body);
  CHECK(crashed.status == "failed");
  CHECK_THAT(crashed.error, Catch::Contains("Unhandled") && Catch::Contains("greeter crashed"));
  const auto received = world.modules.request_for("crasher");
  REQUIRE(received);
  CHECK(received->target == "/2015-03-31/functions/crasher/invocations");

  target.aws_region.clear();
  const ModuleResult no_region = world.call(target, body);
  CHECK(no_region.status == "failed");
  CHECK_THAT(no_region.error, Catch::Contains("region"));
}

TEST_CASE("openwhisk: blocking invoke with basic auth") {
  World world;
  ModuleTarget target;
  target.command_id = 3;
  target.name = "hello";
  target.type = "openwhisk";
  target.url = world.modules.base_url();
  target.openwhisk_namespace = "guest";
  target.openwhisk_auth = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2";
  target.timeout = 5s;
  const json body = build_module_request(sample_context());

  const ModuleResult result = world.call(target, body);
  CHECK(result.status == "success");
  CHECK(result.actions.size() == 1);
  const auto received = world.modules.request_for("hello");
  REQUIRE(received);
  CHECK(received->target == "/api/v1/namespaces/guest/actions/hello?blocking=true&result=true");
  CHECK(received->header("Authorization") ==
        "Basic " + waddle::crypto::base64_encode(target.openwhisk_auth));
  CHECK(json::parse(received->body) == body);

  target.openwhisk_auth = "no-colon";
  const ModuleResult bad_auth = world.call(target, body);
  CHECK(bad_auth.status == "failed");
  CHECK_THAT(bad_auth.error, Catch::Contains("user:password"));
}

TEST_CASE("the worked example in docs/module-protocol.md is what the code computes") {
  // Keep these two strings identical to the ones in the document.
  const std::string documented_body =
      R"({"args":["bob","loud"],"command":"so","community":{"id":42,"name":"Waddlers"},)"
      R"("config":{"greeting":"hi"},"entity_id":"twitch:channel:waddlebot","event":{"amount":0,)"
      R"("channel_id":"waddlebot","entity_id":"twitch:channel:waddlebot","event_id":)"
      R"("twitch:abc123","message":"!so bob loud","message_type":"chatMessage","metadata":{},)"
      R"("platform":"twitch","server_id":"channel","timestamp":"2026-01-01T12:00:00Z","user":)"
      R"({"display_name":"Alice","id":"123","name":"alice","roles":["moderator","subscriber"]}},)"
      R"("execution_id":"exec_01","message":"!so bob loud","message_type":"chatMessage",)"
      R"("platform":"twitch","prefix":"!","raw_args":"bob loud","session_id":"sess_01",)"
      R"("trigger":"command","user":{"community_role":"moderator","display_name":"Alice","id":)"
      R"("123","name":"alice","reputation":650,"roles":["moderator","subscriber"]}})";
  const std::string documented_signature =
      "sha256=72923a4e00d13884aff50a6030393d011b4c98682c3dbd926d4f1d60c767484d";

  CHECK(build_module_request(sample_context()).dump() == documented_body);
  CHECK(waddle::crypto::module_signature("whsec_example", "1767268800", documented_body) ==
        documented_signature);

  // And the executor puts exactly these bytes and headers on the wire.
  World world;
  ModuleTarget target = world.container("example");
  target.secret = "whsec_example";
  world.call(target, build_module_request(sample_context()));
  const auto received = world.modules.request_for("example");
  REQUIRE(received);
  CHECK(received->body == documented_body);
  CHECK(received->header("X-Waddle-Timestamp") == "1767268800");
  CHECK(received->header("X-Waddle-Signature") == documented_signature);
}
