// Twitch tokens and Helix against PostgreSQL (a fresh migrated database) and the fake Twitch
// (tests/fakes: REST over HTTPS, IRC over TLS, on 127.0.0.1): a 401 refreshes once and the new
// refresh token is stored sealed; two instances share one refresh; `waddle twitch auth`; and the
// real waddle-twitchd carrying out block, whisper and role actions and recovering a refused
// chat login with one refresh (or stopping).
#include <algorithm>
#include <fstream>
#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "ctl/client.hpp"
#include "fakes/twitch_helix_server.hpp"
#include "fakes/twitch_irc_server.hpp"
#include "support/async.hpp"
#include "support/child.hpp"
#include "support/cli.hpp"
#include "support/database.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "twitch/helix.hpp"
#include "twitch/tokens.hpp"

#ifndef WADDLE_TWITCHD
#error "WADDLE_TWITCHD must name the waddle-twitchd binary"
#endif

using namespace waddle::twitch;
using namespace waddle::test;
using namespace std::chrono_literals;
using waddle::fakes::FakeTwitchHelixServer;
using waddle::fakes::FakeTwitchIrcServer;
using json = nlohmann::json;
namespace asio = boost::asio;

namespace {

constexpr const char* kBot = "waddlebot";

template <class Probe>
bool eventually(Probe probe, std::chrono::seconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return probe();
}

// The fake Twitch servers on their own thread, a migrated database and a token key.
struct Twitch {
  FreshDatabase db{true};
  TempDir dir;
  asio::io_context fake_io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{fake_io.get_executor()};
  FakeTwitchHelixServer helix{fake_io};
  FakeTwitchIrcServer irc{fake_io};
  std::uint16_t helix_port = helix.start();
  std::uint16_t irc_port = irc.start();
  std::thread thread{[this] { fake_io.run(); }};
  std::string key = waddle::crypto::random_bytes(32);
  std::string key_file = dir.write("twitch.key", waddle::crypto::hex_encode(key) + "\n");
  std::string helix_ca = dir.write("helix-ca.pem", helix.certificate_pem());
  std::string irc_ca = dir.write("irc-ca.pem", on_fake([this] { return irc.certificate_pem(); }));

  Twitch() {
    helix.add_user(kBot, "100");
    helix.add_user("chan", "200");
    helix.add_user("alice", "300");
  }
  ~Twitch() {
    on_fake([this] {
      helix.stop();
      irc.stop();
      return 0;
    });
    guard.reset();
    fake_io.stop();
    thread.join();
  }

  template <class F>
  decltype(std::declval<F&>()()) on_fake(F f) {
    std::promise<decltype(f())> promise;
    auto result = promise.get_future();
    asio::post(fake_io, [&] { promise.set_value(f()); });
    return result.get();
  }

  HelixOptions options() const {
    HelixOptions o;
    o.helix_url = helix.helix_url();
    o.auth_url = helix.auth_url();
    o.client_id = "fake-client-id";
    o.client_secret = "fake-client-secret";
    return o;
  }
  // Stores a fresh pair from the fake for the bot, as `waddle twitch auth tokens` would.
  std::pair<std::string, std::string> store_pair() {
    auto pair = helix.issue_user_token(kBot);
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    StoredToken token;
    token.account = kBot;
    token.access_token = pair.first;
    token.refresh_token = pair.second;
    token.scopes = {"chat:read", "chat:edit"};
    token.user_id = "100";
    TokenVault(key).store(tx, token);
    tx.commit();
    return pair;
  }
  // The stored row's raw bytes, for "never plaintext" checks.
  std::string raw_row() {
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    auto row = tx.exec_params1(
        "select encode(access_token_enc, 'hex') || encode(refresh_token_enc, 'hex') from "
        "platform_tokens where platform = 'twitch' and account = $1",
        std::string(kBot));
    return waddle::crypto::hex_decode(row[0].c_str());
  }
  StoredToken stored() {
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    auto token = TokenVault(key).load(tx, kBot);
    REQUIRE(token);
    return *token;
  }
  std::size_t refresh_grants() {
    auto all = helix.requests();
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](const auto& r) {
      return r.path == "/oauth2/token" && r.param("grant_type") == "refresh_token";
    }));
  }
};

}  // namespace

