#include "config/schema.hpp"

#include <algorithm>

#include <charconv>
#include <limits>

#include "error/error.hpp"

namespace waddle::config {
namespace {

bool is_identifier(std::string_view s) {
  if (s.empty() || s.front() < 'a' || s.front() > 'z') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string full_name(std::string_view section, std::string_view name) {
  std::string s(section);
  s += '.';
  s += name;
  return s;
}

[[noreturn]] void bad_spec(const KeySpec& spec, const std::string& why) {
  throw Error(Errc::internal, "config schema: " + spec.section + "." + spec.name + ": " + why);
}

double measure(const nlohmann::json& value, Type type) {
  switch (type) {
    case Type::string:
    case Type::enumeration: return static_cast<double>(value.get_ref<const std::string&>().size());
    case Type::string_list: return static_cast<double>(value.size());
    default: return value.get<double>();
  }
}

// Brings a declared default to the stored form of its type; throws when it does not fit.
void normalise_default(KeySpec& spec) {
  auto& v = spec.default_value;
  if (v.is_null()) return;
  switch (spec.type) {
    case Type::string:
    case Type::enumeration:
      if (!v.is_string()) bad_spec(spec, "default must be a string");
      break;
    case Type::integer:
      if (!v.is_number_integer() ||
          (v.is_number_unsigned() &&
           v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
        bad_spec(spec, "default must be an integer");
      }
      v = v.get<std::int64_t>();
      break;
    case Type::number:
      if (!v.is_number()) bad_spec(spec, "default must be a number");
      v = v.get<double>();
      break;
    case Type::boolean:
      if (!v.is_boolean()) bad_spec(spec, "default must be a boolean");
      break;
    case Type::duration:
      if (v.is_string()) {
        auto ms = parse_duration_ms(v.get_ref<const std::string&>());
        if (!ms) bad_spec(spec, "default is not a duration");
        v = *ms;
      } else if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
        v = v.get<std::int64_t>();
      } else {
        bad_spec(spec, "default must be a duration string or milliseconds");
      }
      break;
    case Type::string_list:
      if (!v.is_array()) bad_spec(spec, "default must be a list of strings");
      for (const auto& item : v) {
        if (!item.is_string()) bad_spec(spec, "default must be a list of strings");
      }
      break;
  }
  if (spec.type == Type::enumeration) {
    bool found = false;
    for (const auto& c : spec.choices) found = found || c == v.get_ref<const std::string&>();
    if (!found) bad_spec(spec, "default is not one of the choices");
  }
  if (spec.type != Type::boolean) {
    double m = measure(v, spec.type);
    if ((spec.min && m < *spec.min) || (spec.max && m > *spec.max)) {
      bad_spec(spec, "default is out of bounds");
    }
  }
}

}  // namespace

std::string_view type_name(Type type) noexcept {
  switch (type) {
    case Type::string: return "string";
    case Type::integer: return "integer";
    case Type::number: return "number";
    case Type::boolean: return "boolean";
    case Type::duration: return "duration";
    case Type::string_list: return "list of strings";
    case Type::enumeration: return "enumeration";
  }
  return "string";
}

Schema& Schema::add(KeySpec spec) {
  if (!is_identifier(spec.section) || !is_identifier(spec.name)) {
    bad_spec(spec, "section and key names must be lower snake_case");
  }
  auto key = full_name(spec.section, spec.name);
  if (index_.count(key)) bad_spec(spec, "declared twice");
  // K_file is how a secret K is read from a file, so it cannot be a key of its own.
  constexpr std::string_view kFile = "_file";
  if (spec.name.size() > kFile.size() && spec.name.ends_with(kFile)) {
    auto base = spec.name.substr(0, spec.name.size() - kFile.size());
    if (const auto* other = find(spec.section, base); other && other->secret) {
      bad_spec(spec, "clashes with the file form of secret key " + base);
    }
  }
  if (spec.secret && find(spec.section, spec.name + std::string(kFile))) {
    bad_spec(spec, "a secret key cannot have a " + spec.name + "_file key beside it");
  }
  auto env = env_var_name(spec.section, spec.name);
  for (const auto& k : keys_) {
    if (env_var_name(k.section, k.name) == env) {
      bad_spec(spec, "same environment variable as " + k.section + "." + k.name);
    }
  }
  if (spec.type == Type::enumeration && spec.choices.empty()) bad_spec(spec, "no choices");
  if (spec.type != Type::enumeration && !spec.choices.empty()) {
    bad_spec(spec, "choices only apply to enumerations");
  }
  if (spec.type == Type::boolean && (spec.min || spec.max)) bad_spec(spec, "bounds on a boolean");
  if (spec.min && spec.max && *spec.min > *spec.max) bad_spec(spec, "min is above max");
  if (spec.required && !spec.default_value.is_null()) {
    bad_spec(spec, "a required key cannot have a default");
  }
  normalise_default(spec);
  index_.emplace(std::move(key), keys_.size());
  keys_.push_back(std::move(spec));
  return *this;
}

Schema& Schema::merge(const Schema& other) {
  for (const auto& spec : other.keys_) add(spec);
  for (const auto& section : other.ignored_sections_) ignore_section(section);
  return *this;
}

std::optional<std::size_t> Schema::index_of(std::string_view section, std::string_view name) const {
  auto it = index_.find(full_name(section, name));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

const KeySpec* Schema::find(std::string_view section, std::string_view name) const {
  auto i = index_of(section, name);
  return i ? &keys_[*i] : nullptr;
}

std::vector<std::string> Schema::sections() const {
  std::vector<std::string> out;
  for (const auto& k : keys_) {
    if (out.empty() || out.back() != k.section) {
      bool seen = false;
      for (const auto& s : out) seen = seen || s == k.section;
      if (!seen) out.push_back(k.section);
    }
  }
  return out;
}

bool Schema::has_section(std::string_view section) const {
  for (const auto& k : keys_) {
    if (k.section == section) return true;
  }
  return false;
}

Schema& Schema::ignore_section(std::string section) {
  if (!ignores_section(section)) ignored_sections_.push_back(std::move(section));
  return *this;
}

Schema& Schema::unignore_section(std::string_view section) {
  std::erase(ignored_sections_, section);
  return *this;
}

bool Schema::ignores_section(std::string_view section) const {
  return !has_section(section) && std::find(ignored_sections_.begin(), ignored_sections_.end(),
                                            section) != ignored_sections_.end();
}

std::optional<std::int64_t> parse_duration_ms(std::string_view text) {
  std::int64_t n = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin == end || *begin < '0' || *begin > '9') return std::nullopt;
  auto [ptr, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc()) return std::nullopt;
  std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  std::int64_t factor = 0;
  if (unit.empty() || unit == "s") {
    factor = 1000;
  } else if (unit == "ms") {
    factor = 1;
  } else if (unit == "m") {
    factor = 60 * 1000;
  } else if (unit == "h") {
    factor = 3600 * 1000;
  } else {
    return std::nullopt;
  }
  if (n > std::numeric_limits<std::int64_t>::max() / factor) return std::nullopt;
  return n * factor;
}

std::string format_duration(std::int64_t ms) {
  if (ms == 0) return "0s";
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string env_var_name(std::string_view section, std::string_view name) {
  std::string out = "WADDLE_";
  for (char c : section) out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  out += '_';
  for (char c : name) out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return out;
}

}  // namespace waddle::config
