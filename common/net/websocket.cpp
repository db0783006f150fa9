#include "net/websocket.hpp"

#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>

#include "net/websocket_upgrade.hpp"

namespace waddle::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
std::atomic<std::uint64_t> next_socket_id{1};

std::string to_string(beast::string_view text) {
  return {text.data(), text.size()};
}

}  // namespace

// Shared by the application's handles and the connection's coroutines. The Beast stream and the
// timers are touched only on the connection's strand; the rest is behind `mutex`.
struct WebSocket::Impl {
  Impl(beast::tcp_stream& stream, const WebSocketOptions& socket_options, std::string remote)
      : ws(stream),
        strand(stream.get_executor()),
        wake(strand),
        writer_finished(strand),
        options(socket_options),
        remote_address(std::move(remote)),
        id(next_socket_id.fetch_add(1)) {}

  websocket::stream<beast::tcp_stream&> ws;
  asio::any_io_executor strand;
  asio::steady_timer wake;             // the writer sleeps on it while the queue is empty
  asio::steady_timer writer_finished;  // the connection waits on it for the writer to end
  bool writer_done = false;            // strand only
  const WebSocketOptions options;
  const std::string remote_address;
  const std::uint64_t id;

  mutable std::mutex mutex;
  std::deque<std::shared_ptr<const std::string>> queue;
  bool accepting = true;  // send() takes messages; false once close/drop was asked or it ended
  bool open = false;      // the handshake is done and the connection has not ended
  bool ended = false;     // the connection is over; the stream may be gone
  bool writer_waiting = false;
  std::optional<websocket::close_reason> close_request;
  MessageHandler message_handler;
  CloseHandler close_handler;

  // On the strand: ends the TCP connection unless it has ended already.
  void close_transport() {
    {
      std::lock_guard lock(mutex);
      if (ended) return;
    }
    error_code ec;
    beast::get_lowest_layer(ws).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws).close();
  }
};

bool WebSocket::send(std::shared_ptr<const std::string> text) {
  bool overflow = false;
  bool wake = false;
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->accepting) return false;
    if (impl_->queue.size() >= impl_->options.send_queue_limit) {
      overflow = true;
      impl_->accepting = false;
      impl_->queue.clear();
    } else {
      impl_->queue.push_back(std::move(text));
      wake = std::exchange(impl_->writer_waiting, false);
    }
  }
  if (overflow) {
    spdlog::info("WebSocket {} from {}: send queue over {} messages, dropping the slow client",
                 impl_->id, impl_->remote_address, impl_->options.send_queue_limit);
    asio::post(impl_->strand, [impl = impl_] { impl->close_transport(); });
    return false;
  }
  if (wake) asio::post(impl_->strand, [impl = impl_] { impl->wake.cancel(); });
  return true;
}

bool WebSocket::send(std::string text) {
  return send(std::make_shared<const std::string>(std::move(text)));
}

void WebSocket::close(std::uint16_t code, std::string reason) {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->accepting) return;
    impl_->accepting = false;
    impl_->writer_waiting = false;
    websocket::close_reason why;
    why.code = code;
    why.reason = std::move(reason);
    impl_->close_request = std::move(why);
  }
  asio::post(impl_->strand, [impl = impl_] { impl->wake.cancel(); });
}

void WebSocket::drop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->ended) return;
    impl_->accepting = false;
    impl_->queue.clear();
  }
  asio::post(impl_->strand, [impl = impl_] { impl->close_transport(); });
}

bool WebSocket::is_open() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->open && impl_->accepting;
}

std::size_t WebSocket::queued() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->queue.size();
}

std::uint64_t WebSocket::id() const {
  return impl_->id;
}

const std::string& WebSocket::remote_address() const {
  return impl_->remote_address;
}

void WebSocket::on_message(MessageHandler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->message_handler = std::move(handler);
}

void WebSocket::on_close(CloseHandler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->close_handler = std::move(handler);
}

