// Two waddle-twitchd in twitch.channels_mode: claim share ten channels through the real router's
// coordination API: each channel is joined by exactly one of them; when one is killed, the other
// takes its channels once the claims expire; SIGTERM releases the claims; stream.online reaches
// the coordination table as the channel's live state.
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ctl/client.hpp"
#include "fakes/twitch_irc_server.hpp"
#include "model/event.hpp"
#include "router_support.hpp"
#include "twitch/eventsub.hpp"

#ifndef WADDLE_TWITCHD
#error "WADDLE_TWITCHD must name the waddle-twitchd binary"
#endif

using json = nlohmann::json;
using namespace waddle::test;
using namespace std::chrono_literals;

namespace {

constexpr int kChannels = 10;
constexpr const char* kEventSubSecret = "s3cr3t-eventsub-secret-for-tests";

// Polls `probe` every 50 ms for at most `limit`.
template <class Probe>
bool eventually(Probe probe, std::chrono::seconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return probe();
}

std::string channel_name(int i) {
  return "chan" + std::to_string(i);
}

RouterOptions short_claims() {
  RouterOptions options;
  options.extra_router_config = "  claim_ttl: 3s\n";
  return options;
}

class ClaimsFixture {
 public:
  ClaimsFixture() : h(short_claims()), guard_(irc_io_.get_executor()), irc_(irc_io_) {
    for (int i = 1; i <= kChannels; ++i) {
      h.sql(
          "insert into entities (entity_id, platform, server_id, channel_id, community_id) "
          "values ('twitch:channel:" +
          channel_name(i) + "', 'twitch', 'channel', '" + channel_name(i) + "', " +
          std::to_string(h.community_id()) + ")");
    }
    irc_port_ = irc_.start();
    irc_thread_ = std::thread([this] { irc_io_.run(); });
    h.start();
    auto populated = h.post("/router/coordination/populate", {{"platform", "twitch"}}, kAdminKey);
    REQUIRE(populated.status == 200);
    REQUIRE(populated.json()["added"] == kChannels);
    ca_ = h.dir().write("irc-ca.pem", on_irc([this] { return irc_.certificate_pem(); }));
  }

  ~ClaimsFixture() {
    daemons_.clear();
    on_irc([this] {
      irc_.stop();
      return 0;
    });
    guard_.reset();
    irc_io_.stop();
    if (irc_thread_.joinable()) irc_thread_.join();
  }

  // Starts waddle-twitchd as instance `name` (IRC nick "bot<name>") in claim mode.
  void start(const std::string& name, int capacity) {
    const std::string socket = h.dir().file(name + ".sock");
    const std::string config =
        "log:\n  level: debug\ntwitch:\n  threads: 2\n  admin_socket: " + socket +
        "\n  port: " + std::to_string(ports_[name] = free_port()) +
        "\n  irc_host: 127.0.0.1\n  irc_port: " + std::to_string(irc_port_) +
        "\n  irc_ca_file: " + ca_ + "\n  nick: bot" + name +
        "\n  oauth_token: oauth:test-token-0123\n  eventsub_secret: " + kEventSubSecret +
        "\n  router_url: http://127.0.0.1:" + std::to_string(h.port()) +
        "\n  router_api_key: " + kCollectorKey + "\n  name: " + name +
        "\n  channels_mode: claim\n  capacity: " + std::to_string(capacity) +
        "\n  checkin_interval: 1s\n  heartbeat_interval: 1s\n";
    const std::string path = h.dir().write(name + ".yaml", config);
    sockets_[name] = socket;
    daemons_[name] = std::make_unique<ChildProcess>(
        std::vector<std::string>{WADDLE_TWITCHD, "--config", path},
        std::vector<std::pair<std::string, std::string>>{}, h.dir().file(name + ".log"));
  }

  ChildProcess& daemon(const std::string& name) { return *daemons_.at(name); }
  std::uint16_t port(const std::string& name) { return ports_.at(name); }

  json admin(const std::string& name, const std::string& command) {
    try {
      return waddle::ctl::call(sockets_.at(name), command, json::object()).arguments;
    } catch (const std::exception&) {
      return json::object();  // not up yet
    }
  }

