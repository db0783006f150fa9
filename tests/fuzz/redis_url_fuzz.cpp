// redis:// and unix:// URLs from config: parse_url refuses with waddle::Error, never crashes.
#include <cstdint>
#include <string_view>

#include "error/error.hpp"
#include "redis/options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto endpoint =
        waddle::redis::parse_url(std::string_view(reinterpret_cast<const char*>(data), size));
    (void)endpoint.describe();
  } catch (const waddle::Error&) {
  }
  return 0;
}
