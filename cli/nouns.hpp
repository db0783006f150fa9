#pragma once
// Each noun lives in its own file and adds its subcommands to the app.

#include <CLI/CLI.hpp>

#include "context.hpp"

namespace waddle::cli {

void add_migrate_commands(CLI::App& app, Context& ctx);
void add_status_commands(CLI::App& app, Context& ctx);
void add_completion_commands(CLI::App& app, Context& ctx);

}  // namespace waddle::cli