TEST_CASE("a 401 from Helix refreshes once and the new refresh token is stored sealed") {
  Twitch t;
  auto [access, refresh] = t.store_pair();
  t.helix.expire_access_token(access);

  asio::io_context io;
  waddle::net::HttpClient http(io.get_executor(), {.ca_file = t.helix_ca});
  OAuthClient oauth(http, t.options());
  waddle::pg::Pool pool({.primary_url = t.db.url(), .size = 2, .worker_threads = 2});
  UserTokens first(oauth, pool, TokenVault(t.key), kBot);
  UserTokens second(oauth, pool, TokenVault(t.key), kBot);  // another instance, same row
  HelixClient helix(http, t.options(), nullptr, &first);
  HelixClient helix2(http, t.options(), nullptr, &second);

  run_bounded(io, [&]() -> asio::awaitable<void> {
    bool loaded = co_await first.load();
    REQUIRE(loaded);
    loaded = co_await second.load();
    REQUIRE(loaded);
    co_await helix.delete_chat_message("200", "100", "msg-1");
    // The other instance still holds the stale token: its 401 adopts the stored one.
    co_await helix2.ban_user("200", "100", "300", 60, "spam");
  }());

  CHECK(t.refresh_grants() == 1);
  CHECK(first.stats().refreshes == 1);
  CHECK(second.stats().refreshes == 0);
  CHECK(second.stats().adopted == 1);
  CHECK(t.helix.count("DELETE", "/helix/moderation/chat") == 2);
  CHECK(t.helix.count("POST", "/helix/moderation/bans") == 2);
  const std::string new_refresh = t.helix.refresh_token_of(kBot);
  const std::string new_access = t.helix.access_token_of(kBot);
  CHECK(new_refresh != refresh);
  StoredToken stored = t.stored();
  CHECK(stored.refresh_token == new_refresh);
  CHECK(stored.access_token == new_access);
  CHECK(stored.user_id == "100");
  const std::string raw = t.raw_row();
  CHECK(raw.find(new_refresh) == std::string::npos);
  CHECK(raw.find(new_access) == std::string::npos);
  CHECK(raw.find("refresh-") == std::string::npos);

  SECTION("the row does not open with another key") {
    pqxx::connection c(t.db.url());
    pqxx::read_transaction tx(c);
    CHECK_THROWS_WITH(TokenVault(waddle::crypto::random_bytes(32)).load(tx, kBot),
                      Catch::Contains("does not open"));
  }
  SECTION("a refused refresh token is an unauthenticated error, not a loop") {
    t.helix.expire_all_access_tokens();
    pqxx::connection c(t.db.url());
    pqxx::work tx(c);
    StoredToken broken = t.stored();
    broken.refresh_token = "revoked";
    TokenVault(t.key).store(tx, broken);
    tx.commit();
    run_bounded(io, [&]() -> asio::awaitable<void> {
      co_await first.load();
      auto error = co_await error_of(helix.delete_chat_message("200", "100", "m"));
      REQUIRE(error);
      CHECK(error->code() == waddle::Errc::unauthenticated);
    }());
    CHECK(t.refresh_grants() == 2);
  }
}

TEST_CASE("load_token_key takes hex or base64 and names the key otherwise") {
  TempDir dir;
  const std::string key = waddle::crypto::random_bytes(32);
  CHECK(load_token_key(dir.write("hex", " " + waddle::crypto::hex_encode(key) + "\n"), "k") == key);
  CHECK(load_token_key(dir.write("b64", waddle::crypto::base64_encode(key)), "k") == key);
  CHECK_THROWS_WITH(load_token_key(dir.write("short", "abcd"), "twitch.token_key_file"),
                    Catch::Contains("twitch.token_key_file") && Catch::Contains("openssl rand"));
  CHECK_THROWS_WITH(load_token_key(dir.file("missing"), "twitch.token_key_file"),
                    Catch::Contains("cannot read"));
}

