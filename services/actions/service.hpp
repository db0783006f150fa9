#pragma once
// waddle-actiond on the daemon skeleton: its config keys (section `actions`), the settings they
// make, and the daemon::Service that runs an ActionServer.

#include <memory>

#include "actions/server.hpp"
#include "config/config.hpp"
#include "config/schema.hpp"
#include "daemon/daemon.hpp"

namespace waddle::actions {

daemon::Info daemon_info();

// daemon::base_schema plus actions.listen, actions.public_url, actions.modules.
config::Schema actions_schema(const daemon::Info& info);

// Throws Error(invalid_argument) naming the key: a listen address without a port, an unknown
// module, a public_url that is not http(s), no database.url.
Settings settings_from_config(const config::Config& config);

std::unique_ptr<daemon::Service> make_service(daemon::Context& context);

}  // namespace waddle::actions
