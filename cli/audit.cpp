// waddle audit recent [--limit N] [--actor NAME] [--action PREFIX] [--since ISO8601]
#include <regex>

#include "error/error.hpp"
#include "nouns.hpp"

namespace waddle::cli {

void add_audit_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand("audit", "the admin audit log: who changed what through waddle");
  noun->require_subcommand(1);

  struct Args {
    int limit = 20;
    std::string actor, action, since;
  };
  auto args = std::make_shared<Args>();
  auto* recent = noun->add_subcommand("recent", "recent admin actions, newest first");
  recent->add_option("--limit", args->limit, "how many entries (1..1000)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  recent->add_option("--actor", args->actor, "only this OS user's actions");
  recent->add_option("--action", args->action,
                     "only actions starting with this prefix (e.g. 'label.' or 'community.add')");
  recent->add_option("--since", args->since,
                     "only entries at or after this time: ISO 8601, e.g. 2026-01-31 or "
                     "2026-01-31T12:00:00Z (no zone: the database's time zone)");
  recent->callback([&ctx, args] {
    static const std::regex iso(
        R"(^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$)");
    if (!args->since.empty() && !std::regex_match(args->since, iso)) {
      throw Error(Errc::invalid_argument,
                  "--since: expected an ISO 8601 date or time (e.g. 2026-01-31T12:00:00Z), got '" +
                      args->since + "'");
    }
    auto rows = ctx.read([&](pqxx::work& tx) {
      try {
        return rows_to_json(tx.exec_params(
            "select id, created_at, actor, action, target, details from admin_audit_log "
            "where ($1 = '' or actor = $1) and left(action, length($2)) = $2 "
            "and created_at >= coalesce(nullif($3, '')::timestamptz, '-infinity') "
            "order by created_at desc, id desc limit $4",
            args->actor, args->action, args->since, args->limit));
      } catch (const pqxx::data_exception&) {
        // The shape passed the regex but the value did not (2026-02-30, 25:00).
        throw Error(Errc::invalid_argument,
                    "--since: '" + args->since + "' is not a valid date or time");
      }
    });
    print_rows(ctx.out(), ctx.format(), rows, {"id", "created_at", "actor", "action", "target"});
  });
}

}  // namespace waddle::cli
