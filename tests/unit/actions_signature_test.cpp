// Which module requests are refused before their body is even parsed.
#include <catch2/catch.hpp>

#include <string>

#include "actions/server.hpp"
#include "crypto/module_signature.hpp"
#include "net/http.hpp"

using waddle::actions::signature_refusal;

namespace {

constexpr std::int64_t kNow = 1767268800;
const std::string kSecret(64, 'a');
const std::string kBody = R"({"command":"ping"})";

waddle::net::Request signed_request(std::int64_t at, const std::string& secret = kSecret,
                                    const std::string& body = kBody) {
  auto request = waddle::net::make_request("POST", "/modules/ping", body);
  const std::string ts = std::to_string(at);
  request.headers.emplace_back("x-waddle-timestamp", ts);
  request.headers.emplace_back("X-Waddle-Signature",
                               waddle::crypto::module_signature(secret, ts, body));
  return request;
}

}  // namespace

TEST_CASE("a request signed like the router signs it is accepted") {
  CHECK_FALSE(signature_refusal(kSecret, signed_request(kNow), kNow).has_value());
  CHECK_FALSE(signature_refusal(kSecret, signed_request(kNow - 299), kNow).has_value());
}

TEST_CASE("unsigned, mis-signed, altered and stale requests are refused with a reason") {
  auto unsigned_request = waddle::net::make_request("POST", "/modules/ping", kBody);
  CHECK(signature_refusal(kSecret, unsigned_request, kNow)->find("not signed") !=
        std::string::npos);

  CHECK(signature_refusal(kSecret, signed_request(kNow, std::string(64, 'b')), kNow)
            ->find("does not match") != std::string::npos);

  auto altered = signed_request(kNow);
  altered.body = R"({"command":"pinG"})";
  CHECK(signature_refusal(kSecret, altered, kNow).has_value());

  CHECK(signature_refusal(kSecret, signed_request(kNow - 301), kNow)->find("300 seconds") !=
        std::string::npos);
  CHECK(signature_refusal(kSecret, signed_request(kNow + 301), kNow).has_value());

  auto malformed = waddle::net::make_request("POST", "/modules/ping", kBody);
  malformed.headers.emplace_back("X-Waddle-Timestamp", "yesterday");
  malformed.headers.emplace_back("X-Waddle-Signature", "sha256=00");
  CHECK(signature_refusal(kSecret, malformed, kNow)->find("malformed") != std::string::npos);
}

TEST_CASE("a module without a secret accepts nothing, not even a request signed with ''") {
  CHECK(signature_refusal("", signed_request(kNow, ""), kNow).has_value());
}
