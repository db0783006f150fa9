#include "redis/script.hpp"

#include <openssl/evp.h>

#include "error/error.hpp"

namespace waddle::redis {

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(source_.data(), source_.size(), digest, &length, EVP_sha1(), nullptr) != 1) {
    throw Error(Errc::internal, "SHA-1 of a redis script failed in OpenSSL");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  sha1_.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    sha1_ += kHex[digest[i] >> 4];
    sha1_ += kHex[digest[i] & 0x0f];
  }
}

}  // namespace waddle::redis
