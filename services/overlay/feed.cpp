#include "overlay/feed.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "model/field_reader.hpp"
#include "overlay/state.hpp"

namespace waddle::overlay {

Published parse_published(std::string_view text) {
  if (text.size() > kMaxPublishedBytes) {
    throw Error(Errc::payload_too_large, "overlay message of " + std::to_string(text.size()) +
                                             " bytes exceeds " +
                                             std::to_string(kMaxPublishedBytes));
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(Errc::invalid_argument, std::string("overlay message is not JSON: ") + e.what());
  }
  if (!json.is_object()) throw model::FieldError("", "expected a JSON object");
  Published out;
  auto id = json.find("community_id");
  if (id == json.end() || !id->is_number_integer() || id->get<std::int64_t>() <= 0) {
    throw model::FieldError("community_id", "expected a positive integer");
  }
  out.community_id = id->get<std::int64_t>();
  auto action = json.find("action");
  if (action == json.end()) throw model::FieldError("action", "missing");
  out.action = model::parse_action(*action, "action");
  if (!source_of(out.action)) {
    throw model::FieldError("action.type", "'" + std::string(model::action_type(out.action)) +
                                               "' is not an overlay action (media, ticker, "
                                               "general, form)");
  }
  return out;
}

std::optional<std::int64_t> parse_community_id(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::optional<std::int64_t> community_of_channel(std::string_view channel) {
  if (channel.substr(0, kChannelPrefix.size()) != kChannelPrefix) return std::nullopt;
  return parse_community_id(channel.substr(kChannelPrefix.size()));
}

}  // namespace waddle::overlay
