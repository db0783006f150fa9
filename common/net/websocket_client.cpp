// WebSocketClient: the test and benchmark side of net/websocket.hpp.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include "net/websocket.hpp"

namespace waddle::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

Errc errc_for_status(int status) {
  switch (status) {
    case 400: return Errc::invalid_argument;
    case 401: return Errc::unauthenticated;
    case 403: return Errc::forbidden;
    case 404: return Errc::not_found;
    case 429: return Errc::rate_limited;
    case 503: return Errc::unavailable;
    default: return Errc::internal;
  }
}
}  // namespace

struct WebSocketClient::Impl {
  explicit Impl(asio::any_io_executor executor) : ws(executor) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  int refused_status = 0;
  std::optional<std::uint16_t> close_code;
  bool ended = false;
};

WebSocketClient::WebSocketClient(asio::any_io_executor executor)
    : impl_(std::make_unique<Impl>(std::move(executor))) {}

WebSocketClient::~WebSocketClient() = default;

asio::awaitable<void> WebSocketClient::connect(std::string host, std::uint16_t port,
                                               std::string target,
                                               std::chrono::milliseconds timeout,
                                               int receive_buffer) {
  auto& tcp = beast::get_lowest_layer(impl_->ws);
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw Error(Errc::invalid_argument, "WebSocket client: bad address " + host);
  asio::ip::tcp::endpoint endpoint(address, port);
  tcp.socket().open(endpoint.protocol(), ec);
  if (!ec && receive_buffer > 0) {
    tcp.socket().set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
  }
  if (ec) throw Error(Errc::unavailable, "WebSocket client: " + ec.message());
  tcp.expires_after(timeout);
  auto [connect_ec] = co_await tcp.async_connect(endpoint, kUseTuple);
  if (connect_ec) {
    throw Error(
        connect_ec == beast::error::timeout ? Errc::timeout : Errc::unavailable,
        "WebSocket connect to " + host + ":" + std::to_string(port) + ": " + connect_ec.message());
  }
  websocket::response_type response;
  auto [handshake_ec] = co_await impl_->ws.async_handshake(
      response, host + ":" + std::to_string(port), target, kUseTuple);
  tcp.expires_never();
  if (handshake_ec) {
    if (handshake_ec == websocket::error::upgrade_declined) {
      impl_->refused_status = static_cast<int>(response.result_int());
      throw Error(errc_for_status(impl_->refused_status),
                  "WebSocket upgrade refused with HTTP " + std::to_string(impl_->refused_status));
    }
    throw Error(handshake_ec == beast::error::timeout ? Errc::timeout : Errc::unavailable,
                "WebSocket handshake: " + handshake_ec.message());
  }
}

asio::awaitable<std::string> WebSocketClient::read(std::chrono::milliseconds timeout) {
  if (impl_->ended) throw Error(Errc::unavailable, "WebSocket closed");
  auto& tcp = beast::get_lowest_layer(impl_->ws);
  tcp.expires_after(timeout);
  auto [ec, n] = co_await impl_->ws.async_read(impl_->buffer, kUseTuple);
  tcp.expires_never();
  if (ec == beast::error::timeout) {
    impl_->ended = true;  // the timeout closed the socket
    throw Error(Errc::timeout, "WebSocket read: nothing within the timeout");
  }
  if (ec) {
    impl_->ended = true;
    if (ec == websocket::error::closed) impl_->close_code = impl_->ws.reason().code;
    throw Error(Errc::unavailable, "WebSocket closed: " + ec.message());
  }
  std::string text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  co_return text;
}

asio::awaitable<void> WebSocketClient::send(std::string text) {
  impl_->ws.text(true);
  auto [ec, n] = co_await impl_->ws.async_write(asio::buffer(text), kUseTuple);
  if (ec) throw Error(Errc::unavailable, "WebSocket write: " + ec.message());
}

asio::awaitable<void> WebSocketClient::close(std::uint16_t code) {
  if (impl_->ended) co_return;
  impl_->ended = true;
  websocket::close_reason reason;
  reason.code = code;
  auto& tcp = beast::get_lowest_layer(impl_->ws);
  tcp.expires_after(std::chrono::seconds(5));
  [[maybe_unused]] auto [ec] = co_await impl_->ws.async_close(reason, kUseTuple);
  tcp.close();
}

int WebSocketClient::refused_status() const {
  return impl_->refused_status;
}

std::optional<std::uint16_t> WebSocketClient::close_code() const {
  return impl_->close_code;
}

}  // namespace waddle::net
