#pragma once
// Server-side WebSocket connections on HttpServer (ServerOptions::websocket). The application
// sees a WebSocket handle with a thread-safe, bounded send queue; Beast stays in websocket.cpp.
//
//   auto ws = std::make_shared<net::WebSocketService>();
//   ws->accept = [&](const net::Request& req, std::shared_ptr<net::WebSocket> socket)
//       -> boost::asio::awaitable<std::optional<net::Response>> {
//     if (req.path != "/feed") co_return net::error_response(Errc::not_found, "no such feed");
//     socket->on_close([&, id = socket->id()] { feeds.erase(id); });
//     feeds[socket->id()] = socket;  // may send() at once: it goes out after the handshake
//     co_return std::nullopt;
//   };
//   net::HttpServer server(io, router, {.port = 8080, .websocket = ws});

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "net/http.hpp"

namespace waddle::net {

struct WebSocketOptions {
  std::size_t max_message = 64 * 1024;  // incoming message limit; a larger one closes (1009)
  // Outgoing messages waiting to be written; one more drops the connection at once, so a client
  // that does not keep up never slows the others nor grows without bound.
  std::size_t send_queue_limit = 256;
  // A ping after this long without traffic from the client; no traffic for twice as long closes
  // the connection. 0 = no pings, no idle limit.
  std::chrono::milliseconds ping_interval{15000};
  std::chrono::milliseconds handshake_timeout{10000};  // the upgrade and the closing handshake
};

// One accepted connection. Every member is safe to call from any thread.
class WebSocket {
 public:
  using MessageHandler = std::function<void(std::string text)>;
  using CloseHandler = std::function<void()>;

  struct Impl;
  explicit WebSocket(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  // Queues a text message. False when the connection is closed or closing, or when the queue was
  // full: then the connection is dropped without a closing handshake.
  bool send(std::shared_ptr<const std::string> text);
  bool send(std::string text);
  // Sends the queued messages, then a close frame with `code` and `reason`; the connection ends
  // when the client answers (or after handshake_timeout).
  void close(std::uint16_t code = 1000, std::string reason = {});
  // Ends the connection now, discarding what is queued.
  void drop();

  bool is_open() const;
  std::size_t queued() const;
  std::uint64_t id() const;  // unique within the process
  const std::string& remote_address() const;

  // Set these in the accept handler. Both run on the connection's strand; on_close runs exactly
  // once for an accepted socket, also when the handshake fails.
  void on_message(MessageHandler handler);
  void on_close(CloseHandler handler);

 private:
  std::shared_ptr<Impl> impl_;
};

// Decides about an upgrade request: a Response refuses it (sent as plain HTTP, then the
// connection closes), nullopt accepts it. The handler may keep `socket` and send to it at once;
// messages queue until the handshake is done. Exceptions become a 500 (waddle::Error: its code).
using WebSocketAcceptor = std::function<boost::asio::awaitable<std::optional<Response>>(
    const Request& request, std::shared_ptr<WebSocket> socket)>;

struct WebSocketService {
  WebSocketAcceptor accept;
  WebSocketOptions options;
};

// A plain ws:// client, for tests and benchmarks. Not thread-safe: one coroutine at a time.
class WebSocketClient {
 public:
  explicit WebSocketClient(boost::asio::any_io_executor executor);
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // Connects to host:port and upgrades at `target` ("/path?query"). Throws waddle::Error:
  // unavailable (connection refused or reset), timeout, or the code of the HTTP status the server
  // refused the upgrade with (see refused_status()). `receive_buffer` > 0 sets SO_RCVBUF, so a
  // test can play a client that cannot keep up.
  boost::asio::awaitable<void> connect(std::string host, std::uint16_t port, std::string target,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                       int receive_buffer = 0);
  // The next text message. Throws Error(timeout), or Error(unavailable, "closed …") once the
  // connection has ended (close_code() says how).
  boost::asio::awaitable<std::string> read(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  boost::asio::awaitable<void> send(std::string text);
  // The closing handshake; errors are ignored.
  boost::asio::awaitable<void> close(std::uint16_t code = 1000);

  int refused_status() const;                       // the HTTP status of a refused upgrade, else 0
  std::optional<std::uint16_t> close_code() const;  // the server's close frame, once read

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace waddle::net
