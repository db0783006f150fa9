#include "ratelimit/keys.hpp"

namespace waddle::ratelimit {

std::string escape_key_part(std::string_view part, bool keep_colon) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(part.size());
  for (unsigned char c : part) {
    if (c == '%' || c == '#' || (c == ':' && !keep_colon)) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string user_command_key(std::string_view entity_id, std::string_view user_id,
                             std::string_view command) {
  return std::string(kRouterKeyPrefix) + "user:" + escape_key_part(entity_id, true) + ":" +
         escape_key_part(user_id, false) + ":" + escape_key_part(command, false);
}

std::string command_key(std::string_view entity_id, std::string_view command) {
  return std::string(kRouterKeyPrefix) + "command:" + escape_key_part(entity_id, true) + ":" +
         escape_key_part(command, false);
}

std::string entity_key(std::string_view entity_id) {
  return std::string(kRouterKeyPrefix) + "entity:" + escape_key_part(entity_id, true);
}

}  // namespace waddle::ratelimit
