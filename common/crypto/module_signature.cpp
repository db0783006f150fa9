#include "crypto/module_signature.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "crypto/hash.hpp"
#include "error/error.hpp"

namespace waddle::crypto {

namespace {

constexpr std::string_view kPrefix = "sha256=";
// 19 digits always fit in int64; no real clock needs more.
constexpr std::size_t kMaxTimestampDigits = 18;

std::string message(std::string_view timestamp, std::string_view body) {
  std::string out;
  out.reserve(timestamp.size() + 1 + body.size());
  out.append(timestamp);
  out.push_back('.');
  out.append(body);
  return out;
}

bool parse_timestamp(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > kMaxTimestampDigits) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

// Lowercases the hex digits; false when the text is not exactly 64 of them.
bool normalize_hex(std::string_view text, std::string& out) {
  if (text.size() != 2 * kSha256Size) return false;
  out.resize(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    out[i] = c;
  }
  return true;
}

}  // namespace

std::string module_signature(std::string_view secret, std::string_view timestamp,
                             std::string_view body) {
  return std::string(kPrefix) + hmac_sha256_hex(secret, message(timestamp, body));
}

SignatureCheck verify_module_signature(std::string_view secret, std::string_view timestamp_header,
                                       std::string_view signature_header, std::string_view body,
                                       std::int64_t now_unix_seconds,
                                       std::chrono::seconds tolerance) {
  if (tolerance.count() < 0) {
    throw Error(Errc::invalid_argument, "module signature tolerance must not be negative, got " +
                                            std::to_string(tolerance.count()) + " s");
  }
  if (timestamp_header.empty() || signature_header.empty()) return SignatureCheck::missing;

  std::int64_t timestamp = 0;
  if (!parse_timestamp(timestamp_header, timestamp)) return SignatureCheck::malformed;
  if (signature_header.substr(0, kPrefix.size()) != kPrefix) return SignatureCheck::malformed;
  std::string given;
  if (!normalize_hex(signature_header.substr(kPrefix.size()), given)) {
    return SignatureCheck::malformed;
  }

  // Both operands are bounded (timestamp < 10^18, now is a clock), so this cannot overflow
  // unless now is absurd; saturate rather than wrap in that case.
  std::int64_t skew = 0;
  if (__builtin_sub_overflow(now_unix_seconds, timestamp, &skew)) {
    return SignatureCheck::stale;
  }
  if (skew == std::numeric_limits<std::int64_t>::min()) return SignatureCheck::stale;
  if ((skew < 0 ? -skew : skew) > tolerance.count()) return SignatureCheck::stale;

  std::string expected = hmac_sha256_hex(secret, message(timestamp_header, body));
  return constant_time_equal(expected, given) ? SignatureCheck::ok : SignatureCheck::mismatch;
}

std::string_view signature_check_name(SignatureCheck check) noexcept {
  switch (check) {
    case SignatureCheck::ok: return "ok";
    case SignatureCheck::missing: return "missing";
    case SignatureCheck::malformed: return "malformed";
    case SignatureCheck::stale: return "stale";
    case SignatureCheck::mismatch: return "mismatch";
  }
  return "unknown";
}

}  // namespace waddle::crypto
