// How !inv splits an item name from a trailing quantity or @user.
#include <catch2/catch.hpp>

#include "actions/modules/inventory/inventory.hpp"

using namespace waddle::actions;

TEST_CASE("parse_item_args takes a trailing quantity only where one is expected") {
  auto a = parse_item_args("HDMI cable 3", true, false);
  CHECK(a.error.empty());
  CHECK(a.item == "HDMI cable");
  CHECK(a.quantity == std::optional<int>(3));
  a = parse_item_args("HDMI cable 3", false, true);
  CHECK(a.item == "HDMI cable 3");
  CHECK_FALSE(a.quantity);
  a = parse_item_args("  mic  ", true, false);
  CHECK(a.item == "mic");
  CHECK_FALSE(a.quantity);
  // A lone number is the item's name, and quotes keep a trailing number in it.
  CHECK(parse_item_args("42", true, false).item == "42");
  a = parse_item_args("\"Team 2\"", true, false);
  CHECK(a.item == "Team 2");
  CHECK_FALSE(a.quantity);
  a = parse_item_args("\"Team 2\" 4", true, false);
  CHECK(a.item == "Team 2");
  CHECK(a.quantity == std::optional<int>(4));
  CHECK_FALSE(parse_item_args("mic 0", true, false).error.empty());
  CHECK_FALSE(parse_item_args("mic 1000001", true, false).error.empty());
  CHECK(parse_item_args("mic 1000000", true, false).quantity == std::optional<int>(1000000));
  CHECK_FALSE(parse_item_args("mic 99999999999999999999", true, false).error.empty());
  CHECK(parse_item_args("mic -3", true, false).item == "mic -3");
}

TEST_CASE("parse_item_args takes a trailing @user only where one is expected") {
  auto a = parse_item_args("HDMI cable @Bob", false, true);
  CHECK(a.error.empty());
  CHECK(a.item == "HDMI cable");
  CHECK(a.mention == "Bob");
  a = parse_item_args("HDMI cable", false, true);
  CHECK(a.mention.empty());
  CHECK(a.item == "HDMI cable");
  CHECK_FALSE(parse_item_args("mic @", false, true).error.empty());
  CHECK_FALSE(parse_item_args("mic @@x", false, true).error.empty());
  // "@bob" alone is not an item with a user: item names cannot start with @.
  CHECK_FALSE(parse_item_args("@bob", false, true).error.empty());
}

TEST_CASE("parse_item_args refuses names the table would refuse, and leaves empty input empty") {
  CHECK(parse_item_args("", true, true).item.empty());
  CHECK(parse_item_args("", true, true).error.empty());
  CHECK(parse_item_args("\"\"", true, false).item.empty());
  CHECK_FALSE(parse_item_args(std::string(65, 'x'), false, false).error.empty());
  CHECK(parse_item_args(std::string(64, 'x'), false, false).item == std::string(64, 'x'));
  CHECK_FALSE(parse_item_args("bad\x01name", false, false).error.empty());
  CHECK_FALSE(parse_item_args("\"unclosed", false, false).error.empty());
  const auto unicode = parse_item_args("🐧 plush שלום 2", true, false);
  CHECK(unicode.item == "🐧 plush שלום");
  CHECK(unicode.quantity == std::optional<int>(2));
}
