#include <catch2/catch.hpp>

#include <string>

#include "crypto/ed25519.hpp"
#include "crypto/encoding.hpp"
#include "error/error.hpp"

using namespace waddle::crypto;

namespace {

struct Vector {
  const char* name;
  const char* secret;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1.
const Vector kVectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
};

}  // namespace

TEST_CASE("ed25519 matches the RFC 8032 section 7.1 vectors") {
  for (const Vector& v : kVectors) {
    INFO(v.name);
    std::string secret = hex_decode(v.secret);
    std::string pub = hex_decode(v.public_key);
    std::string message = hex_decode(v.message);
    std::string signature = hex_decode(v.signature);

    CHECK(ed25519_public_key(secret) == pub);
    CHECK(ed25519_sign(secret, message) == signature);
    CHECK(ed25519_verify(pub, message, signature));

    std::string bad_signature = signature;
    bad_signature[10] ^= 0x01;
    CHECK_FALSE(ed25519_verify(pub, message, bad_signature));
    bad_signature = signature;
    bad_signature[63] ^= 0x40;
    CHECK_FALSE(ed25519_verify(pub, message, bad_signature));

    std::string bad_message = message.empty() ? std::string("\x01") : message;
    if (!message.empty()) bad_message[0] ^= 0x01;
    CHECK_FALSE(ed25519_verify(pub, bad_message, signature));
    CHECK_FALSE(ed25519_verify(pub, message + "x", signature));

    std::string other_key = hex_decode(kVectors[(&v - kVectors + 1) % 4].public_key);
    CHECK_FALSE(ed25519_verify(other_key, message, signature));
  }
}

TEST_CASE("ed25519_verify says false, never throws, on wrong sizes and junk") {
  const Vector& v = kVectors[1];
  std::string pub = hex_decode(v.public_key);
  std::string message = hex_decode(v.message);
  std::string signature = hex_decode(v.signature);

  CHECK_FALSE(ed25519_verify(pub.substr(0, 31), message, signature));
  CHECK_FALSE(ed25519_verify(pub + "x", message, signature));
  CHECK_FALSE(ed25519_verify(pub, message, signature.substr(0, 63)));
  CHECK_FALSE(ed25519_verify(pub, message, signature + "x"));
  CHECK_FALSE(ed25519_verify("", "", ""));
  CHECK_FALSE(ed25519_verify(std::string(32, '\0'), message, std::string(64, '\0')));
  CHECK_FALSE(ed25519_verify(std::string(32, '\xff'), message, std::string(64, '\xff')));
  // The hex text of a key is not the key.
  CHECK_FALSE(ed25519_verify(v.public_key, message, signature));
  // A failed check leaves no error behind: the real signature still verifies afterwards.
  CHECK(ed25519_verify(pub, message, signature));
}

TEST_CASE("ed25519_sign rejects a seed that is not 32 bytes") {
  CHECK_THROWS_AS(ed25519_sign("short", "m"), waddle::Error);
  CHECK_THROWS_AS(ed25519_public_key(std::string(64, 'a')), waddle::Error);
  try {
    ed25519_sign(std::string(31, 'a'), "m");
    FAIL("no exception");
  } catch (const waddle::Error& e) {
    CHECK(e.code() == waddle::Errc::invalid_argument);
  }
}

TEST_CASE("ed25519 signs and verifies long messages with a fresh key") {
  std::string seed(32, '\x42');
  std::string message(100000, 'm');
  std::string signature = ed25519_sign(seed, message);
  CHECK(signature.size() == kEd25519SignatureSize);
  CHECK(ed25519_verify(ed25519_public_key(seed), message, signature));
  message[50000] = 'n';
  CHECK_FALSE(ed25519_verify(ed25519_public_key(seed), message, signature));
}
