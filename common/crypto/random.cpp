#include "crypto/random.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>

#include "crypto/encoding.hpp"
#include "error/error.hpp"

namespace waddle::crypto {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  // RAND_bytes takes an int count; large requests go in slices.
  for (std::size_t done = 0; done < n;) {
    std::size_t chunk = std::min<std::size_t>(n - done, INT_MAX);
    if (RAND_bytes(p + done, static_cast<int>(chunk)) != 1) {
      ERR_clear_error();
      throw Error(Errc::internal, "OpenSSL: RAND_bytes failed");
    }
    done += chunk;
  }
  return out;
}

std::string random_token(std::size_t bytes) {
  return base64url_encode(random_bytes(bytes));
}

}  // namespace waddle::crypto
