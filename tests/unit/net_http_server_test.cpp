// HttpServer over real loopback TCP, driven by a raw socket client so that every byte on the wire
// is under the test's control. Every client read has a timeout; nothing here can hang.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include "net/http_server.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using waddle::net::HttpServer;
using waddle::net::Request;
using waddle::net::Response;
using waddle::net::Router;
using waddle::net::ServerOptions;

namespace {

constexpr auto kClientTimeout = 5s;

struct WireResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A blocking loopback client whose every read gives up after kClientTimeout.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : fd_(connect_to(port)) {
    if (fd_ < 0) throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // -1 with errno set when the connection cannot be made.
  static int connect_to(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    timeval tv{static_cast<time_t>(kClientTimeout.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return -1;
    }
    return fd;
  }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (Content-Length framed, as the server always sends). nullopt when the
  // connection closed or timed out first.
  std::optional<WireResponse> read_response(bool head_only = false) {
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    WireResponse response;
    std::string head = buffer_.substr(0, header_end);
    buffer_.erase(0, header_end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.rfind("HTTP/1.", 0) != 0) return std::nullopt;
    response.status = std::stoi(status_line.substr(9, 3));
    std::size_t pos = line_end;
    while (pos != std::string::npos && pos < head.size()) {
      std::size_t next = head.find("\r\n", pos + 2);
      std::string line =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        response.headers[lower(line.substr(0, colon))] = value;
      }
      pos = next;
    }
    if (response.status == 100) return read_response(head_only);
    std::size_t length = 0;
    if (auto it = response.headers.find("content-length"); it != response.headers.end()) {
      length = std::stoul(it->second);
    }
    if (head_only) return response;
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  std::optional<WireResponse> request(std::string_view raw) {
    if (!send(raw)) return std::nullopt;
    return read_response();
  }

  // True when the server closes the connection (EOF or reset) before kClientTimeout; any bytes
  // still arriving are dropped.
  bool wait_closed() {
    auto deadline = std::chrono::steady_clock::now() + kClientTimeout;
    char sink[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = ::recv(fd_, sink, sizeof sink, 0);
      if (n == 0) return true;
      if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }
    return false;
  }

  // Closes with a reset (SO_LINGER 0) so the server sees the peer vanish mid-stream.
  void reset() {
    linger option{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof option);
    ::close(fd_);
    fd_ = -1;
  }

  // Reads at least n raw bytes (or fewer on close / timeout).
  std::size_t read_some_bytes(std::size_t n) {
    std::size_t total = buffer_.size();
    buffer_.clear();
    char chunk[4096];
    while (total < n) {
      ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
      if (got <= 0) break;
      total += static_cast<std::size_t>(got);
    }
    return total;
  }

 private:
  bool fill() {
    char chunk[8192];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  std::string buffer_;
};

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
         std::string(extra_headers) + "\r\n";
}

std::string post(std::string_view target, std::string_view body,
                 std::string_view extra_headers = "") {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + std::string(extra_headers) + "\r\n" + std::string(body);
}

// Signals from handlers to the test thread.
struct Probe {
  std::atomic<int> slow_entered{0};
  std::atomic<int> big_served{0};
};

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

Router make_routes(std::shared_ptr<Probe> probe) {
  Router router;
  router.add("GET", "/hello", [](Request&) -> asio::awaitable<Response> {
    co_return waddle::net::json_response(200, {{"hello", "world"}});
  });
  router.add("POST", "/echo", [](Request& request) -> asio::awaitable<Response> {
    nlohmann::json body = waddle::net::parse_json_body(request);
    co_return waddle::net::json_response(200, {{"received", body}});
  });
  router.add("GET", "/items/{id}", [](Request& request) -> asio::awaitable<Response> {
    co_return waddle::net::json_response(
        200, {{"id", request.param("id")}, {"query", request.query}, {"path", request.path}});
  });
  router.add("GET", "/items/recent", [](Request&) -> asio::awaitable<Response> {
    co_return waddle::net::json_response(200, {{"recent", true}});
  });
  router.add("POST", "/small",
             [](Request& request) -> asio::awaitable<Response> {
               co_return waddle::net::json_response(200, {{"size", request.body.size()}});
             },
             {.body_limit = 16});
  router.add("GET", "/big", [probe](Request&) -> asio::awaitable<Response> {
    ++probe->big_served;
    co_return waddle::net::text_response(200, std::string(16 * 1024 * 1024, 'x'));
  });
  router.add("GET", "/boom", [](Request&) -> asio::awaitable<Response> {
    throw std::runtime_error("connection to db.internal:5432 failed, password=hunter2");
    co_return Response{};
  });
  router.add("GET", "/slow", [probe](Request&) -> asio::awaitable<Response> {
    ++probe->slow_entered;
    co_await sleep_for(500ms);
    co_return waddle::net::json_response(200, {{"slow", true}});
  });
  return router;
}

// A server on 127.0.0.1:<ephemeral> run by two threads.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {})
      : probe_(std::make_shared<Probe>()),
        server_(std::make_unique<HttpServer>(io_, make_routes(probe_), options)) {
    port_ = server_->start();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~TestServer() {
    stop(0ms).wait_for(kClientTimeout);
    io_.stop();
    for (auto& thread : threads_) thread.join();
  }

  std::future<void> stop(std::chrono::milliseconds drain) {
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    server_->stop(drain, [done] { done->set_value(); });
    return future;
  }

  std::uint16_t port() const { return port_; }
  HttpServer& server() { return *server_; }
  Probe& probe() { return *probe_; }

 private:
  asio::io_context io_;
  std::shared_ptr<Probe> probe_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  // Keeps run() going after the server has stopped, as a daemon's other work would.
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::vector<std::thread> threads_;
};

}  // namespace

TEST_CASE("GET and POST JSON round trip") {
  TestServer server;
  RawClient client(server.port());

  auto hello = client.request(get("/hello"));
  REQUIRE(hello);
  CHECK(hello->status == 200);
  CHECK(hello->json() == nlohmann::json{{"hello", "world"}});
  CHECK(hello->headers.at("content-type") == "application/json");
  CHECK(hello->headers.at("content-length") == std::to_string(hello->body.size()));
  CHECK(hello->headers.at("server") == "waddlebot");

  auto echo = client.request(post("/echo", R"({"n": [1, 2, 3], "s": "é"})"));
  REQUIRE(echo);
  CHECK(echo->status == 200);
  CHECK(echo->json()["received"]["n"] == nlohmann::json::array({1, 2, 3}));
  CHECK(echo->json()["received"]["s"] == "é");
}

TEST_CASE("two requests on one keep-alive connection, then Connection: close is honoured") {
  TestServer server;
  RawClient client(server.port());
  auto first = client.request(get("/hello"));
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->headers.count("connection") == 0);
  auto second = client.request(post("/echo", "[true]"));
  REQUIRE(second);
  CHECK(second->status == 200);
  CHECK(server.server().active_connections() == 1);

