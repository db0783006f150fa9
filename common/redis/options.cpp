#include "redis/options.hpp"

#include <charconv>

#include "error/error.hpp"

namespace waddle::redis {
namespace {

[[noreturn]] void bad_url(const std::string& what) {
  throw Error(Errc::invalid_argument, "invalid redis URL: " + what);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `part` names the component for the message; the value itself is not quoted because it may be
// the password.
std::string percent_decode(std::string_view in, const char* part) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) bad_url(std::string("truncated %-escape in the ") + part);
    int hi = hex_value(in[i + 1]);
    int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) bad_url(std::string("invalid %-escape in the ") + part);
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

int parse_db(std::string_view text) {
  int db = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), db);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || db < 0) {
    bad_url("database '" + std::string(text) + "' is not a number >= 0");
  }
  return db;
}

std::uint16_t parse_port(std::string_view text) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port == 0 ||
      port > 65535) {
    bad_url("port '" + std::string(text) + "' is not a number in 1..65535");
  }
  return static_cast<std::uint16_t>(port);
}

// user:password → Endpoint fields. A bare "name@" has no password to AUTH with.
void parse_userinfo(std::string_view info, Endpoint& ep) {
  auto colon = info.find(':');
  if (colon == std::string_view::npos) {
    bad_url(
        "the user name has no password (write redis://user:password@host or "
        "redis://:password@host)");
  }
  ep.user = percent_decode(info.substr(0, colon), "user name");
  ep.password = percent_decode(info.substr(colon + 1), "password");
  if (ep.password->empty()) bad_url("the password is empty");
}

// Only `db=N` is understood, so that a typo is an error rather than silently ignored.
void parse_query(std::string_view query, Endpoint& ep, bool db_in_path) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    auto key = item.substr(0, eq);
    if (key != "db" || eq == std::string_view::npos) {
      bad_url("unknown query parameter '" + std::string(key) + "' (only db=N is supported)");
    }
    if (db_in_path) bad_url("the database is given twice (path and ?db=)");
    ep.db = parse_db(item.substr(eq + 1));
  }
}

}  // namespace

std::string Endpoint::describe() const {
  std::string out;
  if (kind == Kind::unix_socket) {
    out = "unix:" + path;
  } else if (host.find(':') != std::string::npos) {
    out = "[" + host + "]:" + std::to_string(port);
  } else {
    out = host + ":" + std::to_string(port);
  }
  if (db != 0) out += (kind == Kind::unix_socket ? "?db=" : "/") + std::to_string(db);
  return out;
}

Endpoint parse_url(std::string_view url) {
  if (url.empty()) bad_url("the URL is empty");
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    bad_url("no scheme (expected redis://host:port or unix:///path/to.sock)");
  }
  auto scheme = url.substr(0, sep);
  auto rest = url.substr(sep + 3);
  Endpoint ep;
  if (scheme == "rediss") bad_url("TLS (rediss://) is not supported; use redis:// or unix://");
  if (scheme != "redis" && scheme != "unix") {
    bad_url("unsupported scheme '" + std::string(scheme) + "' (expected redis:// or unix://)");
  }

  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.find('#') != std::string_view::npos) bad_url("a fragment ('#') is not allowed");

  if (scheme == "unix") {
    ep.kind = Endpoint::Kind::unix_socket;
    // unix://user:pw@/path: the userinfo ends at the '@' just before the path.
    auto slash = rest.find('/');
    auto at = rest.substr(0, slash).rfind('@');
    if (at != std::string_view::npos) {
      parse_userinfo(rest.substr(0, at), ep);
      rest = rest.substr(at + 1);
    }
    if (rest.empty() || rest.front() != '/') {
      bad_url("the unix socket path must be absolute (unix:///path/to.sock)");
    }
    ep.path = percent_decode(rest, "socket path");
    parse_query(query, ep, false);
    return ep;
  }

  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    parse_userinfo(authority.substr(0, at), ep);
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) bad_url("unterminated IPv6 address (missing ']')");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad_url("unexpected text after the IPv6 address");
      port = after.substr(1);
      if (port.empty()) bad_url("the port is empty");
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) bad_url("the port is empty");
  }
  if (host.empty()) bad_url("the host is missing (expected redis://host:port)");
  ep.host = std::string(host);
  if (!port.empty()) ep.port = parse_port(port);
  bool db_in_path = !path.empty();
  if (db_in_path) ep.db = parse_db(path);
  parse_query(query, ep, db_in_path);
  return ep;
}

void validate(const Options& options) {
  using std::chrono::milliseconds;
  auto positive = [](milliseconds v, const char* name) {
    if (v <= milliseconds::zero()) {
      throw Error(Errc::invalid_argument, std::string("redis ") + name + " must be positive, got " +
                                              std::to_string(v.count()) + " ms");
    }
  };
  positive(options.connect_timeout, "connect_timeout");
  positive(options.command_timeout, "command_timeout");
  positive(options.reconnect_min, "reconnect_min");
  positive(options.reconnect_max, "reconnect_max");
  if (options.reconnect_min > options.reconnect_max) {
    throw Error(Errc::invalid_argument, "redis reconnect_min (" +
                                            std::to_string(options.reconnect_min.count()) +
                                            " ms) is above reconnect_max (" +
                                            std::to_string(options.reconnect_max.count()) + " ms)");
  }
}

}  // namespace waddle::redis
