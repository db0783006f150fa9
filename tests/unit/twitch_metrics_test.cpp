// waddle-twitchd's /metrics text, computed from the admin socket's stats and status JSON: names,
// values, the exposition format (every sample under its # TYPE) and odd input.
#include <map>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "twitch/eventsub.hpp"
#include "twitch/metrics.hpp"

using namespace waddle::twitch;
using json = nlohmann::json;

namespace {

struct Family {
  std::string type;
  std::map<std::string, std::string> samples;  // name with labels → value
};

// Parses the exposition strictly enough to catch a sample without its # TYPE, a family typed
// twice, or a malformed line. Returns the families by name.
std::map<std::string, Family> parse_exposition(const std::string& text) {
  std::map<std::string, Family> out;
  std::istringstream in(text);
  std::string line;
  std::string current;
  while (std::getline(in, line)) {
    INFO(line);
    REQUIRE_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      REQUIRE((type == "counter" || type == "gauge"));
      REQUIRE(out.count(name) == 0);
      out[name].type = type;
      current = name;
      continue;
    }
    REQUIRE(line[0] != '#');
    const auto space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    const std::string sample = line.substr(0, space);
    const std::string name = sample.substr(0, sample.find('{'));
    REQUIRE(name == current);  // a sample belongs to the family typed just before it
    REQUIRE(name.rfind("waddle_twitch_", 0) == 0);
    REQUIRE(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
    const std::string value = line.substr(space + 1);
    std::size_t used = 0;
    (void)std::stod(value, &used);
    REQUIRE(used == value.size());
    out[name].samples[sample] = value;
  }
  return out;
}

std::string value_of(const std::map<std::string, Family>& families, const std::string& name) {
  auto it = families.find(name);
  if (it == families.end() || it->second.samples.empty()) return "absent";
  return it->second.samples.begin()->second;
}

}  // namespace

TEST_CASE("every stats counter is a _total counter and the gauges come from status") {
  const json stats = {{"irc_messages", 12},  {"events_posted", 3},  {"chat_sent", 2},
                      {"chat_dropped", 1},   {"send_queue", 4},     {"some_new_counter", 9},
                      {"not_a_number", "x"}, {"nested", {{"a", 1}}}};
  const auto now = std::chrono::system_clock::now();
  const auto expires = *parse_rfc3339("2030-01-01T00:00:00Z");
  const json status = {
      {"irc", {{"state", "ready"}, {"joined", {"a", "b", "c"}}, {"last_message_age_seconds", 1.5}}},
      {"router", {{"registered", true}, {"in_flight", 2}}},
      {"chat_transport", "irc"},
      {"claims", {{"held", 7}}},
      {"twitch_api",
       {{"calls", {{"total", 40}, {"rate_limited", 1}, {"renewals", 2}}},
        {"actions", {{"done", 5}, {"failed", 1}, {"skipped", 0}}},
        {"token",
         {{"refreshes", 3}, {"refresh_failures", 0}, {"expires_at", "2030-01-01T00:00:00Z"}}}}},
      {"eventsub_subscriptions",
       {{"created", 16}, {"failed", 1}, {"resubscribed", 1}, {"revoked", json::array({{}, {}})}}}};
  const std::string text = prometheus_text(stats, status, now);
  INFO(text);
  const auto families = parse_exposition(text);

  CHECK(families.at("waddle_twitch_irc_messages_total").type == "counter");
  CHECK(value_of(families, "waddle_twitch_irc_messages_total") == "12");
  CHECK(value_of(families, "waddle_twitch_events_posted_total") == "3");
  CHECK(value_of(families, "waddle_twitch_chat_sent_total") == "2");
  CHECK(value_of(families, "waddle_twitch_chat_dropped_total") == "1");
  CHECK(value_of(families, "waddle_twitch_some_new_counter_total") == "9");  // cannot drift
  CHECK(families.count("waddle_twitch_not_a_number_total") == 0);
  CHECK(families.count("waddle_twitch_send_queue_total") == 0);
  CHECK(families.at("waddle_twitch_send_queue_depth").type == "gauge");
  CHECK(value_of(families, "waddle_twitch_send_queue_depth") == "4");
  CHECK(value_of(families, "waddle_twitch_irc_connected") == "1");
  CHECK(value_of(families, "waddle_twitch_joined_channels") == "3");
  CHECK(value_of(families, "waddle_twitch_irc_last_message_age_seconds") == "1.5");
  CHECK(value_of(families, "waddle_twitch_claimed_channels") == "7");
  CHECK(value_of(families, "waddle_twitch_router_registered") == "1");
  CHECK(value_of(families, "waddle_twitch_router_in_flight") == "2");
  CHECK(value_of(families, "waddle_twitch_helix_calls_total") == "40");
  CHECK(value_of(families, "waddle_twitch_helix_rate_limited_total") == "1");
  CHECK(value_of(families, "waddle_twitch_helix_token_renewals_total") == "2");
  CHECK(value_of(families, "waddle_twitch_helix_actions_done_total") == "5");
  CHECK(value_of(families, "waddle_twitch_token_refreshes_total") == "3");
  CHECK(value_of(families, "waddle_twitch_eventsub_subscriptions_created_total") == "16");
  CHECK(value_of(families, "waddle_twitch_eventsub_resubscribed_total") == "1");
  CHECK(value_of(families, "waddle_twitch_eventsub_subscriptions_revoked") == "2");
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(expires - now).count();
  const double shown = std::stod(value_of(families, "waddle_twitch_token_expiry_seconds"));
  CHECK(shown >= static_cast<double>(left) - 1);
  CHECK(shown <= static_cast<double>(left) + 1);
  CHECK(families.at("waddle_twitch_chat_transport_info")
            .samples.count("waddle_twitch_chat_transport_info{transport=\"irc\"}") == 1);
}

TEST_CASE("metrics: IRC off, missing parts and odd JSON never throw") {
  auto families = parse_exposition(prometheus_text(json::object(), json::object(), {}));
  CHECK(value_of(families, "waddle_twitch_irc_connected") == "0");
  CHECK(value_of(families, "waddle_twitch_joined_channels") == "0");
  CHECK(families.count("waddle_twitch_token_expiry_seconds") == 0);
  CHECK(families.count("waddle_twitch_claimed_channels") == 0);

  const json odd_status = {{"irc", "ready"},
                           {"twitch_api", {{"calls", 3}, {"token", {{"expires_at", "soon"}}}}},
                           {"claims", json::array()},
                           {"chat_transport", "a\"b\\c\nd"},
                           {"eventsub_subscriptions", {{"revoked", "none"}}}};
  std::string text;
  REQUIRE_NOTHROW(text = prometheus_text(json::array({1, 2}), odd_status, {}));
  INFO(text);
  families = parse_exposition(text);
  CHECK(value_of(families, "waddle_twitch_irc_connected") == "0");
  CHECK(families.count("waddle_twitch_helix_calls_total") == 0);
  CHECK(families.at("waddle_twitch_chat_transport_info")
            .samples.count("waddle_twitch_chat_transport_info{transport=\"a\\\"b\\\\c\\nd\"}") ==
        1);
  REQUIRE_NOTHROW(prometheus_text(nullptr, nullptr, {}));
  REQUIRE_NOTHROW(prometheus_text(json("x"), json(5), {}));
}
