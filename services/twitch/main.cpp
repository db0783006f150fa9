// waddle-twitchd: the Twitch collector (IRC chat, EventSub webhooks, late answers to chat).
#include "twitch/service.hpp"
#include "twitch/settings.hpp"

int main(int argc, char** argv) {
  return waddle::daemon::run(waddle::twitch::daemon_info(), waddle::twitch::config_schema(),
                             waddle::twitch::make_service, argc, argv);
}