  auto last = client.request(get("/hello", "Connection: close\r\n"));
  REQUIRE(last);
  CHECK(last->status == 200);
  CHECK(lower(last->headers.at("connection")) == "close");
  CHECK(client.wait_closed());
}

TEST_CASE("pipelined requests are answered in order") {
  TestServer server;
  RawClient client(server.port());
  REQUIRE(client.send(get("/items/1") + get("/items/2") + get("/hello")));
  auto one = client.read_response();
  auto two = client.read_response();
  auto three = client.read_response();
  REQUIRE(one);
  REQUIRE(two);
  REQUIRE(three);
  CHECK(one->json()["id"] == "1");
  CHECK(two->json()["id"] == "2");
  CHECK(three->json()["hello"] == "world");
}

TEST_CASE("path parameters and query strings are decoded") {
  TestServer server;
  RawClient client(server.port());
  auto response = client.request(get("/items/a%2Fb%20c?name=Bob+Smith&emoji=%F0%9F%90%A7&flag"));
  REQUIRE(response);
  REQUIRE(response->status == 200);
  auto body = response->json();
  CHECK(body["id"] == "a/b c");
  CHECK(body["query"]["name"] == "Bob Smith");
  CHECK(body["query"]["emoji"] == "\xF0\x9F\x90\xA7");
  CHECK(body["query"]["flag"] == "");
  CHECK(body["path"] == "/items/a/b c");

  auto recent = client.request(get("/items/recent"));
  REQUIRE(recent);
  CHECK(recent->json()["recent"] == true);
}

TEST_CASE("404, 405 with Allow, and HEAD over the wire") {
  TestServer server;
  RawClient client(server.port());
  auto missing = client.request(get("/nowhere"));
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->json()["error"]["code"] == "not_found");

  auto wrong = client.request("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(wrong);
  CHECK(wrong->status == 405);
  CHECK(wrong->headers.at("allow") == "GET, HEAD");

  REQUIRE(client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client.read_response(true);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->headers.at("content-length") == "17");
  // No body followed: the next response starts right away.
  auto after = client.request(get("/hello"));
  REQUIRE(after);
  CHECK(after->json()["hello"] == "world");
}

