#include "crypto/aead.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <climits>
#include <memory>

#include "crypto/random.hpp"
#include "error/error.hpp"

namespace waddle::crypto {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* bytes(std::string_view s) noexcept {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) noexcept {
  return reinterpret_cast<unsigned char*>(s.data());
}

[[noreturn]] void fail(const char* what) {
  ERR_clear_error();
  throw Error(Errc::internal, std::string("OpenSSL: ") + what + " failed");
}

void check_key(std::string_view key) {
  if (key.size() != kAes256KeySize) {
    throw Error(Errc::invalid_argument,
                "aes-256-gcm: key must be 32 bytes, got " + std::to_string(key.size()));
  }
}

void check_sizes(std::string_view key, std::string_view nonce) {
  check_key(key);
  if (nonce.size() != kGcmNonceSize) {
    throw Error(Errc::invalid_argument,
                "aes-256-gcm: nonce must be 12 bytes, got " + std::to_string(nonce.size()));
  }
}

// EVP lengths are int; anything near INT_MAX is not a token we should be sealing.
bool fits_int(std::string_view a, std::string_view b) noexcept {
  return a.size() < INT_MAX / 2 && b.size() < INT_MAX / 2;
}

}  // namespace

std::string aes256gcm_seal_with_nonce(std::string_view key32, std::string_view nonce12,
                                      std::string_view plaintext, std::string_view aad) {
  check_sizes(key32, nonce12);
  if (!fits_int(plaintext, aad))
    throw Error(Errc::payload_too_large, "aes-256-gcm: input too large");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fail("EVP_CIPHER_CTX_new");
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int(kGcmNonceSize), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key32), bytes(nonce12)) != 1) {
    fail("EVP_EncryptInit_ex(AES-256-GCM)");
  }
  int len = 0;
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), int(aad.size())) != 1) {
    fail("EVP_EncryptUpdate(aad)");
  }
  std::string out(plaintext.size() + kGcmTagSize, '\0');
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), bytes(out), &len, bytes(plaintext), int(plaintext.size())) !=
        1) {
      fail("EVP_EncryptUpdate");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), bytes(out) + written, &len) != 1) fail("EVP_EncryptFinal_ex");
  written += len;
  if (static_cast<std::size_t>(written) != plaintext.size()) fail("AES-256-GCM length check");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(kGcmTagSize),
                          bytes(out) + written) != 1) {
    fail("EVP_CTRL_GCM_GET_TAG");
  }
  return out;
}

std::optional<std::string> aes256gcm_open_with_nonce(std::string_view key32,
                                                     std::string_view nonce12,
                                                     std::string_view ciphertext_and_tag,
                                                     std::string_view aad) {
  check_sizes(key32, nonce12);
  if (ciphertext_and_tag.size() < kGcmTagSize || !fits_int(ciphertext_and_tag, aad)) {
    return std::nullopt;
  }
  std::string_view ciphertext =
      ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kGcmTagSize);
  std::string tag(ciphertext_and_tag.substr(ciphertext.size()));

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fail("EVP_CIPHER_CTX_new");
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int(kGcmNonceSize), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key32), bytes(nonce12)) != 1) {
    fail("EVP_DecryptInit_ex(AES-256-GCM)");
  }
  int len = 0;
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), int(aad.size())) != 1) {
    fail("EVP_DecryptUpdate(aad)");
  }
  std::string plain(ciphertext.size(), '\0');
  int written = 0;
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx.get(), bytes(plain), &len, bytes(ciphertext),
                          int(ciphertext.size())) != 1) {
      fail("EVP_DecryptUpdate");
    }
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(kGcmTagSize), tag.data()) != 1) {
    fail("EVP_CTRL_GCM_SET_TAG");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), bytes(plain) + written, &len) != 1) {
    // Authentication failed: do not let unauthenticated plaintext linger in memory.
    ERR_clear_error();
    OPENSSL_cleanse(plain.data(), plain.size());
    return std::nullopt;
  }
  return plain;
}

std::string aes256gcm_seal(std::string_view key32, std::string_view plaintext,
                           std::string_view aad) {
  std::string nonce = random_bytes(kGcmNonceSize);
  return nonce + aes256gcm_seal_with_nonce(key32, nonce, plaintext, aad);
}

std::optional<std::string> aes256gcm_open(std::string_view key32, std::string_view sealed,
                                          std::string_view aad) {
  check_key(key32);
  if (sealed.size() < kGcmNonceSize + kGcmTagSize) return std::nullopt;
  return aes256gcm_open_with_nonce(key32, sealed.substr(0, kGcmNonceSize),
                                   sealed.substr(kGcmNonceSize), aad);
}

}  // namespace waddle::crypto
