#pragma once
// One error code for the whole project, mapped once to HTTP statuses, admin-socket result codes
// and CLI exit codes (CONVENTIONS.md "Errors").

#include <stdexcept>
#include <string>
#include <string_view>

namespace waddle {

enum class Errc {
  ok = 0,
  invalid_argument,   // bad input: a field, a flag, a config key
  unauthenticated,    // no or wrong credentials
  forbidden,          // credentials fine, role insufficient
  not_found,          // the named thing does not exist
  conflict,           // already exists / concurrent change
  payload_too_large,  // body over its limit
  headers_too_large,  // header block over its limit
  rate_limited,       // too many requests
  unsupported,        // unknown command, method not allowed
  unavailable,        // a dependency (Postgres, Redis, a daemon) cannot be reached
  timeout,            // a deadline passed
  internal,           // a broken invariant: a bug
};

// Stable snake_case name of the code, used in JSON error bodies ("code").
std::string_view errc_name(Errc code) noexcept;
// HTTP status for the code (400, 401, 403, 404, 409, 413, 431, 429, 405, 503, 504, 500).
int http_status(Errc code) noexcept;
// Admin socket result (DESIGN.md §5): 0 success, 1 error, 2 unsupported, 3 empty, 4 conflict.
int ctl_result(Errc code) noexcept;
// CLI exit code: 0 done, 1 runtime failure (database down…), 2 usage or validation error (a
// duplicate included), 3 not found.
int exit_code(Errc code) noexcept;

// The exception for startup, config and broken invariants; the message names what was wrong.
class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

}  // namespace waddle
