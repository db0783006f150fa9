// YAML config files: load_string collects errors for any input, never throws or crashes.
#include <cstdint>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using waddle::config::Type;
  static const waddle::config::Schema schema = [] {
    waddle::config::Schema s;
    s.add(
        {.section = "database", .name = "url", .type = Type::string, .secret = true, .doc = "url"});
    s.add({.section = "log",
           .name = "level",
           .type = Type::enumeration,
           .default_value = "info",
           .choices = {"debug", "info"},
           .doc = "level"});
    s.add({.section = "router",
           .name = "threads",
           .type = Type::integer,
           .default_value = 2,
           .min = 1,
           .max = 64,
           .doc = "threads"});
    s.add({.section = "router",
           .name = "timeout",
           .type = Type::duration,
           .default_value = "5s",
           .doc = "timeout"});
    s.add({.section = "router", .name = "prefixes", .type = Type::string_list, .doc = "prefixes"});
    s.add({.section = "router",
           .name = "strict",
           .type = Type::boolean,
           .default_value = true,
           .doc = "strict"});
    s.ignore_section("overlay");
    return s;
  }();
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto result =
      waddle::config::load_string(schema, yaml, "fuzz.yaml", waddle::config::fixed_environment({}));
  if (result.config) (void)result.config->to_yaml(true);
  return 0;
}
