#include "config/config.hpp"

#include <cstdlib>

#include "config/internal.hpp"
#include "error/error.hpp"

namespace waddle::config {

namespace internal {

nlohmann::json display_value(const nlohmann::json& value, Type type) {
  if (type == Type::duration && value.is_number_integer()) {
    return format_duration(value.get<std::int64_t>());
  }
  return value;
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string yaml_value(const nlohmann::json& value, Type type) {
  // JSON is a subset of YAML's flow style, so the JSON text of a value loads back unchanged.
  if (type == Type::duration && value.is_number_integer()) {
    return format_duration(value.get<std::int64_t>());
  }
  return json_text(value);
}

}  // namespace internal

std::string ConfigError::to_string() const {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
  }
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

Environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Environment fixed_environment(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Config::Config(std::shared_ptr<const Schema> schema, std::vector<nlohmann::json> values,
               std::string source_file)
    : schema_(std::move(schema)),
      values_(std::move(values)),
      source_file_(std::move(source_file)) {}

const nlohmann::json& Config::value_of(std::string_view section, std::string_view name,
                                       std::initializer_list<Type> types,
                                       const char* wanted) const {
  auto full = std::string(section) + "." + std::string(name);
  auto i = schema_->index_of(section, name);
  if (!i) throw Error(Errc::internal, "config key " + full + " is not declared in the schema");
  const auto& spec = schema_->keys()[*i];
  bool fits = false;
  for (auto t : types) fits = fits || t == spec.type;
  if (!fits) {
    throw Error(Errc::internal, "config key " + full + " is a " +
                                    std::string(type_name(spec.type)) + ", not " + wanted);
  }
  const auto& v = values_[*i];
  if (v.is_null()) {
    throw Error(Errc::internal, "config key " + full + " has no value; check has() first");
  }
  return v;
}

std::string Config::get_string(std::string_view section, std::string_view name) const {
  return value_of(section, name, {Type::string, Type::enumeration}, "a string").get<std::string>();
}

std::int64_t Config::get_int(std::string_view section, std::string_view name) const {
  return value_of(section, name, {Type::integer}, "an integer").get<std::int64_t>();
}

double Config::get_double(std::string_view section, std::string_view name) const {
  return value_of(section, name, {Type::number, Type::integer}, "a number").get<double>();
}

bool Config::get_bool(std::string_view section, std::string_view name) const {
  return value_of(section, name, {Type::boolean}, "a boolean").get<bool>();
}

std::chrono::milliseconds Config::get_duration(std::string_view section,
                                               std::string_view name) const {
  return std::chrono::milliseconds(
      value_of(section, name, {Type::duration}, "a duration").get<std::int64_t>());
}

std::vector<std::string> Config::get_list(std::string_view section, std::string_view name) const {
  return value_of(section, name, {Type::string_list}, "a list of strings")
      .get<std::vector<std::string>>();
}

bool Config::has(std::string_view section, std::string_view name) const {
  auto i = schema_->index_of(section, name);
  if (!i) {
    throw Error(Errc::internal, "config key " + std::string(section) + "." + std::string(name) +
                                    " is not declared in the schema");
  }
  return !values_[*i].is_null();
}

namespace {
constexpr const char* kRedacted = "********";
}

nlohmann::json Config::to_json(bool redact) const {
  auto out = nlohmann::json::object();
  const auto& keys = schema_->keys();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& v = values_[i];
    auto& slot = out[keys[i].section][keys[i].name];
    if (v.is_null()) {
      slot = nullptr;
    } else if (redact && keys[i].secret) {
      slot = kRedacted;
    } else {
      slot = internal::display_value(v, keys[i].type);
    }
  }
  return out;
}

std::string Config::to_yaml(bool redact) const {
  std::string out;
  const auto& keys = schema_->keys();
  for (const auto& section : schema_->sections()) {
    std::string body;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].section != section || values_[i].is_null()) continue;
      body += "  " + keys[i].name + ": ";
      if (redact && keys[i].secret) {
        body += std::string("\"") + kRedacted + "\"";
      } else {
        body += internal::yaml_value(values_[i], keys[i].type);
      }
      body += '\n';
    }
    if (!body.empty()) out += section + ":\n" + body;
  }
  return out;
}

}  // namespace waddle::config
