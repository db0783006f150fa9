#pragma once
// Maps (method, path pattern) to a coroutine handler. Patterns are '/'-separated segments, each
// either literal ("recent") or a parameter ("{execution_id}") that matches any one non-empty
// segment; at the first segment where two matching patterns differ, the literal one wins, so
// "/router/responses/recent" beats "/router/responses/{id}".

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "net/http.hpp"

namespace waddle::net {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct RouteOptions {
  std::size_t body_limit = 1024 * 1024;  // bytes; a larger body gets 413 before it is read
};

// The result of looking a request up: what the server needs before it reads the body.
struct RouteMatch {
  enum class Outcome { found, not_found, method_not_allowed };
  Outcome outcome = Outcome::not_found;
  const Handler* handler = nullptr;           // set when found
  RouteOptions options;                       // the route's options, or defaults
  std::map<std::string, std::string> params;  // percent-decoded
  std::string allow;                          // "GET, POST" when method_not_allowed
};

class Router {
 public:
  // Throws waddle::Error(invalid_argument) on a malformed pattern or a duplicate route.
  void add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});

  // `target` may be a path or a whole request target; a query string is ignored. A HEAD request
  // falls back to the GET route when there is no HEAD route.
  RouteMatch match(std::string_view method, std::string_view target) const;

  // Runs the matched handler with request.params set; 404 / 405 (with Allow) otherwise. A
  // waddle::Error becomes error_response with its code; anything else a generic 500 whose detail
  // is only logged. Never throws.
  boost::asio::awaitable<Response> handle(const RouteMatch& match, Request& request) const;

  // match() then handle().
  boost::asio::awaitable<Response> dispatch(Request& request) const;

  std::size_t size() const { return routes_.size(); }

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
    RouteOptions options;
  };

  std::vector<Route> routes_;
};

}  // namespace waddle::net
