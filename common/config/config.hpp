#pragma once
// Loading WaddleBot's YAML config against a Schema (DESIGN.md §4). Sources, highest first:
// environment (WADDLE_<SECTION>_<KEY>, and WADDLE_<SECTION>_<KEY>_FILE for secrets) > the file
// (key, or key_file for secrets) > $CREDENTIALS_DIRECTORY/<section>.<key> (secrets) > default.
// Every problem is collected, so --check-config can print them all at once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/schema.hpp"

namespace waddle::config {

struct ConfigError {
  std::string key;   // "section.key", a section name, or the environment variable
  std::string file;  // the config file (or secret file) it refers to; empty for the environment
  int line = 0;      // 1-based; 0 = no line
  std::string message;

  // "FILE:LINE: section.key: message", leaving out the parts that are empty.
  std::string to_string() const;
};

// Looks up an environment variable; injectable so tests need not touch the real environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
// The process environment (getenv).
Environment process_environment();
// A fixed set of variables, e.g. for tests.
Environment fixed_environment(std::map<std::string, std::string, std::less<>> vars);

class Loader;

// A validated configuration: every declared key has a value of its type, or none (optional keys
// without a default). Getting an undeclared key, a key of another type or a key without a value
// is a programming error: waddle::Error(Errc::internal).
class Config {
 public:
  std::string get_string(std::string_view section, std::string_view name) const;  // + enumeration
  std::int64_t get_int(std::string_view section, std::string_view name) const;
  double get_double(std::string_view section, std::string_view name) const;  // number or integer
  bool get_bool(std::string_view section, std::string_view name) const;
  std::chrono::milliseconds get_duration(std::string_view section, std::string_view name) const;
  std::vector<std::string> get_list(std::string_view section, std::string_view name) const;
  // True when the key was set by some source or has a default.
  bool has(std::string_view section, std::string_view name) const;

  // {"section": {"key": value}}; durations as "30s"-style strings, unset keys as null, and secrets
  // that are set as "********" unless redact is false.
  nlohmann::json to_json(bool redact = true) const;
  // The values that are set, as a config file (sections and keys in declaration order).
  std::string to_yaml(bool redact = true) const;

  const std::string& source_file() const noexcept { return source_file_; }
  const Schema& schema() const noexcept { return *schema_; }

 private:
  friend class Loader;
  Config(std::shared_ptr<const Schema> schema, std::vector<nlohmann::json> values,
         std::string source_file);
  const nlohmann::json& value_of(std::string_view section, std::string_view name,
                                 std::initializer_list<Type> types, const char* wanted) const;

  std::shared_ptr<const Schema> schema_;
  std::vector<nlohmann::json> values_;  // by schema position; null = no value
  std::string source_file_;
};

struct LoadResult {
  std::optional<Config> config;     // set exactly when errors is empty
  std::vector<ConfigError> errors;  // file order, then environment, then missing required keys
};

LoadResult load(const Schema& schema, const std::string& path,
                const Environment& env = process_environment());
// `name` stands in for the file name in errors.
LoadResult load_string(const Schema& schema, std::string_view yaml, std::string name,
                       const Environment& env = process_environment());
// Throws waddle::Error(Errc::invalid_argument) listing every error, one per line.
Config load_or_throw(const Schema& schema, const std::string& path,
                     const Environment& env = process_environment());

// A commented config file holding every key: its doc, type, bounds and default as a comment above
// it; keys without a default and secrets as commented-out examples. Loads back with load_string.
std::string print_default(const Schema& schema);

}  // namespace waddle::config
