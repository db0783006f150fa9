// Module answers: parse_actions refuses with waddle::Error or its output round-trips.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "model/action.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  try {
    auto actions = waddle::model::parse_actions(json);
    auto out = waddle::model::to_json(actions);
    auto again = waddle::model::parse_actions(out);
    if (waddle::model::to_json(again) != out) std::abort();
  } catch (const waddle::Error&) {
  }
  return 0;
}
