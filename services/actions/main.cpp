// waddle-actiond: the built-in action modules the router calls (DESIGN.md §1, §2.3).
#include "actions/service.hpp"

int main(int argc, char** argv) {
  const waddle::daemon::Info info = waddle::actions::daemon_info();
  const waddle::config::Schema schema = waddle::actions::actions_schema(info);
  return waddle::daemon::run(info, schema, waddle::actions::make_service, argc, argv);
}
