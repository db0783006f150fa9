#include "net/http_server.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "net/websocket_upgrade.hpp"

namespace waddle::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 4096;
// After an error response we read (and drop) what the client is still sending, so that closing
// with unread data does not reset the connection before the client has read our answer.
constexpr std::size_t kLingerBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kLingerTime = 2s;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string to_string(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

// A read error that just means the peer went away or timed out: close quietly.
bool is_protocol_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

bool valid_header_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool valid_header_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string endpoint_text(const std::string& address, std::uint16_t port) {
  bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;  // its executor is this connection's strand
  std::string remote_address;
  bool idle = false;  // waiting for the next request; guarded by State::mutex
};

}  // namespace

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(asio::io_context& io_context, Router routes, ServerOptions server_options)
      : io(io_context),
        router(std::move(routes)),
        options(std::move(server_options)),
        control(asio::make_strand(io_context)),
        acceptor(control),
        drain_timer(control) {}

  asio::io_context& io;
  const Router router;
  const ServerOptions options;
  // The acceptor and the drain timer live on this strand.
  asio::strand<asio::io_context::executor_type> control;
  tcp::acceptor acceptor;
  asio::steady_timer drain_timer;

  mutable std::mutex mutex;
  std::unordered_set<std::shared_ptr<Connection>> connections;
  std::uint16_t port = 0;  // the bound port
  bool started = false;
  bool accepting = false;
  bool stopping = false;
  bool finished = false;
  std::vector<std::function<void()>> on_stopped;
  std::chrono::steady_clock::time_point last_full_warning;

  bool is_stopping() const {
    std::lock_guard lock(mutex);
    return stopping;
  }

  // Marks the connection idle unless the server is stopping; false means: close it.
  bool enter_idle(Connection& connection) {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    connection.idle = true;
    return true;
  }

  void leave_idle(Connection& connection) {
    std::lock_guard lock(mutex);
    connection.idle = false;
  }

  std::shared_ptr<Connection> admit(tcp::socket socket) {
    std::lock_guard lock(mutex);
    if (stopping) return nullptr;
    if (connections.size() >= options.max_connections) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_full_warning > 1s) {
        last_full_warning = now;
        spdlog::warn("HTTP server on {}: {} connections open, refusing more",
                     endpoint_text(options.address, port), connections.size());
      }
      return nullptr;
    }
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    auto remote = socket.remote_endpoint(ec);
    auto connection = std::make_shared<Connection>(std::move(socket));
    if (!ec) connection->remote_address = remote.address().to_string();
    connections.insert(connection);
    return connection;
  }

  void forget(const std::shared_ptr<Connection>& connection) {
    {
      std::lock_guard lock(mutex);
      connections.erase(connection);
    }
    maybe_finish();
  }

  void accept_loop_ended() {
    {
      std::lock_guard lock(mutex);
      accepting = false;
    }
    maybe_finish();
  }

  void maybe_finish() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mutex);
      if (!stopping || finished || accepting || !connections.empty()) return;
      finished = true;
      callbacks.swap(on_stopped);
    }
    asio::post(control, [self = shared_from_this()] { self->drain_timer.cancel(); });
    for (auto& callback : callbacks) asio::post(io, std::move(callback));
  }

  static void force_close(const std::shared_ptr<Connection>& connection) {
    asio::post(connection->stream.get_executor(), [connection] {
      error_code ec;
      connection->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      connection->stream.close();
    });
  }

  void close_all() {
    std::lock_guard lock(mutex);
    for (const auto& connection : connections) force_close(connection);
  }
};

namespace {

using State = HttpServer::State;

// Sends `response`; returns the write error, if any.
asio::awaitable<error_code> write_response(State& state, Connection& connection, Response response,
                                           unsigned version, bool keep_alive, bool head_only) {
  if (response.status < 200 || response.status > 599) {
    spdlog::error("handler returned HTTP status {}; answering 500", response.status);
    response = error_response(Errc::internal, "internal server error");
  }
  http::response<http::string_body> message;
  message.version(version);
  message.result(static_cast<unsigned>(response.status));
  message.set(http::field::server, state.options.server_name);
  bool bodyless = response.status == 204 || response.status == 304;
  if (!bodyless) message.set(http::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) {
    if (!valid_header_name(name) || !valid_header_value(value)) {
      spdlog::error("dropping invalid response header field '{}'", name);
      continue;
    }
    // The server owns framing.
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
        iequals(name, "connection")) {
      continue;
    }
    message.insert(name, value);
  }
  message.keep_alive(keep_alive);
  if (!bodyless) message.body() = std::move(response.body);
  message.prepare_payload();

