#include "twitch/metrics.hpp"

#include <cmath>
#include <map>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "twitch/eventsub.hpp"

namespace waddle::twitch {
namespace {

using json = nlohmann::json;

// What each stats() counter counts; a counter without an entry still gets a generic help line.
const std::map<std::string, const char*, std::less<>>& counter_help() {
  static const std::map<std::string, const char*, std::less<>> help = {
      {"irc_messages", "IRC lines read from Twitch chat"},
      {"events_posted", "events the router answered"},
      {"events_failed", "events that did not reach the router"},
      {"events_dropped", "events dropped because max_in_flight router calls were running"},
      {"router_duplicates", "events the router had already seen"},
      {"chat_queued", "chat messages put in the send queue"},
      {"chat_sent", "chat messages sent (IRC PRIVMSG or Helix Send Chat Message)"},
      {"chat_dropped", "chat messages dropped (queue full, refused by Twitch, no transport)"},
      {"block_actions", "block actions received from the router"},
      {"eventsub_notifications", "EventSub notifications accepted"},
      {"eventsub_duplicates", "EventSub messages answered as already seen"},
      {"eventsub_rejected", "EventSub requests refused (signature, age)"},
      {"eventsub_revocations", "EventSub revocations received"},
      {"callbacks", "late answers the router delivered to /twitch/callback"},
      {"callbacks_refused", "calls to /twitch/callback refused for their bearer token"},
      {"heartbeats", "heartbeats the router answered"},
  };
  return help;
}

// stats() entries that are levels, not counts.
constexpr std::string_view kStatsGauges[] = {"send_queue"};

bool is_stats_gauge(std::string_view name) {
  for (std::string_view gauge : kStatsGauges) {
    if (gauge == name) return true;
  }
  return false;
}

// Metric names are [a-zA-Z_:][a-zA-Z0-9_:]*; stats keys are snake_case already, this keeps a
// future odd key from breaking the whole exposition.
std::string metric_name(std::string_view key) {
  std::string out;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

std::string label_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<long long>(value));
  }
  return fmt::format("{}", value);
}

class Exposition {
 public:
  void counter(std::string_view name, std::string_view help, double value) {
    family(name, help, "counter");
    out_ += fmt::format("waddle_twitch_{} {}\n", name, number(value));
  }
  void gauge(std::string_view name, std::string_view help, double value,
             std::string_view labels = {}) {
    family(name, help, "gauge");
    out_ += fmt::format("waddle_twitch_{}{} {}\n", name, labels, number(value));
  }
  std::string take() { return std::move(out_); }

 private:
  void family(std::string_view name, std::string_view help, std::string_view type) {
    out_ += fmt::format("# HELP waddle_twitch_{0} {1}\n# TYPE waddle_twitch_{0} {2}\n", name, help,
                        type);
  }
  std::string out_;
};

// The number at `path` in `root`, or nullopt when any step is missing or not what it should be.
std::optional<double> number_at(const json& root, std::initializer_list<const char*> path) {
  const json* at = &root;
  for (const char* step : path) {
    if (!at->is_object()) return std::nullopt;
    auto it = at->find(step);
    if (it == at->end()) return std::nullopt;
    at = &*it;
  }
  if (at->is_boolean()) return at->get<bool>() ? 1.0 : 0.0;
  if (!at->is_number()) return std::nullopt;
  return at->get<double>();
}

const json* object_at(const json& root, const char* key) {
  if (!root.is_object()) return nullptr;
  auto it = root.find(key);
  return it != root.end() && it->is_object() ? &*it : nullptr;
}

void stats_counters(Exposition& out, const json& stats) {
  if (!stats.is_object()) return;
  for (const auto& [key, value] : stats.items()) {
    if (!value.is_number() || is_stats_gauge(key)) continue;
    const auto& help = counter_help();
    auto it = help.find(key);
    const std::string text = it != help.end() ? it->second : "the stats counter " + key;
    out.counter(metric_name(key) + "_total", text, value.get<double>());
  }
}

