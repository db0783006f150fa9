// EventSub: any bytes as a signed request body and as each notification's event. The handler
// must answer (never throw), and every event it makes must be one the router's strict parser
// accepts unchanged.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "model/event.hpp"
#include "net/http.hpp"
#include "twitch/eventsub.hpp"

namespace {

constexpr std::string_view kSecret = "fuzz-secret-0123456789";
constexpr std::string_view kTimestamp = "2026-01-01T12:00:00.123456789Z";
constexpr std::string_view kTypes[] = {"channel.follow",
                                       "channel.subscribe",
                                       "channel.subscription.gift",
                                       "channel.subscription.message",
                                       "channel.cheer",
                                       "channel.raid",
                                       "stream.online",
                                       "stream.offline",
                                       "channel.chat.message"};

void check(const std::vector<waddle::model::Event>& events) {
  for (const auto& event : events) {
    try {
      if (waddle::model::parse_event(waddle::model::to_json(event)) != event) std::abort();
    } catch (const waddle::Error&) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  static waddle::twitch::EventSubHandler handler(
      waddle::twitch::EventSubOptions{std::string(kSecret)},
      [] { return *waddle::twitch::parse_rfc3339("2026-01-01T12:00:01Z"); });
  static std::uint64_t counter = 0;
  for (std::string_view type : {"notification", "webhook_callback_verification", "revocation"}) {
    auto request = waddle::net::make_request("POST", "/twitch/eventsub", body);
    std::string id = "fuzz-" + std::to_string(counter++);
    request.headers = {
        {"Twitch-Eventsub-Message-Id", id},
        {"Twitch-Eventsub-Message-Timestamp", std::string(kTimestamp)},
        {"Twitch-Eventsub-Message-Signature",
         waddle::twitch::eventsub_signature(kSecret, id, kTimestamp, body)},
        {"Twitch-Eventsub-Message-Type", std::string(type)},
    };
    auto outcome = handler.handle(request);
    if (outcome.response.status < 200 || outcome.response.status >= 500) std::abort();
    check(outcome.events);
  }
  nlohmann::json event = nlohmann::json::parse(body, nullptr, false);
  if (!event.is_discarded()) {
    for (std::string_view type : kTypes) {
      check(waddle::twitch::normalize_eventsub(type, event, "m", kTimestamp));
    }
  }
  return 0;
}
