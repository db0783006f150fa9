#pragma once
// waddle-twitchd's Prometheus exposition (text format 0.0.4) for GET /metrics. It is computed from
// the same JSON the admin socket's `stats` and `status` answer, so the two never disagree and a
// new counter in stats() shows up here without another edit: every number in `stats` is a counter
// waddle_twitch_<name>_total (but for the gauges named in kStatsGauges), and the gauges come from
// `status` (IRC state, joined channels, token expiry, claims, EventSub subscriptions).
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace waddle::twitch {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The exposition text. `now` is the wall clock used for "seconds until the token expires".
// Missing or mistyped parts of `status` leave their gauges out; it never throws for the JSON's
// shape.
std::string prometheus_text(const nlohmann::json& stats, const nlohmann::json& status,
                            std::chrono::system_clock::time_point now);

}  // namespace waddle::twitch
