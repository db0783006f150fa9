#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "twitch/irc.hpp"
#include "twitch/session.hpp"

using namespace std::chrono_literals;
using waddle::twitch::Clock;
using waddle::twitch::IrcSession;
using waddle::twitch::IrcSessionOptions;
using waddle::twitch::IrcState;
using waddle::twitch::make_privmsg;
using Lines = std::vector<std::string>;

namespace {

const Clock::time_point kStart{};

IrcSessionOptions options() {
  IrcSessionOptions o;
  o.nick = "WaddleBot";
  o.token = "oauth:abc123";
  o.join_limits = {20, 10s, 0ms};
  return o;
}

// Connects and logs in: the session is ready at `now`.
void log_in(IrcSession& session, Clock::time_point now) {
  session.on_connected(now);
  session.on_line(":tmi.twitch.tv 001 waddlebot :Welcome, GLHF!", now);
  session.on_line(":tmi.twitch.tv 376 waddlebot :>", now);
  REQUIRE(session.state() == IrcState::ready);
}

}  // namespace

TEST_CASE("a connection logs in with CAP, PASS and NICK in that order") {
  IrcSession session(options());
  CHECK(session.state() == IrcState::disconnected);
  auto out = session.on_connected(kStart);
  CHECK(out.send == Lines{"CAP REQ :twitch.tv/membership twitch.tv/tags twitch.tv/commands",
                          "PASS oauth:abc123", "NICK waddlebot"});
  CHECK(session.state() == IrcState::registering);
  session.on_line(
      ":tmi.twitch.tv CAP * ACK :twitch.tv/membership twitch.tv/tags twitch.tv/commands", kStart);
  session.on_line(":tmi.twitch.tv 376 waddlebot :>", kStart);
  CHECK(session.state() == IrcState::ready);
  CHECK(session.connections() == 1);
}

TEST_CASE("PING is answered with the same text") {
  IrcSession session(options());
  session.on_connected(kStart);
  CHECK(session.on_line("PING :tmi.twitch.tv", kStart).send == Lines{"PONG :tmi.twitch.tv"});
  CHECK(session.on_line("PING :two words", kStart).send == Lines{"PONG :two words"});
  CHECK(session.on_line("PING", kStart).send == Lines{"PONG"});
}

TEST_CASE("JOINs go out after login, through the join limiter, and are confirmed by echo") {
  IrcSession session(options());
  for (int i = 0; i < 25; ++i) session.join("#Chan" + std::to_string(i));
  session.on_connected(kStart);
  CHECK(session.on_tick(kStart).send.empty());  // not before 376
  session.on_line(":tmi.twitch.tv 376 waddlebot :>", kStart);
  auto first = session.on_tick(kStart);
  CHECK(first.send.size() == 20);
  CHECK(first.send.front().rfind("JOIN #chan", 0) == 0);
  CHECK(session.next_tick(kStart) == kStart + 10s);
  CHECK(session.on_tick(kStart + 9s).send.empty());
  CHECK(session.on_tick(kStart + 10s).send.size() == 5);
  CHECK(session.joining().size() == 25);

  session.on_line(":waddlebot!waddlebot@waddlebot.tmi.twitch.tv JOIN #chan3", kStart + 11s);
  session.on_line(":someone!someone@someone.tmi.twitch.tv JOIN #chan4", kStart + 11s);
  CHECK(session.joined() == std::set<std::string>{"chan3"});
  CHECK(session.part("chan3").send == Lines{"PART #chan3"});
  CHECK(session.part("chan4").send == Lines{"PART #chan4"});  // JOIN sent, not yet echoed
  CHECK(session.part("nope").send.empty());
  CHECK(session.wanted().size() == 23);
  CHECK_THROWS_AS(session.join("bad channel"), waddle::Error);
}

TEST_CASE("RECONNECT: reconnect at once, rejoin every channel, one connection at a time") {
  IrcSession session(options());
  session.join("a");
  session.join("b");
  log_in(session, kStart);
  CHECK(session.on_tick(kStart).send == Lines{"JOIN #a", "JOIN #b"});
  session.on_line(":waddlebot!waddlebot@waddlebot.tmi.twitch.tv JOIN #a", kStart);
  session.on_line(":waddlebot!waddlebot@waddlebot.tmi.twitch.tv JOIN #b", kStart);

  auto out = session.on_line(":tmi.twitch.tv RECONNECT", kStart + 1s);
  CHECK(out.reconnect);
  CHECK(session.on_disconnected() == Clock::duration::zero());
  CHECK(session.state() == IrcState::disconnected);
  CHECK(session.joined().empty());
  // Lines of the old socket that arrive late are ignored.
  CHECK(session.on_line("@id=x;user-id=1 :u!u@u PRIVMSG #a :late", kStart + 1s).messages.empty());

  log_in(session, kStart + 20s);
  CHECK(session.connections() == 2);
  CHECK(session.on_tick(kStart + 20s).send == Lines{"JOIN #a", "JOIN #b"});
}

