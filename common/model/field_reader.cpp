#include "model/field_reader.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/scheme.hpp>

#include <limits>

namespace waddle::model {

namespace {
constexpr std::size_t kMaxUrlBytes = 2048;

std::string message_for(const std::string& field, const std::string& reason) {
  return field.empty() ? reason : field + ": " + reason;
}
}  // namespace

FieldError::FieldError(std::string field, std::string reason)
    : Error(Errc::invalid_argument, message_for(field, reason)),
      field_(std::move(field)),
      reason_(std::move(reason)) {}

bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte first, overlong 2-byte lead, or beyond U+10FFFF
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;  // overlong, out of range, or a UTF-16 surrogate
    }
    i += len;
  }
  return true;
}

std::string quote_for_error(std::string_view s) {
  constexpr std::size_t kMax = 64;
  bool cut = s.size() > kMax;
  if (cut) {
    s = s.substr(0, kMax);
    // Do not split a multi-byte character.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xc0) == 0x80) s.remove_suffix(1);
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xc0) s.remove_suffix(1);
  }
  std::string out;
  if (is_valid_utf8(s)) {
    out.assign(s);
    for (char& c : out) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) c = '?';
    }
  } else {
    for (char c : s) {
      auto u = static_cast<unsigned char>(c);
      out += (u < 0x20 || u >= 0x7f) ? '?' : c;
    }
  }
  if (cut) out += "…";
  return out;
}

std::string join_path(std::string_view base, std::string_view key) {
  if (base.empty()) return std::string(key);
  std::string out(base);
  out += '.';
  out += key;
  return out;
}

std::string describe_type(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_float: return "a float";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

void check_string(std::string_view value, const std::string& path, const StringRule& rule) {
  if (!is_valid_utf8(value)) throw FieldError(path, "not valid UTF-8");
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0) throw FieldError(path, "contains a NUL character");
    if (rule.single_line && (u < 0x20 || u == 0x7f)) {
      throw FieldError(path, "contains a control character");
    }
    if (rule.no_spaces && u == ' ') throw FieldError(path, "contains a space");
  }
  if (value.empty() && !rule.allow_empty) throw FieldError(path, "must not be empty");
  if (value.size() > rule.max_bytes) {
    throw FieldError(path, "longer than " + std::to_string(rule.max_bytes) + " bytes");
  }
}

void check_http_url(std::string_view value, const std::string& path) {
  check_string(value, path, StringRule{kMaxUrlBytes, false, true, true});
  auto parsed = boost::urls::parse_uri(value);
  bool ok = parsed.has_value() &&
            (parsed->scheme_id() == boost::urls::scheme::http ||
             parsed->scheme_id() == boost::urls::scheme::https) &&
            parsed->has_authority() && !parsed->encoded_host().empty();
  if (!ok) {
    throw FieldError(path,
                     "expected an http:// or https:// URL, got '" + quote_for_error(value) + "'");
  }
}

std::string string_value(const nlohmann::json& value, const std::string& path,
                         const StringRule& rule) {
  if (!value.is_string()) throw FieldError(path, "expected a string, got " + describe_type(value));
  const auto& s = value.get_ref<const std::string&>();
  check_string(s, path, rule);
  return s;
}

std::int64_t int_value(const nlohmann::json& value, const std::string& path, std::int64_t min,
                       std::int64_t max) {
  if (!value.is_number_integer()) {
    throw FieldError(path, "expected an integer, got " + describe_type(value));
  }
  std::int64_t n;
  if (value.is_number_unsigned()) {
    auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw FieldError(path,
                       "must be at most " + std::to_string(max) + ", got " + std::to_string(u));
    }
    n = static_cast<std::int64_t>(u);
  } else {
    n = value.get<std::int64_t>();
  }
  if (n < min) {
    throw FieldError(path,
                     "must be at least " + std::to_string(min) + ", got " + std::to_string(n));
  }
  if (n > max) {
    throw FieldError(path, "must be at most " + std::to_string(max) + ", got " + std::to_string(n));
  }
  return n;
}

FieldReader::FieldReader(const nlohmann::json& value, std::string path)
    : object_(value), path_(std::move(path)) {
  if (!value.is_object()) {
    throw FieldError(path_.empty() ? "(root)" : path_,
                     "expected an object, got " + describe_type(value));
  }
}

const nlohmann::json* FieldReader::get(std::string_view key) {
  read_.emplace(key);
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

const nlohmann::json& FieldReader::require(std::string_view key) {
  const nlohmann::json* value = get(key);
  if (!value) throw FieldError(path_of(key), "is required");
  return *value;
}

std::string FieldReader::required_string(std::string_view key, const StringRule& rule) {
  return string_value(require(key), path_of(key), rule);
}

std::optional<std::string> FieldReader::optional_string(std::string_view key,
                                                        const StringRule& rule) {
  const nlohmann::json* value = get(key);
  if (!value) return std::nullopt;
  return string_value(*value, path_of(key), rule);
}

std::string FieldReader::string_or(std::string_view key, std::string fallback,
                                   const StringRule& rule) {
  auto value = optional_string(key, rule);
  return value ? std::move(*value) : std::move(fallback);
}

std::int64_t FieldReader::int_or(std::string_view key, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) {
  const nlohmann::json* value = get(key);
  return value ? int_value(*value, path_of(key), min, max) : fallback;
}

bool FieldReader::bool_or(std::string_view key, bool fallback) {
  const nlohmann::json* value = get(key);
  if (!value) return fallback;
  if (!value->is_boolean()) {
    throw FieldError(path_of(key), "expected a boolean, got " + describe_type(*value));
  }
  return value->get<bool>();
}

void FieldReader::finish() const {
  for (const auto& item : object_.items()) {
    if (!read_.contains(item.key())) {
      throw FieldError(path_of(quote_for_error(item.key())), "unknown field");
    }
  }
}

}  // namespace waddle::model
