#include "router/metrics.hpp"

#include <fmt/format.h>

namespace waddle::router {
namespace {

// Prometheus label values escape backslash, double quote and newline.
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void Metrics::count_execution(const std::string& module, const std::string& status) {
  std::lock_guard lock(mutex_);
  ++executions_[{module, status}];
}

void Metrics::count_type(const std::string& message_type) {
  std::lock_guard lock(mutex_);
  ++types_[message_type];
}

void Metrics::observe_event(std::chrono::steady_clock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::lock_guard lock(mutex_);
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  ++buckets_[i];
  latency_sum_ += seconds;
  ++latency_count_;
}

nlohmann::json Metrics::executions_json() const {
  std::lock_guard lock(mutex_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, n] : executions_) out[key.first][key.second] = n;
  return out;
}

nlohmann::json Metrics::latency_json() const {
  std::lock_guard lock(mutex_);
  nlohmann::json buckets = nlohmann::json::object();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += buckets_[i];
    buckets[fmt::format("{}", kBuckets[i])] = cumulative;
  }
  return {
      {"count", latency_count_},
      {"sum_seconds", latency_sum_},
      {"mean_ms", latency_count_ ? latency_sum_ * 1000 / static_cast<double>(latency_count_) : 0},
      {"le_seconds", buckets}};
}

nlohmann::json Metrics::to_json() const {
  const double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json types = nlohmann::json::object();
  {
    std::lock_guard lock(mutex_);
    for (const auto& [type, n] : types_) types[type] = n;
  }
  return {{"uptime_seconds", uptime},
          {"events", events.load()},
          {"events_per_second", uptime > 0 ? static_cast<double>(events.load()) / uptime : 0.0},
          {"events_by_type", types},
          {"duplicates", duplicates.load()},
          {"invalid", invalid.load()},
          {"unknown_entity", unknown_entity.load()},
          {"commands", commands.load()},
          {"unknown_commands", unknown_commands.load()},
          {"permission_denied", permission_denied.load()},
          {"module_disabled", module_disabled.load()},
          {"rate_limited", rate_limited.load()},
          {"rule_matches", rule_matches.load()},
          {"event_triggers", event_triggers.load()},
          {"alias_errors", alias_errors.load()},
          {"late_responses", late_responses.load()},
          {"module_messages", module_messages.load()},
          {"callbacks_delivered", callbacks_delivered.load()},
          {"callbacks_failed", callbacks_failed.load()},
          {"overlay_published", overlay_published.load()},
          {"overlay_failed", overlay_failed.load()},
          {"webhooks_sent", webhooks_sent.load()},
          {"webhooks_failed", webhooks_failed.load()},
          {"auth_failures", auth_failures.load()},
          {"authz_failures", authz_failures.load()},
          {"executions", executions_json()},
          {"latency", latency_json()}};
}

std::string Metrics::prometheus(const std::map<std::string, double>& gauges) const {
  std::string out;
  auto counter = [&](const char* name, const char* help, std::uint64_t value) {
    out += fmt::format(
        "# HELP waddle_router_{0} {1}\n# TYPE waddle_router_{0} counter\n"
        "waddle_router_{0} {2}\n",
        name, help, value);
  };
  counter("events_total", "Events accepted", events.load());
  counter("duplicates_total", "Events dropped as duplicates", duplicates.load());
  counter("invalid_total", "Requests refused for their body", invalid.load());
  counter("unknown_entity_total", "Events for entities no community owns", unknown_entity.load());
  counter("commands_total", "Chat lines that named a known command", commands.load());
  counter("permission_denied_total", "Commands refused for the user's role",
          permission_denied.load());
  counter("module_disabled_total", "Commands of modules disabled in the community",
          module_disabled.load());
  counter("rate_limited_total", "Commands refused by a rate limit", rate_limited.load());
  counter("rule_matches_total", "String rule matches", rule_matches.load());
  counter("late_responses_total", "Module answers posted to /router/responses",
          late_responses.load());
  counter("module_messages_total", "Module messages posted to /router/messages",
          module_messages.load());
  counter("callbacks_failed_total", "Late answers a collector did not accept",
          callbacks_failed.load());
  counter("overlay_published_total", "Overlay actions published", overlay_published.load());
  counter("overlay_failed_total", "Overlay actions that could not be published",
          overlay_failed.load());
  counter("auth_failures_total", "Requests with a missing or wrong API key", auth_failures.load());
  counter("authz_failures_total", "Requests whose API key lacks the role", authz_failures.load());
  {
    std::lock_guard lock(mutex_);
    out +=
        "# HELP waddle_router_executions_total Module executions by module and result\n"
        "# TYPE waddle_router_executions_total counter\n";
    for (const auto& [key, n] : executions_) {
      out += fmt::format("waddle_router_executions_total{{module=\"{}\",status=\"{}\"}} {}\n",
                         label(key.first), label(key.second), n);
    }
    out +=
        "# HELP waddle_router_event_seconds Time to answer POST /router/events\n"
        "# TYPE waddle_router_event_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += buckets_[i];
      out += fmt::format("waddle_router_event_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i],
                         cumulative);
    }
    cumulative += buckets_.back();
    out += fmt::format("waddle_router_event_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
    out += fmt::format("waddle_router_event_seconds_sum {}\n", latency_sum_);
    out += fmt::format("waddle_router_event_seconds_count {}\n", latency_count_);
  }
  for (const auto& [name, value] : gauges) {
    out += fmt::format("# TYPE waddle_router_{0} gauge\nwaddle_router_{0} {1}\n", name, value);
  }
  return out;
}

}  // namespace waddle::router
