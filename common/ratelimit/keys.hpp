#pragma once
// Redis key names of the router's rate limits (DESIGN.md §3: waddlebot:{use}:{module}:{…}).

#include <string>
#include <string_view>

namespace waddle::ratelimit {

inline constexpr std::string_view kRouterKeyPrefix = "waddlebot:rate_limit:router:";

// waddlebot:rate_limit:router:user:<entity>:<user>:<command>
std::string user_command_key(std::string_view entity_id, std::string_view user_id,
                             std::string_view command);
// waddlebot:rate_limit:router:command:<entity>:<command>
std::string command_key(std::string_view entity_id, std::string_view command);
// waddlebot:rate_limit:router:entity:<entity>
std::string entity_key(std::string_view entity_id);

// Entity ids keep their own colons (twitch:channel:name). User ids and commands are free text,
// so '%', ':' and '#' in them are percent-encoded: a user "a:b" can then never share a counter
// with user "a" and command "b:…", and '#' stays free for the "#refused" suffix.
std::string escape_key_part(std::string_view part, bool keep_colon);

}  // namespace waddle::ratelimit