  connection.stream.expires_after(state.options.write_timeout);
  if (head_only) {
    http::response_serializer<http::string_body> serializer{message};
    auto [ec, sent] = co_await http::async_write_header(connection.stream, serializer, kUseTuple);
    co_return ec;
  }
  auto [ec, sent] = co_await http::async_write(connection.stream, message, kUseTuple);
  co_return ec;
}

asio::awaitable<void> close_connection(Connection& connection, bool linger) {
  error_code ec;
  connection.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (linger && !ec) {
    connection.stream.expires_after(kLingerTime);
    std::array<char, kReadChunk> sink;
    std::size_t total = 0;
    while (total < kLingerBytes) {
      auto [read_ec, n] = co_await connection.stream.async_read_some(asio::buffer(sink), kUseTuple);
      if (read_ec) break;
      total += n;
    }
  }
  connection.stream.close();
}

// Answers a request the server cannot process (bad syntax, over a limit) and closes.
asio::awaitable<void> reject(State& state, Connection& connection, unsigned version, Errc code,
                             std::string message) {
  spdlog::debug("HTTP {}: {} ({})", connection.remote_address, message, errc_name(code));
  error_code ec = co_await write_response(
      state, connection, error_response(code, std::move(message)), version, false, false);
  co_await close_connection(connection, !ec);
}

asio::awaitable<void> serve(std::shared_ptr<State> state, std::shared_ptr<Connection> connection) {
  const ServerOptions& options = state->options;
  Connection& c = *connection;
  beast::flat_buffer buffer;
  bool first = true;

  for (;;) {
    // Wait for the first byte of the next request. Only here is a connection idle, so stop()
    // can close it without cutting a request.
    if (buffer.size() == 0) {
      if (!state->enter_idle(c)) break;
      c.stream.expires_after(first ? options.read_timeout : options.idle_timeout);
      auto [ec, n] = co_await c.stream.async_read_some(buffer.prepare(kReadChunk), kUseTuple);
      state->leave_idle(c);
      if (ec) break;
      buffer.commit(n);
    }
    first = false;
    // One deadline for the rest of the request, header and body.
    c.stream.expires_after(options.read_timeout);

    http::request_parser<http::empty_body> head;
    head.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.header_limit, std::numeric_limits<std::uint32_t>::max())));
    // The route decides the body limit, once the header has been read.
    head.body_limit(boost::none);
    if (auto [ec, n] = co_await http::async_read_header(c.stream, buffer, head, kUseTuple); ec) {
      if (ec == http::error::header_limit) {
        co_await reject(
            *state, c, 11, Errc::headers_too_large,
            "request header block exceeds " + std::to_string(options.header_limit) + " bytes");
      } else if (is_protocol_error(ec)) {
        co_await reject(*state, c, 11, Errc::invalid_argument,
                        "malformed request: " + ec.message());
      }
      break;
    }
    const unsigned version = head.get().version();

    if (options.websocket && detail::is_websocket_upgrade(head.get())) {
      co_await detail::serve_websocket(*options.websocket, c.stream, buffer, head.release(),
                                       c.remote_address, options.server_name);
      break;
    }

    Request request;
    std::optional<Error> bad_target;
    try {
      request = make_request(to_string(head.get().method_string()), to_string(head.get().target()));
    } catch (const Error& e) {
      bad_target = e;
    }
    if (bad_target) {
      co_await reject(*state, c, version, bad_target->code(), bad_target->what());
      break;
    }
    for (const auto& field : head.get()) {
      request.headers.emplace_back(to_string(field.name_string()), to_string(field.value()));
    }
    request.remote_address = c.remote_address;
    const RouteMatch match = state->router.match(request.method, request.target);
    const std::size_t limit = match.options.body_limit;

    http::request_parser<http::string_body> parser{std::move(head)};
    parser.body_limit(limit);
    if (auto length = parser.content_length(); length && *length > limit) {
      co_await reject(*state, c, version, Errc::payload_too_large,
                      "request body of " + std::to_string(*length) +
                          " bytes exceeds the limit of " + std::to_string(limit) + " bytes");
      break;
    }
    if (!parser.is_done()) {
      if (version >= 11 && iequals(to_string(parser.get()[http::field::expect]), "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [ec, n] = co_await asio::async_write(c.stream, asio::buffer(kContinue), kUseTuple);
        if (ec) break;
      }
      if (auto [ec, n] = co_await http::async_read(c.stream, buffer, parser, kUseTuple); ec) {
        if (ec == http::error::body_limit) {
          co_await reject(*state, c, version, Errc::payload_too_large,
                          "request body exceeds the limit of " + std::to_string(limit) + " bytes");
        } else if (is_protocol_error(ec)) {
          co_await reject(*state, c, version, Errc::invalid_argument,
                          "malformed request body: " + ec.message());
        }
        break;
      }
    }
    request.body = std::move(parser.get().body());
    bool keep_alive = parser.get().keep_alive();

    Response response = co_await state->router.handle(match, request);
    if (state->is_stopping()) keep_alive = false;
    const int status = response.status;
    error_code ec = co_await write_response(*state, c, std::move(response), version, keep_alive,
                                            request.method == "HEAD");
    spdlog::debug("HTTP {} {} {} -> {}", c.remote_address, request.method, request.target, status);
    if (ec) break;
    if (!keep_alive) {
      co_await close_connection(c, false);
      break;
    }
  }
  error_code ignored;
  c.stream.socket().close(ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> state) {
  for (;;) {
    tcp::socket socket(asio::make_strand(state->io));
    auto [ec] = co_await state->acceptor.async_accept(socket, kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) break;
      // Out of file descriptors and the like: back off instead of spinning.
      spdlog::warn("HTTP server on {}: accept failed: {}",
                   endpoint_text(state->options.address, state->port), ec.message());
      asio::steady_timer pause(state->control, 50ms);
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    auto connection = state->admit(std::move(socket));
    if (!connection) continue;
    asio::co_spawn(connection->stream.get_executor(), serve(state, connection),
                   [state, connection](std::exception_ptr error) {
                     if (error) {
                       try {
                         std::rethrow_exception(error);
                       } catch (const std::exception& e) {
                         spdlog::error("HTTP connection from {} failed: {}",
                                       connection->remote_address, e.what());
                       } catch (...) {
                         spdlog::error("HTTP connection from {} failed",
                                       connection->remote_address);
                       }
                       error_code ignored;
                       connection->stream.socket().close(ignored);
                     }
                     state->forget(connection);
                   });
  }
  state->accept_loop_ended();
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, Router router, ServerOptions options)
    : state_(std::make_shared<State>(io, std::move(router), std::move(options))) {}

