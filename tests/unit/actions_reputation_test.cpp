// The points parser of !rep give.
#include <catch2/catch.hpp>

#include "actions/modules/reputation/reputation.hpp"

using namespace waddle::actions;

TEST_CASE("parse_points takes signed whole numbers up to 100000 either way, never 0") {
  CHECK(parse_points("5") == std::optional<int>(5));
  CHECK(parse_points("+5") == std::optional<int>(5));
  CHECK(parse_points("-20") == std::optional<int>(-20));
  CHECK(parse_points("100000") == std::optional<int>(100000));
  CHECK(parse_points("-100000") == std::optional<int>(-100000));
  CHECK_FALSE(parse_points("100001"));
  CHECK_FALSE(parse_points("9999999999999"));
  CHECK_FALSE(parse_points("0"));
  CHECK_FALSE(parse_points("-0"));
  CHECK_FALSE(parse_points(""));
  CHECK_FALSE(parse_points("-"));
  CHECK_FALSE(parse_points("1e3"));
  CHECK_FALSE(parse_points("ten"));
  CHECK_FALSE(parse_points("5.5"));
  CHECK_FALSE(parse_points(" 5"));
}
