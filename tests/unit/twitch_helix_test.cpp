// The Helix and OAuth client: request building and answer parsing, then the real client over
// HTTPS against tests/fakes/twitch_helix_server (loopback, self-signed certificate): 401 → one
// renewal, 429 → waits for Ratelimit-Reset, each endpoint's query and body.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include <boost/asio/io_context.hpp>

#include "error/peer_status.hpp"
#include "fakes/twitch_helix_server.hpp"
#include "support/async.hpp"
#include "twitch/helix.hpp"

using namespace waddle::twitch;
using waddle::Errc;
using waddle::Error;
using waddle::fakes::FakeTwitchHelixServer;
using waddle::test::error_of;
using waddle::test::run_bounded;
using json = nlohmann::json;
namespace asio = boost::asio;

TEST_CASE("percent_encode keeps unreserved characters and escapes the rest") {
  CHECK(percent_encode("aZ09-_.~") == "aZ09-_.~");
  CHECK(percent_encode("a b+c:d/é") == "a%20b%2Bc%3Ad%2F%C3%A9");
  CHECK(form_encode({{"grant_type", "refresh_token"}, {"refresh_token", "x=y&z"}}) ==
        "grant_type=refresh_token&refresh_token=x%3Dy%26z");
}

TEST_CASE("authorization_url asks for a code with every bot scope") {
  HelixOptions options;
  options.client_id = "cid";
  const std::string url =
      authorization_url(options, "http://localhost:3000/cb", kBotScopes, "st4te");
  CHECK(url.rfind("https://id.twitch.tv/oauth2/authorize?response_type=code&client_id=cid&", 0) ==
        0);
  CHECK(url.find("redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb") != std::string::npos);
  CHECK(url.find("scope=chat%3Aread%20chat%3Aedit%20user%3Aread%3Achat%20user%3Awrite%3Achat%"
                 "20user%3Abot") != std::string::npos);
  CHECK(url.find("moderator%3Amanage%3Abanned_users") != std::string::npos);
  CHECK(url.find("&state=st4te") != std::string::npos);
}

TEST_CASE("OAuth answers parse, with scope as Twitch's array or RFC 6749's string") {
  auto token = parse_token_response(json::parse(
      R"({"access_token":"a1","expires_in":14400,"refresh_token":"r1","scope":["chat:read","chat:edit"],"token_type":"bearer"})"));
  CHECK(token.access_token == "a1");
  CHECK(token.refresh_token == "r1");
  CHECK(token.expires_in == 14400);
  CHECK(token.scopes == std::vector<std::string>{"chat:read", "chat:edit"});
  CHECK(parse_token_response(json::parse(R"({"access_token":"a","scope":"x y"})")).scopes ==
        std::vector<std::string>{"x", "y"});
  CHECK_THROWS_WITH(parse_token_response(json::parse(R"({"token_type":"bearer"})")),
                    Catch::Contains("access_token"));
  CHECK_THROWS_AS(parse_token_response(json::parse("[1]")), Error);

  auto info = parse_validate_response(json::parse(
      R"({"client_id":"cid","login":"waddlebot","scopes":["chat:read"],"user_id":"42","expires_in":5000})"));
  CHECK(info.login == "waddlebot");
  CHECK(info.user_id == "42");
  CHECK(info.expires_in == 5000);
  CHECK(missing_scopes(info.scopes, "chat:read chat:edit") ==
        std::vector<std::string>{"chat:edit"});
  CHECK_THROWS_WITH(parse_validate_response(json::parse(R"({"login":"x"})")),
                    Catch::Contains("client_id"));
  CHECK_THROWS_WITH(parse_validate_response(json::parse(R"({"client_id":"c","scopes":"x"})")),
                    Catch::Contains("scopes"));
}

TEST_CASE("Send Chat Message answers: is_sent and drop_reason") {
  auto sent = parse_chat_message_result(
      json::parse(R"({"data":[{"message_id":"abc","is_sent":true,"drop_reason":null}]})"));
  CHECK(sent.is_sent);
  CHECK(sent.message_id == "abc");
  auto dropped = parse_chat_message_result(json::parse(
      R"({"data":[{"message_id":"","is_sent":false,"drop_reason":{"code":"msg_duplicate","message":"dup"}}]})"));
  CHECK_FALSE(dropped.is_sent);
  CHECK(dropped.drop_code == "msg_duplicate");
  CHECK(dropped.drop_message == "dup");
  CHECK_THROWS_WITH(parse_chat_message_result(json::parse(R"({"data":[{"message_id":"x"}]})")),
                    Catch::Contains("is_sent"));
  CHECK_THROWS_AS(parse_chat_message_result(json::parse(R"({"data":[]})")), Error);
  CHECK_THROWS_AS(parse_users(json::parse(R"({"data":[{"login":"x"}]})")), Error);
}