HttpServer::~HttpServer() {
  stop(0ms);
}

std::uint16_t HttpServer::start() {
  State& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    if (s.started || s.stopping) {
      throw Error(Errc::invalid_argument, "HTTP server already started or stopped");
    }
    s.started = true;
  }
  const std::string where = endpoint_text(s.options.address, s.options.port);
  error_code ec;
  auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) throw Error(Errc::invalid_argument, "cannot listen on " + where + ": bad address");
  tcp::endpoint endpoint(address, s.options.port);
  auto fail = [&](const error_code& error) {
    error_code ignored;
    s.acceptor.close(ignored);
    return Error(Errc::unavailable, "cannot listen on " + where + ": " + error.message());
  };
  if (s.acceptor.open(endpoint.protocol(), ec); ec) throw fail(ec);
  if (s.acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) throw fail(ec);
  if (s.acceptor.bind(endpoint, ec); ec) throw fail(ec);
  if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) throw fail(ec);
  const std::uint16_t port = s.acceptor.local_endpoint(ec).port();
  if (ec) throw fail(ec);
  {
    std::lock_guard lock(s.mutex);
    s.accepting = true;
    s.port = port;
  }
  asio::co_spawn(s.control, accept_loop(state_), [state = state_](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      spdlog::error("HTTP accept loop failed: {}", e.what());
    }
    state->accept_loop_ended();
  });
  spdlog::info("HTTP server listening on {}", endpoint_text(s.options.address, port));
  return port;
}

void HttpServer::stop(std::chrono::milliseconds drain, std::function<void()> on_stopped) {
  auto state = state_;
  std::vector<std::shared_ptr<Connection>> idle;
  {
    std::lock_guard lock(state->mutex);
    if (state->finished) {
      if (on_stopped) asio::post(state->io, std::move(on_stopped));
      return;
    }
    if (on_stopped) state->on_stopped.push_back(std::move(on_stopped));
    if (state->stopping) return;
    state->stopping = true;
    for (const auto& connection : state->connections) {
      if (connection->idle) idle.push_back(connection);
    }
  }
  asio::post(state->control, [state, drain] {
    error_code ignored;
    state->acceptor.close(ignored);
    std::lock_guard lock(state->mutex);
    if (state->finished) return;
    state->drain_timer.expires_after(drain);
    state->drain_timer.async_wait([state](error_code ec) {
      if (!ec) state->close_all();
    });
  });
  for (const auto& connection : idle) {
    asio::post(connection->stream.get_executor(), [state, connection] {
      bool still_idle;
      {
        std::lock_guard lock(state->mutex);
        still_idle = connection->idle;
      }
      if (still_idle) State::force_close(connection);
    });
  }
  state->maybe_finish();
}

std::size_t HttpServer::active_connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->connections.size();
}

}  // namespace waddle::net