TEST_CASE("waddle twitch auth: url, code, status, tokens, and bad input") {
  Twitch t;
  const std::string config = t.dir.write(
      "waddle.yaml",
      "twitch:\n  nick: waddlebot\n  client_id: fake-client-id\n"
      "  client_secret: fake-client-secret\n  helix_url: " +
          t.helix.helix_url() + "\n  auth_url: " + t.helix.auth_url() +
          "\n  api_ca_file: " + t.helix_ca + "\n  token_key_file: " + t.key_file + "\n");
  auto waddle = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config});
    return run_waddle(t.db, args);
  };

  auto url = waddle({"twitch", "auth", "url", "--redirect-uri", "http://localhost:3000/cb"});
  CHECK(url.status == 0);
  CHECK(url.out.rfind(t.helix.auth_url() + "/authorize?response_type=code&client_id=fake-client-id",
                      0) == 0);
  CHECK(url.out.find("user%3Amanage%3Awhispers") != std::string::npos);

  t.helix.add_authorization_code("the-code", kBot);
  auto code =
      waddle({"twitch", "auth", "code", "the-code", "--redirect-uri", "http://localhost:3000/cb"});
  INFO(code.err);
  CHECK(code.status == 0);
  CHECK(code.out.find("stored the Twitch token of waddlebot (user id 100)") != std::string::npos);
  StoredToken stored = t.stored();
  CHECK(stored.access_token == t.helix.access_token_of(kBot));
  CHECK(stored.refresh_token == t.helix.refresh_token_of(kBot));
  CHECK(stored.scopes.size() == 13);
  CHECK(t.raw_row().find(stored.refresh_token) == std::string::npos);

  auto again = waddle({"twitch", "auth", "code", "the-code"});
  CHECK(again.status == 2);  // unauthenticated: the code was used
  CHECK(again.err.find("Invalid authorization code") != std::string::npos);

  auto status = waddle({"--json", "twitch", "auth", "status", "--validate"});
  CHECK(status.status == 0);
  json shown = json::parse(status.out);
  CHECK(shown["account"] == kBot);
  CHECK(shown["valid"] == true);
  CHECK(shown["missing_scopes"].empty());
  CHECK(status.out.find(stored.access_token) == std::string::npos);

  auto pair = t.helix.issue_user_token(kBot);
  auto tokens = waddle(
      {"twitch", "auth", "tokens", "--access", "oauth:" + pair.first, "--refresh", pair.second});
  CHECK(tokens.status == 0);
  CHECK(t.stored().access_token == pair.first);

  auto bad = waddle({"twitch", "auth", "tokens", "--access", "a b", "--refresh", "x"});
  CHECK(bad.status == 2);
  CHECK(bad.err.find("--access") != std::string::npos);
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
  auto bad_code = waddle({"twitch", "auth", "code", "x&y=z"});
  CHECK(bad_code.status == 2);
  auto bad_redirect = waddle({"twitch", "auth", "url", "--redirect-uri", "ftp://x"});
  CHECK(bad_redirect.status == 2);
  CHECK(bad_redirect.err.find("--redirect-uri") != std::string::npos);
  auto invalid = waddle({"twitch", "auth", "tokens", "--access", "nope", "--refresh", "nope"});
  CHECK(invalid.status == 2);
  CHECK(invalid.err.find("Invalid refresh token") != std::string::npos);
}

namespace {

// waddle-twitchd with the fake IRC and Helix servers and the token in the database; no router
// (the callback endpoint is how actions arrive here).
struct Daemon {
  Twitch& t;
  std::uint16_t port = free_port();
  std::string socket = t.dir.file("twitch.sock");
  std::unique_ptr<ChildProcess> process;
  asio::io_context io;
  waddle::net::HttpClient http{io.get_executor()};

  explicit Daemon(Twitch& twitch) : t(twitch) {
    const std::string config =
        "log:\n  level: debug\ndatabase:\n  url: " + t.db.url() +
        "\ntwitch:\n  admin_socket: " + socket + "\n  port: " + std::to_string(port) +
        "\n  irc_host: 127.0.0.1\n  irc_port: " + std::to_string(t.irc_port) +
        "\n  irc_ca_file: " + t.irc_ca +
        "\n  nick: waddlebot\n  channels: [chan]\n"
        "  router_url: http://127.0.0.1:1\n  callback_token: cb-token-0123456789\n"
        "  client_id: fake-client-id\n  client_secret: fake-client-secret\n  helix_url: " +
        t.helix.helix_url() + "\n  auth_url: " + t.helix.auth_url() +
        "\n  api_ca_file: " + t.helix_ca + "\n  token_key_file: " + t.key_file + "\n";
    process = std::make_unique<ChildProcess>(
        std::vector<std::string>{WADDLE_TWITCHD, "--config", t.dir.write("twitchd.yaml", config)},
        std::vector<std::pair<std::string, std::string>>{}, t.dir.file("twitchd.log"));
  }
  ~Daemon() { process->stop(); }

  std::vector<std::string> irc_lines(std::size_t connection, const std::string& prefix) {
    return t.on_fake([&] { return t.irc.lines_of(connection, prefix); });
  }
  std::size_t irc_connections() {
    return t.on_fake([&] { return t.irc.accepted(); });
  }
  int callback(const json& actions) {
    waddle::net::ClientRequest request;
    request.method = "POST";
    request.url = "http://127.0.0.1:" + std::to_string(port) + "/twitch/callback";
    request.headers = {{"Authorization", "Bearer cb-token-0123456789"},
                       {"Content-Type", "application/json"}};
    request.body =
        json{{"entity_id", "twitch:channel:chan"}, {"session_id", "s1"}, {"actions", actions}}
            .dump();
    request.timeout = 5s;
    int status = 0;
    run_bounded(
        io,
        [&]() -> asio::awaitable<void> {
          auto response = co_await http.request(std::move(request));
          status = response.status;
        }(),
        20s);
    return status;
  }
  json status() { return waddle::ctl::call(socket, "status", json::object()).arguments; }
  // The IRC state from status, or "" while the admin socket is not up yet.
  std::string irc_state() {
    try {
      return status()["irc"].value("state", "");
    } catch (const std::exception&) {
      return {};
    }
  }
};

}  // namespace

