#include "router/bare_server.hpp"

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace waddle::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kIoTimeout{30};

struct BareServer::Impl {
  BareServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> connections{0};

  // The two-hop's upstream call on the connection's own keep-alive stream; nullopt on failure.
  asio::awaitable<std::optional<std::string>> call_upstream(std::optional<beast::tcp_stream>& up,
                                                            beast::flat_buffer& up_buffer,
                                                            const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!up) {
        up.emplace(co_await asio::this_coro::executor);
        up->expires_after(kIoTimeout);
        auto [ec] = co_await up->async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), options.upstream_port), kTuple);
        if (ec) {
          up.reset();
          co_return std::nullopt;
        }
        up_buffer.clear();
      }
      http::request<http::string_body> request{http::verb::post, options.upstream_target, 11};
      request.set(http::field::host, "127.0.0.1");
      request.set(http::field::content_type, "application/json");
      request.keep_alive(true);
      request.body() = body;
      request.prepare_payload();
      up->expires_after(kIoTimeout);
      auto [wec, wn] = co_await http::async_write(*up, request, kTuple);
      http::response_parser<http::string_body> parser;
      parser.body_limit(1 << 20);
      beast::error_code rec = wec;
      if (!wec) {
        auto [ec, n] = co_await http::async_read(*up, up_buffer, parser, kTuple);
        rec = ec;
      }
      if (rec) {  // a stale keep-alive connection: reconnect once
        up.reset();
        continue;
      }
      if (!parser.get().keep_alive()) up.reset();
      co_return std::move(parser.get().body());
    }
    co_return std::nullopt;
  }

  asio::awaitable<void> serve(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    std::optional<beast::tcp_stream> upstream;
    beast::flat_buffer up_buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1 << 20);
      stream.expires_after(kIoTimeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
      if (ec) break;
      const auto& request = parser.get();
      http::response<http::string_body> response{http::status::ok, request.version()};
      response.set(http::field::content_type, "application/json");
      response.keep_alive(request.keep_alive());
      if (options.mode == BareMode::fake_module) {
        response.body() = kModuleReply;
      } else {
        auto event = nlohmann::json::parse(request.body(), nullptr, false);
        if (event.is_discarded()) {
          response.result(http::status::bad_request);
          response.body() = R"({"error":{"code":"invalid_argument","message":"bad JSON"}})";
        } else if (options.mode == BareMode::parse_json) {
          response.body() = kBareReply;
        } else if (auto body = co_await call_upstream(upstream, up_buffer, request.body())) {
          response.body() = std::move(*body);
        } else {
          response.result(http::status::bad_gateway);
          response.body() = R"({"error":{"code":"unavailable","message":"upstream failed"}})";
        }
      }
      response.prepare_payload();
      stream.expires_after(kIoTimeout);
      auto [wec, wn] = co_await http::async_write(stream, response, kTuple);
      requests.fetch_add(1, std::memory_order_relaxed);
      if (wec || !response.keep_alive()) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), kTuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      connections.fetch_add(1, std::memory_order_relaxed);
      socket.set_option(tcp::no_delay(true));
      auto executor = socket.get_executor();
      asio::co_spawn(executor, serve(beast::tcp_stream(std::move(socket))),
                     [](std::exception_ptr) {});  // one bad connection drops only itself
    }
  }
};

BareServer::BareServer(BareServerOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) {
    impl_->threads.emplace_back([impl = impl_] { impl->io.run(); });
  }
}

BareServer::~BareServer() {
  impl_->io.stop();
  for (auto& thread : impl_->threads) thread.join();
}

std::uint16_t BareServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::string BareServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port()) + "/";
}

std::uint64_t BareServer::requests() const {
  return impl_->requests.load();
}

std::uint64_t BareServer::connections() const {
  return impl_->connections.load();
}

double BareServer::cpu_seconds() const {
  double total = 0;
  for (auto& thread : impl_->threads) {
    clockid_t clock{};
    timespec ts{};
    if (pthread_getcpuclockid(thread.native_handle(), &clock) == 0 &&
        clock_gettime(clock, &ts) == 0) {
      total += static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    }
  }
  return total;
}

}  // namespace waddle::bench
