// Twitch IRC: any bytes → the line buffer → parse → serialize → normalise, and the send-side
// split. Checks what the collector relies on: a parsed message serialises back to itself, every
// event the normaliser makes is one the router's strict parser accepts unchanged, and every
// split part is valid UTF-8 of at most 500 UTF-16 units.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "model/event.hpp"
#include "model/field_reader.hpp"
#include "twitch/irc.hpp"
#include "twitch/limits.hpp"
#include "twitch/normalize.hpp"
#include "twitch/text.hpp"

namespace {

void check_line(std::string_view line) {
  auto message = waddle::twitch::try_parse_irc_message(line);
  if (!message) return;
  if (message->command.empty()) std::abort();
  try {
    std::string wire = waddle::twitch::serialize_irc_message(*message);
    if (waddle::twitch::parse_irc_message(wire) != *message) std::abort();
  } catch (const waddle::twitch::IrcParseError&) {
    // Tag keys the parser tolerates but we would never send.
  }
  auto event = waddle::twitch::normalize_irc_message(*message, "2026-01-01T00:00:00Z");
  if (!event) return;
  try {
    if (waddle::model::parse_event(waddle::model::to_json(*event)) != *event) std::abort();
  } catch (const waddle::Error&) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  check_line(input);
  waddle::twitch::IrcLineBuffer buffer(512);
  buffer.append(input.substr(0, input.size() / 2));
  buffer.append(input.substr(input.size() / 2));
  while (auto line = buffer.next_line()) {
    if (line->size() > 513) std::abort();
    check_line(*line);
  }
  for (const auto& part : waddle::twitch::split_message(input)) {
    if (part.empty() || waddle::twitch::utf16_length(part) > 500) std::abort();
    if (!waddle::model::is_valid_utf8(part)) std::abort();
  }
  return 0;
}
