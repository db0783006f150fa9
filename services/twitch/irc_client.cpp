#include "twitch/irc_client.hpp"

#include <deque>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "error/error.hpp"

namespace waddle::twitch {

namespace asio = boost::asio;
using asio::ip::tcp;
namespace {
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
}

// One socket and the coroutines that use it; replaced whole on every reconnect.
struct Connection {
  explicit Connection(asio::any_io_executor ex, asio::ssl::context& ssl)
      : stream(ex, ssl), wake(ex), tick(ex), deadline(ex) {}

  void close() {
    if (!open) return;
    open = false;
    boost::system::error_code ignored;
    stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream.next_layer().close(ignored);
    wake.cancel();
    tick.cancel();
    deadline.cancel();
  }

  asio::ssl::stream<tcp::socket> stream;
  asio::steady_timer wake;      // wakes the writer when the outbox fills
  asio::steady_timer tick;      // the session's timers
  asio::steady_timer deadline;  // connect timeout
  std::deque<std::string> outbox;
  bool open = true;
};

struct IrcClient::Impl : std::enable_shared_from_this<IrcClient::Impl> {
  Impl(asio::any_io_executor ex, IrcClientOptions opts, MessageHandler message_handler,
       StateHandler state_handler)
      : executor(std::move(ex)),
        options(std::move(opts)),
        session(options.session),
        ssl(asio::ssl::context::tls_client),
        on_message(std::move(message_handler)),
        on_state(std::move(state_handler)),
        backoff_timer(executor) {
    ssl.set_verify_mode(asio::ssl::verify_peer);
    if (options.ca_pem.empty()) {
      ssl.set_default_verify_paths();
    } else {
      ssl.add_certificate_authority(asio::buffer(options.ca_pem));
    }
  }

  void report_state() {
    if (on_state && !stopped && session.state() != last_state) on_state(session.state());
    last_state = session.state();
  }

  void queue(const std::vector<std::string>& lines) {
    if (!connection || !connection->open) return;
    for (const auto& line : lines) connection->outbox.push_back(line + "\r\n");
    connection->wake.cancel();
  }

  // Applies what the session asked for; false when the socket must close.
  bool apply(IrcSession::Output& out) {
    queue(out.send);
    for (const auto& message : out.messages) {
      if (stopped) return false;
      if (on_message) on_message(message);
    }
    report_state();
    if (out.auth_failed) {
      spdlog::error(
          "twitch irc: {} refused the login for '{}'; not reconnecting until the token "
          "is refreshed",
          options.host, options.session.nick);
    }
    return !out.reconnect && !out.auth_failed;
  }

  asio::awaitable<void> write_loop(std::shared_ptr<Connection> conn) {
    auto self = shared_from_this();
    while (conn->open) {
      if (conn->outbox.empty()) {
        conn->wake.expires_at(asio::steady_timer::time_point::max());
        co_await conn->wake.async_wait(kUseTuple);
        continue;
      }
      std::string line = std::move(conn->outbox.front());
      conn->outbox.pop_front();
      boost::system::error_code error;
      if (options.tls) {
        auto [ec, n] = co_await asio::async_write(conn->stream, asio::buffer(line), kUseTuple);
        error = ec;
      } else {
        auto [ec, n] =
            co_await asio::async_write(conn->stream.next_layer(), asio::buffer(line), kUseTuple);
        error = ec;
      }
      if (error) conn->close();
    }
  }

  asio::awaitable<void> tick_loop(std::shared_ptr<Connection> conn) {
    auto self = shared_from_this();
    while (conn->open) {
      auto now = Clock::now();
      auto next = session.next_tick(now).value_or(now + std::chrono::seconds(1));
      conn->tick.expires_at(std::min(next, now + std::chrono::seconds(1)));
      co_await conn->tick.async_wait(kUseTuple);
      if (!conn->open || conn != connection) break;
      auto out = session.on_tick(Clock::now());
      if (!apply(out)) conn->close();
    }
  }