TEST_CASE("a malformed request line gets 400 and the connection is closed") {
  TestServer server;
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET /hello HTTP/9.1\r\n\r\n",
                          "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n", "GET hello HTTP/1.1\r\n\r\n",
                          "GET /bad%zzpath HTTP/1.1\r\n\r\n"}) {
    INFO(bad);
    RawClient client(server.port());
    auto response = client.request(bad);
    REQUIRE(response);
    CHECK(response->status == 400);
    CHECK(response->json()["error"]["code"] == "invalid_argument");
    CHECK(lower(response->headers.at("connection")) == "close");
    CHECK(client.wait_closed());
  }
}

TEST_CASE("a header block over the limit gets 431") {
  TestServer server;
  RawClient client(server.port());
  auto response = client.request(get("/hello", "X-Big: " + std::string(10000, 'a') + "\r\n"));
  REQUIRE(response);
  CHECK(response->status == 431);
  CHECK(response->json()["error"]["code"] == "headers_too_large");
  CHECK(client.wait_closed());
}

TEST_CASE("a body over the route's limit gets 413") {
  TestServer server;
  SECTION("declared by Content-Length") {
    RawClient client(server.port());
    auto response = client.request(post("/small", std::string(100, 'a')));
    REQUIRE(response);
    CHECK(response->status == 413);
    CHECK(response->json()["error"]["code"] == "payload_too_large");
    CHECK(response->json()["error"]["message"].get<std::string>().find("16") != std::string::npos);
    CHECK(client.wait_closed());
  }
  SECTION("chunked") {
    RawClient client(server.port());
    auto response = client.request(
        "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
    REQUIRE(response);
    CHECK(response->status == 413);
    CHECK(client.wait_closed());
  }
  SECTION("within the limit, with Expect: 100-continue") {
    RawClient client(server.port());
    REQUIRE(
        client.send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    "Expect: 100-continue\r\n\r\n"));
    REQUIRE(client.send("hello"));
    auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->json()["size"] == 5);
  }
}

TEST_CASE("an invalid JSON body gets 400 naming line and column") {
  TestServer server;
  RawClient client(server.port());
  auto response = client.request(post("/echo", "{\n  \"a\": nope\n}"));
  REQUIRE(response);
  CHECK(response->status == 400);
  auto error = response->json()["error"];
  CHECK(error["code"] == "invalid_argument");
  CHECK_THAT(error["message"].get<std::string>(),
             Catch::Matchers::StartsWith("invalid JSON at line 2, column 9"));
  // The connection is still usable: a bad body is a handler-level error.
  auto next = client.request(get("/hello"));
  REQUIRE(next);
  CHECK(next->status == 200);
}

TEST_CASE("half a request then silence: the server closes after its read timeout") {
  ServerOptions options;
  options.read_timeout = 300ms;
  TestServer server(options);
  SECTION("half a header") {
    RawClient client(server.port());
    REQUIRE(client.send("GET /hello HTTP/1.1\r\nHost: loc"));
    CHECK(client.wait_closed());
  }
  SECTION("header, then half the body") {
    RawClient client(server.port());
    REQUIRE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"a\":"));
    CHECK(client.wait_closed());
  }
  SECTION("connect and send nothing") {
    RawClient client(server.port());
    CHECK(client.wait_closed());
  }
  // The server is still fine.
  RawClient other(server.port());
  auto response = other.request(get("/hello"));
  REQUIRE(response);
  CHECK(response->status == 200);
}

TEST_CASE("the read timeout covers reading, not the handler's work") {
  ServerOptions options;
  options.read_timeout = 300ms;  // the /slow handler takes 500 ms
  TestServer server(options);
  RawClient client(server.port());
  auto response = client.request(get("/slow"));
  REQUIRE(response);
  CHECK(response->status == 200);
  auto again = client.request(get("/hello"));
  REQUIRE(again);
  CHECK(again->status == 200);
}

TEST_CASE("an idle keep-alive connection is closed after the idle timeout") {
  ServerOptions options;
  options.idle_timeout = 200ms;
  TestServer server(options);
  RawClient client(server.port());
  auto response = client.request(get("/hello"));
  REQUIRE(response);
  CHECK(client.wait_closed());
}

TEST_CASE("a client that disconnects mid-response does not hurt the next one") {
  TestServer server;
  for (int i = 0; i < 3; ++i) {
    RawClient quitter(server.port());
    REQUIRE(quitter.send(get("/big")));
    CHECK(quitter.read_some_bytes(64 * 1024) >= 64 * 1024);
    quitter.reset();
  }
  RawClient next(server.port());
  auto response = next.request(get("/hello"));
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(server.probe().big_served == 3);
}