  // The channels the instance's IRC session has joined (the server echoed the JOIN).
  std::set<std::string> joined(const std::string& name) {
    std::set<std::string> out;
    json status = admin(name, "status");
    if (!status.contains("irc")) return out;
    for (const auto& c : status["irc"].value("joined", json::array())) {
      out.insert(c.get<std::string>());
    }
    return out;
  }

  // The coordination table: channel -> the instance holding an unexpired claim.
  std::map<std::string, std::string> holders() {
    std::map<std::string, std::string> out;
    for (const auto& row : h.query("select channel_id, claimed_by from coordination where "
                                   "claimed_by is not null and claim_expires > now()")) {
      out[row[0].as<std::string>()] = row[1].as<std::string>();
    }
    return out;
  }

  // JOIN lines the fake server received, per nick.
  std::map<std::string, std::vector<std::string>> joins_by_nick() {
    return on_irc([this] {
      std::map<std::size_t, std::string> nick_of;
      std::map<std::string, std::vector<std::string>> out;
      for (const auto& line : irc_.lines()) {
        if (line.text.rfind("NICK ", 0) == 0) nick_of[line.connection] = line.text.substr(5);
        if (line.text.rfind("JOIN #", 0) == 0) {
          out[nick_of[line.connection]].push_back(line.text.substr(6));
        }
      }
      return out;
    });
  }

  template <class F>
  decltype(std::declval<F&>()()) on_irc(F f) {
    using T = decltype(f());
    std::promise<T> promise;
    auto result = promise.get_future();
    boost::asio::post(irc_io_, [&] { promise.set_value(f()); });
    return result.get();
  }

  std::string log() {
    std::string out;
    for (auto& [name, d] : daemons_) out += "--- " + name + " ---\n" + d->log() + "\n";
    return out + "--- waddle-routerd ---\n" + h.log();
  }

  RouterHarness h;

 private:
  boost::asio::io_context irc_io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  waddle::fakes::FakeTwitchIrcServer irc_;
  std::thread irc_thread_;
  std::uint16_t irc_port_ = 0;
  std::string ca_;
  std::map<std::string, std::string> sockets_;
  std::map<std::string, std::uint16_t> ports_;
  std::map<std::string, std::unique_ptr<ChildProcess>> daemons_;
};

// A Twitch-signed stream.online notification for `channel`, sent to the instance's webhook.
waddle::net::ClientResponse stream_online(std::uint16_t port, const std::string& channel) {
  const json body = {
      {"subscription",
       {{"id", "5a1e0000-0000-0000-0000-000000000001"},
        {"type", "stream.online"},
        {"version", "1"},
        {"status", "enabled"},
        {"cost", 0},
        {"condition", {{"broadcaster_user_id", "4242"}}},
        {"transport", {{"method", "webhook"}, {"callback", "https://example.com/twitch"}}},
        {"created_at", "2026-01-01T00:00:00Z"}}},
      {"event",
       {{"id", "9001"},
        {"broadcaster_user_id", "4242"},
        {"broadcaster_user_login", channel},
        {"broadcaster_user_name", channel},
        {"type", "live"},
        {"started_at", "2026-11-23T12:00:00Z"}}}};
  const std::string text = body.dump();
  const std::string id = "0n1i0000-0000-0000-0000-000000000001";
  const std::string timestamp = waddle::model::now_rfc3339();
  boost::asio::io_context io;
  waddle::net::HttpClient http(io.get_executor());
  waddle::net::ClientRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/twitch/eventsub";
  request.headers = {{"Content-Type", "application/json"},
                     {"Twitch-Eventsub-Message-Id", id},
                     {"Twitch-Eventsub-Message-Timestamp", timestamp},
                     {"Twitch-Eventsub-Message-Signature",
                      waddle::twitch::eventsub_signature(kEventSubSecret, id, timestamp, text)},
                     {"Twitch-Eventsub-Message-Type", "notification"},
                     {"Twitch-Eventsub-Subscription-Type", "stream.online"},
                     {"Twitch-Eventsub-Subscription-Version", "1"}};
  request.body = text;
  request.timeout = 10s;
  waddle::net::ClientResponse response;
  run_bounded(
      io,
      [&]() -> boost::asio::awaitable<void> {
        response = co_await http.request(std::move(request));
      }(),
      std::chrono::seconds(20));
  return response;
}

}  // namespace

