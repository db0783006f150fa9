#include "crypto/ed25519.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>

#include "error/error.hpp"

namespace waddle::crypto {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const unsigned char* bytes(std::string_view s) noexcept {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

// A failure left in the thread's error queue would confuse the next TLS call on this thread.
[[noreturn]] void fail(const char* what) {
  ERR_clear_error();
  throw Error(Errc::internal, std::string("OpenSSL: ") + what + " failed");
}

Pkey private_key(std::string_view seed) {
  if (seed.size() != kEd25519KeySize) {
    throw Error(Errc::invalid_argument,
                "ed25519: private key seed must be 32 bytes, got " + std::to_string(seed.size()));
  }
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes(seed), seed.size()));
  if (!key) fail("EVP_PKEY_new_raw_private_key(ED25519)");
  return key;
}

}  // namespace

bool ed25519_verify(std::string_view public_key_raw32, std::string_view message,
                    std::string_view signature_raw64) noexcept {
  if (public_key_raw32.size() != kEd25519KeySize ||
      signature_raw64.size() != kEd25519SignatureSize) {
    return false;
  }
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(public_key_raw32),
                                       public_key_raw32.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  bool ok = key && ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), bytes(signature_raw64), signature_raw64.size(),
                             bytes(message), message.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

std::string ed25519_sign(std::string_view private_key_seed32, std::string_view message) {
  Pkey key = private_key(private_key_seed32);
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) fail("EVP_MD_CTX_new");
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    fail("EVP_DigestSignInit");
  }
  std::string signature(kEd25519SignatureSize, '\0');
  std::size_t len = signature.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     bytes(message), message.size()) != 1 ||
      len != kEd25519SignatureSize) {
    fail("EVP_DigestSign");
  }
  return signature;
}

std::string ed25519_public_key(std::string_view private_key_seed32) {
  Pkey key = private_key(private_key_seed32);
  std::string out(kEd25519KeySize, '\0');
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(out.data()), &len) !=
          1 ||
      len != kEd25519KeySize) {
    fail("EVP_PKEY_get_raw_public_key");
  }
  return out;
}

}  // namespace waddle::crypto