TEST_CASE("waddle-twitchd carries out block, whisper and role actions through Helix") {
  Twitch t;
  t.store_pair();
  Daemon d(t);
  INFO(d.process->log());
  REQUIRE(eventually([&] { return d.irc_lines(1, "JOIN #chan").size() == 1; }));
  REQUIRE(d.callback(json::parse(R"([
      {"type":"block","message_id":"m-1","user_name":"alice","reason":"link"},
      {"type":"block","user_name":"alice","timeout":600,"reason":"spam"},
      {"type":"whisper","user_name":"alice","text":"your code is 424242"},
      {"type":"role","user_id":"300","role":"vip","grant":true},
      {"type":"role","user_id":"300","role":"moderator","grant":false},
      {"type":"role","user_id":"300","role":"founder","grant":true}])")) == 200);
  REQUIRE(eventually([&] {
    return t.helix.count("DELETE", "/helix/moderation/moderators") == 1 &&
           t.helix.count("POST", "/helix/whispers") == 1 &&
           t.helix.count("POST", "/helix/moderation/bans") == 1 &&
           t.helix.count("DELETE", "/helix/moderation/chat") == 1 &&
           t.helix.count("POST", "/helix/channels/vips") == 1;
  }));
  for (const auto& r : t.helix.requests()) {
    if (r.path == "/helix/moderation/chat") {
      CHECK(r.query == "broadcaster_id=200&moderator_id=100&message_id=m-1");
    } else if (r.path == "/helix/moderation/bans") {
      CHECK(r.param("broadcaster_id") == "200");
      CHECK(r.param("moderator_id") == "100");
      CHECK(r.json() ==
            json::parse(R"({"data":{"user_id":"300","duration":600,"reason":"spam"}})"));
    } else if (r.path == "/helix/whispers") {
      CHECK(r.query == "from_user_id=100&to_user_id=300");
      CHECK(r.json() == json{{"message", "your code is 424242"}});
    } else if (r.path == "/helix/channels/vips" || r.path == "/helix/moderation/moderators") {
      CHECK(r.query == "broadcaster_id=200&user_id=300");
    }
  }
  REQUIRE(eventually([&] { return d.status()["twitch_api"]["actions"]["done"] == 5; }));
  json api = d.status()["twitch_api"];
  CHECK(api["actions"]["skipped"] == 1);  // "founder" is no Twitch role
  CHECK(api["token"]["state"] == "valid");
  CHECK(api["token"]["user_id"] == "100");
}

TEST_CASE("a refused chat login refreshes the token once, then logs in with the new one") {
  Twitch t;
  auto [access, refresh] = t.store_pair();
  t.on_fake([&, stale = access] {
    t.irc.behaviour().refused_token = stale;
    return 0;
  });
  t.helix.expire_access_token(access);
  Daemon d(t);
  INFO(d.process->log());
  REQUIRE(eventually([&] { return d.irc_state() == "ready"; }));
  CHECK(t.refresh_grants() == 1);
  CHECK(d.irc_connections() == 2);
  const std::string fresh = t.helix.access_token_of(kBot);
  CHECK(d.irc_lines(2, "PASS ") == std::vector<std::string>{"PASS oauth:" + fresh});
  CHECK(t.stored().refresh_token == t.helix.refresh_token_of(kBot));
}

TEST_CASE("a chat login refused even after the refresh stops retrying and says auth_failed") {
  Twitch t;
  t.store_pair();
  t.on_fake([&] {
    t.irc.behaviour().refuse_login = true;
    return 0;
  });
  Daemon d(t);
  INFO(d.process->log());
  REQUIRE(eventually([&] { return d.irc_connections() >= 2 && d.irc_state() == "auth_failed"; }));
  // No storm: the daemon stays down on auth_failed instead of reconnecting.
  std::this_thread::sleep_for(1500ms);
  CHECK(d.irc_connections() == 2);
  CHECK(t.refresh_grants() == 1);
  CHECK(d.status()["irc"]["state"] == "auth_failed");
}