TEST_CASE("Ratelimit-Reset becomes a bounded wait") {
  waddle::net::ClientResponse response;
  CHECK_FALSE(rate_limit_wait(response, 1000, std::chrono::seconds(60)));
  response.headers = {{"ratelimit-reset", "1005"}};
  CHECK(rate_limit_wait(response, 1000, std::chrono::seconds(60)) == std::chrono::seconds(5));
  CHECK(rate_limit_wait(response, 2000, std::chrono::seconds(60)) == std::chrono::seconds(0));
  CHECK(rate_limit_wait(response, 0, std::chrono::seconds(60)) == std::chrono::seconds(60));
  response.headers = {{"Ratelimit-Reset", "soon"}};
  CHECK_FALSE(rate_limit_wait(response, 1000, std::chrono::seconds(60)));
}

namespace {

// The user token in memory, refreshed through the real OAuth client (the daemon's UserTokens
// keeps it in Postgres; tests/integration/twitch_helix_test.cpp covers that).
class MemoryUserTokens final : public TokenProvider {
 public:
  MemoryUserTokens(OAuthClient& oauth, std::string access, std::string refresh)
      : oauth_(oauth), access_(std::move(access)), refresh_(std::move(refresh)) {}
  asio::awaitable<std::string> current() override { co_return access_; }
  asio::awaitable<std::string> renew(std::string rejected) override {
    if (rejected == access_) {
      OAuthToken fresh = co_await oauth_.refresh(refresh_);
      access_ = fresh.access_token;
      refresh_ = fresh.refresh_token;
      ++refreshes;
    }
    co_return access_;
  }
  int refreshes = 0;

 private:
  OAuthClient& oauth_;
  std::string access_;
  std::string refresh_;
};

struct Fixture {
  asio::io_context io;
  FakeTwitchHelixServer fake{io};
  std::uint16_t port = fake.start();
  std::string ca_path = write_ca();
  waddle::net::HttpClient http{io.get_executor(), client_options()};
  HelixOptions options = helix_options();
  OAuthClient oauth{http, options};
  AppTokens app{oauth};
  std::pair<std::string, std::string> pair = issue();
  MemoryUserTokens user{oauth, pair.first, pair.second};
  HelixClient helix{http, options, &app, &user};

  ~Fixture() { std::filesystem::remove(ca_path); }

  std::string write_ca() {
    auto path = std::filesystem::temp_directory_path() /
                ("waddle-helix-ca-" + std::to_string(getpid()) + ".pem");
    std::ofstream(path) << fake.certificate_pem();
    return path.string();
  }
  waddle::net::ClientOptions client_options() {
    waddle::net::ClientOptions o;
    o.ca_file = ca_path;
    return o;
  }
  HelixOptions helix_options() {
    HelixOptions o;
    o.helix_url = fake.helix_url();
    o.auth_url = fake.auth_url();
    o.client_id = "fake-client-id";
    o.client_secret = "fake-client-secret";
    o.max_rate_limit_retries = 2;
    return o;
  }
  std::pair<std::string, std::string> issue() {
    fake.add_user("waddlebot", "100");
    fake.add_user("chan", "200");
    fake.add_user("alice", "300");
    return fake.issue_user_token("waddlebot");
  }
  void run(asio::awaitable<void> task) {
    run_bounded(io, std::move(task), std::chrono::seconds(30));
  }
  waddle::fakes::HelixRequest last(std::string_view method, std::string_view path) {
    auto all = fake.requests();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (it->method == method && it->path == path) return *it;
    }
    FAIL("no " << method << " " << path << " reached the fake");
    return {};
  }
  waddle::fakes::HelixRequest first(std::string_view method, std::string_view path) {
    for (const auto& r : fake.requests()) {
      if (r.method == method && r.path == path) return r;
    }
    FAIL("no " << method << " " << path << " reached the fake");
    return {};
  }
};

}  // namespace

