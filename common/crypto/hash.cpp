#include "crypto/hash.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <memory>

#include "crypto/encoding.hpp"
#include "error/error.hpp"

namespace waddle::crypto {
namespace {

[[noreturn]] void fail(const char* what) {
  ERR_clear_error();
  throw Error(Errc::internal, std::string("OpenSSL: ") + what + " failed");
}

struct MacDeleter {
  void operator()(EVP_MAC* mac) const noexcept { EVP_MAC_free(mac); }
};
struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
};

// Fetching an algorithm takes a lock in the provider store; do it once per process.
EVP_MAC* hmac_algorithm() {
  static const std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) fail("EVP_MAC_fetch(HMAC)");
  return mac.get();
}

// A non-null pointer for empty inputs: some EVP calls treat nullptr as "not given".
const unsigned char* bytes(std::string_view s) noexcept {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 EVP_sha256(), nullptr) != 1 ||
      len != kSha256Size) {
    fail("EVP_Digest(SHA256)");
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  return hex_encode(sha256(data));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(hmac_algorithm()));
  if (!ctx) fail("EVP_MAC_CTX_new");
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(ctx.get(), bytes(key), key.size(), params) != 1) fail("EVP_MAC_init");
  if (EVP_MAC_update(ctx.get(), bytes(data), data.size()) != 1) fail("EVP_MAC_update");
  std::string out(kSha256Size, '\0');
  std::size_t len = 0;
  if (EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) !=
          1 ||
      len != kSha256Size) {
    fail("EVP_MAC_final");
  }
  return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  return hex_encode(hmac_sha256(key, data));
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    // Still walk the bytes so that a length mismatch costs about as much as a content mismatch.
    (void)CRYPTO_memcmp(a.data(), a.data(), a.size());
    return false;
  }
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace waddle::crypto
