#pragma once
// Short builders for a daemon's KeySpec table, so a settings.cpp reads as a list of keys:
//
//   config::KeyMaker key("router");
//   schema.add(config::bounded(key("port", Type::integer, 8000, "HTTP API port"), 1, 65535));
//   schema.add(key.secret("overlay_api_key", "API key for waddle-overlayd"));
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "config/schema.hpp"

namespace waddle::config {

class KeyMaker {
 public:
  explicit KeyMaker(std::string section) : section_(std::move(section)) {}

  KeySpec operator()(std::string name, Type type, nlohmann::json default_value,
                     std::string doc) const {
    KeySpec spec;
    spec.section = section_;
    spec.name = std::move(name);
    spec.type = type;
    spec.default_value = std::move(default_value);
    spec.doc = std::move(doc);
    return spec;
  }

  // A string without a default that is redacted in output and may come from a *_file key or a
  // systemd credential.
  KeySpec secret(std::string name, std::string doc) const {
    KeySpec spec = (*this)(std::move(name), Type::string, nullptr, std::move(doc));
    spec.secret = true;
    return spec;
  }

 private:
  std::string section_;
};

// The same key with inclusive bounds (see KeySpec::min/max for what they bound).
inline KeySpec bounded(KeySpec spec, double min, double max) {
  spec.min = min;
  spec.max = max;
  return spec;
}

}  // namespace waddle::config
