// The admin socket end to end: a real Server on a Unix socket in a temporary directory, its
// io_context on a background thread, and the blocking client (or raw sockets, to send what the
// client never would). Every wait is bounded.

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ctl/client.hpp"
#include "ctl/registry.hpp"
#include "ctl/server.hpp"

using nlohmann::json;
using waddle::Errc;
namespace asio = boost::asio;
namespace ctl = waddle::ctl;
using namespace std::chrono_literals;

namespace {

constexpr auto kBound = 5000ms;  // the most any single wait in these tests may take

struct TempDir {
  TempDir() {
    char name[] = "/tmp/waddle-ctl-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string path;
};

// A server with its io_context running on a background thread, the way a daemon runs it.
struct RunningServer {
  RunningServer(ctl::Registry& registry, ctl::ServerOptions options)
      : server(io, registry, std::move(options)) {
    server.start();
    thread = std::thread([this] { io.run(); });
  }
  ~RunningServer() {
    server.stop();
    work.reset();
    io.stop();
    thread.join();
  }
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  ctl::Server server;
  std::thread thread;
};

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  return address;
}

// Bytes on the wire exactly as given, for what the real client never sends.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    auto address = address_of(path);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  }
  ~RawClient() { ::close(fd_); }

  void send(std::string_view data) {
    while (!data.empty()) {
      ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      REQUIRE(sent > 0);
      data.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  // The next line, or nothing when the server closed the connection.
  std::optional<std::string> read_line() {
    for (;;) {
      if (auto newline = buffer_.find('\n'); newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      pollfd entry{fd_, POLLIN, 0};
      REQUIRE(::poll(&entry, 1, static_cast<int>(kBound.count())) == 1);
      char chunk[4096];
      ssize_t got = ::recv(fd_, chunk, sizeof(chunk), 0);
      REQUIRE(got >= 0);
      if (got == 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(got));
    }
  }

  json request(std::string_view line) {
    send(std::string(line) + "\n");
    auto reply = read_line();
    REQUIRE(reply.has_value());
    return json::parse(*reply);
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

// A hand-written peer that accepts one connection and does `behaviour` with it, for replies
// the real server never sends.
class FakeDaemon {
 public:
  FakeDaemon(const std::string& path, std::function<void(int)> behaviour) {
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    auto address = address_of(path);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(listener_, 4) == 0);
    thread_ = std::thread([this, behaviour = std::move(behaviour)] {
      pollfd entry{listener_, POLLIN, 0};
      if (::poll(&entry, 1, static_cast<int>(kBound.count())) != 1) return;
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      behaviour(fd);
      ::close(fd);
    });
  }
  ~FakeDaemon() {
    thread_.join();
    ::close(listener_);
  }

  // Reads up to the end of the first line, bounded.
  static void read_request(int fd) {
    char c = 0;
    for (;;) {
      pollfd entry{fd, POLLIN, 0};
      if (::poll(&entry, 1, static_cast<int>(kBound.count())) != 1) return;
      if (::recv(fd, &c, 1, 0) != 1 || c == '\n') return;
    }
  }

 private:
  int listener_ = -1;
  std::thread thread_;
};

void add_echo(ctl::Registry& registry) {
  registry.add("echo", "answer with the arguments", ctl::Access::read,
               [](const ctl::Call& call) { return ctl::Reply::ok("echo", call.arguments); });
}

Errc thrown_code(const std::function<void()>& action, std::string* message = nullptr) {
  try {
    action();
  } catch (const waddle::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return Errc::ok;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a registered command answers over the socket") {
  TempDir dir;
  ctl::Registry registry;
  add_echo(registry);
  RunningServer running(registry, {.path = dir.file("test.sock")});

  auto reply = ctl::call(dir.file("test.sock"), "echo", {{"channel", "#waddle"}});
  CHECK(reply.result == 0);
  CHECK(reply.text == "echo");
  CHECK(reply.arguments == json{{"channel", "#waddle"}});
}

TEST_CASE("list-commands and help answer over the socket") {
  TempDir dir;
  ctl::Registry registry;
  registry.add("status", "show the daemon's status", ctl::Access::read,
               [](const ctl::Call&) { return ctl::Reply::ok("running"); });
  RunningServer running(registry, {.path = dir.file("test.sock")});
  ctl::Connection connection(dir.file("test.sock"));

  auto list = connection.call("list-commands");
  REQUIRE(list.result == 0);
  std::vector<std::string> names;
  for (const auto& command : list.arguments["commands"]) names.push_back(command["name"]);
  CHECK(names == std::vector<std::string>{"help", "list-commands", "status"});

  auto help = connection.call("help", {{"command", "status"}});
  CHECK(help.result == 0);
  CHECK(help.text == "show the daemon's status");

  auto all = connection.call("help");
  CHECK(all.result == 0);
  CHECK_THAT(all.text, Catch::Contains("show the daemon's status"));
}

TEST_CASE("one connection carries several commands, also pipelined") {
  TempDir dir;
  ctl::Registry registry;
  add_echo(registry);
  RunningServer running(registry, {.path = dir.file("test.sock")});

  ctl::Connection connection(dir.file("test.sock"));
  for (int i = 0; i < 3; ++i) {
    CHECK(connection.call("echo", {{"i", i}}).arguments == json{{"i", i}});
  }

  RawClient raw(dir.file("test.sock"));
  raw.send(R"({"command":"echo","arguments":{"i":1}})"
           "\n"
           R"({"command":"echo","arguments":{"i":2}})"
           "\r\n"
           R"({"command":"echo","arguments":{"i":3}})"
           "\n");
  for (int i = 1; i <= 3; ++i) {
    auto line = raw.read_line();
    REQUIRE(line.has_value());
    CHECK(json::parse(*line)["arguments"]["i"] == i);
  }
}

TEST_CASE("an unknown command gets result 2 and the connection still works") {
  TempDir dir;
  ctl::Registry registry;
  add_echo(registry);
  RunningServer running(registry, {.path = dir.file("test.sock")});
  ctl::Connection connection(dir.file("test.sock"));

  auto reply = connection.call("frobnicate");
  CHECK(reply.result == 2);
  CHECK(reply.text == "unsupported command 'frobnicate'; try list-commands");
  CHECK(connection.call("echo").result == 0);
}

TEST_CASE("malformed requests get result 1 naming the fault, and the connection still works") {
  TempDir dir;
  ctl::Registry registry;
  add_echo(registry);
  RunningServer running(registry, {.path = dir.file("test.sock")});
  RawClient raw(dir.file("test.sock"));

  struct Case {
    std::string line;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"{not json", "not valid JSON"},
      {"[1, 2, 3]", "must be a JSON object"},
      {R"({"arguments": {}})", "no \"command\""},
      {R"({"command": ["echo"]})", "\"command\" must be a string"},
      {R"({"command": "echo", "arguments": "x"})", "\"arguments\" must be a JSON object"},
      {"", "empty"},
      {std::string(10000, '[') + std::string(10000, ']'), "deeper than"},
  };
  for (const auto& c : cases) {
    INFO("request: " << c.line.substr(0, 40));
    auto reply = raw.request(c.line);
    CHECK(reply["result"] == 1);
    CHECK_THAT(reply["text"].get<std::string>(), Catch::Contains(c.expected));
    CHECK(raw.request(R"({"command": "echo", "arguments": {"ok": true}})")["result"] == 0);
  }
}

TEST_CASE("a line over the limit gets an error and the next command still works") {
  TempDir dir;
  ctl::Registry registry;
  add_echo(registry);
  RunningServer running(registry, {.path = dir.file("test.sock")});
  RawClient raw(dir.file("test.sock"));

  // Valid JSON, so only its size can be the fault.
  std::string prefix = R"({"command": "echo", "arguments": {"pad": ")";
  std::string suffix = "\"}}";
  std::size_t limit = 1024 * 1024;
  std::string line = prefix + std::string(limit + 1 - prefix.size() - suffix.size(), 'x') + suffix;
  REQUIRE(line.size() == limit + 1);
  raw.send(line + "\n" + R"({"command": "echo", "arguments": {"after": 1}})" + "\n");

  auto refused = raw.read_line();
  REQUIRE(refused.has_value());
  CHECK(json::parse(*refused)["result"] == 1);
  CHECK(json::parse(*refused)["text"] == "request exceeds 1 MiB");
  auto next = raw.read_line();
  REQUIRE(next.has_value());
  CHECK(json::parse(*next)["arguments"] == json{{"after", 1}});
}

TEST_CASE("a line exactly at the limit is accepted") {
  TempDir dir;
  ctl::Registry registry;
  add_echo(registry);
  RunningServer running(registry, {.path = dir.file("test.sock"), .max_line = 64});
  RawClient raw(dir.file("test.sock"));

  std::string prefix = R"({"command": "echo", "arguments": {"p": ")";
  std::string at_limit = prefix + std::string(64 - prefix.size() - 3, 'x') + "\"}}";
  REQUIRE(at_limit.size() == 64);
  CHECK(raw.request(at_limit)["result"] == 0);
  std::string over = prefix + std::string(64 - prefix.size() - 2, 'x') + "\"}}";
  auto reply = raw.request(over);
  CHECK(reply["result"] == 1);
  CHECK(reply["text"] == "request exceeds 64 bytes");
  CHECK(raw.request(R"({"command": "echo"})")["result"] == 0);
}

TEST_CASE("handler exceptions become replies and the server keeps serving") {
  TempDir dir;
  ctl::Registry registry;
  add_echo(registry);
  registry.add("claim", "claim a channel", ctl::Access::write, [](const ctl::Call&) -> ctl::Reply {
    throw waddle::Error(Errc::conflict, "channel #waddle is claimed by instance b");
  });
  registry.add("crash", "fail", ctl::Access::read,
               [](const ctl::Call&) -> ctl::Reply { throw std::runtime_error("boom"); });
  RunningServer running(registry, {.path = dir.file("test.sock")});
  ctl::Connection connection(dir.file("test.sock"));

  auto conflict = connection.call("claim");
  CHECK(conflict.result == 4);
  CHECK(conflict.text == "channel #waddle is claimed by instance b");
  auto crash = connection.call("crash");
  CHECK(crash.result == 1);
  CHECK_THAT(crash.text, Catch::StartsWith("internal error"));
  CHECK(connection.call("echo").result == 0);
  CHECK(ctl::call(dir.file("test.sock"), "echo").result == 0);
}

TEST_CASE("the socket is 0660 and a directory it creates is 0750") {
  TempDir dir;
  ctl::Registry registry;
  mode_t before = mode_of(dir.path);
  {
    RunningServer running(registry, {.path = dir.file("run/test.sock")});
    CHECK(mode_of(dir.file("run")) == 0750);
    CHECK(mode_of(dir.file("run/test.sock")) == 0660);
    CHECK(std::filesystem::is_socket(dir.file("run/test.sock")));
  }
  // An existing directory keeps its mode.
  RunningServer running(registry, {.path = dir.file("test.sock")});
  CHECK(mode_of(dir.path) == before);
  CHECK(mode_of(dir.file("test.sock")) == 0660);
}

TEST_CASE("the caller's uid and pid come from SO_PEERCRED, for the handler and the audit hook") {
  TempDir dir;
  ctl::Registry registry;
  std::mutex mutex;
  std::vector<std::pair<uid_t, pid_t>> audited;
  std::vector<std::string> audited_commands;
  registry.add("whoami", "the caller", ctl::Access::read, [](const ctl::Call& call) {
    return ctl::Reply::ok("you", {{"uid", call.uid}, {"pid", call.pid}});
  });
  ctl::ServerOptions options{.path = dir.file("test.sock")};
  options.on_call = [&](const ctl::Call& call, const ctl::Reply& reply) {
    std::lock_guard lock(mutex);
    audited.emplace_back(call.uid, call.pid);
    audited_commands.push_back(call.command + "=" + std::to_string(reply.result));
  };
  RunningServer running(registry, std::move(options));

  ctl::Connection connection(dir.file("test.sock"));
  auto reply = connection.call("whoami");
  CHECK(reply.arguments["uid"] == ::getuid());
  CHECK(reply.arguments["pid"] == ::getpid());
  connection.call("nope");

  std::lock_guard lock(mutex);
  REQUIRE(audited.size() == 2);
  CHECK(audited[0] == std::make_pair(::getuid(), ::getpid()));
  CHECK(audited_commands == std::vector<std::string>{"whoami=0", "nope=2"});
}

TEST_CASE("a stale socket file is removed at start") {
  TempDir dir;
  std::string path = dir.file("test.sock");
  {
    // A socket file nobody listens on, as a crashed daemon leaves it.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    auto address = address_of(path);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    ::close(fd);
    REQUIRE(std::filesystem::is_socket(path));
  }
  ctl::Registry registry;
  add_echo(registry);
  RunningServer running(registry, {.path = path});
  CHECK(ctl::call(path, "echo").result == 0);
}

TEST_CASE("a second server on a live socket is a conflict and the first keeps serving") {
  TempDir dir;
  std::string path = dir.file("test.sock");
  ctl::Registry registry;
  add_echo(registry);
  RunningServer first(registry, {.path = path});

  asio::io_context io;
  ctl::Server second(io, registry, {.path = path});
  std::string message;
  CHECK(thrown_code([&] { second.start(); }, &message) == Errc::conflict);
  CHECK_THAT(message, Catch::Contains(path) && Catch::Contains("already in use"));
  CHECK(ctl::call(path, "echo").result == 0);
}

TEST_CASE("a path that is not a socket is refused and left alone") {
  TempDir dir;
  std::string path = dir.file("test.sock");
  std::ofstream(path) << "precious";
  ctl::Registry registry;
  asio::io_context io;
  ctl::Server server(io, registry, {.path = path});
  std::string message;
  CHECK(thrown_code([&] { server.start(); }, &message) == Errc::conflict);
  CHECK_THAT(message, Catch::Contains("not a socket"));
  std::ifstream in(path);
  std::string content;
  in >> content;
  CHECK(content == "precious");
}

TEST_CASE("bad server options are refused") {
  ctl::Registry registry;
  asio::io_context io;
  CHECK(thrown_code([&] { ctl::Server(io, registry, {.path = ""}); }) == Errc::invalid_argument);
  CHECK(thrown_code([&] {
          ctl::Server(io, registry, {.path = "/tmp/" + std::string(200, 'x')});
        }) == Errc::invalid_argument);
  CHECK(thrown_code([&] { ctl::Server(io, registry, {.path = "/tmp/x.sock", .max_line = 0}); }) ==
        Errc::invalid_argument);
}

TEST_CASE("stop closes connections and removes the socket") {
  TempDir dir;
  std::string path = dir.file("test.sock");
  ctl::Registry registry;
  add_echo(registry);
  RunningServer running(registry, {.path = path});
  RawClient raw(path);
  REQUIRE(raw.request(R"({"command": "echo"})")["result"] == 0);

  running.server.stop();
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(raw.read_line().has_value());  // end of stream, within the bound
  CHECK(thrown_code([&] { ctl::call(path, "echo"); }) == Errc::unavailable);
}

TEST_CASE("a silent connection is closed after the idle timeout") {
  TempDir dir;
  ctl::Registry registry;
  RunningServer running(registry, {.path = dir.file("test.sock"), .idle_timeout = 50ms});
  RawClient raw(dir.file("test.sock"));
  CHECK_FALSE(raw.read_line().has_value());
}

TEST_CASE("connections over the limit are answered with an error and closed") {
  TempDir dir;
  ctl::Registry registry;
  add_echo(registry);
  RunningServer running(registry, {.path = dir.file("test.sock"), .max_connections = 2});
  RawClient a(dir.file("test.sock"));
  RawClient b(dir.file("test.sock"));
  // Both are accepted once they have been answered.
  REQUIRE(a.request(R"({"command": "echo"})")["result"] == 0);
  REQUIRE(b.request(R"({"command": "echo"})")["result"] == 0);

  RawClient c(dir.file("test.sock"));
  auto refused = c.read_line();
  REQUIRE(refused.has_value());
  CHECK(json::parse(*refused)["result"] == 1);
  CHECK_THAT(json::parse(*refused)["text"].get<std::string>(),
             Catch::Contains("too many admin connections (2)"));
  CHECK_FALSE(c.read_line().has_value());
  CHECK(a.request(R"({"command": "echo"})")["result"] == 0);
}

TEST_CASE("the client names a missing socket and the daemon it expected") {
  TempDir dir;
  std::string path = dir.file("router.sock");
  std::string message;
  CHECK(thrown_code([&] { ctl::call(path, "status"); }, &message) == Errc::unavailable);
  CHECK(message ==
        "cannot connect to " + path + ": No such file or directory (is waddle-routerd running?)");
  CHECK(ctl::daemon_for_socket("/run/waddlebot/actions.sock") == "waddle-actiond");
}

TEST_CASE("the client times out on a handler that never answers") {
  TempDir dir;
  ctl::Registry registry;
  add_echo(registry);
  registry.add("hang", "never answer in time", ctl::Access::read,
               [](const ctl::Call&) -> asio::awaitable<ctl::Reply> {
                 asio::steady_timer timer(co_await asio::this_coro::executor,
                                          std::chrono::hours(1));
                 co_await timer.async_wait(asio::use_awaitable);
                 co_return ctl::Reply::ok("too late");
               });
  RunningServer running(registry, {.path = dir.file("test.sock")});

  std::string message;
  CHECK(thrown_code([&] { ctl::call(dir.file("test.sock"), "hang", {}, 200ms); }, &message) ==
        Errc::timeout);
  CHECK_THAT(message, Catch::Contains(dir.file("test.sock")) && Catch::Contains("200 ms") &&
                          Catch::Contains("'hang'"));
  // The hanging handler blocks only its own connection.
  CHECK(ctl::call(dir.file("test.sock"), "echo").result == 0);

  // A connection that timed out is closed, and the next call connects afresh.
  ctl::Connection connection(dir.file("test.sock"), 200ms);
  CHECK(thrown_code([&] { connection.call("hang"); }) == Errc::timeout);
  CHECK_FALSE(connection.connected());
  connection.set_timeout(kBound);
  CHECK(connection.call("echo").result == 0);
}

TEST_CASE("twenty concurrent clients are all answered") {
  TempDir dir;
  constexpr int kClients = 20;
  std::atomic<int> arrived{0};
  ctl::Registry registry;
  // Each call waits until every client has arrived (or a bound passes), which only a server that
  // serves connections concurrently can satisfy.
  registry.add("gather", "wait for everyone", ctl::Access::read,
               [&](const ctl::Call&) -> asio::awaitable<ctl::Reply> {
                 ++arrived;
                 asio::steady_timer timer(co_await asio::this_coro::executor);
                 auto give_up = std::chrono::steady_clock::now() + kBound;
                 while (arrived < kClients && std::chrono::steady_clock::now() < give_up) {
                   timer.expires_after(5ms);
                   co_await timer.async_wait(asio::use_awaitable);
                 }
                 co_return ctl::Reply::ok("gathered", {{"arrived", arrived.load()}});
               });
  RunningServer running(registry, {.path = dir.file("test.sock")});

  std::vector<std::future<ctl::Reply>> replies;
  for (int i = 0; i < kClients; ++i) {
    replies.push_back(std::async(std::launch::async, [&] {
      return ctl::call(dir.file("test.sock"), "gather", {}, 2 * kBound);
    }));
  }
  for (auto& reply : replies) {
    auto got = reply.get();
    CHECK(got.result == 0);
    CHECK(got.arguments["arrived"] == kClients);
  }
}

TEST_CASE("a malformed reply is an internal error naming the socket") {
  TempDir dir;
  std::string path = dir.file("odd.sock");
  FakeDaemon fake(path, [](int fd) {
    FakeDaemon::read_request(fd);
    ::send(fd, "hello there\n", 12, MSG_NOSIGNAL);
  });
  std::string message;
  CHECK(thrown_code([&] { ctl::call(path, "status"); }, &message) == Errc::internal);
  CHECK_THAT(message, Catch::Contains("malformed reply from " + path));
}

TEST_CASE("a daemon that hangs up before replying makes the client fail cleanly") {
  TempDir dir;
  std::string path = dir.file("odd.sock");
  FakeDaemon fake(path, [](int fd) { FakeDaemon::read_request(fd); });
  std::string message;
  CHECK(thrown_code([&] { ctl::call(path, "status"); }, &message) == Errc::unavailable);
  CHECK_THAT(message, Catch::Contains(path) && Catch::Contains("closed the connection"));
}
