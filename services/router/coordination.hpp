#pragma once
// The coordination API (the seeds' /router/coordination/*, docs/http-api.md "Coordination"):
// collector instances share a platform's channels through the `coordination` table. An instance
// claims up to its capacity (live channels first, then priority), checks in to keep its claims,
// reports live state and errors for what it holds, and releases on shutdown; a crashed
// instance's claims expire after router.claim_ttl and any instance may take them. Claims are
// atomic row updates (FOR UPDATE SKIP LOCKED), so two instances never hold the same channel.
#include <functional>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "net/router.hpp"
#include "pg/pool.hpp"
#include "router/directory.hpp"
#include "router/engine.hpp"

namespace waddle::router {

using CoordinationHandler =
    std::function<boost::asio::awaitable<net::Response>(net::Request&, const ApiKey&)>;
// Wraps a handler with the API key check for `role` (api.cpp's guarded()).
using CoordinationGuard = std::function<net::Handler(std::string_view role, CoordinationHandler)>;

// Adds every /router/coordination/* route (role collector or admin). The claim TTL is read from
// engine.settings() on each call; claims the calls change are mirrored into
// engine.parts().registry so that late answers go to the instance holding the channel.
void add_coordination_routes(net::Router& router, Engine& engine, pg::Pool& pool,
                             CoordinationGuard guard);

// Reloads every unexpired claim into `registry` (other routers serve claims too).
boost::asio::awaitable<void> load_claims(pg::Pool& pool, Registry& registry);

}  // namespace waddle::router
