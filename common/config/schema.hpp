#pragma once
// Every config key, declared once as data (CONVENTIONS.md "Config"; PowerDNS table.py, Knot
// conf/schema.c). Validation, --print-default-config and waddle.yaml(5) all read this table.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace waddle::config {

enum class Type { string, integer, number, boolean, duration, string_list, enumeration };

// "string", "integer", "number", "boolean", "duration", "list of strings", "enumeration".
std::string_view type_name(Type type) noexcept;

struct KeySpec {
  std::string section;  // lower snake_case, e.g. "database"
  std::string name;     // lower snake_case, e.g. "pool_size"
  Type type = Type::string;
  // null = no default. A duration default is a string ("30s") or an integer of milliseconds;
  // Schema::add stores it as milliseconds.
  nlohmann::json default_value = nullptr;
  bool required = false;
  bool secret = false;  // redacted in output; may come from K_file or $CREDENTIALS_DIRECTORY
  // Bounds, inclusive: the value for integer/number, milliseconds for duration, the length for
  // string and the number of items for string_list.
  std::optional<double> min, max;
  std::vector<std::string> choices;  // the allowed values of an enumeration
  std::string doc;                   // one line, no trailing period needed
  // Shown in the generated config for keys without a default; a placeholder when empty.
  std::string example;
};

// The keys of one program, in declaration order. A daemon merges the shared sections (database,
// redis, log) with its own. Declaration mistakes throw waddle::Error(Errc::internal).
class Schema {
 public:
  Schema& add(KeySpec spec);
  Schema& merge(const Schema& other);

  // nullptr when undeclared. Pointers are invalidated by add() and merge().
  const KeySpec* find(std::string_view section, std::string_view name) const;
  // Position of the key in declaration order.
  std::optional<std::size_t> index_of(std::string_view section, std::string_view name) const;

  const std::vector<KeySpec>& keys() const noexcept { return keys_; }
  // Section names in order of first declaration.
  std::vector<std::string> sections() const;
  bool has_section(std::string_view section) const;

  // Sections that belong to other programs sharing the same file: present in the file, they are
  // skipped without checking (the router does not validate the overlay's keys). A section with
  // declared keys is never skipped.
  Schema& ignore_section(std::string section);
  Schema& unignore_section(std::string_view section);
  bool ignores_section(std::string_view section) const;

  std::size_t size() const noexcept { return keys_.size(); }
  bool empty() const noexcept { return keys_.empty(); }
  std::vector<KeySpec>::const_iterator begin() const noexcept { return keys_.begin(); }
  std::vector<KeySpec>::const_iterator end() const noexcept { return keys_.end(); }

 private:
  std::vector<KeySpec> keys_;
  std::vector<std::string> ignored_sections_;
  std::unordered_map<std::string, std::size_t> index_;  // "section.name" -> position
};

// "250ms", "30s", "5m", "1h", or a bare integer of seconds -> milliseconds; nullopt when malformed,
// negative or too large.
std::optional<std::int64_t> parse_duration_ms(std::string_view text);
// The largest exact unit: 3600000 -> "1h", 90000 -> "90s", 250 -> "250ms", 0 -> "0s".
std::string format_duration(std::int64_t ms);
// WADDLE_<SECTION>_<NAME>, upper-cased: ("database", "url") -> "WADDLE_DATABASE_URL".
std::string env_var_name(std::string_view section, std::string_view name);

}  // namespace waddle::config
