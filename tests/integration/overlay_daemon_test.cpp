// waddle-overlayd's service against the real PostgreSQL and Redis, with real WebSocket clients
// over loopback: pages and tokens, the Redis and HTTP feeds, state replay, per-token limits,
// tokens past their grace period, and slow clients.
#include <set>

#include <catch2/catch.hpp>

#include "net/http_client.hpp"
#include "net/websocket.hpp"
#include "overlay_support.hpp"
#include "redis/client.hpp"

// GCC 12 reports Asio's awaitable-frame operator new/delete pair as mismatched once it inlines
// aligned_alloc into a coroutine ramp; the pair is Asio's own and matches.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

using namespace waddle;
using namespace waddle::test::overlay_support;
using namespace std::chrono_literals;
using boost::asio::awaitable;
using test::run_bounded;

namespace {

nlohmann::json ticker(const std::string& text, const std::string& priority = "normal",
                      int duration = 120) {
  return {{"type", "ticker"}, {"text", text}, {"priority", priority}, {"duration", duration}};
}

std::string ws_target(const std::string& token, const std::string& source) {
  return "/overlay/" + token + "/ws?source=" + source;
}

// Reads until a message of `type` arrives (skipping others, at most 50).
awaitable<nlohmann::json> next_of(net::WebSocketClient& client, const std::string& type) {
  for (int i = 0; i < 50; ++i) {
    auto message = nlohmann::json::parse(co_await client.read(10s));
    if (message["type"] == type) co_return message;
  }
  FAIL("no '" << type << "' message among 50");
  co_return nlohmann::json();
}

awaitable<void> publish_redis(const std::string& channel, const std::string& message) {
  redis::Options options;
  options.url = test::redis_url();
  redis::Client client(co_await boost::asio::this_coro::executor, options);
  co_await client.connect();
  auto reply = co_await client.command("PUBLISH", channel, message);
  REQUIRE(reply.integer >= 1);  // at least one overlay daemon listens
  client.close();
}

// The status of an upgrade attempt: 101 when accepted, else the HTTP status it was refused with.
awaitable<int> upgrade_status(std::uint16_t port, const std::string& target) {
  net::WebSocketClient client(co_await boost::asio::this_coro::executor);
  try {
    co_await client.connect("127.0.0.1", port, target);
  } catch (const Error&) {
    co_return client.refused_status();
  }
  co_await client.close();
  co_return 101;
}

}  // namespace

TEST_CASE(
    "pages: a good token gets the page with its policy, every bad token or page the same 404") {
  OverlayDatabase db;
  auto demo = db.add_community("demo");
  auto other = db.add_community("other", "{ticker}");
  RunningOverlay overlay(settings_for(db.url(), false));
  boost::asio::io_context io;
  run_bounded(io, [&]() -> awaitable<void> {
    net::HttpClient http(io.get_executor());
    for (const char* page : {"ticker", "media", "general", "all"}) {
      auto res = co_await http.get_json(overlay.base() + "/overlay/" + demo.token + "/" + page);
      INFO(page);
      CHECK(res.status == 200);
      CHECK(res.header("Content-Type").value_or("") == "text/html; charset=utf-8");
      CHECK(std::string(res.header("Content-Security-Policy").value_or("")) ==
            overlay::kPagePolicy);
      CHECK(res.header("Referrer-Policy").value_or("") == "no-referrer");
      CHECK(res.body.find("data-page=\"" + std::string(page) + "\"") != std::string::npos);
    }
    auto script = co_await http.get_json(overlay.base() + "/overlay/static/overlay.js");
    CHECK(script.status == 200);
    CHECK(script.header("Content-Type").value_or("") == "text/javascript; charset=utf-8");

    auto reference =
        co_await http.get_json(overlay.base() + "/overlay/" + std::string(43, 'A') + "/ticker");
    CHECK(reference.status == 404);
    CHECK(reference.body.find("demo") == std::string::npos);
    const std::vector<std::string> bad_paths{
        "/overlay/" + demo.token.substr(0, 42) + "/ticker",
        "/overlay/short/ticker",
        "/overlay/" + demo.token + "/nope",
        "/overlay/" + other.token + "/media",  // not among its sources
        "/overlay/static/ticker.html",
        "/overlay/static/missing.js"};
    for (const auto& path : bad_paths) {
      auto res = co_await http.get_json(overlay.base() + path);
      INFO(path);
      CHECK(res.status == 404);
      CHECK(res.body == reference.body);
    }
    auto plain = co_await http.get_json(overlay.base() + "/overlay/" + demo.token + "/ws");
    CHECK(plain.status == 400);
  }());
}

