#pragma once
// waddle-twitchd's wiring: the IRC chat connection, the webhook server (EventSub and the router's
// late-answer callback), the router link with registration and heartbeats, the paced send queue
// and the collector's admin commands (join, part).
#include <memory>

#include "daemon/daemon.hpp"

namespace waddle::twitch {

std::unique_ptr<daemon::Service> make_service(daemon::Context& context);

}  // namespace waddle::twitch
