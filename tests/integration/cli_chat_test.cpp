// `waddle send` and `waddle chat` against a loopback stand-in for the router's POST
// /router/events (the contract in DESIGN.md §2.1 and docs/cli/chat.md): it checks the key,
// parses each event with the router's own strict parser, records it and answers fixed actions.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include "model/event.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "support/cli_checks.hpp"

using namespace waddle::test;
namespace net = waddle::net;

namespace {

const std::string kKey = "wdl_testtest_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

nlohmann::json error_body(const std::string& code, const std::string& message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

nlohmann::json execution(const std::string& module, const std::string& command,
                         const std::string& status, const std::string& error = "") {
  return {{"execution_id", "ex-" + module},
          {"module", module},
          {"command", command},
          {"status", status},
          {"error", error}};
}

// The actions every message gets back, by its text.
nlohmann::json reply_for(const nlohmann::json& event) {
  nlohmann::json reply{{"session_id", "sess-1"},
                       {"event_id", event["event_id"]},
                       {"duplicate", false},
                       {"community", {{"id", 1}, {"name", "demo"}}},
                       {"actions", nlohmann::json::array()},
                       {"executions", nlohmann::json::array()}};
  const std::string message = event["message"];
  if (message == "!ping") {
    reply["actions"].push_back({{"type", "chat"}, {"text", "pong"}});
    reply["executions"].push_back(execution("ping", "!ping", "success"));
  } else if (message.rfind("!quote", 0) == 0) {
    reply["actions"].push_back({{"type", "chat"}, {"text", "quote #1: waddle on"}});
    reply["executions"].push_back(execution("quotes", "!quote", "success"));
  } else if (message == "!show") {
    reply["actions"] = nlohmann::json::array(
        {{{"type", "chat"}, {"text", "two\nlines\x1b[31m"}},
         {{"type", "ticker"}, {"text", "Hype!"}, {"duration", 10}, {"priority", "high"}},
         {{"type", "media"},
          {"media_type", "music"},
          {"media_url", "https://media.example/song.mp3"},
          {"title", "Song"},
          {"artist", "Band"}},
         {{"type", "general"}, {"content_type", "html"}, {"content", "<b>Big</b>\n news"}},
         {{"type", "form"},
          {"title", "Sign up"},
          {"fields", {{{"name", "email"}, {"type", "email"}}}},
          {"submit_url", "https://forms.example/submit"}}});
    reply["executions"] =
        nlohmann::json::array({execution("show", "!show", "success"),
                               execution("quotes", "!show", "failed", "connection refused"),
                               execution("slow", "!show", "timeout", "")});
  } else if (message == "!dup") {
    reply["duplicate"] = true;
  }
  return reply;
}

// The router's side of POST /router/events on 127.0.0.1, on its own thread.
class FakeRouter {
 public:
  FakeRouter() {
    net::Router router;
    router.add("POST", "/router/events",
               [this](net::Request& req) -> boost::asio::awaitable<net::Response> {
                 co_return handle(req);
               });
    router.add("POST", "/router/modules/register",
               [this](net::Request& req) -> boost::asio::awaitable<net::Response> {
                 std::lock_guard lock(mutex_);
                 if (req.header("X-API-Key").value_or("") != kKey) {
                   co_return net::json_response(401,
                                                error_body("unauthenticated", "invalid API key"));
                 }
                 registrations_.push_back(nlohmann::json::parse(req.body));
                 co_return net::json_response(200, {{"registered", true}});
               });
    server_ = std::make_unique<net::HttpServer>(io_, std::move(router), net::ServerOptions{});
    port_ = server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeRouter() {
    io_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<nlohmann::json> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<std::string> keys() const {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  std::vector<nlohmann::json> registrations() const {
    std::lock_guard lock(mutex_);
    return registrations_;
  }

 private:
  net::Response handle(const net::Request& req) {
    std::lock_guard lock(mutex_);
    keys_.emplace_back(req.header("X-API-Key").value_or("<none>"));
    if (keys_.back() != kKey) {
      return net::json_response(401, error_body("unauthenticated", "invalid API key"));
    }
    if (req.header("Content-Type").value_or("") != "application/json") {
      return net::json_response(400, error_body("invalid_argument", "expected JSON"));
    }
    nlohmann::json event;
    try {
      event = nlohmann::json::parse(req.body);
      (void)waddle::model::parse_event(event);
    } catch (const std::exception& e) {
      return net::json_response(400, error_body("invalid_argument", e.what()));
    }
    events_.push_back(event);
    if (event["entity_id"] != "console:local:demo") {
      return net::json_response(
          404, error_body("not_found",
                          "unknown entity '" + event["entity_id"].get<std::string>() + "'"));
    }
    if (event["message"] == "!toolong") {
      return net::json_response(400, error_body("invalid_argument", "message: too long"));
    }
    if (event["message"] == "!boom") return net::text_response(500, "internal\nfailure");
    return net::json_response(200, reply_for(event));
  }

  boost::asio::io_context io_;
  std::unique_ptr<net::HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<nlohmann::json> events_;
  std::vector<std::string> keys_;
  std::vector<nlohmann::json> registrations_;
};

// A port on 127.0.0.1 nobody listens on (bound, then released).
std::uint16_t closed_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

// Runs waddle with a private HOME and no router/key settings from the caller's environment.
struct Cli {
  TempDir home;
  EnvList env{{"HOME", home.path()},
              {"XDG_CONFIG_HOME", ""},
              {"WADDLE_ROUTER_URL", ""},
              {"WADDLE_API_KEY", ""},
              {"USER", "tester"}};

  ProcessResult run(const std::vector<std::string>& args, const std::string& stdin_text = {},
                    const EnvList& extra = {}) const {
    std::vector<std::string> argv{waddle_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    EnvList all = env;
    all.insert(all.end(), extra.begin(), extra.end());
    return run_process(argv, all, stdin_text, std::chrono::seconds(60));
  }
};

std::vector<std::string> send_args(const FakeRouter& router, std::vector<std::string> rest) {
  std::vector<std::string> args{"send", "--router", router.url(), "--entity", "console:local:demo"};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

const EnvList kWithKey = {{"WADDLE_API_KEY", kKey}};

void refused_line(const ProcessResult& r, int status, const std::string& what) {
  INFO("stderr: " << r.err << "stdout: " << r.out);
  waddle::test::check_refused(r, status, what);
}

}  // namespace

TEST_CASE("send posts one normalised event with the API key and prints the chat answer") {
  FakeRouter router;
  Cli cli;
  auto r = cli.run(send_args(router, {"--user", "alice", "--user-id", "42", "--role", "moderator",
                                      "--role", "vip,subscriber", "!ping"}),
                   {}, kWithKey);
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(r.out == "pong\n");
  CHECK(r.err.empty());

  auto events = router.events();
  REQUIRE(events.size() == 1);
  auto e = events[0];
  std::vector<std::string> keys;
  for (const auto& [k, v] : e.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"amount", "channel_id", "entity_id", "event_id", "message",
                                         "message_type", "metadata", "platform", "server_id",
                                         "timestamp", "user"});
  CHECK(std::regex_match(e["event_id"].get<std::string>(), std::regex("^console:[0-9a-f]{32}$")));
  CHECK(e["platform"] == "console");
  CHECK(e["message_type"] == "chatMessage");
  CHECK(e["entity_id"] == "console:local:demo");
  CHECK(e["server_id"] == "local");
  CHECK(e["channel_id"] == "demo");
  CHECK(e["user"] == nlohmann::json{{"id", "42"},
                                    {"name", "alice"},
                                    {"display_name", "alice"},
                                    {"roles", {"moderator", "vip", "subscriber"}}});
  CHECK(e["message"] == "!ping");
  CHECK(e["amount"] == 0);
  CHECK(e["metadata"] == nlohmann::json::object());
  std::string ts = e["timestamp"];
  CHECK(waddle::model::is_rfc3339(ts));
  CHECK(ts.back() == 'Z');
  CHECK(router.keys() == std::vector<std::string>{kKey});

  // Several words make one message; the user id defaults to the name; other message types.
  REQUIRE(
      cli.run(send_args(router, {"--user", "bob", "!so", "alice", "now"}), {}, kWithKey).status ==
      0);
  REQUIRE(
      cli.run(send_args(router, {"--user", "carol", "--type", "follow"}), {}, kWithKey).status ==
      0);
  events = router.events();
  REQUIRE(events.size() == 3);
  CHECK(events[1]["message"] == "!so alice now");
  CHECK(events[1]["user"]["id"] == "bob");
  CHECK(events[1]["user"]["roles"] == nlohmann::json::array());
  CHECK(events[1]["event_id"] != events[0]["event_id"]);
  CHECK(events[2]["message_type"] == "follow");
  CHECK(events[2]["message"] == "");
}

TEST_CASE("send prints each action on one line, failed modules on stderr, --json the reply") {
  FakeRouter router;
  Cli cli;
  auto r = cli.run(send_args(router, {"--user", "alice", "!show"}), {}, kWithKey);
  CHECK(r.status == 0);
  CHECK(r.out ==
        "two lines [31m\n"  // the newline and the ESC byte become spaces
        "[ticker] Hype! (10 s)\n"
        "[media] Song — Band\n"
        "[general] Big news\n"
        "[form] Sign up\n");
  CHECK(r.err ==
        "! module quotes failed: connection refused\n"
        "! module slow failed: timed out\n");
  CHECK(r.out.find('\x1b') == std::string::npos);

  auto json = cli.run(send_args(router, {"--json", "--user", "alice", "!show"}), {}, kWithKey);
  auto reply = json_of(json);
  CHECK(reply == reply_for(router.events().back()));
  CHECK(json.err.empty());

  auto dup = cli.run(send_args(router, {"--user", "alice", "!dup"}), {}, kWithKey);
  CHECK(dup.status == 0);
  CHECK(dup.out.empty());
  CHECK(dup.err.find("! duplicate event console:") != std::string::npos);
}

TEST_CASE("send finds the router and the key: flags, then environment, then the key file") {
  FakeRouter router;
  Cli cli;
  const std::vector<std::string> base{"send",   "--entity", "console:local:demo",
                                      "--user", "a",        "!ping"};
  // WADDLE_ROUTER_URL when there is no --router; a trailing slash is fine.
  auto by_env =
      cli.run(base, {}, {{"WADDLE_API_KEY", kKey}, {"WADDLE_ROUTER_URL", router.url() + "/"}});
  INFO("stderr: " << by_env.err);
  CHECK(by_env.status == 0);
  CHECK(by_env.out == "pong\n");

  // --api-key-file wins over WADDLE_API_KEY; whitespace around the key is ignored.
  auto file = cli.home.write("key", "  " + kKey + "\n");
  auto args = base;
  args.insert(args.end(), {"--router", router.url(), "--api-key-file", file});
  CHECK(cli.run(args, {}, {{"WADDLE_API_KEY", "wdl_wrong"}}).status == 0);

  // Without flag and variable: $XDG_CONFIG_HOME/waddlebot/api-key, else ~/.config/waddlebot.
  std::filesystem::create_directories(cli.home.file("xdg/waddlebot"));
  cli.home.write("xdg/waddlebot/api-key", kKey + "\n");
  args = base;
  args.insert(args.end(), {"--router", router.url()});
  CHECK(cli.run(args, {}, {{"XDG_CONFIG_HOME", cli.home.file("xdg")}}).status == 0);
  std::filesystem::create_directories(cli.home.file(".config/waddlebot"));
  cli.home.write(".config/waddlebot/api-key", kKey);
  CHECK(cli.run(args).status == 0);
  CHECK(router.keys() == std::vector<std::string>(4, kKey));
}

TEST_CASE("send reports the router's refusals and an unreachable router in one line") {
  FakeRouter router;
  Cli cli;
  auto wrong_key =
      cli.run(send_args(router, {"--user", "a", "!ping"}), {}, {{"WADDLE_API_KEY", "wdl_wrong"}});
  refused_line(wrong_key, 2, "invalid API key");
  CHECK(wrong_key.err.find("waddle apikey create console --role collector") != std::string::npos);
  CHECK(router.keys().back() == "wdl_wrong");

  auto unknown = cli.run({"send", "--router", router.url(), "--entity", "console:local:nowhere",
                          "--user", "a", "!ping"},
                         {}, kWithKey);
  refused_line(unknown, 3, "unknown entity 'console:local:nowhere'");
  CHECK(unknown.err.find("waddle entity add console:local:nowhere") != std::string::npos);

  refused_line(cli.run(send_args(router, {"--user", "a", "!toolong"}), {}, kWithKey), 2,
               "message: too long");
  auto boom = cli.run(send_args(router, {"--user", "a", "!boom"}), {}, kWithKey);
  refused_line(boom, 1, "answered HTTP 500: internal failure");
  CHECK(router.events().size() == 3);

  auto port = closed_port();
  auto down = cli.run({"send", "--router", "http://127.0.0.1:" + std::to_string(port), "--entity",
                       "console:local:demo", "--user", "a", "!ping"},
                      {}, kWithKey);
  refused_line(down, 1, "cannot reach the router at http://127.0.0.1:" + std::to_string(port));
}

TEST_CASE("send refuses bad input before it posts anything") {
  FakeRouter router;
  Cli cli;
  refused_line(cli.run(send_args(router, {"--user", "a", "!ping"})), 2,
               "waddle -q apikey create console --role collector");
  refused_line(cli.run(send_args(
                   router, {"--user", "a", "--api-key-file", cli.home.file("missing"), "!ping"})),
               2, "--api-key-file: cannot read");
  auto two_lines = cli.home.write("two", "wdl_a\nwdl_b\n");
  refused_line(cli.run(send_args(router, {"--user", "a", "--api-key-file", two_lines, "!ping"})), 2,
               "does not hold one API key");
  refused_line(cli.run({"send", "--entity", "console:local:demo", "--user", "a", "!ping"}, {},
                       {{"WADDLE_API_KEY", kKey}, {"WADDLE_ROUTER_URL", "ftp://x"}}),
               2, "WADDLE_ROUTER_URL: must be an http(s) URL");
  refused_line(cli.run({"send", "--router", "localhost:8000", "--entity", "console:local:demo",
                        "--user", "a", "!ping"},
                       {}, kWithKey),
               2, "--router: must be an http(s) URL");
  refused_line(
      cli.run({"send", "--router", router.url(), "--entity", "irc:x:y", "--user", "a", "!ping"}, {},
              kWithKey),
      2, "--entity: 'irc:x:y' is not an entity id");
  refused_line(cli.run(send_args(router, {"--user", "a", "--type", "shout", "hi"}), {}, kWithKey),
               2, "--type");
  refused_line(cli.run(send_args(router, {"--user", "a"}), {}, kWithKey), 2,
               "MESSAGE: a chatMessage needs a message");
  refused_line(cli.run(send_args(router, {"--user", "a\tb", "hi"}), {}, kWithKey), 2,
               "--user: contains a control character");
  refused_line(cli.run(send_args(router, {"--user", "a", "--user-id", "4 2", "hi"}), {}, kWithKey),
               2, "--user-id");
  refused_line(
      cli.run(send_args(router, {"--user", "a", "--role", "mod\nerator", "hi"}), {}, kWithKey), 2,
      "--role");
  refused_line(cli.run(send_args(router, {"--user", "a", std::string(4001, 'x')}), {}, kWithKey), 2,
               "MESSAGE");
  CHECK(router.keys().empty());
}

TEST_CASE("chat reads one message per line from a pipe and prints the bot's answers") {
  FakeRouter router;
  Cli cli;
  auto r = cli.run({"chat", "--router", router.url(), "--community", "demo"},
                   "!ping\n\n   \n!quote 1\r\n/quit\n!never\n", kWithKey);
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(r.out == "waddlebot: pong\nwaddlebot: quote #1: waddle on\n");
  CHECK(r.err.empty());
  auto events = router.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0]["message"] == "!ping");
  CHECK(events[1]["message"] == "!quote 1");
  for (const auto& e : events) {
    CHECK(e["entity_id"] == "console:local:demo");
    CHECK(e["platform"] == "console");
    CHECK(e["user"]["name"] == "tester");  // $USER
    CHECK(e["user"]["roles"] == nlohmann::json::array());
  }
  CHECK(events[0]["event_id"] != events[1]["event_id"]);

  // --user and --role; overlay actions as notes; --json gives one reply per line.
  auto show = cli.run({"chat", "--router", router.url(), "--community", "demo", "--user", "mod",
                       "--role", "moderator", "--entity", "console:local:demo"},
                      "!show\n", kWithKey);
  CHECK(show.status == 0);
  CHECK(show.out.rfind("waddlebot: two lines", 0) == 0);
  CHECK(show.out.find("\n[ticker] Hype! (10 s)\n") != std::string::npos);
  CHECK(show.err.find("! module quotes failed: connection refused") != std::string::npos);
  CHECK(router.events().back()["user"]["roles"] == nlohmann::json::array({"moderator"}));

  auto json = cli.run({"--json", "chat", "--router", router.url(), "--community", "demo"},
                      "!ping\n!quote\n", kWithKey);
  CHECK(json.status == 0);
  auto first_line = json.out.substr(0, json.out.find('\n'));
  CHECK(nlohmann::json::parse(first_line)["actions"][0]["text"] == "pong");
  CHECK(std::count(json.out.begin(), json.out.end(), '\n') == 2);

  auto empty = cli.run({"chat", "--router", router.url(), "--community", "demo"}, "", kWithKey);
  CHECK(empty.status == 0);
  CHECK(empty.out.empty());
  CHECK(router.events().size() == 5);
}

TEST_CASE("chat shows what the router delivers outside a reply: reminders, late answers") {
  FakeRouter router;
  Cli cli;
  // The router side: once chat has registered as the console collector, deliver to its callback
  // as the router does (POST /router/messages → callback), with a wrong token first.
  std::vector<int> statuses;
  std::thread router_side([&] {
    for (int i = 0; i < 400 && router.registrations().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (router.registrations().empty()) return;
    const auto registration = router.registrations().front();
    boost::asio::io_context io;
    net::HttpClient client(io.get_executor());
    auto deliver = [&](const std::string& token, const nlohmann::json& body) {
      boost::asio::co_spawn(
          io,
          [&]() -> boost::asio::awaitable<void> {
            net::HeaderList headers{{"Authorization", "Bearer " + token}};
            auto response = co_await client.post_json(
                registration["callback_url"].get<std::string>(), body, headers);
            statuses.push_back(response.status);
          },
          boost::asio::detached);
      io.restart();
      io.run();
    };
    nlohmann::json reminder = {
        {"entity_id", "console:local:demo"},
        {"module_name", "memories"},
        {"actions",
         {{{"type", "chat"}, {"text", "@tester, reminder: stretch"}},
          {{"type", "whisper"}, {"user_name", "tester"}, {"text", "your code is K7P2QX"}},
          {{"type", "ticker"}, {"text", "Stretch!"}, {"duration", 5}}}}};
    deliver("wrong-token", reminder);
    deliver(registration["callback_token"].get<std::string>(), reminder);
    nlohmann::json elsewhere = {{"entity_id", "console:local:lobby"},
                                {"actions", {{{"type", "chat"}, {"text", "timer says hi"}}}}};
    deliver(registration["callback_token"].get<std::string>(), elsewhere);
  });
  auto r = cli.run({"chat", "--router", router.url(), "--community", "demo", "--wait", "4"},
                   "!ping\n", kWithKey);
  router_side.join();
  INFO("stderr: " << r.err << "\nstdout: " << r.out);
  CHECK(r.status == 0);
  REQUIRE(router.registrations().size() == 1);
  const auto registration = router.registrations().front();
  CHECK(registration["kind"] == "collector");
  CHECK(registration["platform"] == "console");
  CHECK(registration["callback_url"].get<std::string>().rfind("http://127.0.0.1:", 0) == 0);
  CHECK(statuses == std::vector<int>{401, 200, 200});
  CHECK(r.out.find("waddlebot: pong\n") != std::string::npos);
  CHECK(r.out.find("waddlebot: @tester, reminder: stretch\n") != std::string::npos);
  CHECK(r.out.find("waddlebot (whisper to tester): your code is K7P2QX\n") != std::string::npos);
  CHECK(r.out.find("[ticker] Stretch! (5 s)\n") != std::string::npos);
  CHECK(r.out.find("(console:local:lobby) waddlebot: timer says hi\n") != std::string::npos);
  CHECK(r.out.find("reminder: stretch\nwaddlebot: @tester") == std::string::npos);  // once

  // --no-inbox: no registration, nothing listening.
  auto quiet = cli.run({"chat", "--router", router.url(), "--community", "demo", "--no-inbox"},
                       "!ping\n", kWithKey);
  CHECK(quiet.status == 0);
  CHECK(router.registrations().size() == 1);
  CHECK(cli.run({"chat", "--router", router.url(), "--community", "demo", "--wait", "-1"}, "",
                kWithKey)
            .status == 2);
}

TEST_CASE("chat stops at the first refusal and says how to add a missing entity") {
  FakeRouter router;
  Cli cli;
  auto r = cli.run({"chat", "--router", router.url(), "--community", "other"}, "!ping\n!ping\n",
                   kWithKey);
  refused_line(r, 3, "unknown entity 'console:local:other'");
  CHECK(r.err.find("waddle entity add console:local:other --community other") != std::string::npos);
  CHECK(router.events().size() == 1);

  refused_line(cli.run({"chat", "--router", router.url()}, "!ping\n", kWithKey), 2, "--community");
  refused_line(
      cli.run({"chat", "--router", router.url(), "--community", "a b"}, "!ping\n", kWithKey), 2,
      "--community");
  refused_line(cli.run({"chat", "--router", router.url(), "--community", "demo"}, "!ping\n"), 2,
               "waddle -q apikey create console --role collector");
  auto down = cli.run({"chat", "--router", "http://127.0.0.1:" + std::to_string(closed_port()),
                       "--community", "demo"},
                      "!ping\n", kWithKey);
  refused_line(down, 1, "cannot reach the router");
  CHECK(router.events().size() == 1);
}

TEST_CASE("send, chat and module secret are in the generated reference and completions") {
  Cli cli;
  auto reference = cli.run({"reference"});
  REQUIRE(reference.status == 0);
  for (const auto* needle :
       {"waddle send", "waddle chat", "waddle module secret", "--api-key-file", "--rotate"}) {
    INFO(needle);
    CHECK(reference.out.find(needle) != std::string::npos);
  }
  auto bash = cli.run({"completion", "bash"});
  REQUIRE(bash.status == 0);
  CHECK(bash.out.find("chat") != std::string::npos);
  CHECK(bash.out.find("--api-key-file") != std::string::npos);
}