TEST_CASE("a page's WebSocket gets a hello, the current state, then every action from Redis") {
  OverlayDatabase db;
  auto demo = db.add_community("demo");
  auto other = db.add_community("other");
  RunningOverlay overlay(settings_for(db.url(), true));
  overlay.wait_for_feed();
  boost::asio::io_context io;
  run_bounded(io, [&]() -> awaitable<void> {
    net::WebSocketClient ticker_page(io.get_executor());
    co_await ticker_page.connect("127.0.0.1", overlay.port(), ws_target(demo.token, "ticker"));
    auto hello = nlohmann::json::parse(co_await ticker_page.read());
    CHECK(hello["type"] == "hello");
    CHECK(hello["v"] == 1);
    CHECK(hello["sources"] == nlohmann::json::array({"ticker"}));
    auto initial = nlohmann::json::parse(co_await ticker_page.read());
    CHECK(initial["type"] == "ticker");
    CHECK(initial["current"].is_null());

    // Another community's action and another source never reach this page.
    co_await publish_redis(channel_of(other.id), published(other.id, ticker("not yours")));
    nlohmann::json media{
        {"type", "media"}, {"media_type", "music"}, {"media_url", "https://example.com/s"},
        {"title", "Song"}, {"artist", "Band"},      {"duration", 200}};
    co_await publish_redis(channel_of(demo.id), published(demo.id, media));
    co_await publish_redis(channel_of(demo.id), published(demo.id, ticker("first")));
    auto shown = nlohmann::json::parse(co_await ticker_page.read());
    CHECK(shown["type"] == "ticker");
    CHECK(shown["current"]["text"] == "first");
    co_await publish_redis(channel_of(demo.id), published(demo.id, ticker("urgent", "high")));
    co_await publish_redis(channel_of(demo.id), published(demo.id, ticker("second")));
    co_await publish_redis(channel_of(demo.id), published(demo.id, ticker("soon", "high")));
    nlohmann::json last;
    for (int i = 0; i < 3; ++i) last = nlohmann::json::parse(co_await ticker_page.read());
    CHECK(last["current"]["text"] == "first");
    std::vector<std::string> queue;
    for (const auto& item : last["queue"]) queue.push_back(item["text"]);
    CHECK(queue == std::vector<std::string>{"urgent", "soon", "second"});

    // A page that opens now gets what is on screen at once: the song and the ticker queue.
    net::WebSocketClient late(io.get_executor());
    co_await late.connect("127.0.0.1", overlay.port(), ws_target(demo.token, "all"));
    auto late_hello = nlohmann::json::parse(co_await late.read());
    CHECK(late_hello["sources"].size() == 4);
    std::map<std::string, nlohmann::json> replay;
    for (int i = 0; i < 4; ++i) {
      auto m = nlohmann::json::parse(co_await late.read());
      replay[m["type"]] = m;
    }
    CHECK(replay["media"]["now_playing"]["title"] == "Song");
    CHECK(replay["media"]["now_playing"]["elapsed_ms"].get<int>() >= 0);
    CHECK(replay["ticker"]["current"]["text"] == "first");
    CHECK(replay["ticker"]["queue"].size() == 3);
    CHECK(replay["general"]["content"].is_null());
    CHECK(replay["form"]["form"].is_null());

    // A bad message on the channel is dropped; the feed keeps going.
    co_await publish_redis(channel_of(demo.id), "{not json");
    co_await publish_redis(channel_of(demo.id), published(other.id, ticker("wrong channel")));
    nlohmann::json general{{"type", "general"}, {"content_type", "text"}, {"content", "hi"}};
    co_await publish_redis(channel_of(demo.id), published(demo.id, general));
    auto g = co_await next_of(late, "general");
    CHECK(g["content"]["text"] == "hi");
    CHECK(overlay.service().stats()["feed_errors"] == 2);
    co_await ticker_page.close();
    co_await late.close();
  }());
}

TEST_CASE("two overlay daemons behind one Redis both deliver every action") {
  OverlayDatabase db;
  auto demo = db.add_community("demo");
  RunningOverlay first(settings_for(db.url(), true));
  RunningOverlay second(settings_for(db.url(), true));
  first.wait_for_feed();
  second.wait_for_feed();
  boost::asio::io_context io;
  run_bounded(io, [&]() -> awaitable<void> {
    net::WebSocketClient a(io.get_executor());
    net::WebSocketClient b(io.get_executor());
    co_await a.connect("127.0.0.1", first.port(), ws_target(demo.token, "ticker"));
    co_await b.connect("127.0.0.1", second.port(), ws_target(demo.token, "ticker"));
    co_await next_of(a, "ticker");
    co_await next_of(b, "ticker");
    co_await publish_redis(channel_of(demo.id), published(demo.id, ticker("everyone")));
    auto ma = co_await next_of(a, "ticker");
    auto mb = co_await next_of(b, "ticker");
    CHECK(ma["current"]["text"] == "everyone");
    CHECK(mb["current"]["text"] == "everyone");
    co_await a.close();
    co_await b.close();
  }());
}

