#include "ctl/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

namespace waddle::ctl {

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using Protocol = asio::local::stream_protocol;
using Socket = Protocol::socket;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string errno_text(int error) {
  return std::error_code(error, std::system_category()).message();
}

// One admin connection. The watchdog closes the socket once `deadline` passes, which bounds
// every read and write; while a handler runs the deadline is pushed out of reach.
struct Session {
  explicit Session(Socket s) : socket(std::move(s)), deadline(socket.get_executor()) {}

  void close() {
    boost::system::error_code ignored;
    socket.shutdown(Socket::shutdown_both, ignored);
    socket.close(ignored);
    deadline.cancel();
  }

  Socket socket;
  asio::steady_timer deadline;
};

enum class Probe { absent, stale, live };

// Whether some process still accepts on an existing socket file.
Probe probe_socket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    throw Error(Errc::unavailable,
                "cannot create a socket to check " + path + ": " + errno_text(errno));
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  int error = rc == 0 ? 0 : errno;
  ::close(fd);
  switch (error) {
    case 0:
    case EAGAIN:  // a full backlog: someone listens
    case EINPROGRESS: return Probe::live;
    case ECONNREFUSED: return Probe::stale;
    case ENOENT: return Probe::absent;
    default:
      throw Error(Errc::unavailable,
                  "cannot check whether admin socket " + path + " is in use: " + errno_text(error));
  }
}

void prepare_directory(const std::string& path) {
  auto directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) return;
  struct stat st {};
  if (::stat(directory.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      throw Error(Errc::invalid_argument, "cannot create admin socket " + path + ": " +
                                              directory.string() + " is not a directory");
    }
    return;  // an existing directory's mode is its owner's choice (e.g. systemd's RuntimeDirectory)
  }
  if (::mkdir(directory.c_str(), 0750) != 0 && errno != EEXIST) {
    throw Error(Errc::unavailable,
                "cannot create directory " + directory.string() + ": " + errno_text(errno));
  }
  // mkdir's mode passed through the umask; the directory must be exactly 0750.
  if (::chmod(directory.c_str(), 0750) != 0) {
    throw Error(Errc::unavailable,
                "cannot chmod directory " + directory.string() + ": " + errno_text(errno));
  }
}

void remove_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw Error(Errc::unavailable, "cannot inspect " + path + ": " + errno_text(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    throw Error(Errc::conflict, "admin socket path " + path +
                                    " exists and is not a socket; refusing to replace it");
  }
  switch (probe_socket(path)) {
    case Probe::absent: return;
    case Probe::live:
      throw Error(Errc::conflict,
                  "admin socket " + path + " is already in use: another process answers on it");
    case Probe::stale:
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw Error(Errc::unavailable,
                    "cannot remove stale admin socket " + path + ": " + errno_text(errno));
      }
      return;
  }
}

}  // namespace

struct Server::State {
  State(asio::io_context& io_context, Registry& commands, ServerOptions server_options)
      : io(io_context),
        registry(commands),
        options(std::move(server_options)),
        strand(asio::make_strand(io_context)),
        acceptor(strand) {}

  static awaitable<void> accept_loop(std::shared_ptr<State> self);
  static awaitable<void> serve(std::shared_ptr<State> self, std::shared_ptr<Session> session);
  awaitable<void> serve_lines(Session& session);
  awaitable<bool> answer(Session& session, std::string_view line, const ucred& peer);
  awaitable<bool> write_reply(Session& session, const Reply& reply);
  void audit(const Call& call, const Reply& reply) const;

  asio::io_context& io;
  Registry& registry;
  const ServerOptions options;
  asio::strand<asio::io_context::executor_type> strand;

  // Touched only on `strand`.
  Protocol::acceptor acceptor;
  std::set<std::shared_ptr<Session>> sessions;
  bool closing = false;

  // Touched by start() and stop() under `mutex`.
  std::mutex mutex;
  bool started = false;
  bool stopped = false;
  dev_t bound_device = 0;
  ino_t bound_inode = 0;
};