namespace detail {
namespace {

using Impl = WebSocket::Impl;

asio::awaitable<void> write_loop(std::shared_ptr<Impl> self) {
  for (;;) {
    std::shared_ptr<const std::string> next;
    std::optional<websocket::close_reason> closing;
    {
      std::lock_guard lock(self->mutex);
      if (self->ended) break;
      if (!self->queue.empty()) {
        next = std::move(self->queue.front());
        self->queue.pop_front();
      } else if (self->close_request) {
        closing = std::exchange(self->close_request, std::nullopt);
      } else if (!self->accepting) {
        break;  // dropped: nothing more will come
      } else {
        self->writer_waiting = true;
      }
    }
    if (next) {
      self->ws.text(true);
      auto [ec, n] = co_await self->ws.async_write(asio::buffer(*next), kUseTuple);
      if (ec) break;
      continue;
    }
    if (closing) {
      [[maybe_unused]] auto [ec] = co_await self->ws.async_close(*closing, kUseTuple);
      break;
    }
    self->wake.expires_at(asio::steady_timer::time_point::max());
    co_await self->wake.async_wait(kUseTuple);
  }
  self->writer_done = true;
  self->writer_finished.cancel();
}

asio::awaitable<void> refuse(beast::tcp_stream& stream, const UpgradeHeader& header,
                             Response response, const std::string& server_name) {
  http::response<http::string_body> message;
  message.version(header.version());
  message.result(static_cast<unsigned>(response.status));
  message.set(http::field::server, server_name);
  message.set(http::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) {
    if (value.find_first_of("\r\n") != std::string::npos) continue;
    message.insert(name, value);
  }
  message.keep_alive(false);
  message.body() = std::move(response.body);
  message.prepare_payload();
  stream.expires_after(std::chrono::seconds(10));
  [[maybe_unused]] auto [ec, n] = co_await http::async_write(stream, message, kUseTuple);
  error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace

bool is_websocket_upgrade(const UpgradeHeader& header) {
  return websocket::is_upgrade(header);
}

asio::awaitable<void> serve_websocket(const WebSocketService& service, beast::tcp_stream& stream,
                                      beast::flat_buffer& buffer, UpgradeHeader header,
                                      std::string remote_address, std::string server_name) {
  // Clients wait for 101 before sending frames; anything read past the header is not ours.
  buffer.consume(buffer.size());
  Request request;
  std::optional<Response> bad_target;
  try {
    request = make_request(to_string(header.method_string()), to_string(header.target()));
  } catch (const Error& e) {
    bad_target = error_response(e.code(), e.what());
  }
  if (bad_target) {
    co_await refuse(stream, header, std::move(*bad_target), server_name);
    co_return;
  }
  for (const auto& field : header) {
    request.headers.emplace_back(to_string(field.name_string()), to_string(field.value()));
  }
  request.remote_address = remote_address;

  auto impl = std::make_shared<Impl>(stream, service.options, remote_address);
  auto socket = std::make_shared<WebSocket>(impl);
  std::optional<Response> refusal;
  try {
    refusal = co_await service.accept(request, socket);
  } catch (const Error& e) {
    refusal = error_response(e.code(), e.what());
    if (e.code() == Errc::internal) {
      spdlog::error("WebSocket accept for {} failed: {}", request.path, e.what());
      refusal = error_response(Errc::internal, "internal server error");
    }
  } catch (const std::exception& e) {
    spdlog::error("WebSocket accept for {} failed: {}", request.path, e.what());
    refusal = error_response(Errc::internal, "internal server error");
  }
  if (refusal) {
    {
      std::lock_guard lock(impl->mutex);
      impl->ended = true;
      impl->accepting = false;
      impl->queue.clear();
    }
    co_await refuse(stream, header, std::move(*refusal), server_name);
    co_return;
  }

  // The WebSocket layer keeps its own deadlines from here on.
  stream.expires_never();
  auto& ws = impl->ws;
  const auto& options = service.options;
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options.handshake_timeout;
  if (options.ping_interval.count() > 0) {
    timeouts.idle_timeout = options.ping_interval * 2;
    timeouts.keep_alive_pings = true;
  } else {
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
  }
  ws.set_option(timeouts);
  ws.set_option(websocket::stream_base::decorator(
      [server_name](websocket::response_type& res) { res.set(http::field::server, server_name); }));
  ws.read_message_max(options.max_message);
  // One frame per message: Beast's default 4 KiB fragments made a 60 KB overlay message reach
  // the last of 50 clients about twice as late as a single frame (bench/overlay).
  ws.auto_fragment(false);

  auto [handshake_ec] = co_await ws.async_accept(header, kUseTuple);
  if (!handshake_ec) {
    {
      std::lock_guard lock(impl->mutex);
      impl->open = true;
    }
    asio::co_spawn(impl->strand, write_loop(impl), asio::detached);
    beast::flat_buffer incoming;
    for (;;) {
      auto [ec, n] = co_await ws.async_read(incoming, kUseTuple);
      if (ec) {
        if (ec != websocket::error::closed && ec != asio::error::operation_aborted &&
            ec != asio::error::eof && ec != beast::error::timeout) {
          spdlog::debug("WebSocket {} from {}: {}", impl->id, remote_address, ec.message());
        }
        break;
      }
      WebSocket::MessageHandler handler;
      {
        std::lock_guard lock(impl->mutex);
        handler = impl->message_handler;
      }
      if (handler && ws.got_text()) {
        try {
          handler(beast::buffers_to_string(incoming.data()));
        } catch (const std::exception& e) {
          spdlog::error("WebSocket {} message handler failed: {}", impl->id, e.what());
        }
      }
      incoming.consume(incoming.size());
    }
    // The reader is done (closing handshake, error or timeout): make sure the writer is too, even
    // when it is stuck writing to a client that stopped reading.
    impl->close_transport();
    {
      std::lock_guard lock(impl->mutex);
      impl->ended = true;
      impl->open = false;
      impl->accepting = false;
      impl->queue.clear();
    }
    impl->wake.cancel();
    while (!impl->writer_done) {
      impl->writer_finished.expires_at(asio::steady_timer::time_point::max());
      co_await impl->writer_finished.async_wait(kUseTuple);
    }
  } else {
    spdlog::debug("WebSocket handshake with {} failed: {}", remote_address, handshake_ec.message());
    std::lock_guard lock(impl->mutex);
    impl->ended = true;
    impl->accepting = false;
    impl->queue.clear();
  }
  WebSocket::CloseHandler on_close;
  {
    std::lock_guard lock(impl->mutex);
    on_close = std::move(impl->close_handler);
    impl->message_handler = nullptr;
  }
  if (on_close) {
    try {
      on_close();
    } catch (const std::exception& e) {
      spdlog::error("WebSocket {} close handler failed: {}", impl->id, e.what());
    }
  }
}

}  // namespace detail
}  // namespace waddle::net
