// The parsers the labels module (and the other modules that name users) apply to chat input.
#include <catch2/catch.hpp>

#include <string>

#include "actions/modules/labels/labels.hpp"
#include "actions/modules/platform_users/platform_users.hpp"

using namespace waddle::actions;

TEST_CASE("parse_mention takes @names, and bare names only where the caller allows them") {
  CHECK(parse_mention("@Bob", false) == std::optional<std::string>("Bob"));
  CHECK(parse_mention("@bob_42", true) == std::optional<std::string>("bob_42"));
  CHECK(parse_mention("bob", true) == std::optional<std::string>("bob"));
  CHECK_FALSE(parse_mention("bob", false));
  CHECK_FALSE(parse_mention("@", true));
  CHECK_FALSE(parse_mention("", true));
  CHECK_FALSE(parse_mention("@@bob", true));
  CHECK_FALSE(parse_mention("@bo b", true));
  CHECK_FALSE(parse_mention("@bo\x01", true));
  CHECK(parse_mention("@" + std::string(kMaxUsernameBytes, 'a'), false));
  CHECK_FALSE(parse_mention("@" + std::string(kMaxUsernameBytes + 1, 'a'), false));
  CHECK(parse_mention("@Ünïcødé🐧", false) == std::optional<std::string>("Ünïcødé🐧"));
}

TEST_CASE("parse_label_name trims, drops surrounding quotes and refuses what the table would") {
  CHECK(parse_label_name("  vip ") == std::optional<std::string>("vip"));
  CHECK(parse_label_name("\"two words\"") == std::optional<std::string>("two words"));
  CHECK(parse_label_name("Robert'); DROP TABLE labels;--") ==
        std::optional<std::string>("Robert'); DROP TABLE labels;--"));
  CHECK_FALSE(parse_label_name(""));
  CHECK_FALSE(parse_label_name("   "));
  CHECK_FALSE(parse_label_name("\"\""));
  CHECK_FALSE(parse_label_name("bad\nline"));
  CHECK(parse_label_name(std::string(63, 'x')));
  CHECK_FALSE(parse_label_name(std::string(64, 'x')));
  // 63 characters of 4 bytes each still fit: the limit counts characters.
  std::string penguins;
  for (int i = 0; i < 63; ++i) penguins += "🐧";
  CHECK(parse_label_name(penguins) == std::optional<std::string>(penguins));
  CHECK_FALSE(parse_label_name(penguins + "🐧"));
}

TEST_CASE("user_name_sql names the platform's username, falling back to the display name") {
  const std::string sql = user_name_sql("a.user_id", "$2");
  CHECK(sql.find("pi.user_id = a.user_id") != std::string::npos);
  CHECK(sql.find("pi.platform = $2") != std::string::npos);
  CHECK(sql.find("u.display_name") != std::string::npos);
}
