#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "model/event.hpp"
#include "twitch/irc.hpp"
#include "twitch/normalize.hpp"

using waddle::model::Event;
using waddle::twitch::channel_entity_id;
using waddle::twitch::Emote;
using waddle::twitch::normalize_irc_message;
using waddle::twitch::parse_emotes;
using waddle::twitch::parse_irc_message;
using waddle::twitch::rfc3339_from_millis;
using waddle::twitch::roles_from_badges;
using Roles = std::vector<std::string>;

namespace {

// Normalises a line and checks that the router's strict parser takes the event unchanged.
Event normalized(std::string_view line) {
  INFO("line: " << line);
  auto event = normalize_irc_message(parse_irc_message(line), "2026-01-01T00:00:00Z");
  REQUIRE(event.has_value());
  Event round_trip = waddle::model::parse_event(waddle::model::to_json(*event));
  CHECK(round_trip == *event);
  return *event;
}

constexpr std::string_view kDocPrivmsg =
    "@badge-info=;badges=turbo/1;color=#0D4200;display-name=ronni;emotes=25:0-4,12-16/1902:6-10;"
    "id=b34ccfc7-4977-403a-8a94-33c6bac34fb8;mod=0;room-id=1337;subscriber=0;"
    "tmi-sent-ts=1507246572675;turbo=1;user-id=1337;user-type=global_mod "
    ":ronni!ronni@ronni.tmi.twitch.tv PRIVMSG #ronni :Kappa Keepo Kappa";

}  // namespace

TEST_CASE("a PRIVMSG becomes a chatMessage with user, channel, ids and emotes") {
  Event e = normalized(kDocPrivmsg);
  CHECK(e.message_type == "chatMessage");
  CHECK(e.platform == "twitch");
  CHECK(e.event_id == "twitch:b34ccfc7-4977-403a-8a94-33c6bac34fb8");
  CHECK(e.entity_id == "twitch:channel:ronni");
  CHECK(e.server_id == "channel");
  CHECK(e.channel_id == "ronni");
  CHECK(e.user.id == "1337");
  CHECK(e.user.name == "ronni");
  CHECK(e.user.display_name == "ronni");
  CHECK(e.user.roles.empty());
  CHECK(e.message == "Kappa Keepo Kappa");
  CHECK(e.amount == 0);
  CHECK(e.timestamp == "2017-10-05T23:36:12.675Z");
  CHECK(e.metadata["room_id"] == "1337");
  CHECK(e.metadata["color"] == "#0D4200");
  CHECK(e.metadata["badges"] == nlohmann::json{{"turbo", "1"}});
  CHECK(e.metadata["user_type"] == "global_mod");
  auto emotes = e.metadata["emotes"];
  REQUIRE(emotes.size() == 3);
  CHECK(emotes[0] == nlohmann::json{{"id", "25"}, {"start", 0}, {"end", 4}, {"code", "Kappa"}});
  CHECK(emotes[1] == nlohmann::json{{"id", "1902"}, {"start", 6}, {"end", 10}, {"code", "Keepo"}});
  CHECK(emotes[2] == nlohmann::json{{"id", "25"}, {"start", 12}, {"end", 16}, {"code", "Kappa"}});
}

TEST_CASE("badges give roles in a fixed order") {
  CHECK(roles_from_badges("subscriber/12,moderator/1") == Roles{"moderator", "subscriber"});
  CHECK(roles_from_badges("broadcaster/1,subscriber/0,vip/1,premium/1") ==
        Roles{"broadcaster", "vip", "subscriber"});
  CHECK(roles_from_badges("founder/0") == Roles{"subscriber"});
  CHECK(roles_from_badges("") == Roles{});
  CHECK(roles_from_badges(",/,//,moderator") == Roles{"moderator"});

  Event e = normalized(
      "@badges=broadcaster/1;display-name=Dallas\\sTV;id=x1;room-id=1;user-id=1;vip=;mod=1 "
      ":dallas!dallas@dallas.tmi.twitch.tv PRIVMSG #Dallas :hi");
  CHECK(e.user.roles == Roles{"broadcaster", "moderator", "vip"});
  CHECK(e.user.display_name == "Dallas TV");
  CHECK(e.channel_id == "dallas");
}