TEST_CASE("without Redis, POST /internal/overlay/{id} feeds the pages, for module and admin keys") {
  OverlayDatabase db;
  auto demo = db.add_community("demo");
  auto other = db.add_community("other");
  const auto module_key = db.add_api_key("mod", "{module}");
  const auto admin_key = db.add_api_key("adm", "{admin}");
  const auto collector_key = db.add_api_key("col", "{collector}");
  const auto other_key = db.add_api_key("other-mod", "{module}", other.id);
  db.exec(
      "insert into api_keys (name, key_prefix, key_hash, roles, revoked_at) values "
      "('gone', 'gone1234', '" +
      crypto::sha256_hex("revoked-key-123") + "', '{module}', now())");
  RunningOverlay overlay(settings_for(db.url(), false));
  boost::asio::io_context io;
  run_bounded(io, [&]() -> awaitable<void> {
    net::HttpClient http(io.get_executor());
    net::WebSocketClient page(io.get_executor());
    co_await page.connect("127.0.0.1", overlay.port(), ws_target(demo.token, "general"));
    co_await next_of(page, "form");  // the replay ends with the form view

    const std::string url = overlay.base() + "/internal/overlay/" + std::to_string(demo.id);
    nlohmann::json general{{"type", "general"}, {"content", "<b>hello</b>"}, {"duration", 30}};
    const std::string body = published(demo.id, general);
    auto post = [&](std::string target, std::string key, std::string text) {
      net::ClientRequest req{.method = "POST", .url = std::move(target), .body = std::move(text)};
      req.headers.emplace_back("Content-Type", "application/json");
      if (!key.empty()) req.headers.emplace_back("X-API-Key", key);
      return http.request(std::move(req));
    };
    auto none = co_await post(url, "", body);
    CHECK(none.status == 401);
    auto wrong = co_await post(url, "not-a-key-at-all", body);
    CHECK(wrong.status == 403);
    auto collector = co_await post(url, collector_key, body);
    CHECK(collector.status == 403);
    auto foreign = co_await post(url, other_key, body);
    CHECK(foreign.status == 403);
    auto revoked = co_await post(url, "revoked-key-123", body);
    CHECK(revoked.status == 403);
    auto bad_json = co_await post(url, module_key, "{oops");
    CHECK(bad_json.status == 400);
    auto mismatch = co_await post(url, module_key, published(other.id, general));
    CHECK(mismatch.status == 400);
    CHECK(mismatch.json()["error"]["field"] == "community_id");
    const nlohmann::json chat_action{{"type", "chat"}, {"text", "x"}};
    auto chat = co_await post(url, module_key, published(demo.id, chat_action));
    CHECK(chat.status == 400);
    CHECK(chat.json()["error"]["field"] == "action.type");
    auto bad_path = co_await post(overlay.base() + "/internal/overlay/abc", module_key, body);
    CHECK(bad_path.status == 400);

    auto accepted = co_await post(url, module_key, body);
    CHECK(accepted.status == 202);
    auto shown = co_await next_of(page, "general");
    CHECK(shown["content"]["content_type"] == "html");
    CHECK(shown["content"]["srcdoc"].get<std::string>().find("<b>hello</b>") != std::string::npos);

    auto by_admin = co_await post(url, admin_key, published(demo.id, ticker("ignored here")));
    CHECK(by_admin.status == 202);  // this page does not show the ticker: nothing arrives
    nlohmann::json text{{"type", "general"}, {"content_type", "text"}, {"content", "plain"}};
    auto again = co_await post(url, admin_key, published(demo.id, text));
    CHECK(again.status == 202);
    auto next = nlohmann::json::parse(co_await page.read());
    CHECK(next["type"] == "general");
    CHECK(next["content"]["text"] == "plain");
    co_await page.close();
  }());
}

