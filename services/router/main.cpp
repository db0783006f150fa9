// waddle-routerd: the event API, command routing, string rules, rate limits and module execution.
#include "router/service.hpp"
#include "router/settings.hpp"

int main(int argc, char** argv) {
  return waddle::daemon::run(waddle::router::daemon_info(), waddle::router::config_schema(),
                             waddle::router::make_service, argc, argv);
}
