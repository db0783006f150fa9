// waddle-testd: the smallest daemon on the shared skeleton, for the daemon tests. It has one
// config key (testd.greeting) and one admin command (greet) and takes `testd.drain` to stop.
#include <chrono>
#include <mutex>
#include <thread>

#include "daemon/daemon.hpp"

namespace {

class GreeterService : public waddle::daemon::Service {
 public:
  explicit GreeterService(waddle::daemon::Context& context)
      : greeting_(context.config().get_string("testd", "greeting")),
        drain_(context.config().get_duration("testd", "drain")) {
    context.commands().add("greet", "say the configured greeting", waddle::ctl::Access::read,
                           waddle::ctl::SyncHandler([this](const waddle::ctl::Call&) {
                             std::lock_guard lock(mutex_);
                             return waddle::ctl::Reply::ok(greeting_);
                           }));
  }
  void start() override {}
  void reload(const waddle::config::Config& config) override {
    std::lock_guard lock(mutex_);
    greeting_ = config.get_string("testd", "greeting");
  }
  void stop(std::chrono::steady_clock::time_point) override { std::this_thread::sleep_for(drain_); }
  nlohmann::json status() const override { return {{"greetings", 1}}; }

 private:
  mutable std::mutex mutex_;
  std::string greeting_;
  std::chrono::milliseconds drain_;
};

}  // namespace

int main(int argc, char** argv) {
  waddle::daemon::Info info{"testd", "waddle-testd", "0.0.1", "test daemon for the skeleton"};
  auto schema = waddle::daemon::base_schema(info);
  schema.add({.section = "testd",
              .name = "greeting",
              .type = waddle::config::Type::string,
              .default_value = "hello",
              .doc = "what greet answers"});
  schema.add({.section = "testd",
              .name = "drain",
              .type = waddle::config::Type::duration,
              .default_value = "0s",
              .doc = "how long stop() takes"});
  return waddle::daemon::run(
      info, schema,
      [](waddle::daemon::Context& context) { return std::make_unique<GreeterService>(context); },
      argc, argv);
}