  // Connects, logs in and reads until the socket ends.
  asio::awaitable<void> run_connection() {
    auto conn = std::make_shared<Connection>(executor, ssl);
    connection = conn;
    conn->deadline.expires_after(options.connect_timeout);
    conn->deadline.async_wait([conn](boost::system::error_code ec) {
      if (!ec) conn->close();  // the connect or handshake took too long
    });
    tcp::resolver resolver(executor);
    auto [resolve_ec, endpoints] =
        co_await resolver.async_resolve(options.host, std::to_string(options.port), kUseTuple);
    if (resolve_ec || !conn->open) {
      spdlog::warn("twitch irc: cannot resolve {}: {}", options.host, resolve_ec.message());
      co_return;
    }
    auto [connect_ec, endpoint] =
        co_await asio::async_connect(conn->stream.next_layer(), endpoints, kUseTuple);
    (void)endpoint;
    if (connect_ec || !conn->open) {
      spdlog::warn("twitch irc: cannot connect to {}:{}: {}", options.host, options.port,
                   connect_ec.message());
      co_return;
    }
    if (options.tls) {
      SSL_set_tlsext_host_name(conn->stream.native_handle(), options.host.c_str());
      conn->stream.set_verify_callback(asio::ssl::host_name_verification(options.host));
      auto [handshake_ec] =
          co_await conn->stream.async_handshake(asio::ssl::stream_base::client, kUseTuple);
      if (handshake_ec || !conn->open) {
        spdlog::warn("twitch irc: TLS handshake with {} failed: {}", options.host,
                     handshake_ec.message());
        co_return;
      }
    }
    conn->deadline.cancel();
    if (stopped) co_return;

    auto login = session.on_connected(Clock::now());
    apply(login);
    asio::co_spawn(executor, write_loop(conn), asio::detached);
    asio::co_spawn(executor, tick_loop(conn), asio::detached);

    IrcLineBuffer lines;
    char buffer[8192];
    while (conn->open) {
      boost::system::error_code error;
      std::size_t read = 0;
      if (options.tls) {
        auto [ec, n] = co_await conn->stream.async_read_some(asio::buffer(buffer), kUseTuple);
        error = ec;
        read = n;
      } else {
        auto [ec, n] =
            co_await conn->stream.next_layer().async_read_some(asio::buffer(buffer), kUseTuple);
        error = ec;
        read = n;
      }
      if (error || !conn->open) break;
      lines.append(std::string_view(buffer, read));
      while (auto line = lines.next_line()) {
        auto out = session.on_line(*line, Clock::now());
        if (!apply(out)) {
          conn->close();
          break;
        }
      }
      conn->tick.cancel();  // a line can bring work forward (JOINs after 376): re-plan now
    }
  }

  asio::awaitable<void> run() {
    auto self = shared_from_this();
    while (!stopped) {
      co_await run_connection();
      if (connection) connection->close();
      connection.reset();
      auto delay = session.on_disconnected();
      report_state();
      if (!delay || stopped) break;
      backoff_timer.expires_after(*delay);
      co_await backoff_timer.async_wait(kUseTuple);
    }
    running = false;
  }

  asio::any_io_executor executor;
  IrcClientOptions options;
  IrcSession session;
  asio::ssl::context ssl;
  MessageHandler on_message;
  StateHandler on_state;
  asio::steady_timer backoff_timer;
  std::shared_ptr<Connection> connection;
  IrcState last_state = IrcState::disconnected;
  bool stopped = false;
  bool running = false;
};

IrcClient::IrcClient(asio::any_io_executor executor, IrcClientOptions options,
                     MessageHandler on_message, StateHandler on_state)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options), std::move(on_message),
                                   std::move(on_state))) {}

IrcClient::~IrcClient() {
  stop();
}

void IrcClient::start() {
  if (impl_->running || impl_->stopped) return;
  impl_->running = true;
  asio::co_spawn(impl_->executor, impl_->run(), asio::detached);
}

void IrcClient::stop() {
  impl_->stopped = true;
  impl_->backoff_timer.cancel();
  if (impl_->connection) impl_->connection->close();
}

void IrcClient::join(std::string_view channel) {
  impl_->session.join(channel);
}

void IrcClient::part(std::string_view channel) {
  auto out = impl_->session.part(channel);
  impl_->queue(out.send);
}

bool IrcClient::send_line(std::string line) {
  if (impl_->session.state() != IrcState::ready || !impl_->connection) return false;
  if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return false;
  impl_->queue({std::move(line)});
  return true;
}

void IrcClient::set_token(std::string token) {
  bool was_refused = impl_->session.state() == IrcState::auth_failed;
  impl_->session.set_token(std::move(token));
  if (was_refused && !impl_->running && !impl_->stopped) start();
}

IrcState IrcClient::state() const {
  return impl_->session.state();
}
std::size_t IrcClient::connections() const {
  return impl_->session.connections();
}
const IrcSession& IrcClient::session() const {
  return impl_->session;
}

}  // namespace waddle::twitch
