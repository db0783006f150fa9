#include "ctl/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

namespace waddle::ctl {

namespace {

using Clock = std::chrono::steady_clock;

// Replies such as config-get can be large, but not unboundedly so.
constexpr std::size_t kMaxReply = 64 * 1024 * 1024;

std::string errno_text(int error) {
  return std::error_code(error, std::system_category()).message();
}

std::string connect_hint(int error, std::string_view path) {
  switch (error) {
    case ENOENT:
    case ECONNREFUSED: return " (is " + daemon_for_socket(path) + " running?)";
    case EACCES:
    case EPERM: return " (is your user in the waddlebot group?)";
    default: return "";
  }
}

}  // namespace

std::string daemon_for_socket(std::string_view socket_path) {
  std::string stem = std::filesystem::path(socket_path).stem().string();
  if (stem.empty()) return "the daemon";
  if (stem == "actions") stem = "action";  // the actions service's binary is waddle-actiond
  return "waddle-" + stem + "d";
}

Connection::Connection(std::string socket_path, std::chrono::milliseconds timeout)
    : path_(std::move(socket_path)), timeout_(timeout) {}

Connection::~Connection() {
  close();
}

Connection::Connection(Connection&& other) noexcept
    : path_(std::move(other.path_)),
      timeout_(other.timeout_),
      fd_(std::exchange(other.fd_, -1)),
      pending_(std::move(other.pending_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    timeout_ = other.timeout_;
    fd_ = std::exchange(other.fd_, -1);
    pending_ = std::move(other.pending_);
  }
  return *this;
}

void Connection::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

void Connection::connect() {
  connect(Clock::now() + timeout_);
}

void Connection::connect(Deadline deadline) {
  if (fd_ >= 0) return;
  sockaddr_un address{};
  if (path_.empty() || path_.size() >= sizeof(address.sun_path)) {
    throw Error(Errc::invalid_argument,
                "admin socket path '" + path_ + "' is empty or longer than " +
                    std::to_string(sizeof(address.sun_path) - 1) + " bytes");
  }
  address.sun_family = AF_UNIX;
  path_.copy(address.sun_path, sizeof(address.sun_path) - 1);

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    throw Error(Errc::unavailable,
                "cannot create a socket for " + path_ + ": " + errno_text(errno));
  }
  fd_ = fd;
  for (;;) {
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) return;
    int error = errno;
    if (error == EINTR) continue;
    if (error == EINPROGRESS) {
      wait_for(POLLOUT, deadline, "connecting");
      int pending = 0;
      socklen_t size = sizeof(pending);
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &pending, &size);
      if (pending == 0) return;
      error = pending;
    } else if (error == EAGAIN) {
      // The daemon's accept backlog is full: it is alive but busy, so retry until the deadline.
      if (Clock::now() >= deadline) {
        close();
        throw Error(Errc::timeout, "timed out connecting to " + path_ + ": its backlog is full");
      }
      ::poll(nullptr, 0, 10);
      continue;
    }
    close();
    throw Error(Errc::unavailable, "cannot connect to " + path_ + ": " + errno_text(error) +
                                       connect_hint(error, path_));
  }
}

void Connection::wait_for(short events, Deadline deadline, std::string_view what) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      close();
      throw Error(Errc::timeout, "no reply from " + path_ + " within " +
                                     std::to_string(timeout_.count()) + " ms (" +
                                     std::string(what) + ")");
    }
    pollfd entry{fd_, events, 0};
    int rc = ::poll(&entry, 1, static_cast<int>(left.count()));
    if (rc > 0) return;
    if (rc < 0 && errno != EINTR) {
      int error = errno;
      close();
      throw Error(Errc::unavailable, "cannot wait for " + path_ + ": " + errno_text(error));
    }
  }
}

void Connection::send_all(std::string_view data, Deadline deadline, std::string_view what) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      data.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN) {
      wait_for(POLLOUT, deadline, what);
      continue;
    }
    close();
    throw Error(Errc::unavailable,
                "cannot send " + std::string(what) + " to " + path_ + ": " + errno_text(error));
  }
}

std::string Connection::read_line(Deadline deadline, std::string_view what) {
  std::size_t scanned = 0;
  char chunk[64 * 1024];
  for (;;) {
    if (auto newline = pending_.find('\n', scanned); newline != std::string::npos) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      return line;
    }
    scanned = pending_.size();
    if (pending_.size() > kMaxReply) {
      close();
      throw Error(Errc::internal,
                  "malformed reply from " + path_ + ": longer than " + format_size(kMaxReply));
    }
    ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (got > 0) {
      pending_.append(chunk, static_cast<std::size_t>(got));
      continue;
    }
    if (got == 0) {
      close();
      throw Error(Errc::unavailable,
                  path_ + " closed the connection before replying to " + std::string(what));
    }
    int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN) {
      wait_for(POLLIN, deadline, what);
      continue;
    }
    close();
    throw Error(Errc::unavailable, "cannot read the reply to " + std::string(what) + " from " +
                                       path_ + ": " + errno_text(error));
  }
}

std::string Connection::round_trip(std::string_view line, std::string_view what) {
  auto deadline = Clock::now() + timeout_;
  connect(deadline);
  std::string request(line);
  request += '\n';
  send_all(request, deadline, what);
  return read_line(deadline, what);
}

std::string Connection::exchange(std::string_view line) {
  if (line.find('\n') != std::string_view::npos) {
    throw Error(Errc::invalid_argument, "an admin request line must not contain a newline");
  }
  return round_trip(line, "the request");
}

Reply Connection::call(std::string command, nlohmann::json arguments) {
  std::string what = "'" + command + "'";
  std::string line = round_trip(encode_request(command, arguments), what);
  auto reply = parse_reply(line);
  if (!reply) {
    close();  // whatever follows on this connection cannot be trusted either
    throw Error(Errc::internal,
                "malformed reply from " + path_ + " to " + what + ": " + reply.error);
  }
  return std::move(*reply.value);
}

Reply call(const std::string& socket_path, std::string command, nlohmann::json arguments,
           std::chrono::milliseconds timeout) {
  Connection connection(socket_path, timeout);
  return connection.call(std::move(command), std::move(arguments));
}

}  // namespace waddle::ctl