TEST_CASE("a cheer PRIVMSG becomes a cheer event with the bits as amount") {
  Event e = normalized(
      "@badges=staff/1,bits/1000;bits=100;color=;display-name=ronni;emotes=;id=c1;mod=0;"
      "room-id=1337;subscriber=0;tmi-sent-ts=1507246572675;user-id=1337 "
      ":ronni!ronni@ronni.tmi.twitch.tv PRIVMSG #ronni :cheer100");
  CHECK(e.message_type == "cheer");
  CHECK(e.amount == 100);
  CHECK(e.message == "cheer100");
  CHECK_FALSE(e.metadata.contains("color"));
}

TEST_CASE("a reply carries its parent in metadata (captured traffic)") {
  Event e = normalized(
      "@badge-info=;badges=;client-nonce=cd56193132f934ac71b4d5ac488d4bd6;color=;display-name="
      "LeftSwing;emotes=;first-msg=0;flags=;id=5b4f63a9-776f-4fce-bf3c-d9707f52e32d;mod=0;"
      "reply-parent-display-name=Retoon;reply-parent-msg-body=hello;reply-parent-msg-id="
      "6b13e51b-7ecb-43b5-ba5b-2bb5288df696;reply-parent-user-id=37940952;reply-parent-user-login="
      "retoon;returning-chatter=0;room-id=37940952;subscriber=0;tmi-sent-ts=1673925983585;turbo="
      "0;user-id=133651738;user-type= :leftswing!leftswing@leftswing.tmi.twitch.tv PRIVMSG "
      "#retoon :@Retoon yes");
  CHECK(e.entity_id == "twitch:channel:retoon");
  CHECK(e.user.id == "133651738");
  CHECK(e.user.name == "leftswing");
  CHECK(e.user.display_name == "LeftSwing");
  CHECK(e.message == "@Retoon yes");
  CHECK(e.timestamp == "2023-01-17T03:26:23.585Z");
  CHECK(e.metadata["reply"] ==
        nlohmann::json{{"parent_msg_id", "6b13e51b-7ecb-43b5-ba5b-2bb5288df696"},
                       {"parent_user_id", "37940952"},
                       {"parent_user_login", "retoon"},
                       {"parent_display_name", "Retoon"},
                       {"parent_msg_body", "hello"}});
  CHECK(e.metadata["first_msg"] == false);
  CHECK_FALSE(e.metadata.contains("user_type"));
}

TEST_CASE("emote indices count code points, after emoji too") {
  auto emotes = parse_emotes("483:2-3,7-8,12-13", "👉 <3 👉 <3 👉 <3");
  REQUIRE(emotes.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(emotes[i].code == "<3");
    CHECK(emotes[i].id == "483");
  }
  CHECK(emotes[0].start == 2);
  CHECK(emotes[1].start == 7);
  CHECK(emotes[2].start == 12);
}

TEST_CASE("wrong emote indices from the server are clamped or dropped, never a crash") {
  std::string_view text = "Я не такой красивый. Не урод, но до тебя далеко LUL";
  auto emotes = parse_emotes("425618:49-51", text);
  REQUIRE(emotes.size() == 1);
  CHECK(emotes[0].code == "UL");
  CHECK(emotes[0].end == 50);

  std::string_view short_text = "Hello, Thanks for the gift sub RaccAttack XD";  // 44 code points
  CHECK(parse_emotes("25:44-48", short_text).empty());
  CHECK(parse_emotes("25:45-49", short_text).empty());
  CHECK(parse_emotes("25:5-2", short_text).empty());
  CHECK(
      parse_emotes("25:x-2,/:,:1-2,25:1,25:-1-3,25:99999999999999999999999-1", short_text).empty());
  CHECK(parse_emotes("1:0-0", "").empty());
  CHECK(parse_emotes("1:0-0", "\xff") == std::vector<Emote>{{"1", 0, 0, "\xff"}});
}

