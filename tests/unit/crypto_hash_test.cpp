#include <catch2/catch.hpp>

#include <string>

#include "crypto/encoding.hpp"
#include "crypto/hash.hpp"

using namespace waddle::crypto;

// FIPS 180-2 appendix B sample messages.
TEST_CASE("sha256 matches the FIPS 180-2 sample vectors") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256("abc") ==
        hex_decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  CHECK(sha256("abc").size() == kSha256Size);
}

// RFC 4231 section 4, HMAC-SHA-256 results.
TEST_CASE("hmac_sha256 matches RFC 4231 test cases 1 to 7") {
  SECTION("case 1") {
    CHECK(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  }
  SECTION("case 2: a key shorter than the output") {
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  SECTION("case 3") {
    CHECK(hmac_sha256_hex(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  }
  SECTION("case 4") {
    CHECK(hmac_sha256_hex(hex_decode("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                          std::string(50, '\xcd')) ==
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  }
  SECTION("case 5: truncated to 128 bits") {
    CHECK(hmac_sha256_hex(std::string(20, '\x0c'), "Test With Truncation").substr(0, 32) ==
          "a3b6167473100ee06e0c796c2955552b");
  }
  SECTION("case 6: a key longer than the block size") {
    CHECK(hmac_sha256_hex(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First") ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  }
  SECTION("case 7: a long key and long data") {
    CHECK(hmac_sha256_hex(std::string(131, '\xaa'),
                          "This is a test using a larger than block-size key and a larger than "
                          "block-size data. The key needs to be hashed before being used by the "
                          "HMAC algorithm.") ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  }
}

TEST_CASE("hmac_sha256 gives raw bytes, accepts an empty key, and depends on key and data") {
  std::string raw = hmac_sha256("Jefe", "what do ya want for nothing?");
  CHECK(raw.size() == kSha256Size);
  CHECK(hex_encode(raw) == hmac_sha256_hex("Jefe", "what do ya want for nothing?"));
  CHECK(hmac_sha256("", "").size() == kSha256Size);
  CHECK(hmac_sha256("", "x") != hmac_sha256("", "y"));
  CHECK(hmac_sha256("k1", "x") != hmac_sha256("k2", "x"));
}

TEST_CASE("constant_time_equal compares bytes, including embedded NULs and length mismatches") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("abc", "abc"));
  CHECK(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  CHECK_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "ab"));
  CHECK_FALSE(constant_time_equal("ab", "abc"));
  CHECK_FALSE(constant_time_equal("", "a"));
  std::string mac = hmac_sha256("key", "body");
  std::string flipped = mac;
  flipped[31] ^= 1;
  CHECK(constant_time_equal(mac, hmac_sha256("key", "body")));
  CHECK_FALSE(constant_time_equal(mac, flipped));
}
