#include "net/http.hpp"

#include <algorithm>
#include <cstddef>

namespace waddle::net {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string dump(const nlohmann::json& body) {
  // Messages may echo client input; invalid UTF-8 must not turn a reply into an exception.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view Request::param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string_view() : std::string_view(it->second);
}

Response json_response(int status, const nlohmann::json& body) {
  Response response;
  response.status = status;
  response.body = dump(body);
  return response;
}

Response text_response(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  return response;
}

Response error_response(Errc code, std::string message, std::string field) {
  nlohmann::json error = {{"code", errc_name(code)}, {"message", std::move(message)}};
  if (!field.empty()) error["field"] = std::move(field);
  return json_response(http_status(code), {{"error", std::move(error)}});
}

nlohmann::json parse_json_body(const Request& request) {
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's byte is the 1-based offset of the last character read.
    const std::string& body = request.body;
    std::size_t offset = e.byte == 0 ? 0 : std::min<std::size_t>(e.byte - 1, body.size());
    std::size_t line = 1 + std::count(body.begin(), body.begin() + offset, '\n');
    std::size_t line_start = body.rfind('\n', offset == 0 ? std::string::npos : offset - 1);
    line_start = line_start == std::string::npos || offset == 0 ? 0 : line_start + 1;
    std::size_t column = offset - line_start + 1;
    // what() is "[json.exception.parse_error.101] parse error at …: <reason>"; keep the reason.
    std::string_view reason = e.what();
    if (auto colon = reason.find(": "); colon != std::string_view::npos) {
      reason.remove_prefix(colon + 2);
    }
    throw Error(Errc::invalid_argument, "invalid JSON at line " + std::to_string(line) +
                                            ", column " + std::to_string(column) + ": " +
                                            std::string(reason));
  }
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Request make_request(std::string method, std::string target, std::string body) {
  Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);

  std::string_view rest = request.target;
  // Absolute form (RFC 9112 §3.2.2): drop the scheme and authority.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (rest.size() >= scheme.size() && iequals(rest.substr(0, scheme.size()), scheme)) {
      rest.remove_prefix(scheme.size());
      std::size_t slash = rest.find_first_of("/?");
      rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
      break;
    }
  }
  if (rest.empty() || rest.front() != '/') {
    throw Error(Errc::invalid_argument, "request target must start with '/'");
  }
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);

  std::string_view raw_path = rest;
  std::string_view raw_query;
  if (auto question = rest.find('?'); question != std::string_view::npos) {
    raw_path = rest.substr(0, question);
    raw_query = rest.substr(question + 1);
  }
  auto path = percent_decode(raw_path);
  if (!path) throw Error(Errc::invalid_argument, "invalid percent-encoding in request path");
  request.path = std::move(*path);

  while (!raw_query.empty()) {
    std::size_t amp = raw_query.find('&');
    std::string_view pair = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key || !value) {
      throw Error(Errc::invalid_argument, "invalid percent-encoding in query parameter '" +
                                              std::string(pair.substr(0, eq)) + "'");
    }
    request.query.emplace(std::move(*key), std::move(*value));
  }
  return request;
}

}  // namespace waddle::net
