// waddle: the admin CLI. One file per noun adds its subcommands; this file wires global options
// and turns every error into one line on stderr and an exit code (0 done, 1 runtime failure,
// 2 usage or validation error, 3 not found).
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <iostream>

#include "context.hpp"
#include "error/error.hpp"
#include "nouns.hpp"

#ifndef WADDLE_VERSION
#define WADDLE_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using waddle::cli::Context;
  // The libraries' own log lines (a listening socket, a reconnect) are not the command's output:
  // warnings and worse go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("waddle"));
  spdlog::set_level(spdlog::level::warn);
  Context ctx(std::cout, std::cerr);
  CLI::App app{"waddle: manage WaddleBot (communities, commands, rules, keys, daemons)", "waddle"};
  app.set_version_flag("-V,--version", "waddle " WADDLE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--database-url", ctx.options.database_url,
                 "PostgreSQL URL (default: $WADDLE_DATABASE_URL, then database.url in the config)");
  // Given explicitly, the file must exist; the default path may be missing (then defaults).
  auto* config = app.add_option("-c,--config", ctx.options.config_path, "configuration file")
                     ->capture_default_str()
                     ->each([&ctx](const std::string&) { ctx.options.config_given = true; });
  app.add_flag("--json", ctx.options.json, "print JSON (a stable shape for scripts)");
  app.add_flag("-q,--quiet", ctx.options.quiet, "print only ids/names, one per line");
  app.add_option("--run-dir", ctx.options.run_dir, "where the daemons' admin sockets live")
      ->capture_default_str();

  waddle::cli::add_migrate_commands(app, ctx);
  waddle::cli::add_community_commands(app, ctx);
  waddle::cli::add_member_commands(app, ctx);
  waddle::cli::add_entity_commands(app, ctx);
  waddle::cli::add_identity_commands(app, ctx);
  waddle::cli::add_label_commands(app, ctx);
  waddle::cli::add_reputation_commands(app, ctx);
  waddle::cli::add_audit_commands(app, ctx);
  waddle::cli::add_command_commands(app, ctx);
  waddle::cli::add_module_commands(app, ctx);
  waddle::cli::add_alias_commands(app, ctx);
  waddle::cli::add_rule_commands(app, ctx);
  waddle::cli::add_apikey_commands(app, ctx);
  waddle::cli::add_overlay_commands(app, ctx);
  waddle::cli::add_coordination_commands(app, ctx);
  waddle::cli::add_status_commands(app, ctx);
  waddle::cli::add_chat_commands(app, ctx);
  waddle::cli::add_completion_commands(app, ctx);
  waddle::cli::add_reference_commands(app, ctx);
  waddle::cli::add_twitch_commands(app, ctx);

  try {
    app.parse(argc, argv);
    (void)config;
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "waddle: " << e.what() << " (see waddle --help)\n";
    return 2;
  } catch (const waddle::Error& e) {
    std::cerr << "waddle: " << e.what() << '\n';
    return waddle::exit_code(e.code());
  } catch (const std::exception& e) {
    std::cerr << "waddle: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
