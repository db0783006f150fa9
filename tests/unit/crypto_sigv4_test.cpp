// SigV4 against AWS's published Signature Version 4 test suite (aws-sig-v4-test-suite, the
// 2015 edition: credentials AKIDEXAMPLE, region us-east-1, service "service", 20150830T123600Z).
// Expected .creq / .sts / .authz values are copied from the suite's files (vendored e.g. in
// bazelbuild/bazel third_party/aws-sig-v4-test-suite); the signing-key vector is AWS's
// documented "iam" derivation example (secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
// 20120215, us-east-1, iam).
#include "crypto/sigv4.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "crypto/encoding.hpp"
#include "crypto/hash.hpp"
#include "error/error.hpp"

using waddle::Errc;
using waddle::Error;
using namespace waddle::crypto;

namespace {

const SigV4Credentials kCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view kDate = "20150830T123600Z";
constexpr std::string_view kRegion = "us-east-1";
constexpr std::string_view kService = "service";
constexpr std::string_view kHost = "example.amazonaws.com";
constexpr std::string_view kEmptySha =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string authz(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

// A suite request: its .req file's headers (Host and X-Amz-Date included), as the suite signs it.
SigV4Request suite_request(std::string method, std::string path, std::string query,
                           HeaderList extra = {}, std::string body = "") {
  SigV4Request r;
  r.method = std::move(method);
  r.host = std::string(kHost);
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = {{"Host", std::string(kHost)}};
  for (auto& h : extra) r.headers.push_back(std::move(h));
  r.headers.emplace_back("X-Amz-Date", std::string(kDate));
  r.body = std::move(body);
  return r;
}

std::optional<std::string> find(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::string authorization_of(const SigV4Request& r, const SigV4Credentials& c = kCredentials) {
  auto headers = sigv4_sign(r, c, kRegion, kService, kDate);
  auto value = find(headers, "Authorization");
  REQUIRE(value.has_value());
  return *value;
}

}  // namespace

TEST_CASE("sigv4: the signing key matches AWS's documented iam derivation") {
  CHECK(hex_encode(sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                     "us-east-1", "iam")) ==
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  // Any change of scope changes the key.
  CHECK(sigv4_signing_key("k", "20120215", "us-east-1", "iam") !=
        sigv4_signing_key("k", "20120215", "us-west-2", "iam"));
}

TEST_CASE("sigv4: get-vanilla, stage by stage") {
  auto r = suite_request("GET", "/", "");
  auto creq = sigv4_canonical_request(r);
  CHECK(creq.text ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(creq.signed_headers == "host;x-amz-date");
  auto sts = sigv4_string_to_sign(creq.text, kRegion, kService, kDate);
  CHECK(sts ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  auto key = sigv4_signing_key(kCredentials.secret_access_key, "20150830", kRegion, kService);
  CHECK(hmac_sha256_hex(key, sts) ==
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  CHECK(
      authorization_of(r) ==
      authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST_CASE("sigv4: sign adds Host and X-Amz-Date itself when the request lacks them") {
  SigV4Request r;
  r.method = "GET";
  r.host = std::string(kHost);
  r.path = "/";
  auto headers = sigv4_sign(r, kCredentials, kRegion, kService, kDate);
  REQUIRE(headers.size() == 2);
  CHECK(headers[0] == std::pair<std::string, std::string>{"X-Amz-Date", "20150830T123600Z"});
  CHECK(headers[1].first == "Authorization");
  CHECK(
      headers[1].second ==
      authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
  CHECK_FALSE(find(headers, "Host").has_value());  // the HTTP client sends Host
}

TEST_CASE("sigv4: get-vanilla-query-order-key sorts by name, then value") {
  auto r = suite_request("GET", "/", "Param1=value2&Param1=Value1");
  auto creq = sigv4_canonical_request(r);
  CHECK(creq.text ==
        "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sigv4_string_to_sign(creq.text, kRegion, kService, kDate) ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89");
  CHECK(
      authorization_of(r) ==
      authz("host;x-amz-date", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"));
}

TEST_CASE("sigv4: post-x-www-form-urlencoded, stage by stage") {
  auto r = suite_request("POST", "/", "", {{"Content-Type", "application/x-www-form-urlencoded"}},
                         "Param1=value1");
  auto creq = sigv4_canonical_request(r);
  CHECK(creq.text ==
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  CHECK(sigv4_string_to_sign(creq.text, kRegion, kService, kDate) ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  CHECK(authorization_of(r) ==
        authz("content-type;host;x-amz-date",
              "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST_CASE("sigv4: repeated header values join with commas (get-header-value-multiline)") {
  // The suite's request folds My-Header1 over three lines; as three header fields of the same
  // name the canonical form is the same, so its .creq/.sts/.authz apply.
  auto r =
      suite_request("GET", "/", "",
                    {{"My-Header1", "value1"}, {"My-Header1", "value2"}, {"My-Header1", "value3"}});
  auto creq = sigv4_canonical_request(r);
  CHECK(creq.text ==
        "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1,value2,value3\n"
        "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sigv4_string_to_sign(creq.text, kRegion, kService, kDate) ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "b7b6cbfd8a0430b78891e986784da2630c8a135a8595cec25b26ea94f926ee55");
  CHECK(authorization_of(r) ==
        authz("host;my-header1;x-amz-date",
              "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790"));
}

TEST_CASE("sigv4: the suite's .authz values") {
  SECTION("get-vanilla-query-order-key-case") {
    CHECK(authorization_of(suite_request("GET", "/", "Param2=value2&Param1=value1")) ==
          authz("host;x-amz-date",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
  }
  SECTION("get-vanilla-empty-query-key") {
    CHECK(authorization_of(suite_request("GET", "/", "Param1=value1")) ==
          authz("host;x-amz-date",
                "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"));
  }
  SECTION("get-vanilla-query-unreserved") {
    const std::string unreserved =
        "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    CHECK(authorization_of(suite_request("GET", "/", unreserved + "=" + unreserved)) ==
          authz("host;x-amz-date",
                "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"));
  }
  SECTION("get-vanilla-utf8-query, raw and already percent-encoded") {
    auto expected = authz("host;x-amz-date",
                          "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04");
    CHECK(authorization_of(suite_request("GET", "/", "\xe1\x88\xb4=bar")) == expected);
    CHECK(authorization_of(suite_request("GET", "/", "%E1%88%B4=bar")) == expected);
  }
  SECTION("get-unreserved") {
    CHECK(authorization_of(suite_request(
              "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "")) ==
          authz("host;x-amz-date",
                "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"));
  }
  SECTION("get-utf8") {
    CHECK(authorization_of(suite_request("GET", "/\xe1\x88\xb4", "")) ==
          authz("host;x-amz-date",
                "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"));
  }
  SECTION("post-vanilla") {
    CHECK(authorization_of(suite_request("POST", "/", "")) ==
          authz("host;x-amz-date",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"));
  }
  SECTION("post-vanilla-empty-query-value") {
    CHECK(authorization_of(suite_request("POST", "/", "Param1=value1")) ==
          authz("host;x-amz-date",
                "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"));
  }
  SECTION("post-header-key-sort") {
    CHECK(authorization_of(suite_request("POST", "/", "", {{"My-Header1", "value1"}})) ==
          authz("host;my-header1;x-amz-date",
                "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"));
  }
  SECTION("post-x-www-form-urlencoded-parameters") {
    CHECK(
        authorization_of(suite_request(
            "POST", "/", "", {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}},
            "Param1=value1")) ==
        authz("content-type;host;x-amz-date",
              "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"));
  }
  SECTION("get-header-value-trim") {
    CHECK(authorization_of(suite_request(
              "GET", "/", "", {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}})) ==
          authz("host;my-header1;my-header2;x-amz-date",
                "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"));
  }
  SECTION("get-header-key-duplicate") {
    CHECK(authorization_of(suite_request(
              "GET", "/", "",
              {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}})) ==
          authz("host;my-header1;x-amz-date",
                "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"));
  }
}

TEST_CASE("sigv4: normalize-path cases") {
  const auto vanilla =
      authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  CHECK(authorization_of(suite_request("GET", "/./", "")) == vanilla);
  CHECK(authorization_of(suite_request("GET", "/example1/example2/../..", "")) == vanilla);
  CHECK(
      authorization_of(suite_request("GET", "//example//", "")) ==
      authz("host;x-amz-date", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"));
  CHECK(
      authorization_of(suite_request("GET", "/./example", "")) ==
      authz("host;x-amz-date", "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"));
  CHECK(
      authorization_of(suite_request("GET", "/example space/", "")) ==
      authz("host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"));
}

TEST_CASE("sigv4: post-sts-header-before signs the session token") {
  const std::string token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpS"
      "PfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDY"
      "wT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqK"
      "mlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
  auto credentials = kCredentials;
  credentials.session_token = token;
  auto headers = sigv4_sign(suite_request("POST", "/", ""), credentials, kRegion, kService, kDate);
  CHECK(find(headers, "X-Amz-Security-Token") == token);
  CHECK(find(headers, "Authorization") ==
        authz("host;x-amz-date;x-amz-security-token",
              "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
}

TEST_CASE("sigv4: a Lambda Invoke request has the expected shape") {
  // AWS publishes no Lambda vector, so this checks the structure, not the signature value.
  SigV4Request r;
  r.method = "POST";
  r.host = "lambda.us-east-1.amazonaws.com";
  r.path = "/2015-03-31/functions/waddle-echo/invocations";
  r.headers = {{"Content-Type", "application/json"}, {"X-Amz-Invocation-Type", "RequestResponse"}};
  r.body = R"({"command":"echo"})";
  auto headers =
      sigv4_sign(r, kCredentials, "us-east-1", "lambda", kDate, {.content_sha256_header = true});
  REQUIRE(headers.size() == 3);
  CHECK(headers[0].first == "X-Amz-Date");
  CHECK(headers[1] ==
        std::pair<std::string, std::string>{"X-Amz-Content-Sha256", sha256_hex(r.body)});
  const auto& auth = headers[2].second;
  const std::string prefix =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-invocation-type, "
      "Signature=";
  REQUIRE(auth.size() == prefix.size() + 64);
  CHECK(auth.substr(0, prefix.size()) == prefix);
  CHECK(auth.find_first_not_of("0123456789abcdef", prefix.size()) == std::string::npos);

  // The signature covers the body and the path: changing either changes it.
  auto other_body = r;
  other_body.body = R"({"command":"echo2"})";
  CHECK(sigv4_sign(other_body, kCredentials, "us-east-1", "lambda", kDate)[1].second !=
        sigv4_sign(r, kCredentials, "us-east-1", "lambda", kDate)[1].second);
  // A function ARN as sent (':' percent-encoded) is encoded once more in the canonical URI, as
  // AWS does for every service but S3.
  auto arn = r;
  arn.path =
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/"
      "invocations";
  auto creq = sigv4_canonical_request(arn);
  CHECK(creq.text.substr(0, creq.text.find('\n', 5)) ==
        "POST\n/2015-03-31/functions/"
        "arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012%253Afunction%253Af/invocations");
}

TEST_CASE("sigv4: bad input is refused with a clear error") {
  auto r = suite_request("GET", "/", "");
  auto code_of = [](auto&& f) -> std::optional<Errc> {
    try {
      f();
    } catch (const Error& e) {
      return e.code();
    }
    return std::nullopt;
  };
  CHECK(code_of([&] { sigv4_sign(r, kCredentials, kRegion, kService, "2015-08-30T12:36:00Z"); }) ==
        Errc::invalid_argument);
  CHECK(code_of([&] { sigv4_sign(r, kCredentials, kRegion, kService, "20150830T1236000"); }) ==
        Errc::invalid_argument);
  CHECK(code_of([&] { sigv4_sign(r, kCredentials, kRegion, kService, "20150830T123601Z"); }) ==
        Errc::invalid_argument);  // differs from the request's X-Amz-Date
  CHECK(code_of([&] { sigv4_sign(r, kCredentials, "", kService, kDate); }) ==
        Errc::invalid_argument);
  CHECK(code_of([&] { sigv4_sign(r, kCredentials, "us-east-1/x", kService, kDate); }) ==
        Errc::invalid_argument);
  CHECK(code_of([&] {
          sigv4_sign(r, SigV4Credentials{"", "s", ""}, kRegion, kService, kDate);
        }) == Errc::invalid_argument);
  CHECK(code_of([&] {
          sigv4_sign(r, SigV4Credentials{"AK", "", ""}, kRegion, kService, kDate);
        }) == Errc::invalid_argument);
  auto injected = r;
  injected.headers.emplace_back("X-Evil", "a\r\nAuthorization: x");
  CHECK(code_of([&] { sigv4_sign(injected, kCredentials, kRegion, kService, kDate); }) ==
        Errc::invalid_argument);
  auto bad_name = r;
  bad_name.headers.emplace_back("Bad Name", "v");
  CHECK(code_of([&] { sigv4_sign(bad_name, kCredentials, kRegion, kService, kDate); }) ==
        Errc::invalid_argument);
  auto token = kCredentials;
  token.session_token = "abc\ndef";
  CHECK(code_of([&] { sigv4_sign(r, token, kRegion, kService, kDate); }) == Errc::invalid_argument);
  auto no_host = r;
  no_host.host.clear();
  CHECK(code_of([&] { sigv4_sign(no_host, kCredentials, kRegion, kService, kDate); }) ==
        Errc::invalid_argument);
}

TEST_CASE("sigv4: odd query strings still sign") {
  // A lone '%' is a literal percent sign; '+' is a plus, not a space; a name without '=' has an
  // empty value; empty pieces vanish.
  auto creq = sigv4_canonical_request(suite_request("GET", "/", "b=5%&&a+b&c=%zz"));
  auto line = creq.text.substr(creq.text.find('\n', 4) + 1);
  line = line.substr(0, line.find('\n'));
  CHECK(line == "a%2Bb=&b=5%25&c=%25zz");
  CHECK(sigv4_uri_encode("a b/c~", true) == "a%20b/c~");
  CHECK(sigv4_uri_encode("a b/c~", false) == "a%20b%2Fc~");
}
