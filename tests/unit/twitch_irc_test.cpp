#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "twitch/irc.hpp"

using waddle::twitch::IrcLineBuffer;
using waddle::twitch::IrcMessage;
using waddle::twitch::IrcParseError;
using waddle::twitch::kMaxIrcLineBytes;
using waddle::twitch::parse_irc_message;
using waddle::twitch::serialize_irc_message;
using waddle::twitch::try_parse_irc_message;
using waddle::twitch::unescape_tag_value;
using Params = std::vector<std::string>;

TEST_CASE("a Twitch PRIVMSG splits into tags, prefix, command and params") {
  auto m = parse_irc_message(
      "@badge-info=;badges=turbo/1;color=#0D4200;display-name=ronni;emotes=25:0-4,12-16/"
      "1902:6-10;id=b34ccfc7-4977-403a-8a94-33c6bac34fb8;mod=0;room-id=1337;subscriber=0;"
      "tmi-sent-ts=1507246572675;turbo=1;user-id=1337;user-type=global_mod "
      ":ronni!ronni@ronni.tmi.twitch.tv PRIVMSG #ronni :Kappa Keepo Kappa\r\n");
  CHECK(m.command == "PRIVMSG");
  CHECK(m.prefix == "ronni!ronni@ronni.tmi.twitch.tv");
  CHECK(m.nick() == "ronni");
  CHECK(m.params == Params{"#ronni", "Kappa Keepo Kappa"});
  CHECK(m.has_trailing);
  CHECK(m.tag("emotes") == "25:0-4,12-16/1902:6-10");
  CHECK(m.tag("badge-info") == "");  // present but empty
  CHECK_FALSE(m.tag("vip").has_value());
  CHECK(m.tag_or_empty("vip").empty());
  CHECK(m.tags.size() == 13);
  CHECK(m.param(5).empty());
}

TEST_CASE("tag values unescape every escape, unknown escapes and a trailing backslash") {
  CHECK(unescape_tag_value("a\\:b") == "a;b");
  CHECK(unescape_tag_value("a\\sb") == "a b");
  CHECK(unescape_tag_value("a\\\\b") == "a\\b");
  CHECK(unescape_tag_value("\\r\\n") == "\r\n");
  CHECK(unescape_tag_value("a\\bc") == "abc");
  CHECK(unescape_tag_value("abc\\") == "abc");
  CHECK(unescape_tag_value("\\") == "");
  CHECK(unescape_tag_value("\\\\\\") == "\\");

  auto m = parse_irc_message(
      "@system-msg=430\\sraiders\\sfrom\\siamelisabete\\shave\\sjoined!;k=v\\:w;flag;empty= "
      ":tmi.twitch.tv USERNOTICE #xqcow");
  CHECK(m.tag("system-msg") == "430 raiders from iamelisabete have joined!");
  CHECK(m.tag("k") == "v;w");
  CHECK(m.tag("flag") == "");
  CHECK(m.tag("empty") == "");
  CHECK(m.params == Params{"#xqcow"});
  CHECK_FALSE(m.has_trailing);
}

TEST_CASE("a repeated tag keeps its last value; empty tag items are skipped") {
  auto m = parse_irc_message("@a=1;;a=2;=x; PING");
  CHECK(m.tag("a") == "2");
  CHECK(m.tags.size() == 1);
  CHECK(m.command == "PING");
}

TEST_CASE("control lines parse as Twitch sends them") {
  auto ping = parse_irc_message("PING :tmi.twitch.tv");
  CHECK(ping.command == "PING");
  CHECK(ping.params == Params{"tmi.twitch.tv"});
  CHECK(ping.prefix.empty());

  auto reconnect = parse_irc_message(":tmi.twitch.tv RECONNECT");
  CHECK(reconnect.command == "RECONNECT");
  CHECK(reconnect.params.empty());

  auto notice = parse_irc_message(":tmi.twitch.tv NOTICE * :Login authentication failed");
  CHECK(notice.params == Params{"*", "Login authentication failed"});

  auto cap = parse_irc_message(
      ":tmi.twitch.tv CAP * ACK :twitch.tv/membership twitch.tv/tags twitch.tv/commands");
  CHECK(cap.params == Params{"*", "ACK", "twitch.tv/membership twitch.tv/tags twitch.tv/commands"});

  auto welcome = parse_irc_message(":tmi.twitch.tv 001 waddlebot :Welcome, GLHF!");
  CHECK(welcome.command == "001");
  CHECK(welcome.params == Params{"waddlebot", "Welcome, GLHF!"});
}

TEST_CASE("a trailing param keeps its spaces and colons; an empty trailing is a param") {
  auto m = parse_irc_message("PRIVMSG  #chan   ::)  two  spaces ");
  CHECK(m.params == Params{"#chan", ":)  two  spaces "});
  auto empty = parse_irc_message("PRIVMSG #chan :");
  CHECK(empty.params == Params{"#chan", ""});
  CHECK(empty.has_trailing);
}

