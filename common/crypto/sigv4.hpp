#pragma once
// AWS Signature Version 4 (header form) for calling AWS APIs such as Lambda Invoke without an SDK.
// Every stage is exposed so tests can compare it with AWS's published test suite.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace waddle::crypto {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct SigV4Request {
  std::string method;  // "GET", "POST", …
  std::string host;    // signed as the host header unless `headers` already holds a Host
  // The path as it appears on the request line ("/2015-03-31/functions/f/invocations"). It is
  // normalised (".", "..", "//") and every byte outside A-Z a-z 0-9 - . _ ~ / is percent-encoded
  // once more, which is what AWS expects for every service except S3.
  std::string path = "/";
  // The query string without '?', as sent or raw; it is decoded and re-encoded per parameter,
  // then sorted by name and value.
  std::string query;
  // Headers that are sent and signed (names in any case). A Host or X-Amz-Date given here is
  // used; an Authorization header is neither signed nor kept.
  HeaderList headers;
  std::string body;
};

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless the credentials are temporary (STS)
};

struct SigV4Options {
  // Adds and signs X-Amz-Content-Sha256 (S3 requires it; other services accept it).
  bool content_sha256_header = false;
};

// The headers to add to the request: X-Amz-Date, X-Amz-Content-Sha256 (when wanted),
// X-Amz-Security-Token (with a session token; it is signed) and Authorization, in that order.
// amz_date is the request time as YYYYMMDD'T'HHMMSS'Z' (20150830T123600Z). Throws
// waddle::Error(invalid_argument) for an empty method/host/region/service/key, a malformed
// amz_date, a header name or value with CR/LF, or an X-Amz-Date header that differs from amz_date.
HeaderList sigv4_sign(const SigV4Request& request, const SigV4Credentials& credentials,
                      std::string_view region, std::string_view service, std::string_view amz_date,
                      const SigV4Options& options = {});

// The stages, for tests and for debugging a SignatureDoesNotMatch. `headers` must be exactly the
// signed headers (sigv4_sign adds host, x-amz-date, … before calling this).
struct CanonicalRequest {
  std::string text;            // the canonical request AWS hashes
  std::string signed_headers;  // "host;x-amz-date"
};
CanonicalRequest sigv4_canonical_request(const SigV4Request& request);
// "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<hex sha256(creq)>".
std::string sigv4_string_to_sign(std::string_view canonical_request, std::string_view region,
                                 std::string_view service, std::string_view amz_date);
// Raw 32 bytes: HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request".
std::string sigv4_signing_key(std::string_view secret_access_key, std::string_view date,
                              std::string_view region, std::string_view service);

// RFC 3986 percent-encoding of every byte outside A-Z a-z 0-9 - . _ ~ (and '/', when keep_slash),
// with uppercase hex, as SigV4 wants.
std::string sigv4_uri_encode(std::string_view text, bool keep_slash);

}  // namespace waddle::crypto
