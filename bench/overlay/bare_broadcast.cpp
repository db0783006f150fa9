#include "overlay/bare_broadcast.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

namespace waddle::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// One client. Everything but construction runs on the socket's strand.
struct Session : std::enable_shared_from_this<Session> {
  explicit Session(tcp::socket socket) : ws(std::move(socket)) {}

  void push(std::shared_ptr<const std::string> text) {
    queue.push_back(std::move(text));
    if (!writing) write_next();
  }

  void write_next() {
    if (queue.empty() || closed) {
      writing = false;
      return;
    }
    writing = true;
    ws.async_write(asio::buffer(*queue.front()),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->queue.pop_front();
                     if (ec) {
                       self->closed = true;
                       self->queue.clear();
                       self->writing = false;
                       return;
                     }
                     self->write_next();
                   });
  }

  websocket::stream<beast::tcp_stream> ws;
  std::deque<std::shared_ptr<const std::string>> queue;
  bool writing = false;
  bool closed = false;
};

}  // namespace

struct BareBroadcastServer::Impl {
  explicit Impl(int threads) : io(threads), acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    acceptor.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(acceptor.get_executor(), accept_loop(), asio::detached);
    for (int i = 0; i < threads; ++i) workers.emplace_back([this] { io.run(); });
  }

  ~Impl() {
    io.stop();
    for (auto& t : workers) t.join();
    std::lock_guard lock(mutex);
    sessions.clear();
  }

  asio::awaitable<void> accept_loop() {
    std::uint64_t next_id = 0;
    for (;;) {
      beast::error_code ec;
      tcp::socket socket(asio::make_strand(io));
      co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;  // e.g. out of file descriptors for a moment
      }
      socket.set_option(tcp::no_delay(true), ec);  // as net::HttpServer does
      auto session = std::make_shared<Session>(std::move(socket));
      auto executor = session->ws.get_executor();
      asio::co_spawn(executor, serve(session, next_id++), asio::detached);
    }
  }

  // Handshake, then reads until the client goes (Beast answers pings and the close frame
  // while a read is pending).
  asio::awaitable<void> serve(std::shared_ptr<Session> session, std::uint64_t id) {
    beast::error_code ec;
    session->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    session->ws.text(true);
    co_await session->ws.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    {
      std::lock_guard lock(mutex);
      sessions[id] = session;
    }
    beast::flat_buffer buffer;
    while (!ec) {
      co_await session->ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
      buffer.consume(buffer.size());
    }
    session->closed = true;
    std::lock_guard lock(mutex);
    sessions.erase(id);
  }

  asio::io_context io;
  tcp::acceptor acceptor;
  std::vector<std::thread> workers;
  mutable std::mutex mutex;
  std::map<std::uint64_t, std::shared_ptr<Session>> sessions;
};

BareBroadcastServer::BareBroadcastServer(int threads) : impl_(std::make_unique<Impl>(threads)) {}

BareBroadcastServer::~BareBroadcastServer() = default;

std::uint16_t BareBroadcastServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::size_t BareBroadcastServer::sessions() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->sessions.size();
}

void BareBroadcastServer::broadcast(std::shared_ptr<const std::string> text) {
  std::vector<std::shared_ptr<Session>> targets;
  {
    std::lock_guard lock(impl_->mutex);
    targets.reserve(impl_->sessions.size());
    for (auto& [id, session] : impl_->sessions) targets.push_back(session);
  }
  for (auto& session : targets) {
    asio::post(session->ws.get_executor(), [session, text] { session->push(text); });
  }
}

namespace {

bool read_all(int fd, void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// The child: serve, report the port, broadcast what comes down the pipe until it closes.
[[noreturn]] void child_main(int threads, int command_fd, int port_fd) {
  int status = 0;
  try {
    BareBroadcastServer server(threads);
    const std::uint16_t port = server.port();
    write_all(port_fd, &port, sizeof port);
    ::close(port_fd);
    for (;;) {
      std::uint32_t size = 0;
      if (!read_all(command_fd, &size, sizeof size)) break;
      auto text = std::make_shared<std::string>(size, '\0');
      if (!read_all(command_fd, text->data(), size)) break;
      server.broadcast(std::move(text));
    }
  } catch (const std::exception& e) {
    const std::string line = std::string("bare broadcast server: ") + e.what() + "\n";
    write_all(2, line.data(), line.size());
    status = 1;
  }
  _exit(status);
}

}  // namespace

BareBroadcastProcess::BareBroadcastProcess(int threads) {
  int command[2];
  int port_pipe[2];
  if (::pipe(command) != 0) throw std::runtime_error(std::string("pipe: ") + strerror(errno));
  if (::pipe(port_pipe) != 0) {
    ::close(command[0]);
    ::close(command[1]);
    throw std::runtime_error(std::string("pipe: ") + strerror(errno));
  }
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + strerror(errno));
  if (pid_ == 0) {
    ::close(command[1]);
    ::close(port_pipe[0]);
    child_main(threads, command[0], port_pipe[1]);
  }
  ::close(command[0]);
  ::close(port_pipe[1]);
  command_fd_ = command[1];
  const bool got = read_all(port_pipe[0], &port_, sizeof port_);
  ::close(port_pipe[0]);
  if (!got) {
    stop();
    throw std::runtime_error("the bare broadcast server did not start");
  }
}

BareBroadcastProcess::~BareBroadcastProcess() {
  stop();
}

void BareBroadcastProcess::broadcast(const std::string& text) {
  const auto size = static_cast<std::uint32_t>(text.size());
  if (command_fd_ < 0 || !write_all(command_fd_, &size, sizeof size) ||
      !write_all(command_fd_, text.data(), text.size())) {
    throw std::runtime_error("the bare broadcast server is gone");
  }
}

void BareBroadcastProcess::stop() {
  if (command_fd_ >= 0) {
    ::close(command_fd_);  // EOF: the child leaves its loop
    command_fd_ = -1;
  }
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

}  // namespace waddle::bench
