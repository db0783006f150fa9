// waddle-overlayd: OBS browser sources (ticker, media, general) pushed over WebSocket.
#include <memory>

#include "daemon/daemon.hpp"
#include "overlay/service.hpp"

int main(int argc, char** argv) {
  waddle::daemon::Info info{"overlay", "waddle-overlayd", WADDLE_VERSION,
                            "OBS browser sources: overlay pages and their WebSocket feed"};
  auto schema = waddle::daemon::base_schema(info);
  waddle::overlay::add_config_keys(schema);
  return waddle::daemon::run(
      info, schema,
      [](waddle::daemon::Context& context) {
        return std::make_unique<waddle::overlay::OverlayService>(
            context.io(), waddle::overlay::settings_from_config(context.config()));
      },
      argc, argv);
}
