// Admin socket lines: parse_request never throws; an accepted request re-encodes and parses back.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ctl/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = waddle::ctl::parse_request(line);
  if (parsed) {
    auto encoded = waddle::ctl::encode_request(parsed.value->command, parsed.value->arguments);
    auto again = waddle::ctl::parse_request(encoded);
    if (!again || again.value->command != parsed.value->command) std::abort();
  }
  (void)waddle::ctl::parse_reply(line);
  return 0;
}
