// Request targets and JSON bodies as the HTTP server sees them: make_request and parse_json_body
// refuse with waddle::Error, never crash; percent_decode never throws.
#include <cstdint>
#include <string>

#include "error/error.hpp"
#include "net/http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  (void)waddle::net::percent_decode(input, true);
  try {
    auto request = waddle::net::make_request("POST", input, input);
    (void)waddle::net::parse_json_body(request);
  } catch (const waddle::Error&) {
  }
  return 0;
}