TEST_CASE("a silent link is caught by our PING and the PONG timeout") {
  IrcSession session(options());
  log_in(session, kStart);
  CHECK(session.next_tick(kStart) == kStart + 60s);
  CHECK(session.on_tick(kStart + 59s).send.empty());
  CHECK(session.on_tick(kStart + 60s).send == Lines{"PING :tmi.twitch.tv"});
  CHECK(session.next_tick(kStart + 60s) == kStart + 70s);
  session.on_line(":tmi.twitch.tv PONG tmi.twitch.tv :tmi.twitch.tv", kStart + 61s);
  CHECK_FALSE(session.on_tick(kStart + 75s).reconnect);

  CHECK(session.on_tick(kStart + 121s).send == Lines{"PING :tmi.twitch.tv"});
  CHECK_FALSE(session.on_tick(kStart + 130s).reconnect);
  CHECK(session.on_tick(kStart + 131s).reconnect);
  CHECK(session.on_disconnected() == 1s);  // it had logged in: back off from the start
}

TEST_CASE("failed connections back off by 1.5x up to the cap; a login resets it") {
  IrcSession session(options());
  std::vector<Clock::duration> delays;
  for (int i = 0; i < 12; ++i) {
    session.on_connected(kStart);
    delays.push_back(*session.on_disconnected());
  }
  CHECK(delays[0] == 1s);
  CHECK(delays[1] == 1500ms);
  CHECK(delays[2] == 2250ms);
  CHECK(delays[11] == 30s);
  for (std::size_t i = 1; i < delays.size(); ++i) CHECK(delays[i] >= delays[i - 1]);
  log_in(session, kStart);
  CHECK(session.on_disconnected() == 1s);
}

TEST_CASE("a refused token stops reconnecting until a new token is set") {
  IrcSession session(options());
  session.on_connected(kStart);
  auto out = session.on_line(":tmi.twitch.tv NOTICE * :Login authentication failed", kStart);
  CHECK(out.auth_failed);
  CHECK(session.state() == IrcState::auth_failed);
  CHECK_FALSE(session.on_disconnected().has_value());
  CHECK_FALSE(session.on_disconnected().has_value());
  CHECK(session.on_tick(kStart + 1h).send.empty());

  session.set_token("fresh-token");
  CHECK(session.state() == IrcState::disconnected);
  CHECK(session.on_connected(kStart + 1h).send[1] == "PASS oauth:fresh-token");
  CHECK_THROWS_AS(session.set_token("has space"), waddle::Error);
  CHECK_THROWS_AS(session.set_token(""), waddle::Error);
  CHECK_THROWS_AS(session.set_token("oauth:"), waddle::Error);
}

TEST_CASE("bad settings are refused at construction") {
  auto o = options();
  o.nick = "not a login";
  CHECK_THROWS_AS(IrcSession(o), waddle::Error);
  o = options();
  o.token = "tok\r\nJOIN #x";
  CHECK_THROWS_AS(IrcSession(o), waddle::Error);
}

TEST_CASE("messages for the caller come through, garbage is dropped") {
  IrcSession session(options());
  log_in(session, kStart);
  auto out = session.on_line("@id=x;user-id=1 :u!u@u PRIVMSG #a :hello", kStart);
  REQUIRE(out.messages.size() == 1);
  CHECK(out.messages[0].command == "PRIVMSG");
  CHECK(session.on_line("", kStart).messages.empty());
  CHECK(session.on_line("@only-tags", kStart).messages.empty());
  CHECK(session.last_received() == kStart);
}

TEST_CASE("PRIVMSG lines are built safely, with an optional reply parent") {
  CHECK(make_privmsg("#Chan", "hello there") == "PRIVMSG #chan :hello there");
  CHECK(make_privmsg("chan", "hi", "6b13e51b-7ecb") ==
        "@reply-parent-msg-id=6b13e51b-7ecb PRIVMSG #chan :hi");
  CHECK(make_privmsg("chan", "x", "a;b c") == "@reply-parent-msg-id=a\\:b\\sc PRIVMSG #chan :x");
  CHECK(make_privmsg("chan", ":)") == "PRIVMSG #chan ::)");
  CHECK_THROWS_AS(make_privmsg("chan", "a\r\nPRIVMSG #other :b"), waddle::twitch::IrcParseError);
  CHECK_THROWS_AS(make_privmsg("#a b", "x"), waddle::twitch::IrcParseError);
}