TEST_CASE("a handler that throws gets a 500 without the detail") {
  TestServer server;
  RawClient client(server.port());
  auto response = client.request(get("/boom"));
  REQUIRE(response);
  CHECK(response->status == 500);
  CHECK(response->json()["error"]["code"] == "internal");
  CHECK(response->body.find("hunter2") == std::string::npos);
  CHECK(response->body.find("db.internal") == std::string::npos);
  auto next = client.request(get("/hello"));
  REQUIRE(next);
  CHECK(next->status == 200);
}

TEST_CASE("stop() lets a request in flight finish, closes idle connections, refuses new ones") {
  TestServer server;
  RawClient idle(server.port());
  REQUIRE(idle.request(get("/hello")));

  RawClient busy(server.port());
  REQUIRE(busy.send(get("/slow")));
  auto deadline = std::chrono::steady_clock::now() + kClientTimeout;
  while (server.probe().slow_entered == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(server.probe().slow_entered == 1);

  auto stopped = server.stop(5s);
  // The idle keep-alive connection is closed without a response.
  CHECK(idle.wait_closed());

  auto response = busy.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->json()["slow"] == true);
  CHECK(lower(response->headers.at("connection")) == "close");
  CHECK(busy.wait_closed());

  REQUIRE(stopped.wait_for(kClientTimeout) == std::future_status::ready);
  CHECK(server.server().active_connections() == 0);
  errno = 0;
  int fd = RawClient::connect_to(server.port());
  CHECK(fd < 0);
  CHECK(errno == ECONNREFUSED);
  if (fd >= 0) ::close(fd);

  // stop() again is harmless and still reports completion.
  CHECK(server.stop(0ms).wait_for(kClientTimeout) == std::future_status::ready);
}

TEST_CASE("stop() cuts requests still running when the drain time is over") {
  TestServer server;
  RawClient busy(server.port());
  REQUIRE(busy.send(get("/slow")));
  auto deadline = std::chrono::steady_clock::now() + kClientTimeout;
  while (server.probe().slow_entered == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(server.probe().slow_entered == 1);
  auto stopped = server.stop(0ms);
  CHECK(busy.wait_closed());
  CHECK(stopped.wait_for(kClientTimeout) == std::future_status::ready);
}

TEST_CASE("connections over max_connections are closed at once") {
  ServerOptions options;
  options.max_connections = 2;
  TestServer server(options);
  RawClient a(server.port());
  RawClient b(server.port());
  REQUIRE(a.request(get("/hello")));
  REQUIRE(b.request(get("/hello")));
  RawClient c(server.port());
  CHECK_FALSE(c.request(get("/hello")));
  // Once one leaves, there is room again.
  REQUIRE(a.request(get("/hello", "Connection: close\r\n")));
  CHECK(a.wait_closed());
  for (int attempt = 0; attempt < 100 && server.server().active_connections() > 1; ++attempt) {
    std::this_thread::sleep_for(10ms);
  }
  RawClient d(server.port());
  auto response = d.request(get("/hello"));
  REQUIRE(response);
  CHECK(response->status == 200);
}

TEST_CASE("many concurrent clients are all served") {
  TestServer server;
  constexpr int kClients = 50;
  constexpr int kRequestsEach = 4;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      try {
        RawClient client(server.port());
        for (int j = 0; j < kRequestsEach; ++j) {
          std::string body = nlohmann::json{{"client", i}, {"request", j}}.dump();
          auto response = client.request(post("/echo", body));
          if (response && response->status == 200 &&
              response->json()["received"] == nlohmann::json::parse(body)) {
            ++ok;
          }
        }
      } catch (const std::exception&) {
      }
    });
  }
  for (auto& thread : clients) thread.join();
  CHECK(ok == kClients * kRequestsEach);
}

TEST_CASE("start() fails clearly when the port is taken") {
  TestServer first;
  asio::io_context io;
  ServerOptions options;
  options.port = first.port();
  HttpServer second(io, Router{}, options);
  CHECK_THROWS_WITH(second.start(), Catch::Matchers::StartsWith("cannot listen on 127.0.0.1:" +
                                                                std::to_string(first.port())));
  ServerOptions bad;
  bad.address = "not-an-address";
  HttpServer third(io, Router{}, bad);
  CHECK_THROWS_AS(third.start(), waddle::Error);
}