TEST_CASE("block, whisper and role calls reach Helix with Twitch's query and body") {
  Fixture f;
  f.run([&]() -> asio::awaitable<void> {
    auto chan = co_await f.helix.get_user_by_login("chan");
    REQUIRE(chan);
    CHECK(chan->id == "200");
    auto nobody = co_await f.helix.get_user_by_login("nobody");
    CHECK_FALSE(nobody);
    co_await f.helix.delete_chat_message("200", "100", "msg-1");
    co_await f.helix.ban_user("200", "100", "300", 600, "spam");
    co_await f.helix.ban_user("200", "100", "300", 0, "");
    co_await f.helix.send_whisper("100", "300", "your code is 123456");
    co_await f.helix.set_vip("200", "300", true);
    co_await f.helix.set_vip("200", "300", false);
    co_await f.helix.set_moderator("200", "300", true);
    auto sent = co_await f.helix.send_chat_message("200", "100", "hello", "parent-1");
    CHECK(sent.is_sent);
    f.fake.drop_chat_messages("msg_duplicate");
    auto dropped = co_await f.helix.send_chat_message("200", "100", "hello");
    CHECK_FALSE(dropped.is_sent);
    CHECK(dropped.drop_code == "msg_duplicate");
    auto refused = co_await error_of(f.helix.send_whisper("999", "300", "not me"));
    REQUIRE(refused);
    CHECK(refused->code() == Errc::unauthenticated);
    auto bad = co_await error_of(f.helix.ban_user("200", "100", "300", 2000000, ""));
    REQUIRE(bad);
    CHECK(bad->code() == Errc::invalid_argument);
  }());

  auto del = f.last("DELETE", "/helix/moderation/chat");
  CHECK(del.query == "broadcaster_id=200&moderator_id=100&message_id=msg-1");
  CHECK(del.headers["client-id"] == "fake-client-id");
  CHECK(del.headers["authorization"] == "Bearer " + f.pair.first);
  auto bans = f.fake.requests();
  std::vector<json> ban_bodies;
  for (const auto& r : bans) {
    if (r.path == "/helix/moderation/bans") ban_bodies.push_back(r.json());
  }
  REQUIRE(ban_bodies.size() == 2);
  CHECK(ban_bodies[0] ==
        json::parse(R"({"data":{"user_id":"300","duration":600,"reason":"spam"}})"));
  CHECK(ban_bodies[1] == json::parse(R"({"data":{"user_id":"300"}})"));
  auto whisper = f.first("POST", "/helix/whispers");
  CHECK(whisper.param("from_user_id") == "100");
  CHECK(whisper.param("to_user_id") == "300");
  CHECK(whisper.json() == json{{"message", "your code is 123456"}});
  CHECK(f.fake.count("POST", "/helix/channels/vips") == 1);
  CHECK(f.fake.count("DELETE", "/helix/channels/vips") == 1);
  CHECK(f.last("POST", "/helix/moderation/moderators").query == "broadcaster_id=200&user_id=300");
  CHECK(f.first("POST", "/helix/chat/messages").json()["reply_parent_message_id"] == "parent-1");
  // Twitch answers a from_user_id mismatch with 401 too, which looks like an expired token: one
  // refresh, one retry, then the error.
  CHECK(f.user.refreshes == 1);
  CHECK(f.fake.count("POST", "/helix/whispers") == 3);
}

TEST_CASE("a 401 renews the token once and retries, a failed renewal is an error") {
  Fixture f;
  f.fake.expire_access_token(f.pair.first);
  f.run([&]() -> asio::awaitable<void> {
    co_await f.helix.delete_chat_message("200", "100", "m");
  }());
  CHECK(f.user.refreshes == 1);
  CHECK(f.fake.count("DELETE", "/helix/moderation/chat") == 2);
  CHECK(f.fake.count("POST", "/oauth2/token") == 1);
  CHECK(f.last("POST", "/oauth2/token").param("grant_type") == "refresh_token");
  CHECK(f.last("DELETE", "/helix/moderation/chat").headers["authorization"] ==
        "Bearer " + f.fake.access_token_of("waddlebot"));

  // A refused token whose refresh fails too: one renewal attempt, then the 401 is the answer.
  f.fake.expire_all_access_tokens();
  MemoryUserTokens stale(f.oauth, f.fake.access_token_of("waddlebot"), "revoked-refresh-token");
  HelixClient helix(f.http, f.options, &f.app, &stale);
  f.run([&]() -> asio::awaitable<void> {
    auto error = co_await error_of(helix.delete_chat_message("200", "100", "m"));
    REQUIRE(error);
    CHECK(error->code() == Errc::unauthenticated);
    CHECK(std::string(error->what()).find("Invalid refresh token") != std::string::npos);
  }());
  CHECK(f.fake.count("DELETE", "/helix/moderation/chat") == 3);
  CHECK(helix.stats().renewals == 1);
}

