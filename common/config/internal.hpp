#pragma once
// Helpers shared by the config library's sources; not part of its interface.

#include <string>

#include <nlohmann/json.hpp>

#include "config/schema.hpp"

namespace waddle::config::internal {

// A stored value as it is shown to people: durations as "30s", everything else unchanged.
nlohmann::json display_value(const nlohmann::json& value, Type type);
// A stored value as a YAML flow value that loads back to the same value.
std::string yaml_value(const nlohmann::json& value, Type type);
// The JSON text of a value, never throwing on invalid UTF-8.
std::string json_text(const nlohmann::json& value);

}  // namespace waddle::config::internal
