#include "net/router.hpp"

#include <algorithm>
#include <exception>
#include <optional>

#include <spdlog/spdlog.h>

namespace waddle::net {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  // "/a/b" -> {"a", "b"}; "/" -> {""}; "/a/" -> {"a", ""} so a trailing slash is significant.
  std::vector<std::string_view> parts;
  path.remove_prefix(1);
  while (true) {
    std::size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool is_token(std::string_view method) {
  return !method.empty() && std::all_of(method.begin(), method.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  auto invalid = [&](const std::string& why) {
    return Error(Errc::invalid_argument, "route " + method + " " + pattern + ": " + why);
  };
  if (!is_token(method)) throw invalid("the method is not an HTTP token");
  if (pattern.empty() || pattern.front() != '/') throw invalid("the pattern must start with '/'");
  if (!handler) throw invalid("the handler is empty");

  Route route{method, pattern, {}, std::move(handler), options};
  std::vector<std::string_view> names;
  for (std::string_view part : split_path(pattern)) {
    if (part.find_first_of("?#") != std::string_view::npos) {
      throw invalid("the pattern must not contain '?' or '#'");
    }
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      std::string_view name = part.substr(1, part.size() - 2);
      if (name.empty() || name.find_first_of("{}/") != std::string_view::npos) {
        throw invalid("bad parameter segment '" + std::string(part) + "'");
      }
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        throw invalid("parameter '" + std::string(name) + "' appears twice");
      }
      names.push_back(name);
      route.segments.push_back({std::string(name), true});
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) {
        throw invalid("a parameter must be a whole segment: '" + std::string(part) + "'");
      }
      auto decoded = percent_decode(part);
      if (!decoded) throw invalid("invalid percent-encoding");
      route.segments.push_back({std::move(*decoded), false});
    }
  }

  // Two routes with the same method and the same shape (literals equal, params anywhere) would
  // make one of them unreachable.
  for (const Route& other : routes_) {
    if (other.method != route.method || other.segments.size() != route.segments.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < route.segments.size() && same; ++i) {
      const Segment& a = route.segments[i];
      const Segment& b = other.segments[i];
      same = a.is_param == b.is_param && (a.is_param || a.text == b.text);
    }
    if (same) throw invalid("conflicts with " + other.method + " " + other.pattern);
  }
  routes_.push_back(std::move(route));
}

RouteMatch Router::match(std::string_view method, std::string_view target) const {
  RouteMatch result;
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (auto scheme = path.find("://");
      !path.empty() && path.front() != '/' && scheme != std::string_view::npos) {
    // Absolute form: "http://host/path".
    std::size_t slash = path.find('/', scheme + 3);
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  }
  if (path.empty() || path.front() != '/') return result;

  std::vector<std::string> parts;
  for (std::string_view raw : split_path(path)) {
    auto decoded = percent_decode(raw);
    if (!decoded) return result;
    parts.push_back(std::move(*decoded));
  }

  auto matches_path = [&](const Route& route) {
    if (route.segments.size() != parts.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const Segment& segment = route.segments[i];
      if (segment.is_param ? parts[i].empty() : segment.text != parts[i]) return false;
    }
    return true;
  };
  // True when `a` is more specific than `b`: a literal at the first segment where they differ.
  auto more_specific = [](const Route& a, const Route& b) {
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
      if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
    }
    return false;
  };
  auto best_for = [&](std::string_view wanted) -> const Route* {
    const Route* best = nullptr;
    for (const Route& route : routes_) {
      if (route.method != wanted || !matches_path(route)) continue;
      if (!best || more_specific(route, *best)) best = &route;
    }
    return best;
  };

  const Route* route = best_for(method);
  if (!route && method == "HEAD") route = best_for("GET");
  if (!route) {
    std::vector<std::string> allowed;
    for (const Route& candidate : routes_) {
      if (matches_path(candidate) &&
          std::find(allowed.begin(), allowed.end(), candidate.method) == allowed.end()) {
        allowed.push_back(candidate.method);
      }
    }
    if (allowed.empty()) return result;
    if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end() &&
        std::find(allowed.begin(), allowed.end(), "HEAD") == allowed.end()) {
      allowed.push_back("HEAD");
    }
    result.outcome = RouteMatch::Outcome::method_not_allowed;
    for (const std::string& name : allowed) {
      result.allow += (result.allow.empty() ? "" : ", ") + name;
    }
    return result;
  }

  result.outcome = RouteMatch::Outcome::found;
  result.handler = &route->handler;
  result.options = route->options;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (route->segments[i].is_param) result.params[route->segments[i].text] = std::move(parts[i]);
  }
  return result;
}

boost::asio::awaitable<Response> Router::handle(const RouteMatch& match, Request& request) const {
  if (match.outcome == RouteMatch::Outcome::not_found) {
    co_return error_response(Errc::not_found, "no route for " + request.path);
  }
  if (match.outcome == RouteMatch::Outcome::method_not_allowed) {
    Response response =
        error_response(Errc::unsupported, "method " + request.method + " is not allowed for " +
                                              request.path + "; allowed: " + match.allow);
    response.headers.emplace_back("Allow", match.allow);
    co_return response;
  }

  request.params = match.params;
  std::optional<Response> response;
  std::string failure;
  try {
    response = co_await (*match.handler)(request);
  } catch (const Error& e) {
    if (e.code() == Errc::internal || e.code() == Errc::ok) {
      failure = e.what();
    } else {
      response = error_response(e.code(), e.what());
    }
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!response) {
    // The detail may name hosts, queries or secrets: it goes to the log, not to the client.
    spdlog::error("handler for {} {} failed: {}", request.method, request.path, failure);
    response = error_response(Errc::internal, "internal server error");
  }
  co_return std::move(*response);
}

boost::asio::awaitable<Response> Router::dispatch(Request& request) const {
  RouteMatch found = match(request.method, request.target.empty() ? request.path : request.target);
  co_return co_await handle(found, request);
}

}  // namespace waddle::net
