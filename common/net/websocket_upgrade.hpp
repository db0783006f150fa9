#pragma once
// Internal to waddle::net: how HttpServer hands a WebSocket upgrade request to websocket.cpp.

#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include "net/websocket.hpp"

namespace waddle::net::detail {

using UpgradeHeader = boost::beast::http::request<boost::beast::http::empty_body>;

bool is_websocket_upgrade(const UpgradeHeader& header);

// Runs the connection until it closes: the acceptor's decision, the handshake, then the socket.
// `stream` must outlive the returned awaitable; the caller closes it afterwards.
boost::asio::awaitable<void> serve_websocket(const WebSocketService& service,
                                             boost::beast::tcp_stream& stream,
                                             boost::beast::flat_buffer& buffer,
                                             UpgradeHeader header, std::string remote_address,
                                             std::string server_name);

}  // namespace waddle::net::detail
