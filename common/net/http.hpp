#pragma once
// The request and response types that HTTP handlers see. Nothing here depends on Beast, so a
// service can implement endpoints without including it (CONVENTIONS.md "Layout").

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "error/error.hpp"

namespace waddle::net {

struct Request {
  std::string method;                        // as sent, e.g. "GET"
  std::string target;                        // as sent, e.g. "/router/responses?limit=10"
  std::string path;                          // the target's path, percent-decoded
  std::map<std::string, std::string> query;  // percent-decoded, '+' as space; first value wins
  // Header fields in arrival order; names as sent. Use header() for lookups.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::map<std::string, std::string> params;  // from the route pattern's {name} segments
  std::string remote_address;                 // peer IP address

  // Value of the first header field named `name` (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
  // The path parameter `name`, or an empty string when the route has no such parameter.
  std::string_view param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  // Extra header fields; Content-Type, Content-Length and Server are set by the server.
  std::vector<std::pair<std::string, std::string>> headers;
};

// A response whose body is `body` serialised (invalid UTF-8 is replaced, never thrown on).
Response json_response(int status, const nlohmann::json& body);
// A response with a plain text (or other, e.g. text/html) body.
Response text_response(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
// {"error":{"code":"<errc_name>","message":"…","field":"…"}} with status http_status(code);
// "field" only when non-empty.
Response error_response(Errc code, std::string message, std::string field = {});

// The request body as JSON. Throws waddle::Error(Errc::invalid_argument,
// "invalid JSON at line L, column C: …") with a 1-based line and byte column.
nlohmann::json parse_json_body(const Request& request);

// Decodes %XX escapes (and '+' as a space when plus_as_space); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_as_space = false);
// A request with method, target, path and query filled in from an origin-form target
// ("/path?query") or an absolute-form one ("http://host/path?query"). Throws
// waddle::Error(Errc::invalid_argument) naming the problem when the target is malformed.
Request make_request(std::string method, std::string target, std::string body = {});

}  // namespace waddle::net
