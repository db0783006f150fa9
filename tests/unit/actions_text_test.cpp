// Chat trimming, word skipping and the small parsers the action modules share.
#include <catch2/catch.hpp>

#include <string>

#include "actions/text.hpp"

using namespace waddle::actions;

TEST_CASE("trim_chat keeps short texts and cuts long ones to 500 characters with an ellipsis") {
  CHECK(trim_chat("pong") == "pong");
  const std::string exact(500, 'a');
  CHECK(trim_chat(exact) == exact);
  const std::string cut = trim_chat(std::string(501, 'a'));
  CHECK(utf8_length(cut) == 500);
  CHECK(cut.substr(cut.size() - 3) == "\xE2\x80\xA6");
  CHECK(cut.substr(0, 499) == std::string(499, 'a'));
}

TEST_CASE("trim_chat counts characters, not bytes, and never splits a UTF-8 sequence") {
  std::string emoji;
  for (int i = 0; i < 600; ++i) emoji += "\xF0\x9F\x90\xA7";  // 🐧, 4 bytes each
  const std::string cut = trim_chat(emoji);
  CHECK(utf8_length(cut) == 500);
  CHECK(cut.size() == 499 * 4 + 3);
  CHECK(cut.substr(0, 4) == "\xF0\x9F\x90\xA7");
  // 500 penguins are 2000 bytes but fit.
  std::string fits;
  for (int i = 0; i < 500; ++i) fits += "\xF0\x9F\x90\xA7";
  CHECK(trim_chat(fits) == fits);
}

TEST_CASE("skip_words returns what follows n words, quoted groups counting as one") {
  CHECK(skip_words("add !hi Hello there  ", 2) == "Hello there");
  CHECK(skip_words("  add   !hi\tHello", 2) == "Hello");
  CHECK(skip_words("add \"two words\" rest of it", 2) == "rest of it");
  CHECK(skip_words("add", 2).empty());
  CHECK(skip_words("", 1).empty());
  CHECK(skip_words("keep   inner   spacing", 0) == "keep   inner   spacing");
  CHECK(skip_words("add \"unclosed quote", 1) == "\"unclosed quote");
}

TEST_CASE("names, numbers and URLs") {
  CHECK(is_command_name("hello"));
  CHECK(is_command_name("so-long_2"));
  CHECK_FALSE(is_command_name(""));
  CHECK_FALSE(is_command_name("Hello"));
  CHECK_FALSE(is_command_name("-x"));
  CHECK_FALSE(is_command_name("a b"));
  CHECK_FALSE(is_command_name(std::string(65, 'a')));
  CHECK(is_short_name(std::string(32, 'a')));
  CHECK_FALSE(is_short_name(std::string(33, 'a')));
  CHECK(parse_positive("12") == 12);
  CHECK(parse_positive("#3") == 3);
  CHECK(parse_positive("0") == 0);
  CHECK(parse_positive("-1") == 0);
  CHECK(parse_positive("1e3") == 0);
  CHECK(parse_positive("9999999999") == 0);
  CHECK(is_http_url("https://example.org/a?b=c"));
  CHECK(is_http_url("http://127.0.0.1:8080"));
  CHECK_FALSE(is_http_url("ftp://example.org"));
  CHECK_FALSE(is_http_url("https://"));
  CHECK_FALSE(is_http_url("https://exa mple.org"));
  CHECK_FALSE(is_http_url("javascript:alert(1)"));
  CHECK(lower_ascii("HeLLo ÄB") == "hello Äb");
}
