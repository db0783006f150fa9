#pragma once
// Each noun lives in its own file and adds its subcommands to the app.

#include <CLI/CLI.hpp>

#include "context.hpp"

namespace waddle::cli {

void add_migrate_commands(CLI::App& app, Context& ctx);
void add_community_commands(CLI::App& app, Context& ctx);
void add_member_commands(CLI::App& app, Context& ctx);
void add_entity_commands(CLI::App& app, Context& ctx);
void add_identity_commands(CLI::App& app, Context& ctx);
void add_label_commands(CLI::App& app, Context& ctx);
void add_reputation_commands(CLI::App& app, Context& ctx);
void add_audit_commands(CLI::App& app, Context& ctx);
void add_command_commands(CLI::App& app, Context& ctx);
void add_module_commands(CLI::App& app, Context& ctx);
void add_alias_commands(CLI::App& app, Context& ctx);
void add_rule_commands(CLI::App& app, Context& ctx);
void add_apikey_commands(CLI::App& app, Context& ctx);
void add_overlay_commands(CLI::App& app, Context& ctx);
void add_coordination_commands(CLI::App& app, Context& ctx);
void add_status_commands(CLI::App& app, Context& ctx);
// `send` and `chat`: the console platform, talking to the router over HTTP.
void add_chat_commands(CLI::App& app, Context& ctx);
void add_completion_commands(CLI::App& app, Context& ctx);
void add_reference_commands(CLI::App& app, Context& ctx);
// `twitch auth`: the bot account's Twitch token (services/twitch/tokens.hpp).
void add_twitch_commands(CLI::App& app, Context& ctx);

}  // namespace waddle::cli
