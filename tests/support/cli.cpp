#include "support/cli.hpp"

namespace waddle::test {

std::string waddle_binary() {
  return WADDLE_BIN;
}

ProcessResult run_waddle(const FreshDatabase& db, const std::vector<std::string>& args,
                         const std::string& stdin_text, const EnvList& extra_env) {
  std::vector<std::string> argv{waddle_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  // The environment wins over any /etc/waddlebot/waddle.yaml on the machine.
  EnvList env{{"WADDLE_DATABASE_URL", db.url()}};
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return run_process(argv, env, stdin_text, std::chrono::seconds(60));
}

}  // namespace waddle::test
