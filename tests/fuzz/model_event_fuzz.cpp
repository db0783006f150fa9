// Normalised events: any bytes → JSON → parse_event either refuses with waddle::Error or yields an
// event whose to_json parses back to the same event.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "model/event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  try {
    auto event = waddle::model::parse_event(json);
    auto again = waddle::model::parse_event(waddle::model::to_json(event));
    if (!(again == event)) std::abort();
  } catch (const waddle::Error&) {
  }
  return 0;
}