TEST_CASE("garbage is a parse error, never a crash") {
  for (std::string_view line :
       {"", "\r\n", "   ", "@tags-only", "@a=b ", ":prefix-only", ":prefix ", "@a=b :prefix",
        "PRIV!MSG x", "12 x", "1234 x", "PRIV\x01MSG #c", "\xff\xfe"}) {
    INFO("line: " << line);
    CHECK_THROWS_AS(parse_irc_message(line), IrcParseError);
    CHECK_FALSE(try_parse_irc_message(line).has_value());
  }
  CHECK_THROWS_AS(parse_irc_message(std::string_view("PRIVMSG #c :a\0b", 15)), IrcParseError);
  CHECK_THROWS_AS(parse_irc_message("PRIVMSG #c :a\rb"), IrcParseError);
  CHECK_THROWS_AS(parse_irc_message("PRIVMSG #c :a\nb"), IrcParseError);
  CHECK_THROWS_AS(parse_irc_message("PING " + std::string(kMaxIrcLineBytes, 'x')), IrcParseError);
  std::string many = "CMD";
  for (int i = 0; i < 100; ++i) many += " p";
  CHECK_THROWS_AS(parse_irc_message(many), IrcParseError);
  try {
    parse_irc_message("@a=b");
  } catch (const IrcParseError& e) {
    CHECK(e.code() == waddle::Errc::invalid_argument);
    CHECK(std::string(e.what()) == "no command");
  }
}

TEST_CASE("serialising escapes tags and puts ':' only where needed") {
  IrcMessage m;
  m.tags["reply-parent-msg-id"] = "abc";
  m.tags["x"] = "a b;c\\d\r\n";
  m.command = "PRIVMSG";
  m.params = {"#chan", "hello world"};
  m.has_trailing = true;
  std::string wire = serialize_irc_message(m);
  CHECK(wire == "@reply-parent-msg-id=abc;x=a\\sb\\:c\\\\d\\r\\n PRIVMSG #chan :hello world");
  auto back = parse_irc_message(wire);
  CHECK(back == m);

  IrcMessage join;
  join.command = "JOIN";
  join.params = {"#a,#b"};
  CHECK(serialize_irc_message(join) == "JOIN #a,#b");
  join.has_trailing = true;
  CHECK(serialize_irc_message(join) == "JOIN :#a,#b");

  IrcMessage pong;
  pong.command = "PONG";
  pong.params = {":starts-with-colon"};
  CHECK(serialize_irc_message(pong) == "PONG ::starts-with-colon");
  pong.params = {""};
  CHECK(serialize_irc_message(pong) == "PONG :");
}

TEST_CASE("the serializer refuses anything that would smuggle a second line") {
  IrcMessage m;
  m.command = "PRIVMSG";
  m.params = {"#chan", "hi\r\nPRIVMSG #other :pwned"};
  CHECK_THROWS_AS(serialize_irc_message(m), IrcParseError);
  m.params = {"#ch an", "hi"};
  CHECK_THROWS_AS(serialize_irc_message(m), IrcParseError);
  m.params = {"", "hi"};
  CHECK_THROWS_AS(serialize_irc_message(m), IrcParseError);
  m.params = {"#chan", "hi"};
  m.command = "PRIV MSG";
  CHECK_THROWS_AS(serialize_irc_message(m), IrcParseError);
  m.command = "PRIVMSG";
  m.tags["bad key"] = "v";
  CHECK_THROWS_AS(serialize_irc_message(m), IrcParseError);
  m.tags.clear();
  m.prefix = "a b";
  CHECK_THROWS_AS(serialize_irc_message(m), IrcParseError);
}

TEST_CASE("the line buffer splits several messages in one read and keeps partial lines") {
  IrcLineBuffer buffer;
  buffer.append("PING :tmi.twitch.tv\r\n:tmi.twitch.tv RECONNECT\r\nPRIVMSG #a :par");
  CHECK(buffer.next_line() == "PING :tmi.twitch.tv");
  CHECK(buffer.next_line() == ":tmi.twitch.tv RECONNECT");
  CHECK_FALSE(buffer.next_line().has_value());
  CHECK(buffer.pending_bytes() == 15);
  buffer.append("tial\r");
  CHECK_FALSE(buffer.next_line().has_value());
  buffer.append("\nbare-lf\n");
  CHECK(buffer.next_line() == "PRIVMSG #a :partial");
  CHECK(buffer.next_line() == "bare-lf");
  CHECK_FALSE(buffer.next_line().has_value());
}

TEST_CASE("the line buffer drops an overlong line and resynchronises on the next one") {
  IrcLineBuffer buffer(16);
  buffer.append(std::string(10, 'a'));
  buffer.append(std::string(10, 'b'));  // now over the limit: discarded up to the newline
  buffer.append(std::string(1000, 'c'));
  CHECK(buffer.pending_bytes() == 0);
  buffer.append("\r\nPING :x\r\n");
  CHECK(buffer.next_line() == "PING :x");
  CHECK_FALSE(buffer.next_line().has_value());
  CHECK(buffer.overlong_lines() == 1);
  buffer.append(std::string(16, 'd') + "\r\n");  // exactly the limit is fine
  CHECK(buffer.next_line() == std::string(16, 'd'));
}
