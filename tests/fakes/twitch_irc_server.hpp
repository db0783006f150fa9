#pragma once
// A fake Twitch chat server for tests: IRC over TLS on 127.0.0.1 with a self-signed certificate
// made at start (the client trusts it through IrcClientOptions::ca_pem). It speaks the part of
// the protocol the collector uses: CAP REQ → ACK, PASS/NICK → 001…376 (or "Login authentication
// failed" and a close), JOIN/PART echoes, PING → PONG, and it records every line it receives.
// Tests push lines (PRIVMSG, RECONNECT, PING) and drop connections. Run the io_context on one
// thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace waddle::fakes {

struct TlsIdentity {
  std::string certificate_pem;
  std::string private_key_pem;
};

// A P-256 key and a self-signed certificate valid for a day, with subjectAltName
// DNS:localhost and IP:127.0.0.1. Throws std::runtime_error when OpenSSL fails.
TlsIdentity make_self_signed_identity();

struct TwitchIrcBehaviour {
  bool refuse_login = false;  // answer NICK with "Login authentication failed" and close
  bool answer_pings = true;   // answer the client's PING with PONG
  // Non-empty: PASS oauth:<refused_token> is refused like an expired token; others log in.
  std::string refused_token;
};

class FakeTwitchIrcServer {
 public:
  struct Line {
    std::size_t connection;  // 1 for the first accepted connection, 2 for the next…
    std::string text;
    std::chrono::steady_clock::time_point at;  // when the server read it
  };

  explicit FakeTwitchIrcServer(boost::asio::io_context& io, TwitchIrcBehaviour behaviour = {});
  ~FakeTwitchIrcServer();
  FakeTwitchIrcServer(const FakeTwitchIrcServer&) = delete;
  FakeTwitchIrcServer& operator=(const FakeTwitchIrcServer&) = delete;

  // Listens on 127.0.0.1 (ephemeral port) and returns the port.
  std::uint16_t start();
  void stop();

  const std::string& certificate_pem() const;
  TwitchIrcBehaviour& behaviour();

  const std::vector<Line>& lines() const;
  // The lines of one connection that start with `prefix`.
  std::vector<std::string> lines_of(std::size_t connection, std::string_view prefix = {}) const;
  std::size_t accepted() const;
  std::size_t open_connections() const;
  std::size_t logged_in() const;  // open connections that got 376

  // Sends a line (without CRLF) to every logged-in connection.
  void send_to_all(std::string_view line);
  // Closes every connection abruptly (no RECONNECT first).
  void drop_all();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace waddle::fakes
