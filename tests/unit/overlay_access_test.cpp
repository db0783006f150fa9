// Token checks that need no database: the token's shape (refused before any query) and which
// sources a token and a page allow. The database side is in tests/integration/overlay_*.
#include <catch2/catch.hpp>

#include "crypto/random.hpp"
#include "overlay/access.hpp"

using namespace waddle::overlay;

TEST_CASE("only tokens shaped like the CLI's reach the database") {
  CHECK(plausible_token(waddle::crypto::random_token(32)));
  CHECK(plausible_token("abcdEFGH"));
  CHECK(plausible_token(std::string(128, 'a')));
  CHECK_FALSE(plausible_token(""));
  CHECK_FALSE(plausible_token("short"));
  CHECK_FALSE(plausible_token(std::string(129, 'a')));
  CHECK_FALSE(plausible_token("abcdefgh'; drop table overlay_tokens; --"));
  CHECK_FALSE(plausible_token("abcd/efgh"));
  CHECK_FALSE(plausible_token("abcd efgh"));
  CHECK_FALSE(plausible_token(std::string("abcd\0efgh", 9)));
  CHECK_FALSE(plausible_token("abcd%20efgh"));
}

TEST_CASE("a token's sources decide what its pages show, general brings the form card along") {
  auto defaults = sources_from_token({"chat", "media", "ticker", "general"});
  CHECK(defaults ==
        std::vector<Source>{Source::ticker, Source::media, Source::general, Source::form});
  auto ticker_only = sources_from_token({"ticker", "chat", "alerts"});
  CHECK(ticker_only == std::vector<Source>{Source::ticker});
  CHECK(sources_from_token({}).empty());

  CHECK(sources_for_page("ticker", defaults) == std::vector<Source>{Source::ticker});
  CHECK(sources_for_page("media", defaults) == std::vector<Source>{Source::media});
  CHECK(sources_for_page("general", defaults) ==
        std::vector<Source>{Source::general, Source::form});
  CHECK(sources_for_page("all", defaults).size() == 4);
  CHECK(sources_for_page("all", ticker_only) == std::vector<Source>{Source::ticker});
  CHECK(sources_for_page("media", ticker_only).empty());
  CHECK(sources_for_page("form", defaults).empty());  // not a page of its own
  CHECK(sources_for_page("ws", defaults).empty());
  CHECK(sources_for_page("", defaults).empty());
}
