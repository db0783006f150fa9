#include "error/error.hpp"
#include "error/peer_status.hpp"

namespace waddle {

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::unauthenticated: return "unauthenticated";
    case Errc::forbidden: return "forbidden";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::payload_too_large: return "payload_too_large";
    case Errc::headers_too_large: return "headers_too_large";
    case Errc::rate_limited: return "rate_limited";
    case Errc::unsupported: return "unsupported";
    case Errc::unavailable: return "unavailable";
    case Errc::timeout: return "timeout";
    case Errc::internal: return "internal";
  }
  return "internal";
}

int http_status(Errc code) noexcept {
  switch (code) {
    case Errc::ok: return 200;
    case Errc::invalid_argument: return 400;
    case Errc::unauthenticated: return 401;
    case Errc::forbidden: return 403;
    case Errc::not_found: return 404;
    case Errc::conflict: return 409;
    case Errc::payload_too_large: return 413;
    case Errc::headers_too_large: return 431;
    case Errc::rate_limited: return 429;
    case Errc::unsupported: return 405;
    case Errc::unavailable: return 503;
    case Errc::timeout: return 504;
    case Errc::internal: return 500;
  }
  return 500;
}

Errc errc_for_http_status(int status) noexcept {
  switch (status) {
    case 200: return Errc::ok;
    case 400:
    case 422: return Errc::invalid_argument;
    case 401: return Errc::unauthenticated;
    case 403: return Errc::forbidden;
    case 404: return Errc::not_found;
    case 405: return Errc::unsupported;
    case 409: return Errc::conflict;
    case 413: return Errc::payload_too_large;
    case 429: return Errc::rate_limited;
    case 431: return Errc::headers_too_large;
    case 504: return Errc::timeout;
    default: break;
  }
  if (status >= 500 && status <= 599) return Errc::unavailable;
  if (status >= 400 && status <= 499) return Errc::invalid_argument;
  return Errc::internal;
}

int ctl_result(Errc code) noexcept {
  switch (code) {
    case Errc::ok: return 0;
    case Errc::unsupported: return 2;
    case Errc::not_found: return 3;
    case Errc::conflict: return 4;
    default: return 1;
  }
}

int exit_code(Errc code) noexcept {
  switch (code) {
    case Errc::ok: return 0;
    case Errc::invalid_argument:
    case Errc::conflict: return 2;
    case Errc::not_found: return 3;
    default: return 1;
  }
}

}  // namespace waddle