void helix_metrics(Exposition& out, const json& status, std::chrono::system_clock::time_point now) {
  const json* api = object_at(status, "twitch_api");
  if (!api) return;
  if (auto v = number_at(*api, {"calls", "total"})) {
    out.counter("helix_calls_total", "Helix calls made (each retry counts)", *v);
  }
  if (auto v = number_at(*api, {"calls", "rate_limited"})) {
    out.counter("helix_rate_limited_total", "Helix answers 429 waited out", *v);
  }
  if (auto v = number_at(*api, {"calls", "renewals"})) {
    out.counter("helix_token_renewals_total", "Helix answers 401 met with a renewed token", *v);
  }
  if (auto v = number_at(*api, {"actions", "done"})) {
    out.counter("helix_actions_done_total", "block, whisper and role actions carried out", *v);
  }
  if (auto v = number_at(*api, {"actions", "failed"})) {
    out.counter("helix_actions_failed_total", "Helix actions that failed", *v);
  }
  if (auto v = number_at(*api, {"actions", "skipped"})) {
    out.counter("helix_actions_skipped_total", "Helix actions skipped (off, or nothing to do)", *v);
  }
  if (auto v = number_at(*api, {"token", "refreshes"})) {
    out.counter("token_refreshes_total", "user token refreshes", *v);
  }
  if (auto v = number_at(*api, {"token", "refresh_failures"})) {
    out.counter("token_refresh_failures_total", "user token refreshes that failed", *v);
  }
  const json* token = object_at(*api, "token");
  if (token && token->contains("expires_at") && (*token)["expires_at"].is_string()) {
    if (auto at = parse_rfc3339((*token)["expires_at"].get<std::string>())) {
      const auto left = std::chrono::duration_cast<std::chrono::seconds>(*at - now).count();
      out.gauge("token_expiry_seconds", "seconds until the bot's user token expires",
                static_cast<double>(left));
    }
  }
}

void irc_gauges(Exposition& out, const json& status) {
  const json* irc = object_at(status, "irc");
  const std::string state =
      irc && (*irc)["state"].is_string() ? (*irc)["state"].get<std::string>() : std::string("off");
  out.gauge("irc_connected", "1 while logged in to Twitch chat over IRC", state == "ready" ? 1 : 0);
  std::size_t joined = 0;
  if (irc && irc->contains("joined") && (*irc)["joined"].is_array()) {
    joined = (*irc)["joined"].size();
  }
  out.gauge("joined_channels", "IRC channels joined", static_cast<double>(joined));
  if (irc) {
    if (auto age = number_at(*irc, {"last_message_age_seconds"})) {
      out.gauge("irc_last_message_age_seconds", "seconds since the last line read over IRC", *age);
    }
  }
}

void subscription_metrics(Exposition& out, const json& status) {
  const json* subs = object_at(status, "eventsub_subscriptions");
  if (!subs) return;
  if (auto v = number_at(*subs, {"created"})) {
    out.counter("eventsub_subscriptions_created_total", "EventSub subscriptions created", *v);
  }
  if (auto v = number_at(*subs, {"failed"})) {
    out.counter("eventsub_subscriptions_failed_total",
                "EventSub subscriptions Twitch refused to create", *v);
  }
  if (auto v = number_at(*subs, {"resubscribed"})) {
    out.counter("eventsub_resubscribed_total", "revoked EventSub subscriptions created again", *v);
  }
  if (subs->contains("revoked") && (*subs)["revoked"].is_array()) {
    out.gauge("eventsub_subscriptions_revoked",
              "subscriptions revoked for good (authorization_revoked, user_removed)",
              static_cast<double>((*subs)["revoked"].size()));
  }
}

}  // namespace

std::string prometheus_text(const json& stats, const json& status,
                            std::chrono::system_clock::time_point now) {
  Exposition out;
  stats_counters(out, stats);
  helix_metrics(out, status, now);
  subscription_metrics(out, status);
  if (auto depth = number_at(stats, {"send_queue"})) {
    out.gauge("send_queue_depth", "chat messages waiting for the send limiter", *depth);
  }
  irc_gauges(out, status);
  if (auto held = number_at(status, {"claims", "held"})) {
    out.gauge("claimed_channels", "channels this instance holds through coordination claims",
              *held);
  }
  if (auto v = number_at(status, {"router", "in_flight"})) {
    out.gauge("router_in_flight", "router calls waiting for an answer", *v);
  }
  if (auto v = number_at(status, {"router", "registered"})) {
    out.gauge("router_registered", "1 while registered with the router", *v);
  }
  if (status.is_object() && status.contains("chat_transport") &&
      status["chat_transport"].is_string()) {
    out.gauge("chat_transport_info", "the chat transport in use (label transport)", 1,
              "{transport=\"" + label_value(status["chat_transport"].get<std::string>()) + "\"}");
  }
  return out.take();
}

}  // namespace waddle::twitch
