#pragma once
// waddle-routerd's wiring: builds every part from the config, loads the caches before READY,
// serves the HTTP API and the router's admin commands, reloads on SIGHUP and drains on SIGTERM.
#include <memory>

#include "daemon/daemon.hpp"

namespace waddle::router {

std::unique_ptr<daemon::Service> make_service(daemon::Context& context);

}  // namespace waddle::router
