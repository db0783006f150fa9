#pragma once
// For clients: the error code a peer's HTTP answer stands for.

#include "error/error.hpp"

namespace waddle {

// The inverse of http_status: 400 and 422 invalid_argument, 401, 403, 404, 405 unsupported, 409,
// 413, 429, 431, 504 timeout; any other 5xx unavailable, any other 4xx invalid_argument, anything
// else internal.
Errc errc_for_http_status(int status) noexcept;

}  // namespace waddle
