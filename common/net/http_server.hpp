#pragma once
// An HTTP/1.1 server: one coroutine per connection on its own strand, a deadline on every read
// and write, header and per-route body limits, keep-alive, and a graceful stop. Handlers see only
// net::Request / net::Response (net/http.hpp); Beast stays inside http_server.cpp.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "net/router.hpp"

namespace waddle::net {

struct WebSocketService;  // net/websocket.hpp

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;                          // 0: an ephemeral port, returned by start()
  std::size_t header_limit = 8192;                 // request line + header fields, bytes
  std::chrono::milliseconds read_timeout{10000};   // the whole request must arrive within it
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};  // the whole response must be sent within it
  std::size_t max_connections = 10000;             // further connections are closed at once
  std::string server_name = "waddlebot";           // the Server header
  // Takes over WebSocket upgrade requests; null: they are handled as plain HTTP requests.
  std::shared_ptr<const WebSocketService> websocket;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Router router, ServerOptions options);
  // Stops with no drain time; in-flight requests are cut. Call stop() first to drain.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens, then accepts on the io_context. Returns the bound port. Throws
  // waddle::Error(unavailable, "cannot listen on ADDR:PORT: …"), or invalid_argument for an
  // address that does not parse, or when called twice or after stop().
  std::uint16_t start();

  // Stops accepting (new connections are refused), closes idle keep-alive connections, lets
  // requests in flight finish and answers them with "Connection: close"; connections still open
  // after `drain` are closed. Returns at once; `on_stopped` runs on the io_context once the last
  // connection has closed. Callable from any thread, any number of times.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(10),
            std::function<void()> on_stopped = {});

  std::size_t active_connections() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace waddle::net
