#pragma once
// The baselines the router is measured against: bare Boost.Beast HTTP/1.1 servers on 127.0.0.1
// with nothing but keep-alive, a deadline per read and write, and the smallest possible handler.

#include <cstdint>
#include <memory>
#include <string>

namespace waddle::bench {

enum class BareMode {
  parse_json,   // parses the body with nlohmann::json::parse, answers kBareReply
  fake_module,  // answers kModuleReply without looking at the body (no signature check)
  two_hop,      // parses the body, POSTs it to the upstream on a keep-alive connection of its
                // own, and answers with the upstream's body
};

inline constexpr const char* kBareReply = R"({"ok":true,"actions":[]})";
inline constexpr const char* kModuleReply = R"({"actions":[{"type":"chat","text":"pong"}]})";

struct BareServerOptions {
  BareMode mode = BareMode::parse_json;
  int threads = 2;
  std::uint16_t upstream_port = 0;  // two_hop: the fake module on 127.0.0.1
  std::string upstream_target = "/";
};

// Binds 127.0.0.1 on an ephemeral port and serves on its own threads until destroyed.
class BareServer {
 public:
  explicit BareServer(BareServerOptions options);
  ~BareServer();
  BareServer(const BareServer&) = delete;
  BareServer& operator=(const BareServer&) = delete;

  std::uint16_t port() const;
  std::string url() const;  // http://127.0.0.1:PORT/
  std::uint64_t requests() const;
  std::uint64_t connections() const;  // accepted so far
  double cpu_seconds() const;         // CPU time of the server's threads so far

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace waddle::bench