TEST_CASE("a 429 waits for Ratelimit-Reset and retries, a bounded number of times") {
  Fixture f;
  f.fake.rate_limit_next(2);
  f.run([&]() -> asio::awaitable<void> { co_await f.helix.set_vip("200", "300", true); }());
  CHECK(f.fake.count("POST", "/helix/channels/vips") == 3);
  CHECK(f.helix.stats().rate_limited == 2);

  f.fake.rate_limit_next(5);
  f.run([&]() -> asio::awaitable<void> {
    auto error = co_await error_of(f.helix.set_vip("200", "300", false));
    REQUIRE(error);
    CHECK(error->code() == Errc::rate_limited);
  }());
  CHECK(f.fake.count("DELETE", "/helix/channels/vips") == 3);  // first try + 2 retries
}

TEST_CASE("OAuth: client credentials, code exchange, validate, and refusals") {
  Fixture f;
  f.fake.add_authorization_code("code-1", "waddlebot");
  f.run([&]() -> asio::awaitable<void> {
    auto token = co_await f.oauth.exchange_code("code-1", "http://localhost/cb");
    CHECK_FALSE(token.access_token.empty());
    CHECK_FALSE(token.refresh_token.empty());
    CHECK(token.scopes.size() == 13);
    auto again = co_await error_of(f.oauth.exchange_code("code-1", "http://localhost/cb"));
    REQUIRE(again);
    CHECK(again->code() == Errc::unauthenticated);
    CHECK(std::string(again->what()).find("Invalid authorization code") != std::string::npos);

    auto info = co_await f.oauth.validate(token.access_token);
    REQUIRE(info);
    CHECK(info->login == "waddlebot");
    CHECK(info->user_id == "100");
    CHECK(missing_scopes(info->scopes, kBotScopes).empty());
    auto invalid = co_await f.oauth.validate("nonsense");
    CHECK_FALSE(invalid);

    auto bad_refresh = co_await error_of(f.oauth.refresh("not-a-refresh-token"));
    REQUIRE(bad_refresh);
    CHECK(bad_refresh->code() == Errc::unauthenticated);
    CHECK(std::string(bad_refresh->what()).find("Invalid refresh token") != std::string::npos);

    // EventSub subscriptions take the app token (fetched once by client credentials).
    const json condition =
        json::parse(R"({"broadcaster_user_id":"200","moderator_user_id":"100"})");
    auto created = co_await f.helix.create_eventsub_subscription(
        "channel.follow", "2", condition, "https://bot.example/twitch/eventsub",
        "0123456789abcdef");
    CHECK(created.status == "webhook_callback_verification_pending");
    auto listed = co_await f.helix.list_eventsub_subscriptions();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].callback == "https://bot.example/twitch/eventsub");
    auto duplicate = co_await error_of(f.helix.create_eventsub_subscription(
        "channel.follow", "2", condition, "https://bot.example/twitch/eventsub",
        "0123456789abcdef"));
    REQUIRE(duplicate);
    CHECK(duplicate->code() == Errc::conflict);
    co_await f.helix.delete_eventsub_subscription(created.id);
    auto gone = co_await error_of(f.helix.delete_eventsub_subscription(created.id));
    REQUIRE(gone);
    CHECK(gone->code() == Errc::not_found);
  }());
  CHECK(f.app.fetched() == 1);
  auto credentials = f.fake.requests();
  std::size_t client_credentials = 0;
  for (const auto& r : credentials) {
    client_credentials += r.param("grant_type") == "client_credentials" ? 1 : 0;
  }
  CHECK(client_credentials == 1);
}

TEST_CASE("a wrong client secret is refused with Twitch's message") {
  Fixture f;
  HelixOptions wrong = f.options;
  wrong.client_secret = "nope";
  OAuthClient oauth(f.http, wrong);
  f.run([&]() -> asio::awaitable<void> {
    auto error = co_await error_of(oauth.client_credentials());
    REQUIRE(error);
    CHECK(error->code() == Errc::unauthenticated);
    CHECK(std::string(error->what()).find("invalid client secret") != std::string::npos);
  }());
}
