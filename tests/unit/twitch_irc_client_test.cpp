#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "fakes/twitch_irc_server.hpp"
#include "twitch/irc_client.hpp"

using namespace std::chrono_literals;
using waddle::fakes::FakeTwitchIrcServer;
using waddle::twitch::IrcClient;
using waddle::twitch::IrcClientOptions;
using waddle::twitch::IrcMessage;
using waddle::twitch::IrcState;
using Lines = std::vector<std::string>;

namespace {

// Runs the io_context until `done` holds; fails the test (instead of hanging) after `limit`.
void run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::seconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  REQUIRE(done());
}

struct Fixture {
  boost::asio::io_context io;
  FakeTwitchIrcServer server{io};
  std::uint16_t port = server.start();
  std::vector<IrcMessage> received;

  IrcClientOptions options(bool trust_server = true) {
    IrcClientOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    if (trust_server) o.ca_pem = server.certificate_pem();
    o.connect_timeout = 5000ms;
    o.session.nick = "waddlebot";
    o.session.token = "tok123";
    o.session.backoff_initial = 20ms;
    o.session.backoff_max = 100ms;
    return o;
  }
  std::size_t privmsgs() const {
    std::size_t n = 0;
    for (const auto& m : received) n += m.command == "PRIVMSG" ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST_CASE("the client logs in over TLS, joins its channels and answers PING") {
  Fixture f;
  IrcClient client(f.io.get_executor(), f.options(),
                   [&](const IrcMessage& m) { f.received.push_back(m); });
  client.join("alpha");
  client.join("Beta");
  client.start();
  run_until(f.io, [&] { return client.session().joined().size() == 2; });
  CHECK(client.state() == IrcState::ready);
  CHECK(f.server.lines_of(1) ==
        Lines{"CAP REQ :twitch.tv/membership twitch.tv/tags twitch.tv/commands",
              "PASS oauth:tok123", "NICK waddlebot", "JOIN #alpha", "JOIN #beta"});

  f.server.send_to_all("PING :tmi.twitch.tv");
  f.server.send_to_all("@id=m1;user-id=7 :bob!bob@bob.tmi.twitch.tv PRIVMSG #alpha :hello");
  run_until(f.io, [&] { return f.privmsgs() == 1 && f.server.lines_of(1, "PONG").size() == 1; });
  CHECK(f.server.lines_of(1, "PONG") == Lines{"PONG :tmi.twitch.tv"});
  CHECK(f.received.back().param(1) == "hello");

  CHECK(client.send_line("PRIVMSG #alpha :hi there"));
  CHECK_FALSE(client.send_line("PRIVMSG #alpha :two\r\nQUIT"));
  run_until(f.io, [&] { return f.server.lines_of(1, "PRIVMSG").size() == 1; });
  client.stop();
  run_until(f.io, [&] { return f.server.open_connections() == 0; });
}

TEST_CASE("RECONNECT and drops: one live socket, channels rejoined, no duplicate messages") {
  Fixture f;
  IrcClient client(f.io.get_executor(), f.options(),
                   [&](const IrcMessage& m) { f.received.push_back(m); });
  client.join("alpha");
  client.start();
  run_until(f.io, [&] { return client.session().joined().size() == 1; });

  f.server.send_to_all(":tmi.twitch.tv RECONNECT");
  run_until(f.io, [&] {
    return f.server.accepted() == 2 && client.session().joined().size() == 1 &&
           f.server.open_connections() == 1;
  });
  CHECK(f.server.lines_of(2, "JOIN") == Lines{"JOIN #alpha"});
  CHECK(f.server.logged_in() == 1);

  f.server.send_to_all("@id=m2;user-id=7 :bob!bob@bob.tmi.twitch.tv PRIVMSG #alpha :once");
  run_until(f.io, [&] { return f.privmsgs() == 1; });

  f.server.drop_all();
  run_until(f.io, [&] {
    return f.server.accepted() == 3 && client.session().joined().size() == 1 &&
           f.server.open_connections() == 1;
  });
  f.server.send_to_all("@id=m3;user-id=7 :bob!bob@bob.tmi.twitch.tv PRIVMSG #alpha :again");
  run_until(f.io, [&] { return f.privmsgs() == 2; });
  CHECK(client.connections() == 3);
  CHECK(f.server.logged_in() == 1);
  client.stop();
  run_until(f.io, [&] { return f.server.open_connections() == 0; });
}

TEST_CASE("a refused token stops the client instead of a reconnect storm") {
  Fixture f;
  f.server.behaviour().refuse_login = true;
  std::vector<IrcState> states;
  IrcClient client(
      f.io.get_executor(), f.options(), [](const IrcMessage&) {},
      [&](IrcState s) { states.push_back(s); });
  client.start();
  run_until(f.io, [&] {
    return client.state() == IrcState::auth_failed && f.server.open_connections() == 0;
  });
  // Give a reconnect every chance to happen (the backoff is 20 ms): none may.
  f.io.restart();
  f.io.run_for(300ms);
  CHECK(f.server.accepted() == 1);
  CHECK(client.connections() == 1);
  CHECK(states.back() == IrcState::auth_failed);

  // A refreshed token logs in again.
  f.server.behaviour().refuse_login = false;
  client.set_token("fresh");
  run_until(f.io, [&] { return client.state() == IrcState::ready; });
  CHECK(f.server.lines_of(2, "PASS") == Lines{"PASS oauth:fresh"});
  client.stop();
  run_until(f.io, [&] { return f.server.open_connections() == 0; });
}

TEST_CASE("a server whose certificate is not trusted never sees the token") {
  Fixture f;
  IrcClient client(f.io.get_executor(), f.options(/*trust_server=*/false),
                   [](const IrcMessage&) {});
  client.start();
  run_until(f.io, [&] { return f.server.accepted() >= 2; });
  CHECK(f.server.lines().empty());
  CHECK(client.state() == IrcState::disconnected);
  client.stop();
  run_until(f.io, [&] { return f.server.open_connections() == 0; });
}

TEST_CASE("a link that stops answering PING is replaced") {
  Fixture f;
  f.server.behaviour().answer_pings = false;
  auto options = f.options();
  options.session.ping_interval = 50ms;
  options.session.pong_timeout = 50ms;
  IrcClient client(f.io.get_executor(), options, [](const IrcMessage&) {});
  client.start();
  run_until(f.io,
            [&] { return f.server.accepted() >= 2 && f.server.lines_of(1, "PING").size() >= 1; });
  CHECK(f.server.lines_of(1, "PING") == Lines{"PING :tmi.twitch.tv"});
  client.stop();
  run_until(f.io, [&] { return f.server.open_connections() == 0; });
}
