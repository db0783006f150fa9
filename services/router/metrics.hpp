#pragma once
// The router's counters, shown by GET /router/metrics (JSON), GET /metrics (Prometheus text
// format 0.0.4) and the admin socket's `stats`. Hot-path counters are relaxed atomics.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace waddle::router {

class Metrics {
 public:
  // Upper bounds (seconds) of the event latency histogram.
  static constexpr std::array<double, 10> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,  0.1,    0.25,  1.0};

  std::atomic<std::uint64_t> events{0};  // accepted (valid, authorised) events
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> invalid{0};  // 4xx for the body
  std::atomic<std::uint64_t> unknown_entity{0};
  std::atomic<std::uint64_t> commands{0};  // chat lines that named a known command
  std::atomic<std::uint64_t> unknown_commands{0};
  std::atomic<std::uint64_t> permission_denied{0};
  std::atomic<std::uint64_t> module_disabled{0};
  std::atomic<std::uint64_t> rate_limited{0};
  std::atomic<std::uint64_t> rule_matches{0};
  std::atomic<std::uint64_t> event_triggers{0};
  std::atomic<std::uint64_t> alias_errors{0};
  std::atomic<std::uint64_t> late_responses{0};
  std::atomic<std::uint64_t> module_messages{0};  // POST /router/messages
  std::atomic<std::uint64_t> callbacks_delivered{0};
  std::atomic<std::uint64_t> callbacks_failed{0};
  std::atomic<std::uint64_t> overlay_published{0};
  std::atomic<std::uint64_t> overlay_failed{0};
  std::atomic<std::uint64_t> webhooks_sent{0};
  std::atomic<std::uint64_t> webhooks_failed{0};
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> authz_failures{0};

  void count_execution(const std::string& module, const std::string& status);
  void observe_event(std::chrono::steady_clock::duration elapsed);
  void count_type(const std::string& message_type);

  nlohmann::json executions_json() const;
  nlohmann::json latency_json() const;
  // Counters above plus executions and latency; `extra` gauges are merged in by the caller.
  nlohmann::json to_json() const;
  // Prometheus exposition; `gauges` are name -> value pairs added as waddle_router_<name>.
  std::string prometheus(const std::map<std::string, double>& gauges) const;

  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> executions_;  // (module, status)
  std::map<std::string, std::uint64_t> types_;
  std::array<std::uint64_t, kBuckets.size() + 1> buckets_{};  // last: +Inf
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
};

}  // namespace waddle::router