TEST_CASE("two instances in claim mode share the channels and take over a killed one's",
          "[twitch]") {
  ClaimsFixture f;
  // a takes five; b, with room for all ten, takes the other five.
  f.start("a", 5);
  REQUIRE(eventually([&] { return f.joined("a").size() == 5; }));
  f.start("b", kChannels);
  REQUIRE(eventually([&] { return f.joined("b").size() == 5; }));
  INFO(f.log());

  const std::set<std::string> a = f.joined("a"), b = f.joined("b");
  std::set<std::string> all = a;
  for (const auto& c : b) CHECK(all.insert(c).second);  // no channel in both
  CHECK(all.size() == kChannels);
  auto holders = f.holders();
  REQUIRE(holders.size() == kChannels);
  for (const auto& c : a) CHECK(holders[c] == "a");
  for (const auto& c : b) CHECK(holders[c] == "b");
  // The fake server saw each channel joined once, by one nick.
  auto joins = f.joins_by_nick();
  std::map<std::string, int> join_count;
  for (const auto& [nick, channels] : joins) {
    for (const auto& c : channels) ++join_count[c];
  }
  CHECK(join_count.size() == kChannels);
  for (const auto& [channel, count] : join_count) CHECK(count == 1);

  // The admin socket lists the claims with their expiry.
  json claims = f.admin("a", "claims");
  CHECK(claims["mode"] == "claim");
  CHECK(claims["instance"] == "a");
  CHECK(claims["held"] == 5);
  REQUIRE(claims["claims"].size() == 5);
  CHECK(claims["claims"][0]["claim_expires"].is_string());
  CHECK(f.admin("a", "status")["channels_mode"] == "claim");

  // stream.online for one of b's channels: b reports the channel live.
  const std::string live_channel = *b.begin();
  auto online = stream_online(f.port("b"), live_channel);
  CHECK(online.status / 100 == 2);
  CHECK(eventually([&] {
    return f.h.query(
                  "select count(*) from coordination where is_live and status = 'live' and "
                  "live_since is not null and channel_id = '" +
                  live_channel + "'")[0][0]
               .as<int>() == 1;
  }));

  // a dies without a word: once its claims run out (router.claim_ttl 3 s), b takes and joins
  // every channel.
  f.daemon("a").signal(SIGKILL);
  REQUIRE(eventually([&] { return f.joined("b").size() == kChannels; }, 60s));
  holders = f.holders();
  CHECK(holders.size() == kChannels);
  for (const auto& [channel, holder] : holders) CHECK(holder == "b");
  joins = f.joins_by_nick();
  std::set<std::string> b_joins(joins["botb"].begin(), joins["botb"].end());
  for (const auto& c : a) CHECK(b_joins.count(c) == 1);
  CHECK(f.admin("b", "claims")["held"] == kChannels);

  // SIGTERM: b releases its claims before it exits.
  CHECK(f.daemon("b").stop() == 0);
  CHECK(
      f.h.query("select count(*) from coordination where claimed_by is not null")[0][0].as<int>() ==
      0);
  CHECK(f.daemon("b").log().find("released 10 channels") != std::string::npos);
}

TEST_CASE("channels_mode claim refuses a static channel list, naming the key", "[twitch]") {
  TempDir dir;
  const std::string path =
      dir.write("bad.yaml", "twitch:\n  admin_socket: " + dir.file("twitch.sock") +
                                "\n  port: " + std::to_string(free_port()) +
                                "\n  channels_mode: claim\n  channels: [somechan]\n");
  ChildProcess daemon({WADDLE_TWITCHD, "--config", path}, {}, dir.file("bad.log"));
  REQUIRE(eventually([&] { return daemon.log().find("failed to start") != std::string::npos; }));
  INFO(daemon.log());
  CHECK(daemon.log().find("twitch.channels: must be empty with twitch.channels_mode: claim") !=
        std::string::npos);
  const std::string mode = dir.write(
      "mode.yaml", "twitch:\n  admin_socket: " + dir.file("twitch2.sock") +
                       "\n  port: " + std::to_string(free_port()) + "\n  channels_mode: dynamic\n");
  ChildProcess bad_mode({WADDLE_TWITCHD, "--config", mode}, {}, dir.file("mode.log"));
  REQUIRE(eventually([&] { return !bad_mode.log().empty() && !bad_mode.alive(); }));
  INFO(bad_mode.log());
  CHECK(bad_mode.log().find("channels_mode") != std::string::npos);
}