namespace {

awaitable<void> watch(std::shared_ptr<Session> session) {
  while (session->socket.is_open()) {
    co_await session->deadline.async_wait(kTuple);
    if (session->deadline.expiry() <= asio::steady_timer::clock_type::now()) {
      session->close();
    }
  }
}

awaitable<void> refuse(std::shared_ptr<Session> session, std::string line) {
  session->deadline.expires_after(std::chrono::seconds(1));
  co_spawn(session->socket.get_executor(), watch(session), asio::detached);
  co_await asio::async_write(session->socket, asio::buffer(line), kTuple);
  session->close();
}

}  // namespace

awaitable<void> Server::State::accept_loop(std::shared_ptr<State> self) {
  auto& acceptor = self->acceptor;
  for (;;) {
    asio::any_io_executor executor = asio::make_strand(self->io);
    auto [error, socket] = co_await acceptor.async_accept(executor, kTuple);
    if (self->closing || error == asio::error::operation_aborted || !acceptor.is_open()) {
      boost::system::error_code ignored;
      socket.close(ignored);
      co_return;
    }
    if (error) {
      // Out of descriptors and the like: pause instead of spinning, then try again.
      asio::steady_timer pause(self->strand, std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }
    auto session = std::make_shared<Session>(std::move(socket));
    if (self->sessions.size() >= self->options.max_connections) {
      auto line = encode_reply(Reply::error(
          Errc::unavailable,
          "too many admin connections (" + std::to_string(self->options.max_connections) + ")"));
      co_spawn(session->socket.get_executor(), refuse(session, line + '\n'), asio::detached);
      continue;
    }
    self->sessions.insert(session);
    co_spawn(session->socket.get_executor(), serve(self, session), asio::detached);
    co_spawn(session->socket.get_executor(), watch(session), asio::detached);
  }
}

awaitable<void> Server::State::serve(std::shared_ptr<State> self,
                                     std::shared_ptr<Session> session) {
  try {
    co_await self->serve_lines(*session);
  } catch (const std::exception&) {
    // One broken connection never takes the daemon down; the client sees the connection close.
  }
  session->close();
  asio::post(self->strand, [self, session] { self->sessions.erase(session); });
}

awaitable<void> Server::State::serve_lines(Session& session) {
  ucred peer{static_cast<pid_t>(0), static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
  socklen_t peer_size = sizeof(peer);
  if (::getsockopt(session.socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &peer_size) !=
      0) {
    peer = ucred{static_cast<pid_t>(0), static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
  }

  std::string buffer;       // received, not yet answered
  std::size_t scanned = 0;  // buffer[0, scanned) holds no newline
  bool discarding = false;  // inside a line already answered as too long
  std::vector<char> chunk(64 * 1024);
  for (;;) {
    for (;;) {
      auto newline = buffer.find('\n', scanned);
      if (newline == std::string::npos) {
        scanned = buffer.size();
        break;
      }
      if (discarding) {
        discarding = false;
      } else if (!co_await answer(session, std::string_view(buffer).substr(0, newline), peer)) {
        co_return;
      }
      buffer.erase(0, newline + 1);
      scanned = 0;
    }
    if (discarding) {
      buffer.clear();
      scanned = 0;
    } else if (buffer.size() > options.max_line) {
      // Answer now rather than buffering an unbounded line; its tail is dropped up to the newline.
      if (!co_await answer(session, buffer, peer)) co_return;
      discarding = true;
      buffer.clear();
      scanned = 0;
    }

    session.deadline.expires_after(options.idle_timeout);
    auto [error, size] = co_await session.socket.async_read_some(asio::buffer(chunk), kTuple);
    if (error) co_return;  // end of stream, idle timeout or stop()
    buffer.append(chunk.data(), size);
  }
}

awaitable<bool> Server::State::answer(Session& session, std::string_view line, const ucred& peer) {
  if (line.size() > options.max_line) {
    co_return co_await write_reply(
        session,
        Reply::error(Errc::payload_too_large, "request exceeds " + format_size(options.max_line)));
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto request = parse_request(line);
  if (!request) {
    co_return co_await write_reply(session,
                                   Reply::error(Errc::invalid_argument, std::move(request.error)));
  }
  Call call{std::move(request.value->command), std::move(request.value->arguments), peer.uid,
            peer.pid};
  // A handler may legitimately take long; the idle timeout covers only the client's silence.
  session.deadline.expires_at(asio::steady_timer::time_point::max());
  Reply reply = co_await registry.dispatch(call);
  audit(call, reply);
  co_return co_await write_reply(session, reply);
}

awaitable<bool> Server::State::write_reply(Session& session, const Reply& reply) {
  std::string line = encode_reply(reply);
  line += '\n';
  session.deadline.expires_after(options.idle_timeout);
  auto [error, size] = co_await asio::async_write(session.socket, asio::buffer(line), kTuple);
  co_return !error;
}

void Server::State::audit(const Call& call, const Reply& reply) const {
  if (!options.on_call) return;
  try {
    options.on_call(call, reply);
  } catch (...) {
    // Auditing must not change the answer nor drop the connection.
  }
}

Server::Server(asio::io_context& io, Registry& registry, ServerOptions options) {
  if (options.path.empty()) throw Error(Errc::invalid_argument, "admin socket path is empty");
  if (options.path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw Error(Errc::invalid_argument,
                "admin socket path " + options.path + " is too long (" +
                    std::to_string(options.path.size()) + " bytes, at most " +
                    std::to_string(sizeof(sockaddr_un::sun_path) - 1) + ")");
  }
  if (options.max_line == 0) throw Error(Errc::invalid_argument, "admin max_line must be > 0");
  if (options.max_connections == 0) {
    throw Error(Errc::invalid_argument, "admin max_connections must be > 0");
  }
  if (options.idle_timeout <= std::chrono::milliseconds::zero()) {
    throw Error(Errc::invalid_argument, "admin idle_timeout must be > 0");
  }
  state_ = std::make_shared<State>(io, registry, std::move(options));
}

Server::~Server() {
  stop();
}

const std::string& Server::path() const noexcept {
  return state_->options.path;
}

void Server::start() {
  State& st = *state_;
  const std::string& path = st.options.path;
  std::lock_guard lock(st.mutex);
  if (st.started) throw Error(Errc::conflict, "admin socket " + path + " was already started");
  prepare_directory(path);
  remove_stale_socket(path);

  boost::system::error_code error;
  bool bound = false;
  st.acceptor.open(Protocol(), error);
  if (!error) st.acceptor.bind(Protocol::endpoint(path), error);
  if (!error) {
    bound = true;
    struct stat st_socket {};
    if (::lstat(path.c_str(), &st_socket) == 0) {
      st.bound_device = st_socket.st_dev;
      st.bound_inode = st_socket.st_ino;
    }
    // Access is by file permission (the waddlebot group), whatever the process umask was.
    if (::chmod(path.c_str(), 0660) != 0) error.assign(errno, boost::system::system_category());
  }
  if (!error) st.acceptor.listen(Protocol::acceptor::max_listen_connections, error);
  if (error) {
    boost::system::error_code ignored;
    st.acceptor.close(ignored);
    if (bound) ::unlink(path.c_str());
    if (error == asio::error::address_in_use) {
      throw Error(Errc::conflict,
                  "admin socket " + path + " is already in use: " + error.message());
    }
    throw Error(Errc::unavailable,
                "cannot listen on admin socket " + path + ": " + error.message());
  }
  st.started = true;
  co_spawn(st.strand, State::accept_loop(state_), asio::detached);
}

void Server::stop() {
  State& st = *state_;
  {
    std::lock_guard lock(st.mutex);
    if (!st.started || st.stopped) return;
    st.stopped = true;
    // Unlinked here, not on the io_context, so that the path is free when stop() returns; a
    // socket someone else has put there since is left alone.
    struct stat current {};
    if (::lstat(st.options.path.c_str(), &current) == 0 && current.st_dev == st.bound_device &&
        current.st_ino == st.bound_inode) {
      ::unlink(st.options.path.c_str());
    }
  }
  asio::dispatch(st.strand, [self = state_] {
    self->closing = true;
    boost::system::error_code ignored;
    self->acceptor.close(ignored);
    for (const auto& session : self->sessions) {
      asio::post(session->socket.get_executor(), [session] { session->close(); });
    }
    self->sessions.clear();
  });
}

}  // namespace waddle::ctl
