// waddle migrate [--dir DIR] [--dry-run] | waddle migrate status
#include "migrate/migrate.hpp"

#include "error/error.hpp"
#include "nouns.hpp"

namespace waddle::cli {

void add_migrate_commands(CLI::App& app, Context& ctx) {
  auto* migrate = app.add_subcommand(
      "migrate", "apply pending schema migrations (each in its own transaction)");
  auto dir = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  migrate->add_option("--dir", *dir,
                      "migrations directory (default: $WADDLE_MIGRATIONS_DIR, "
                      "/usr/share/waddlebot/migrations, or the source tree's)");
  migrate->add_flag("--dry-run", *dry_run, "print what would run and change nothing");

  auto resolve_dir = [dir] { return dir->empty() ? migrate::default_migrations_dir() : *dir; };

  auto* status = migrate->add_subcommand("status", "list applied and pending migrations");
  status->callback([&ctx, resolve_dir] {
    auto migrations = migrate::discover(resolve_dir());
    migrate::Status st;
    try {
      st = migrate::status(ctx.db(), migrations);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      rethrow_as_error(e);
    }
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& a : st.applied) {
      rows.push_back({{"version", a.version},
                      {"name", a.name},
                      {"state", "applied"},
                      {"applied_at", a.applied_at},
                      {"applied_by", a.applied_by}});
    }
    for (const auto& p : st.pending) {
      rows.push_back({{"version", p.version},
                      {"name", p.name},
                      {"state", "pending"},
                      {"applied_at", nullptr},
                      {"applied_by", nullptr}});
    }
    print_rows(ctx.out(), ctx.format(), rows,
               {"version", "name", "state", "applied_at", "applied_by"}, "name");
    for (const auto& problem : st.problems) ctx.err() << "waddle: " << problem << '\n';
    if (!st.problems.empty()) {
      throw Error(Errc::conflict, std::to_string(st.problems.size()) +
                                      " problem(s) with applied migrations; see above");
    }
  });

  migrate->callback([&ctx, migrate, resolve_dir, dry_run] {
    if (migrate->got_subcommand("status")) return;
    auto migrations = migrate::discover(resolve_dir());
    migrate::ApplyResult result;
    try {
      result = migrate::apply(ctx.db(), migrations, *dry_run, Context::actor(),
                              [&ctx, dry_run](const migrate::Migration& m) {
                                if (ctx.format() == Format::table) {
                                  ctx.out() << (*dry_run ? "would apply " : "applying ") << m.name
                                            << '\n';
                                  if (*dry_run) ctx.out() << m.sql << '\n';
                                }
                              });
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      rethrow_as_error(e);
    }
    nlohmann::json applied = nlohmann::json::array();
    for (const auto& m : result.applied) applied.push_back(m.name);
    if (ctx.format() == Format::json) {
      ctx.out() << nlohmann::json{{"dry_run", *dry_run}, {"applied", applied}}.dump(2) << '\n';
    } else if (ctx.format() == Format::quiet) {
      for (const auto& m : result.applied) ctx.out() << m.name << '\n';
    } else if (result.applied.empty()) {
      ctx.out() << "schema is up to date (" << migrations.size() << " migrations)\n";
    } else {
      ctx.out() << (*dry_run ? "would apply " : "applied ") << result.applied.size()
                << " migration(s)\n";
    }
  });
}

}  // namespace waddle::cli
