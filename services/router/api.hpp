#pragma once
// The router's HTTP API (docs/http-api.md): the seeds' /router/* paths plus /metrics, /healthz and
// /readyz, each behind the X-API-Key role it needs.
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "net/router.hpp"
#include "pg/pool.hpp"
#include "router/engine.hpp"

namespace waddle::router {

struct ApiParts {
  Engine& engine;
  ApiKeys& keys;
  pg::Pool& pool;
  // {"ready": bool, "checks": {...}}: Postgres answers and the caches are loaded.
  std::function<boost::asio::awaitable<nlohmann::json>()> readiness;
  // Gauges for /metrics and /router/metrics (cache sizes, pending audit rows, degraded flags).
  std::function<std::map<std::string, double>()> gauges;
  // The /router/health body.
  std::function<nlohmann::json()> health;
};

// Every route. The body limits come from the engine's settings at the time of the call.
net::Router make_api(ApiParts parts);

}  // namespace waddle::router
