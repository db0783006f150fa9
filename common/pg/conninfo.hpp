#pragma once
// Turns a database URL from the config into the conninfo string handed to libpq, plus a
// description for error messages that never contains the password.

#include <chrono>
#include <string>
#include <string_view>

namespace waddle::pg {

struct ConnInfo {
  // key='value' pairs for libpq; holds the password, so never log it.
  std::string conninfo;
  // "127.0.0.1:5432, database \"waddle\", user \"postgres\"": safe to show.
  std::string description;
  // The password, kept only so that it can be scrubbed from libpq's messages.
  std::string password;
};

// Parses a postgresql:// URL or a key=value conninfo string. connect_timeout and
// application_name are added unless the URL sets them itself. `setting` names the config key in
// errors. Throws waddle::Error(Errc::invalid_argument) for an empty or malformed URL; the message
// never contains the password.
ConnInfo parse_conninfo(std::string_view url, std::string_view setting,
                        std::chrono::seconds connect_timeout, std::string_view application_name);

// `text` with every occurrence of the password that `url` carries (as written and as parsed)
// replaced by "***", and libpq's line breaks folded into spaces.
std::string redact(std::string text, std::string_view url, std::string_view parsed_password = {});

}  // namespace waddle::pg
