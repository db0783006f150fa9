// The client against tiny fake servers on 127.0.0.1: garbage bytes, stray replies, silence.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>

#include "error/error.hpp"
#include "redis/client.hpp"
#include "support/async.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using waddle::Errc;
using waddle::Error;
using waddle::redis::Client;
using waddle::redis::Options;
using namespace std::chrono_literals;

namespace {

using waddle::test::error_of;
// Unit tests stay within 20 s.
void run_bounded(asio::io_context& ioc, awaitable<void> task) {
  waddle::test::run_bounded(ioc, std::move(task), std::chrono::seconds(20));
}
using waddle::test::sleep_for;

// A fake Redis: answers whatever arrives with `answer` (nothing when empty), once per read.
class FakeServer {
 public:
  FakeServer(asio::io_context& ioc, std::string answer)
      : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        answer_(std::make_shared<std::string>(std::move(answer))) {
    asio::co_spawn(ioc, accept_loop(acceptor_, answer_), asio::detached);
  }
  std::string url() const {
    return "redis://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  static awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<std::string> answer) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(use_awaitable));
      if (ec) co_return;
      asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), answer), asio::detached);
    }
  }
  static awaitable<void> serve(tcp::socket socket, std::shared_ptr<std::string> answer) {
    char buf[4096];
    for (;;) {
      auto [ec, n] =
          co_await socket.async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
      if (ec) co_return;
      if (answer->empty()) continue;
      auto [wec, wn] =
          co_await asio::async_write(socket, asio::buffer(*answer), asio::as_tuple(use_awaitable));
      if (wec) co_return;
    }
  }

  tcp::acceptor acceptor_;
  std::shared_ptr<std::string> answer_;
};

Options fast_options(std::string url) {
  Options options;
  options.url = std::move(url);
  options.connect_timeout = 500ms;
  options.command_timeout = 1000ms;
  options.reconnect_min = 20ms;
  options.reconnect_max = 100ms;
  return options;
}

}  // namespace

TEST_CASE("redis client: garbage from the server is a protocol error, not a crash or a hang") {
  // Each: a wrong type byte, a bad bulk length, a bad array length.
  auto garbage = GENERATE(values<std::string>(
      {"hello garbage\r\n", "$abc\r\n", "*x\r\n", std::string("\x00\x01\x02\xff\r\n", 6)}));
  asio::io_context ioc;
  FakeServer server(ioc, garbage);
  Client client(ioc.get_executor(), fast_options(server.url()));
  run_bounded(ioc, [](Client& client) -> awaitable<void> {
    co_await client.connect();
    auto error = co_await error_of(client.command("GET", "k"));
    REQUIRE(error.has_value());
    CHECK(error->code() == Errc::unavailable);
    CHECK_THAT(error->what(), Catch::Contains("protocol error"));
    CHECK_THAT(error->what(), Catch::Contains("redis GET"));
    // The client keeps going: the next command fails the same way instead of hanging.
    auto again = co_await error_of(client.command("PING"));
    REQUIRE(again.has_value());
    CHECK(again->code() == Errc::unavailable);
    client.close();
  }(client));
}

TEST_CASE("redis client: a reply nobody asked for drops the connection") {
  asio::io_context ioc;
  FakeServer server(ioc, "+OK\r\n+EXTRA\r\n");
  auto options = fast_options(server.url());
  options.reconnect_min = options.reconnect_max = 60s;  // stay disconnected so we can see it
  Client client(ioc.get_executor(), options);
  run_bounded(ioc, [](Client& client) -> awaitable<void> {
    co_await client.connect();
    auto reply = co_await client.command("SET", "k", "v");
    CHECK(reply.as_string() == "OK");
    for (int i = 0; i < 200 && client.connected(); ++i) co_await sleep_for(10ms);
    CHECK_FALSE(client.connected());
    auto error = co_await error_of(client.command("PING"));
    REQUIRE(error.has_value());
    CHECK(error->code() == Errc::unavailable);
    CHECK_THAT(error->what(), Catch::Contains("no command asked for"));
    client.close();
  }(client));
}

TEST_CASE("redis client: a server that never answers times the command out") {
  asio::io_context ioc;
  FakeServer server(ioc, "");
  auto options = fast_options(server.url());
  options.command_timeout = 300ms;
  Client client(ioc.get_executor(), options);
  run_bounded(ioc, [](Client& client) -> awaitable<void> {
    co_await client.connect();
    auto error = co_await error_of(client.command("PING"));
    REQUIRE(error.has_value());
    CHECK(error->code() == Errc::timeout);
    CHECK_THAT(error->what(), Catch::Contains("no reply from 127.0.0.1:"));
    client.close();
  }(client));
}

TEST_CASE("redis client: a server that never answers AUTH fails connect() within the timeout") {
  asio::io_context ioc;
  FakeServer server(ioc, "");
  auto options = fast_options(server.url());
  options.url.replace(options.url.find("//") + 2, 0, "bot:TopSecretPw@");
  Client client(ioc.get_executor(), options);
  run_bounded(ioc, [](Client& client) -> awaitable<void> {
    auto error = co_await error_of(client.connect());
    REQUIRE(error.has_value());
    CHECK(error->code() == Errc::unavailable);
    CHECK_THAT(error->what(), Catch::Contains("no answer within 500 ms"));
    CHECK_THAT(error->what(), !Catch::Contains("TopSecretPw"));
    CHECK_FALSE(client.connected());
  }(client));
}

TEST_CASE("redis client: connection refused is unavailable") {
  asio::io_context ioc;
  std::uint16_t port = 0;
  {
    tcp::acceptor probe(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  Client client(ioc.get_executor(), fast_options("redis://127.0.0.1:" + std::to_string(port)));
  run_bounded(ioc, [](Client& client, std::uint16_t port) -> awaitable<void> {
    auto error = co_await error_of(client.connect());
    REQUIRE(error.has_value());
    CHECK(error->code() == Errc::unavailable);
    CHECK_THAT(error->what(), Catch::Contains("127.0.0.1:" + std::to_string(port)));
    // Not connected: commands fail at once rather than wait.
    auto not_connected = co_await error_of(client.command("PING"));
    REQUIRE(not_connected.has_value());
    CHECK(not_connected->code() == Errc::unavailable);
    CHECK_THAT(not_connected->what(), Catch::Contains("connect()"));
  }(client, port));
}

TEST_CASE("redis client: bad input is rejected before anything is sent") {
  asio::io_context ioc;
  CHECK_THROWS_AS(Client(ioc.get_executor(), fast_options("redis://127.0.0.1:99999")), Error);
  FakeServer server(ioc, "+OK\r\n");
  Client client(ioc.get_executor(), fast_options(server.url()));
  run_bounded(ioc, [](Client& client) -> awaitable<void> {
    co_await client.connect();
    std::vector<std::string> nothing;
    auto error = co_await error_of(client.command(nothing));
    REQUIRE(error.has_value());
    CHECK(error->code() == Errc::invalid_argument);
    std::vector<std::vector<std::string>> no_commands;
    auto empty = co_await client.pipeline(no_commands);
    CHECK(empty.empty());
    client.close();
  }(client));
}