TEST_CASE("upgrades: bad tokens get 404, and a token holds at most N connections") {
  OverlayDatabase db;
  auto demo = db.add_community("demo");
  auto settings = settings_for(db.url(), false);
  settings.max_connections_per_token = 2;
  RunningOverlay overlay(settings);
  boost::asio::io_context io;
  run_bounded(io, [&]() -> awaitable<void> {
    auto port = overlay.port();
    CHECK(co_await upgrade_status(port, ws_target(std::string(43, 'x'), "all")) == 404);
    CHECK(co_await upgrade_status(port, ws_target("bad", "all")) == 404);
    CHECK(co_await upgrade_status(port, "/overlay/" + demo.token + "/other") == 404);
    CHECK(co_await upgrade_status(port, "/elsewhere") == 404);
    CHECK(co_await upgrade_status(port, ws_target(demo.token, "chat")) == 404);

    net::WebSocketClient one(io.get_executor());
    net::WebSocketClient two(io.get_executor());
    co_await one.connect("127.0.0.1", port, ws_target(demo.token, "ticker"));
    co_await two.connect("127.0.0.1", port, ws_target(demo.token, "media"));
    auto third = co_await upgrade_status(port, ws_target(demo.token, "general"));
    CHECK(third == 429);
    // A second token of the same community has its own allowance.
    auto [second_token, second_id] = db.add_token(demo.id, "studio-b");
    auto other_token = co_await upgrade_status(port, ws_target(second_token, "general"));
    CHECK(other_token == 101);
    co_await one.close();
    // The freed slot is usable once the server has seen the close.
    int status = 0;
    for (int i = 0; i < 1000 && status != 101; ++i) {
      status = co_await upgrade_status(port, ws_target(demo.token, "general"));
      if (status != 101) co_await test::sleep_for(20ms);
    }
    CHECK(status == 101);
    co_await two.close();
  }());
}

TEST_CASE("a rotated token works through its grace period, past it, it is refused and cut off") {
  OverlayDatabase db;
  auto demo = db.add_community("demo");
  RunningOverlay overlay(settings_for(db.url(), false));
  boost::asio::io_context io;
  run_bounded(io, [&]() -> awaitable<void> {
    // As `waddle overlay token rotate --grace 5m` leaves the old token.
    db.exec("update overlay_tokens set expires_at = now() + interval '5 minutes' where id = " +
            std::to_string(demo.token_id));
    net::WebSocketClient page(io.get_executor());
    co_await page.connect("127.0.0.1", overlay.port(), ws_target(demo.token, "ticker"));
    co_await next_of(page, "ticker");

    // The grace period ends: the next check closes the connection with 4401.
    db.exec("update overlay_tokens set expires_at = now() - interval '1 second' where id = " +
            std::to_string(demo.token_id));
    auto ended = co_await test::error_of(page.read(30s));
    REQUIRE(ended.has_value());
    CHECK(ended->code() == Errc::unavailable);
    CHECK(page.close_code() == overlay::kCloseTokenInvalid);
    CHECK(co_await upgrade_status(overlay.port(), ws_target(demo.token, "ticker")) == 404);

    net::HttpClient http(io.get_executor());
    auto res = co_await http.get_json(overlay.base() + "/overlay/" + demo.token + "/ticker");
    CHECK(res.status == 404);
    CHECK(overlay.service().stats()["token_closed_connections"] == 1);
  }());
}

TEST_CASE("a client that stops reading is dropped, the others get every message") {
  OverlayDatabase db;
  auto demo = db.add_community("demo");
  auto settings = settings_for(db.url(), false);
  settings.send_queue_limit = 4;
  RunningOverlay overlay(settings);
  boost::asio::io_context io;
  run_bounded(
      io,
      [&]() -> awaitable<void> {
        net::WebSocketClient slow(io.get_executor());
        net::WebSocketClient fast(io.get_executor());
        co_await slow.connect("127.0.0.1", overlay.port(), ws_target(demo.token, "general"), 5s,
                              4096);
        co_await fast.connect("127.0.0.1", overlay.port(), ws_target(demo.token, "general"));
        co_await next_of(fast, "form");
        // 200 messages of ~60 KiB: far more than any socket buffer holds for the slow client.
        const std::string filler(60 * 1024, 'x');
        for (int i = 0; i < 200; ++i) {
          nlohmann::json general{{"type", "general"},
                                 {"content_type", "text"},
                                 {"content", std::to_string(i) + ":" + filler.substr(0, 60000)}};
          overlay.service().publish_message(published(demo.id, general), demo.id);
          auto got = co_await next_of(fast, "general");
          REQUIRE(got["content"]["text"].get<std::string>().rfind(std::to_string(i) + ":", 0) == 0);
        }
        // The slow client reads what reached its socket, then finds the connection gone.
        std::optional<Error> ended;
        for (int i = 0; i < 400 && !ended; ++i) ended = co_await test::error_of(slow.read(10s));
        REQUIRE(ended.has_value());
        CHECK(ended->code() == Errc::unavailable);
        CHECK(overlay.service().stats()["messages_dropped"].get<int>() >= 1);
        co_await fast.close();
      }(),
      std::chrono::seconds(100));
}