TEST_CASE("/me messages lose the ACTION wrapper and count emotes after it") {
  Event e = normalized(
      "@emotes=25:4-8;id=a1;room-id=1;user-id=2 :bob!bob@bob.tmi.twitch.tv PRIVMSG #c "
      ":\x01"
      "ACTION hug Kappa\x01");
  CHECK(e.message == "hug Kappa");
  CHECK(e.metadata["action"] == true);
  CHECK(e.metadata["emotes"][0]["code"] == "Kappa");
}

TEST_CASE("a raid USERNOTICE becomes a raid with the viewers as amount (captured traffic)") {
  Event e = normalized(
      "@badge-info=;badges=;color=#FF0000;display-name=iamelisabete;emotes=;flags=;id="
      "b65fb9dc-1e8b-4c5f-a8a3-2bf5e8b5e3f9;login=iamelisabete;mod=0;msg-id=raid;"
      "msg-param-displayName=iamelisabete;msg-param-login=iamelisabete;"
      "msg-param-profileImageURL=https://static-cdn.jtvnw.net/x-profile_image-70x70.png;"
      "msg-param-viewerCount=430;room-id=71092938;subscriber=0;system-msg=430\\sraiders\\sfrom"
      "\\siamelisabete\\shave\\sjoined!;tmi-sent-ts=1594517796120;user-id=155874595;user-type= "
      ":tmi.twitch.tv USERNOTICE #xqcow");
  CHECK(e.message_type == "raid");
  CHECK(e.amount == 430);
  CHECK(e.entity_id == "twitch:channel:xqcow");
  CHECK(e.user.id == "155874595");
  CHECK(e.user.name == "iamelisabete");
  CHECK(e.message.empty());
  CHECK(e.metadata["system_msg"] == "430 raiders from iamelisabete have joined!");
  CHECK(e.metadata["msg_id"] == "raid");
  CHECK(e.metadata["params"]["viewerCount"] == "430");
  CHECK(e.metadata["params"]["login"] == "iamelisabete");
}

TEST_CASE("sub gifts, mystery gifts, subs and resubs map to the seeds' types") {
  Event gift = normalized(
      "@badges=;display-name=xqcL;id=g1;login=xqcl;msg-id=subgift;msg-param-gift-months=1;"
      "msg-param-months=2;msg-param-recipient-display-name=qatarking24xd;"
      "msg-param-recipient-id=236653628;msg-param-recipient-user-name=qatarking24xd;"
      "msg-param-sub-plan-name=Channel\\sSubscription\\s(xqcow);msg-param-sub-plan=1000;"
      "room-id=71092938;tmi-sent-ts=1594583782376;user-id=1 :tmi.twitch.tv USERNOTICE #xqcow");
  CHECK(gift.message_type == "subgift");
  CHECK(gift.amount == 1);
  CHECK(gift.metadata["params"]["recipient-id"] == "236653628");
  CHECK(gift.metadata["params"]["months"] == "2");
  CHECK(gift.metadata["params"]["gift-months"] == "1");
  CHECK(gift.metadata["params"]["sub-plan"] == "1000");
  CHECK(gift.metadata["params"]["sub-plan-name"] == "Channel Subscription (xqcow)");

  Event mystery = normalized(
      "@id=m1;login=ananonymousgifter;msg-id=anonsubmysterygift;msg-param-mass-gift-count=5;"
      "room-id=1;user-id=274598607 :tmi.twitch.tv USERNOTICE #c");
  CHECK(mystery.message_type == "subgift");
  CHECK(mystery.amount == 5);
  CHECK(mystery.metadata["anonymous"] == true);

  Event resub = normalized(
      "@badges=staff/1,broadcaster/1,turbo/1;color=#008000;display-name=ronni;emotes=;id=db25007f"
      "-7a18-43eb-9379-80131e44d633;login=ronni;mod=0;msg-id=resub;msg-param-cumulative-months=6;"
      "msg-param-streak-months=2;msg-param-should-share-streak=1;msg-param-sub-plan=Prime;"
      "msg-param-sub-plan-name=Prime;room-id=12345678;subscriber=1;system-msg=ronni\\shas\\s"
      "subscribed\\sfor\\s6\\smonths!;tmi-sent-ts=1507246572675;turbo=1;user-id=87654321;"
      "user-type=staff :tmi.twitch.tv USERNOTICE #dallas :Great stream -- keep it up!");
  CHECK(resub.message_type == "resub");
  CHECK(resub.amount == 6);
  CHECK(resub.message == "Great stream -- keep it up!");
  CHECK(resub.user.roles == Roles{"broadcaster", "subscriber"});
  CHECK(resub.metadata["system_msg"] == "ronni has subscribed for 6 months!");

  Event sub = normalized(
      "@id=s1;login=a;msg-id=sub;msg-param-cumulative-months=1;room-id=1;user-id=9 "
      ":tmi.twitch.tv USERNOTICE #c");
  CHECK(sub.message_type == "subscription");
  CHECK(sub.amount == 1);
}

