# The daemons WaddleBot ships, one line each: config section, binary, systemd unit (DESIGN.md §1)
# and a one-line description. Packaging, units, man pages and the example config cover the ones
# whose target exists in this build (WADDLE_BUILT_DAEMONS), so a daemon is packaged as soon as its
# services/<dir>/CMakeLists.txt defines the executable.

set(WADDLE_DAEMON_TABLE
  "router|waddle-routerd|waddle-router|event router: commands, rules, sessions, module calls"
  "actions|waddle-actiond|waddle-actions|built-in action modules"
  "overlay|waddle-overlayd|waddle-overlay|OBS overlay pages and WebSocket push"
  "twitch|waddle-twitchd|waddle-twitch|Twitch collector: chat, EventSub, Helix"
  "discord|waddle-discordd|waddle-discord|Discord collector: gateway, interactions"
  "slack|waddle-slackd|waddle-slack|Slack collector: Events API, slash commands")

# waddle_daemon_field(<entry> <index> <out-var>): 0 section, 1 binary, 2 unit, 3 description.
function(waddle_daemon_field entry index out)
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields ${index} value)
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

# Entries of WADDLE_DAEMON_TABLE whose executable target exists; call after services/ is added.
function(waddle_built_daemons out)
  set(built)
  foreach(entry ${WADDLE_DAEMON_TABLE})
    waddle_daemon_field("${entry}" 1 binary)
    if(TARGET ${binary})
      list(APPEND built "${entry}")
    endif()
  endforeach()
  set(${out} "${built}" PARENT_SCOPE)
endfunction()
