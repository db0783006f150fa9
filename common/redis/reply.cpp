#include "redis/reply.hpp"

#include <charconv>

namespace waddle::redis {
namespace {

const char* type_name(Reply::Type t) {
  switch (t) {
    case Reply::Type::nil: return "nil";
    case Reply::Type::status: return "status";
    case Reply::Type::error: return "error";
    case Reply::Type::integer: return "integer";
    case Reply::Type::string: return "string";
    case Reply::Type::array: return "array";
  }
  return "unknown";
}

[[noreturn]] void wrong_type(const Reply& r, const char* wanted) {
  if (r.is_error()) throw Error(errc_for_error_reply(r.str), "redis error reply: " + r.str);
  throw Error(Errc::internal, std::string("redis reply is ") + type_name(r.type) + " (" +
                                  r.describe() + "), expected " + wanted);
}

}  // namespace

const std::string& Reply::as_string() const {
  if (type != Type::string && type != Type::status) wrong_type(*this, "a string");
  return str;
}

std::optional<std::string> Reply::as_optional_string() const {
  if (is_nil()) return std::nullopt;
  return as_string();
}

long long Reply::as_int() const {
  if (type == Type::integer) return integer;
  if (type != Type::string) wrong_type(*this, "an integer");
  long long v = 0;
  auto [end, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
  if (str.empty() || ec != std::errc() || end != str.data() + str.size()) {
    throw Error(Errc::internal, "redis reply " + describe() + " is not an integer");
  }
  return v;
}

const std::vector<Reply>& Reply::as_array() const {
  if (type != Type::array) wrong_type(*this, "an array");
  return elements;
}

const Reply& Reply::throw_if_error(std::string_view what) const {
  if (is_error()) {
    throw Error(errc_for_error_reply(str), "redis " + std::string(what) + " failed: " + str);
  }
  return *this;
}

std::string Reply::describe() const {
  constexpr std::size_t kMaxText = 200;
  auto clip = [](const std::string& s) {
    return s.size() <= kMaxText ? s : s.substr(0, kMaxText) + "…";
  };
  switch (type) {
    case Type::nil: return "nil";
    case Type::status: return clip(str);
    case Type::error: return "(error) " + clip(str);
    case Type::integer: return "(integer) " + std::to_string(integer);
    case Type::string: return "\"" + clip(str) + "\"";
    case Type::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < elements.size(); ++i) {
        if (i == 8) {
          out += ", … " + std::to_string(elements.size() - i) + " more";
          break;
        }
        if (i) out += ", ";
        out += elements[i].describe();
      }
      return out + "]";
    }
  }
  return "?";
}

Errc errc_for_error_reply(std::string_view message) noexcept {
  auto code = message.substr(0, message.find(' '));
  if (code == "NOAUTH" || code == "WRONGPASS") return Errc::unauthenticated;
  if (code == "NOPERM") return Errc::forbidden;
  if (code == "LOADING" || code == "BUSY" || code == "MASTERDOWN" || code == "TRYAGAIN" ||
      code == "OOM" || code == "READONLY" || code == "CLUSTERDOWN") {
    return Errc::unavailable;
  }
  return Errc::internal;
}

}  // namespace waddle::redis