TEST_CASE("lines that are not events give nothing") {
  auto none = [](std::string_view line) {
    return !normalize_irc_message(parse_irc_message(line)).has_value();
  };
  CHECK(none("PING :tmi.twitch.tv"));
  CHECK(none(":tmi.twitch.tv NOTICE #c :hi"));
  CHECK(none("@msg-id=announcement;user-id=1;id=x :tmi.twitch.tv USERNOTICE #c :hello"));
  CHECK(none("@msg-id=unraid;user-id=1;id=x :tmi.twitch.tv USERNOTICE #c"));
  CHECK(none("@id=x :a!a@a PRIVMSG #c :no user-id (tags capability off)"));
  CHECK(none("@id=x;user-id=1 :a!a@a PRIVMSG #c"));
  CHECK(none("@id=x;user-id=1 :a!a@a PRIVMSG #bad:channel :hi"));
  CHECK(none("@id=x;user-id=1 :a!a@a PRIVMSG # :hi"));
  CHECK(none("@id=x;user-id=1 :a!a@a PRIVMSG #" + std::string(65, 'a') + " :hi"));
}

TEST_CASE("hostile tag values still give an event the router accepts") {
  std::string ranges = "1:";
  for (int i = 0; i < 600; ++i) ranges += "0-0,";
  Event e = normalized(
      "@id=a\\sb\\nc;user-id=1\\s2;display-name=\\n;badges=moderator/1;emotes=" + ranges +
      ";reply-parent-msg-body=" + std::string(3000, 'r') +
      ";tmi-sent-ts=-5;color=\xff :bob PRIVMSG #c :\xff\xfe bad utf-8 " + std::string(5000, 'y'));
  CHECK(e.event_id == "twitch:a_b_c");
  CHECK(e.user.id == "1_2");
  CHECK(e.user.display_name == "bob");  // a display name of only a newline is blank
  CHECK(e.user.roles == Roles{"moderator"});
  CHECK(e.timestamp == "2026-01-01T00:00:00Z");
  CHECK(e.message.size() == waddle::model::kMaxMessageBytes);
  CHECK(e.message.rfind("\xEF\xBF\xBD\xEF\xBF\xBD bad utf-8", 0) == 0);
  // 512 emote entries overflow the metadata limit: they go, the rest stays.
  CHECK(e.metadata["truncated"] == true);
  CHECK_FALSE(e.metadata.contains("emotes"));
  CHECK(e.metadata["reply"]["parent_msg_body"] == std::string(3000, 'r'));
  CHECK(e.metadata["color"] == "\xEF\xBF\xBD");
}

TEST_CASE("channel entity ids and millisecond timestamps") {
  CHECK(channel_entity_id("#WaddleBot") == "twitch:channel:waddlebot");
  CHECK_FALSE(channel_entity_id("#a b").has_value());
  CHECK_FALSE(channel_entity_id("").has_value());
  CHECK(rfc3339_from_millis("0") == "1970-01-01T00:00:00.000Z");
  CHECK(rfc3339_from_millis("1507246572675") == "2017-10-05T23:36:12.675Z");
  CHECK_FALSE(rfc3339_from_millis("").has_value());
  CHECK_FALSE(rfc3339_from_millis("12x").has_value());
  CHECK_FALSE(rfc3339_from_millis("-1").has_value());
  CHECK_FALSE(rfc3339_from_millis("99999999999999999999").has_value());
}
