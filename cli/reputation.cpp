// waddle reputation show COMMUNITY USER | top COMMUNITY [--limit] | history COMMUNITY USER
// [--limit]
//                   | adjust COMMUNITY USER POINTS --reason TEXT
#include "error/error.hpp"
#include "nouns.hpp"
#include "users.hpp"

namespace waddle::cli {
namespace {

// The ledger's event_type for corrections made by hand.
constexpr const char* kAdjustEvent = "admin_adjustment";

// |POINTS| of one adjustment; far beyond any real correction, well inside the int column.
constexpr long long kMaxAdjustment = 1000000000;

nlohmann::json standing(pqxx::work& tx, long long community_id, long long user_id) {
  auto row = describe_user(tx, user_id);
  auto r = tx.exec_params(
      "select c.name as community, m.role, coalesce(t.points, 0) as reputation, "
      "coalesce(t.event_count, 0) as event_count, t.last_event_at, "
      "(select count(*) + 1 from reputation_totals o where o.community_id = c.id and "
      "o.points > coalesce(t.points, 0)) as rank "
      "from communities c "
      "left join community_members m on m.community_id = c.id and m.user_id = $2 "
      "left join reputation_totals t on t.community_id = c.id and t.user_id = $2 "
      "where c.id = $1",
      community_id, user_id);
  auto details = row_to_json(r[0]);
  for (const auto& [k, v] : details.items()) row[k] = v;
  return row;
}

}  // namespace

void add_reputation_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand("reputation",
                                  "reputation points per community (show, top, history, adjust)");
  noun->require_subcommand(1);
  const std::string community_doc = "community name or numeric id";
  const std::string user_doc = "user: <platform>:<username> (e.g. twitch:alice) or #<user id>";

  struct Args {
    std::string community, user, reason;
    long long points = 0;
    int limit = 10;
  };

  auto show_args = std::make_shared<Args>();
  auto* show = noun->add_subcommand("show", "a user's reputation, event count and rank");
  show->add_option("community", show_args->community, community_doc)->required();
  show->add_option("user", show_args->user, user_doc)->required();
  show->callback([&ctx, show_args] {
    auto ref = parse_user_ref("USER", show_args->user);
    auto row = ctx.read([&](pqxx::work& tx) {
      auto community_id = find_community(tx, show_args->community)["id"].get<long long>();
      return standing(tx, community_id, find_user(tx, ref));
    });
    print_object(ctx.out(), ctx.format(), row, "reputation");
  });

  auto top_args = std::make_shared<Args>();
  auto* top = noun->add_subcommand("top", "the community's leaderboard");
  top->add_option("community", top_args->community, community_doc)->required();
  top->add_option("--limit", top_args->limit, "how many users (1..1000)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  top->callback([&ctx, top_args] {
    auto rows = ctx.read([&](pqxx::work& tx) {
      auto community_id = find_community(tx, top_args->community)["id"].get<long long>();
      return rows_to_json(tx.exec_params(
          "select rank() over (order by t.points desc) as rank, u.id as user_id, " +
              user_label_sql("u") +
              " as \"user\", u.display_name, t.points as reputation, t.event_count, "
              "t.last_event_at from reputation_totals t join users u on u.id = t.user_id "
              "where t.community_id = $1 order by t.points desc, u.id limit $2",
          community_id, top_args->limit));
    });
    print_rows(ctx.out(), ctx.format(), rows,
               {"rank", "user", "display_name", "reputation", "event_count"}, "user_id");
  });

  auto history_args = std::make_shared<Args>();
  history_args->limit = 20;
  auto* history = noun->add_subcommand("history", "a user's ledger entries, newest first");
  history->add_option("community", history_args->community, community_doc)->required();
  history->add_option("user", history_args->user, user_doc)->required();
  history->add_option("--limit", history_args->limit, "how many entries (1..1000)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  history->callback([&ctx, history_args] {
    auto ref = parse_user_ref("USER", history_args->user);
    auto rows = ctx.read([&](pqxx::work& tx) {
      auto community_id = find_community(tx, history_args->community)["id"].get<long long>();
      auto user_id = find_user(tx, ref);
      return rows_to_json(tx.exec_params(
          "select id, event_type, points, reason, created_at from reputation_events "
          "where community_id = $1 and user_id = $2 order by created_at desc, id desc limit $3",
          community_id, user_id, history_args->limit));
    });
    print_rows(ctx.out(), ctx.format(), rows,
               {"id", "created_at", "event_type", "points", "reason"});
  });

  auto adjust_args = std::make_shared<Args>();
  auto* adjust = noun->add_subcommand(
      "adjust",
      "add (or, negative, take away) points with a reason: a ledger entry, never an edit; "
      "creates the user if needed");
  adjust->add_option("community", adjust_args->community, community_doc)->required();
  adjust->add_option("user", adjust_args->user, user_doc)->required();
  adjust->add_option("points", adjust_args->points, "points to add; negative to subtract; not 0")
      ->required();
  adjust->add_option("--reason", adjust_args->reason, "why (kept in the ledger; required)")
      ->required();
  adjust->callback([&ctx, adjust_args] {
    const auto& a = *adjust_args;
    auto ref = parse_user_ref("USER", a.user);
    if (a.points == 0) throw Error(Errc::invalid_argument, "POINTS: must not be 0");
    if (a.points > kMaxAdjustment || a.points < -kMaxAdjustment) {
      throw Error(Errc::invalid_argument, "POINTS: at most " + std::to_string(kMaxAdjustment) +
                                              " either way, got " + std::to_string(a.points));
    }
    if (a.reason.find_first_not_of(" \t\r\n") == std::string::npos) {
      throw Error(Errc::invalid_argument, "--reason: must not be empty");
    }
    auto row = ctx.write(
        "reputation.adjust", a.community + "/" + a.user,
        [&](pqxx::work& tx) {
          auto community_id = find_community(tx, a.community)["id"].get<long long>();
          auto user_id = find_or_create_user(tx, ref);
          auto event_id =
              tx.exec_params1(
                    "insert into reputation_events (community_id, user_id, event_type, points, "
                    "reason) values ($1, $2, $3, $4, $5) returning id",
                    community_id, user_id, kAdjustEvent, a.points, a.reason)[0]
                  .as<long long>();
          auto row = standing(tx, community_id, user_id);
          row["event_id"] = event_id;
          row["points"] = a.points;
          row["reason"] = a.reason;
          return row;
        },
        {{"points", a.points}, {"reason", a.reason}});
    print_object(ctx.out(), ctx.format(), row, "event_id");
  });
}

}  // namespace waddle::cli
