#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"

using namespace waddle::crypto;
using waddle::Errc;

namespace {
Errc code_of(void (*fn)()) {
  try {
    fn();
  } catch (const waddle::Error& e) {
    return e.code();
  }
  return Errc::ok;
}
}  // namespace

TEST_CASE("hex round trips every byte value and decodes either case") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  std::string hex = hex_encode(all);
  CHECK(hex.substr(0, 8) == "00010203");
  CHECK(hex.substr(hex.size() - 4) == "feff");
  CHECK(hex_decode(hex) == all);
  CHECK(hex_decode("DEADbeef") == "\xde\xad\xbe\xef");
  CHECK(hex_encode("") == "");
  CHECK(hex_decode("") == "");
}

TEST_CASE("hex_decode rejects odd lengths and non-hex characters with invalid_argument") {
  CHECK_THROWS_WITH(hex_decode("abc"), "hex: odd length 3");
  CHECK_THROWS_WITH(hex_decode("0g"), "hex: invalid character at offset 1");
  CHECK_THROWS_WITH(hex_decode("g0"), "hex: invalid character at offset 0");
  CHECK(code_of([] { hex_decode(" 0"); }) == Errc::invalid_argument);
}

// RFC 4648 section 10.
TEST_CASE("base64 matches the RFC 4648 test vectors") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    CHECK(base64_decode(base64_encode(s)) == s);
    CHECK(base64url_decode(base64url_encode(s)) == s);
  }
  CHECK(base64_decode("Zm9vYg") == "foob");  // padding may be left off
}

TEST_CASE("the two base64 alphabets differ exactly in 62 and 63") {
  std::string bytes = "\xfb\xff\xbf";
  CHECK(base64_encode(bytes) == "+/+/");
  CHECK(base64url_encode(bytes) == "-_-_");
  CHECK(base64url_encode("f") == "Zg");  // no padding
  CHECK(base64url_decode("Zg==") == "f");
  CHECK(base64url_decode("-_-_") == bytes);
  CHECK_THROWS_AS(base64_decode("-_-_"), waddle::Error);
  CHECK_THROWS_AS(base64url_decode("+/+/"), waddle::Error);
}

TEST_CASE("base64 decoding rejects malformed input with invalid_argument") {
  CHECK_THROWS_WITH(base64_decode("Zm9v!"), "base64: invalid length 5");
  CHECK_THROWS_WITH(base64_decode("Zm9*"), "base64: invalid character at offset 3");
  CHECK_THROWS_WITH(base64_decode("Zg="), "base64: malformed '=' padding");
  CHECK_THROWS_WITH(base64_decode("Z==="), "base64: malformed '=' padding");
  CHECK_THROWS_WITH(base64_decode("Zm=v"), "base64: invalid character at offset 2");
  CHECK_THROWS_WITH(base64_decode("Zh=="), "base64: non-zero trailing bits");
  CHECK_THROWS_WITH(base64_decode("Zm9v Zm9"), "base64: invalid character at offset 4");
  CHECK_THROWS_WITH(base64url_decode("A"), "base64url: invalid length 1");
  CHECK(code_of([] { base64_decode("@@@@"); }) == Errc::invalid_argument);
  CHECK(code_of([] { base64url_decode("Zh"); }) == Errc::invalid_argument);
}

TEST_CASE("random_bytes gives the requested length and does not repeat") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(1).size() == 1);
  CHECK(random_bytes(1000).size() == 1000);
  // Two 32-byte draws colliding has probability 2^-256; equality means a broken generator.
  CHECK(random_bytes(32) != random_bytes(32));
}

TEST_CASE("random_token is URL-safe base64 without padding") {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string token = random_token();
    CHECK(token.size() == 43);
    CHECK(token.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    CHECK(base64url_decode(token).size() == 32);
    seen.insert(token);
  }
  CHECK(seen.size() == 50);
  CHECK(random_token(16).size() == 22);
  CHECK(random_token(0).empty());
}
