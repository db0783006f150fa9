#pragma once
// A Redis reply as a plain value, converted from hiredis's redisReply.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"

namespace waddle::redis {

struct Reply {
  enum class Type { nil, status, error, integer, string, array };

  Type type = Type::nil;
  std::string str;              // status, error and string replies
  long long integer = 0;        // integer replies
  std::vector<Reply> elements;  // array replies

  static Reply nil() { return {}; }
  static Reply status(std::string s) { return {Type::status, std::move(s), 0, {}}; }
  static Reply error(std::string s) { return {Type::error, std::move(s), 0, {}}; }
  static Reply integer_value(long long v) { return {Type::integer, {}, v, {}}; }
  static Reply string(std::string s) { return {Type::string, std::move(s), 0, {}}; }
  static Reply array(std::vector<Reply> e) { return {Type::array, {}, 0, std::move(e)}; }

  bool is_nil() const noexcept { return type == Type::nil; }
  bool is_status() const noexcept { return type == Type::status; }
  bool is_error() const noexcept { return type == Type::error; }
  bool is_integer() const noexcept { return type == Type::integer; }
  bool is_string() const noexcept { return type == Type::string; }
  bool is_array() const noexcept { return type == Type::array; }

  // The text of a string or status reply. Throws waddle::Error for any other type (an error
  // reply's message is carried into the exception).
  const std::string& as_string() const;
  // nullopt for nil, else as_string().
  std::optional<std::string> as_optional_string() const;
  // An integer reply, or a string reply holding a decimal integer (GET of a counter).
  long long as_int() const;
  // The elements of an array reply.
  const std::vector<Reply>& as_array() const;
  // Throws waddle::Error (see errc_for_error_reply) when this is an error reply; `what` names
  // the command in the message.
  const Reply& throw_if_error(std::string_view what) const;

  // Short human-readable form for messages and test failures: "nil", "OK", "(error) ERR …",
  // "(integer) 3", "\"text\"", "[…]".
  std::string describe() const;

  friend bool operator==(const Reply&, const Reply&) = default;
};

// The waddle::Errc an error reply maps to by its prefix: NOAUTH/WRONGPASS → unauthenticated,
// NOPERM → forbidden, LOADING/BUSY/MASTERDOWN/TRYAGAIN/OOM/READONLY → unavailable, else internal
// (a WRONGTYPE or syntax error is a bug in the caller).
Errc errc_for_error_reply(std::string_view message) noexcept;

}  // namespace waddle::redis
