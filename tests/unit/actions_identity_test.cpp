// Identity link codes: shape, alphabet, parsing of what people type back.
#include <catch2/catch.hpp>
#include <set>

#include "actions/modules/identity/identity.hpp"

using waddle::actions::kCodeAlphabet;
using waddle::actions::kCodeLength;
using waddle::actions::make_verification_code;
using waddle::actions::parse_verification_code;

TEST_CASE("codes use the unambiguous alphabet and differ") {
  CHECK(kCodeAlphabet.size() == 31);
  for (const char ambiguous : std::string("0O1IL")) {
    CHECK(kCodeAlphabet.find(ambiguous) == std::string_view::npos);
  }
  std::set<std::string> seen;
  std::set<char> used;
  for (int i = 0; i < 500; ++i) {
    const std::string code = make_verification_code();
    REQUIRE(code.size() == kCodeLength);
    for (const char c : code) {
      REQUIRE(kCodeAlphabet.find(c) != std::string_view::npos);
      used.insert(c);
    }
    seen.insert(code);
    // What is sent is what parses back.
    CHECK(parse_verification_code(code) == code);
  }
  // 500 draws from 31^6 ≈ 8.9e8: a repeat would mean the generator is broken.
  CHECK(seen.size() == 500);
  CHECK(used.size() == kCodeAlphabet.size());
}

TEST_CASE("typed codes are upper-cased and checked for shape") {
  CHECK(parse_verification_code("ab3def") == "AB3DEF");
  CHECK(parse_verification_code("  XY7ZQ9 ") == "XY7ZQ9");
  CHECK_FALSE(parse_verification_code(""));
  CHECK_FALSE(parse_verification_code("ABCDE"));
  CHECK_FALSE(parse_verification_code("ABCDEFG"));
  CHECK_FALSE(parse_verification_code("AB'C;-"));
  CHECK_FALSE(parse_verification_code("ABC DE"));
  CHECK_FALSE(parse_verification_code("ÄBCDE"));
  CHECK_FALSE(parse_verification_code(std::string(10 * 1024, 'A')));
}
