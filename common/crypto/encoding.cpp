#include "crypto/encoding.hpp"

#include <array>
#include <cstdint>

#include "error/error.hpp"

namespace waddle::crypto {
namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kStandard =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlSafe =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string encode64(std::string_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t n = (std::uint32_t(std::uint8_t(data[i])) << 16) |
                      (std::uint32_t(std::uint8_t(data[i + 1])) << 8) |
                      std::uint32_t(std::uint8_t(data[i + 2]));
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  std::size_t rest = data.size() - i;
  if (rest == 1) {
    std::uint32_t n = std::uint32_t(std::uint8_t(data[i])) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    std::uint32_t n = (std::uint32_t(std::uint8_t(data[i])) << 16) |
                      (std::uint32_t(std::uint8_t(data[i + 1])) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

std::string decode64(std::string_view text, std::string_view alphabet, const char* name) {
  auto bad = [name](const std::string& why) {
    return Error(Errc::invalid_argument, std::string(name) + ": " + why);
  };
  std::array<int, 256> value{};
  value.fill(-1);
  for (std::size_t i = 0; i < alphabet.size(); ++i) value[std::uint8_t(alphabet[i])] = int(i);

  // Strip correct padding first: at most two '=', only at the end, completing a 4-char group.
  std::size_t padding = 0;
  while (padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  if (padding > 0) {
    if (padding > 2 || text.size() % 4 != 0) throw bad("malformed '=' padding");
    text.remove_suffix(padding);
  }
  if (text.size() % 4 == 1) throw bad("invalid length " + std::to_string(text.size()));

  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int v = value[std::uint8_t(text[i])];
    if (v < 0) throw bad("invalid character at offset " + std::to_string(i));
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero, so that each byte string has exactly one encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) throw bad("non-zero trailing bits");
  return out;
}

}  // namespace

std::string hex_encode(std::string_view data) {
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out += kHexDigits[c >> 4];
    out += kHexDigits[c & 0x0f];
  }
  return out;
}

std::string hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    throw Error(Errc::invalid_argument, "hex: odd length " + std::to_string(hex.size()));
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_value(hex[i]);
    int lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      throw Error(Errc::invalid_argument,
                  "hex: invalid character at offset " + std::to_string(hi < 0 ? i : i + 1));
    }
    out += char((hi << 4) | lo);
  }
  return out;
}

std::string base64_encode(std::string_view data) {
  return encode64(data, kStandard, true);
}
std::string base64_decode(std::string_view text) {
  return decode64(text, kStandard, "base64");
}
std::string base64url_encode(std::string_view data) {
  return encode64(data, kUrlSafe, false);
}
std::string base64url_decode(std::string_view text) {
  return decode64(text, kUrlSafe, "base64url");
}

}  // namespace waddle::crypto
