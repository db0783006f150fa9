// The router → module signature: "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body).
#include "crypto/module_signature.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <string>

#include "error/error.hpp"

using namespace waddle::crypto;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "whsec_test_secret";
const std::string kTimestamp = "1767268800";  // 2026-01-01T12:00:00Z
const std::string kBody = R"({"session_id":"abc","command":"so"})";
// Computed outside this code base, at the time the test was written:
//   printf '%s' '1767268800.{"session_id":"abc","command":"so"}' |
//       openssl dgst -sha256 -hmac 'whsec_test_secret'
// and cross-checked with Python's hmac.new(secret, msg, hashlib.sha256).hexdigest().
const std::string kSignature =
    "sha256=e211dd9905965f8947a7ab12741561326b5f94cf2031b3e6e3772deb4c533dfa";
constexpr std::int64_t kNow = 1767268800;

SignatureCheck verify(std::string_view ts, std::string_view sig, std::string_view body = kBody,
                      std::int64_t now = kNow, std::chrono::seconds tolerance = 300s) {
  return verify_module_signature(kSecret, ts, sig, body, now, tolerance);
}

}  // namespace

TEST_CASE("module signature: RFC 4231 case 7 composed into the format") {
  // RFC 4231 test case 7's data contains a '.', so splitting it at the first '.' into
  // "timestamp" and "body" makes timestamp + "." + body exactly the RFC's data; the expected MAC
  // is the RFC's published HMAC-SHA-256 value.
  const std::string key(131, '\xaa');
  const std::string timestamp =
      "This is a test using a larger than block-size key and a larger than block-size data";
  const std::string body = " The key needs to be hashed before being used by the HMAC algorithm.";
  CHECK(module_signature(key, timestamp, body) ==
        "sha256=9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("module signature: a router-shaped request signs and verifies") {
  CHECK(module_signature(kSecret, kTimestamp, kBody) == kSignature);
  CHECK(verify(kTimestamp, kSignature) == SignatureCheck::ok);
  // Hex digits in upper case are the same signature.
  std::string upper = kSignature;
  for (std::size_t i = 7; i < upper.size(); ++i) {
    if (upper[i] >= 'a' && upper[i] <= 'f') upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
  }
  CHECK(verify(kTimestamp, upper) == SignatureCheck::ok);
  // An empty body is a valid body.
  CHECK(verify(kTimestamp, module_signature(kSecret, kTimestamp, ""), "") == SignatureCheck::ok);
}

TEST_CASE("module signature: each failure has its own kind") {
  SECTION("missing") {
    CHECK(verify("", kSignature) == SignatureCheck::missing);
    CHECK(verify(kTimestamp, "") == SignatureCheck::missing);
  }
  SECTION("malformed timestamp") {
    CHECK(verify("1767268800.5", kSignature) == SignatureCheck::malformed);
    CHECK(verify("-1767268800", kSignature) == SignatureCheck::malformed);
    CHECK(verify(" 1767268800", kSignature) == SignatureCheck::malformed);
    CHECK(verify("2026-01-01T12:00:00Z", kSignature) == SignatureCheck::malformed);
    CHECK(verify(std::string(40, '9'), kSignature) == SignatureCheck::malformed);
  }
  SECTION("malformed signature") {
    CHECK(verify(kTimestamp, kSignature.substr(7)) == SignatureCheck::malformed);  // no prefix
    CHECK(verify(kTimestamp, "sha1=" + kSignature.substr(7)) == SignatureCheck::malformed);
    CHECK(verify(kTimestamp, kSignature.substr(0, kSignature.size() - 1)) ==
          SignatureCheck::malformed);
    CHECK(verify(kTimestamp, kSignature + "0") == SignatureCheck::malformed);
    CHECK(verify(kTimestamp, "sha256=" + std::string(64, 'g')) == SignatureCheck::malformed);
    CHECK(verify(kTimestamp, "sha256=") == SignatureCheck::malformed);
  }
  SECTION("mismatch") {
    CHECK(verify(kTimestamp, kSignature, kBody + " ") == SignatureCheck::mismatch);
    CHECK(verify_module_signature("other-secret", kTimestamp, kSignature, kBody, kNow) ==
          SignatureCheck::mismatch);
    // The timestamp is part of what is signed: a fresh timestamp on an old signature fails.
    CHECK(verify("1767268801", kSignature) == SignatureCheck::mismatch);
    std::string flipped = kSignature;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    CHECK(verify(kTimestamp, flipped) == SignatureCheck::mismatch);
  }
  SECTION("stale, both ways") {
    CHECK(verify(kTimestamp, kSignature, kBody, kNow + 301) == SignatureCheck::stale);
    CHECK(verify(kTimestamp, kSignature, kBody, kNow - 301) == SignatureCheck::stale);
    CHECK(verify(kTimestamp, kSignature, kBody, std::numeric_limits<std::int64_t>::min()) ==
          SignatureCheck::stale);
  }
}

TEST_CASE("module signature: tolerance edges are inclusive") {
  CHECK(verify(kTimestamp, kSignature, kBody, kNow + 300) == SignatureCheck::ok);
  CHECK(verify(kTimestamp, kSignature, kBody, kNow - 300) == SignatureCheck::ok);
  CHECK(verify(kTimestamp, kSignature, kBody, kNow + 10, 10s) == SignatureCheck::ok);
  CHECK(verify(kTimestamp, kSignature, kBody, kNow + 11, 10s) == SignatureCheck::stale);
  CHECK(verify(kTimestamp, kSignature, kBody, kNow - 11, 10s) == SignatureCheck::stale);
  CHECK(verify(kTimestamp, kSignature, kBody, kNow, 0s) == SignatureCheck::ok);
  CHECK(verify(kTimestamp, kSignature, kBody, kNow + 1, 0s) == SignatureCheck::stale);
  CHECK_THROWS_AS(verify(kTimestamp, kSignature, kBody, kNow, -1s), waddle::Error);
}

TEST_CASE("module signature: check names") {
  CHECK(signature_check_name(SignatureCheck::ok) == "ok");
  CHECK(signature_check_name(SignatureCheck::missing) == "missing");
  CHECK(signature_check_name(SignatureCheck::malformed) == "malformed");
  CHECK(signature_check_name(SignatureCheck::stale) == "stale");
  CHECK(signature_check_name(SignatureCheck::mismatch) == "mismatch");
}
