#include <catch2/catch.hpp>

#include <string>

#include "crypto/aead.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"

using namespace waddle::crypto;

namespace {

struct Vector {
  const char* name;
  const char* key;
  const char* plaintext;
  const char* aad;
  const char* nonce;
  const char* ciphertext;
  const char* tag;
};

// The GCM specification (McGrew & Viega), appendix B, test cases 13 to 16 (256-bit key,
// 96-bit IV).
const Vector kVectors[] = {
    {"test case 13", "0000000000000000000000000000000000000000000000000000000000000000", "", "",
     "000000000000000000000000", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"test case 14", "0000000000000000000000000000000000000000000000000000000000000000",
     "00000000000000000000000000000000", "", "000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"test case 15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "", "cafebabefacedbaddecaf888",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"test case 16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2", "cafebabefacedbaddecaf888",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

}  // namespace

TEST_CASE("aes256gcm_seal_with_nonce matches GCM spec test cases 13 to 16") {
  for (const Vector& v : kVectors) {
    INFO(v.name);
    std::string key = hex_decode(v.key);
    std::string nonce = hex_decode(v.nonce);
    std::string plaintext = hex_decode(v.plaintext);
    std::string aad = hex_decode(v.aad);
    std::string expected = hex_decode(v.ciphertext) + hex_decode(v.tag);

    CHECK(hex_encode(aes256gcm_seal_with_nonce(key, nonce, plaintext, aad)) ==
          hex_encode(expected));
    auto opened = aes256gcm_open_with_nonce(key, nonce, expected, aad);
    REQUIRE(opened.has_value());
    CHECK(*opened == plaintext);

    std::string tampered = expected;
    tampered[tampered.size() - 1] ^= 0x01;  // tag
    CHECK_FALSE(aes256gcm_open_with_nonce(key, nonce, tampered, aad).has_value());
    if (!plaintext.empty()) {
      tampered = expected;
      tampered[0] ^= 0x80;  // ciphertext
      CHECK_FALSE(aes256gcm_open_with_nonce(key, nonce, tampered, aad).has_value());
    }
    CHECK_FALSE(aes256gcm_open_with_nonce(key, nonce, expected, aad + "x").has_value());
    std::string other_nonce = nonce;
    other_nonce[11] ^= 0x01;
    CHECK_FALSE(aes256gcm_open_with_nonce(key, other_nonce, expected, aad).has_value());
  }
}

TEST_CASE("aes256gcm_seal and open round trip with a random nonce") {
  std::string key = random_bytes(kAes256KeySize);
  for (std::string plaintext : {std::string(), std::string("x"), std::string("oauth-token"),
                                std::string(1000, '\0'), std::string(70000, 'q')}) {
    std::string sealed = aes256gcm_seal(key, plaintext, "community:42");
    CHECK(sealed.size() == kGcmNonceSize + plaintext.size() + kGcmTagSize);
    auto opened = aes256gcm_open(key, sealed, "community:42");
    REQUIRE(opened.has_value());
    CHECK(*opened == plaintext);
  }
  // A fresh nonce each time: the same plaintext never seals to the same bytes.
  CHECK(aes256gcm_seal(key, "same") != aes256gcm_seal(key, "same"));
}

TEST_CASE("aes256gcm_open gives nullopt for tampered, short, wrong-key and wrong-AAD input") {
  std::string key = random_bytes(kAes256KeySize);
  std::string sealed = aes256gcm_seal(key, "the secret", "aad");
  REQUIRE(aes256gcm_open(key, sealed, "aad") == std::optional<std::string>("the secret"));

  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] ^= 0x04;
    INFO("byte " << i);
    CHECK_FALSE(aes256gcm_open(key, tampered, "aad").has_value());
  }
  CHECK_FALSE(aes256gcm_open(key, sealed, "").has_value());
  CHECK_FALSE(aes256gcm_open(key, sealed, "aae").has_value());
  CHECK_FALSE(aes256gcm_open(random_bytes(kAes256KeySize), sealed, "aad").has_value());
  CHECK_FALSE(aes256gcm_open(key, sealed.substr(0, sealed.size() - 1), "aad").has_value());
  CHECK_FALSE(aes256gcm_open(key, sealed + "x", "aad").has_value());
  CHECK_FALSE(aes256gcm_open(key, "", "aad").has_value());
  CHECK_FALSE(aes256gcm_open(key, std::string(kGcmNonceSize + kGcmTagSize - 1, 'a')).has_value());
  CHECK_FALSE(aes256gcm_open(key, std::string(kGcmNonceSize + kGcmTagSize, 'a')).has_value());
}

TEST_CASE("aes-256-gcm rejects keys and nonces of the wrong size") {
  CHECK_THROWS_AS(aes256gcm_seal(std::string(16, 'k'), "x"), waddle::Error);
  CHECK_THROWS_AS(aes256gcm_open(std::string(31, 'k'), std::string(40, 'x')), waddle::Error);
  CHECK_THROWS_AS(aes256gcm_seal_with_nonce(std::string(32, 'k'), std::string(8, 'n'), "x"),
                  waddle::Error);
  try {
    aes256gcm_seal("", "x");
    FAIL("no exception");
  } catch (const waddle::Error& e) {
    CHECK(e.code() == waddle::Errc::invalid_argument);
  }
}
