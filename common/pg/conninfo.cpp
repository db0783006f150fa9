#include "pg/conninfo.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <map>
#include <memory>

#include "error/error.hpp"

namespace waddle::pg {
namespace {

constexpr std::string_view kRedacted = "***";

void replace_all(std::string& text, std::string_view needle, std::string_view with) {
  if (needle.empty()) return;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + with.size())) {
    text.replace(pos, needle.size(), with);
  }
}

// The password as written in a URL (user:PASSWORD@host) or a key=value string, found without a
// full parse: a URL that libpq rejects may still carry one, and libpq may quote it back.
std::string written_password(std::string_view url) {
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    auto rest = url.substr(scheme + 3);
    auto at = rest.rfind('@');
    if (at == std::string_view::npos) return {};
    auto userinfo = rest.substr(0, at);
    auto colon = userinfo.find(':');
    return colon == std::string_view::npos ? std::string()
                                           : std::string(userinfo.substr(colon + 1));
  }
  auto key = url.find("password");
  if (key == std::string_view::npos) return {};
  auto rest = url.substr(key + 8);
  auto eq = rest.find('=');
  if (eq == std::string_view::npos) return {};
  rest = rest.substr(eq + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!rest.empty() && rest.front() == '\'') {
    rest.remove_prefix(1);
    return std::string(rest.substr(0, rest.find('\'')));
  }
  return std::string(rest.substr(0, rest.find(' ')));
}

std::string quote_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

struct OptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

}  // namespace

std::string redact(std::string text, std::string_view url, std::string_view parsed_password) {
  // Longest first, so that a shorter secret inside a longer one cannot leave a tail behind.
  std::string written = written_password(url);
  std::string parsed(parsed_password);
  if (written.size() < parsed.size()) std::swap(written, parsed);
  replace_all(text, written, kRedacted);
  replace_all(text, parsed, kRedacted);
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\t', ' ');
  replace_all(text, "  ", " ");
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

ConnInfo parse_conninfo(std::string_view url, std::string_view setting,
                        std::chrono::seconds connect_timeout, std::string_view application_name) {
  if (url.empty()) {
    throw Error(Errc::invalid_argument, "database " + std::string(setting) + " is empty");
  }
  std::string input(url);
  char* raw_error = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsDeleter> options(
      PQconninfoParse(input.c_str(), &raw_error));
  if (!options) {
    std::string reason = raw_error ? raw_error : "out of memory";
    PQfreemem(raw_error);
    throw Error(Errc::invalid_argument,
                "invalid database " + std::string(setting) + ": " + redact(reason, url));
  }

  std::map<std::string, std::string> values;
  for (auto* option = options.get(); option->keyword; ++option) {
    if (option->val && *option->val) values[option->keyword] = option->val;
  }
  if (!values.count("connect_timeout")) {
    values["connect_timeout"] = std::to_string(connect_timeout.count());
  }
  if (!values.count("application_name") && !application_name.empty()) {
    values["application_name"] = std::string(application_name);
  }

  ConnInfo info;
  for (const auto& [key, value] : values) {
    if (!info.conninfo.empty()) info.conninfo += ' ';
    info.conninfo += key + '=' + quote_value(value);
  }
  if (auto it = values.find("password"); it != values.end()) info.password = it->second;

  auto value_or = [&](const char* key, std::string fallback) {
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  };
  std::string host = value_or("host", value_or("hostaddr", "the local socket"));
  std::string user = value_or("user", "the login user");
  info.description = host + ":" + value_or("port", "5432") + ", database \"" +
                     value_or("dbname", user) + "\", user \"" + user + "\"";
  return info;
}

}  // namespace waddle::pg
