#pragma once
// A Lua script run with EVALSHA (falling back to EVAL when the server does not have it cached).

#include <string>

namespace waddle::redis {

class Script {
 public:
  explicit Script(std::string source);

  const std::string& source() const noexcept { return source_; }
  // Lower-case hex SHA-1 of the source: the name Redis caches the script under.
  const std::string& sha1() const noexcept { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace waddle::redis
