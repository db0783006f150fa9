// waddle coordination list | release ENTITY_ID_OR_ID | populate | stats.
// The coordination table says which collector instance serves which channel; these commands let
// an operator look at the claims, free a stuck one and seed rows from the `servers` table.
#include "checks.hpp"
#include "error/error.hpp"
#include "nouns.hpp"
#include "users.hpp"

namespace waddle::cli {
namespace {

using checks::refuse;

constexpr const char* kColumns =
    "id, entity_id, platform, server_id, channel_id, status, claimed_by, claimed_at, "
    "claim_expires, claim_expires < now() as claim_expired, is_live, live_since, viewer_count, "
    "last_activity, last_checkin, heartbeat_interval, error_count, priority, max_containers, "
    "created_at, updated_at";

}  // namespace

void add_coordination_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand("coordination",
                                  "collector channel claims (list, release, populate, stats)");
  noun->require_subcommand(1);

  {
    auto* list = noun->add_subcommand("list", "list channels with their claim and live state");
    auto platform = std::make_shared<std::string>();
    auto status = std::make_shared<std::string>();
    auto claimed_by = std::make_shared<std::string>();
    list->add_option("--platform", *platform, "only this platform")
        ->check(CLI::IsMember(platform_names()));
    list->add_option("--status", *status, "only this status")
        ->check(CLI::IsMember({"available", "claimed", "live", "offline", "error"}));
    list->add_option("--claimed-by", *claimed_by, "only rows claimed by this collector instance");
    list->callback([&ctx, platform, status, claimed_by] {
      auto rows = ctx.read([&](pqxx::work& tx) {
        return rows_to_json(
            tx.exec_params(std::string("select ") + kColumns +
                               " from coordination where ($1 = '' or platform = $1) and "
                               "($2 = '' or status = $2) and ($3 = '' or claimed_by = $3) "
                               "order by platform, priority, entity_id",
                           *platform, *status, *claimed_by));
      });
      print_rows(ctx.out(), ctx.format(), rows,
                 {"id", "entity_id", "status", "claimed_by", "claim_expires", "is_live",
                  "viewer_count", "priority", "last_checkin"},
                 "entity_id");
    });
  }

  {
    auto* release = noun->add_subcommand(
        "release", "clear a channel's claim so that any collector can take it");
    auto target = std::make_shared<std::string>();
    release->add_option("target", *target, "entity id (twitch:channel:name) or coordination id")
        ->required();
    release->callback([&ctx, target] {
      long long id = 0;
      if (target->find(':') != std::string::npos) {
        checks::require_entity_id("TARGET", *target);
      } else {
        id = checks::parse_id("TARGET", *target);
      }
      auto find = [&](pqxx::work& tx) {
        auto r = tx.exec_params(std::string("select ") + kColumns +
                                    " from coordination where entity_id = $1 or id = $2",
                                *target, id);
        if (r.empty()) throw Error(Errc::not_found, "no coordination row for '" + *target + "'");
        return row_to_json(r[0]);
      };
      auto row = ctx.read(find);
      if (row["claimed_by"].is_null()) {
        // Nothing to change, so nothing is written or audited; scripts may release freely.
        if (ctx.format() == Format::table) {
          ctx.out() << row["entity_id"].get<std::string>() << " is not claimed; nothing to do\n";
        } else {
          print_object(ctx.out(), ctx.format(), row, "entity_id");
        }
        return;
      }
      row = ctx.write(
          "coordination.release", row["entity_id"].get<std::string>(),
          [&](pqxx::work& tx) {
            tx.exec_params(
                "update coordination set claimed_by = null, claimed_at = null, "
                "claim_expires = null, status = case when status = 'claimed' then 'available' "
                "else status end where id = $1",
                row["id"].get<long long>());
            return find(tx);
          },
          nlohmann::json{{"claimed_by", row["claimed_by"]}});
      if (ctx.format() == Format::table) {
        ctx.out() << "released " << row["entity_id"].get<std::string>() << '\n';
      } else {
        print_object(ctx.out(), ctx.format(), row, "entity_id");
      }
    });
  }

  {
    auto* populate = noun->add_subcommand(
        "populate", "add a coordination row for every active server that has none");
    auto platform = std::make_shared<std::string>();
    populate->add_option("--platform", *platform, "only servers of this platform")
        ->check(CLI::IsMember(platform_names()));
    populate->callback([&ctx, platform] {
      auto result = ctx.write(
          "coordination.populate", platform->empty() ? "all" : *platform, [&](pqxx::work& tx) {
            // Server or channel names containing ':' cannot form an entity id; they are counted
            // and skipped rather than failing the whole run.
            auto skipped =
                tx.exec_params1(
                      "select count(*) from servers s where s.is_active and "
                      "($1 = '' or s.platform = $1) and (s.server_id like '%:%' or s.channel like "
                      "'%:%')",
                      *platform)[0]
                    .as<long long>();
            auto added = rows_to_json(tx.exec_params(
                "insert into coordination (platform, server_id, channel_id, entity_id) "
                "select s.platform, s.server_id, s.channel, "
                "s.platform || ':' || s.server_id || ':' || s.channel from servers s "
                "where s.is_active and ($1 = '' or s.platform = $1) and "
                "s.server_id not like '%:%' and s.channel not like '%:%' and not exists "
                "(select 1 from coordination c where c.platform = s.platform and "
                "c.server_id = s.server_id and c.channel_id = s.channel) "
                "order by s.id on conflict do nothing returning id, entity_id",
                *platform));
            return nlohmann::json{{"added", added.size()}, {"skipped", skipped}, {"rows", added}};
          });
      switch (ctx.format()) {
        case Format::json: ctx.out() << result.dump(2) << '\n'; break;
        case Format::quiet:
          for (const auto& r : result["rows"])
            ctx.out() << r["entity_id"].get<std::string>() << '\n';
          break;
        case Format::table:
          ctx.out() << "added " << result["added"].get<long long>() << " coordination row(s)";
          if (result["skipped"].get<long long>() > 0) {
            ctx.out() << "; skipped " << result["skipped"].get<long long>()
                      << " server(s) whose server_id or channel contains ':'";
          }
          ctx.out() << '\n';
          break;
      }
    });
  }

  {
    auto* stats = noun->add_subcommand(
        "stats", "counts per platform: by status, live channels, expired claims");
    stats->callback([&ctx] {
      auto rows = ctx.read([](pqxx::work& tx) {
        return rows_to_json(tx.exec(
            "select coalesce(platform::text, 'total') as platform, count(*) as total, "
            "count(*) filter (where status = 'available') as available, "
            "count(*) filter (where status = 'claimed') as claimed, "
            "count(*) filter (where status = 'live') as live, "
            "count(*) filter (where status = 'offline') as offline, "
            "count(*) filter (where status = 'error') as error, "
            "count(*) filter (where is_live) as is_live, "
            "count(*) filter (where claimed_by is not null and claim_expires < now()) "
            "as expired_claims "
            "from coordination group by rollup (platform) order by platform is null, platform"));
      });
      // Every platform appears, with zeros when it has no rows.
      nlohmann::json platforms = nlohmann::json::array();
      nlohmann::json total;
      for (const auto& p : platform_names()) {
        nlohmann::json row{{"platform", p}, {"total", 0},   {"available", 0},
                           {"claimed", 0},  {"live", 0},    {"offline", 0},
                           {"error", 0},    {"is_live", 0}, {"expired_claims", 0}};
        for (const auto& r : rows) {
          if (r["platform"] == p) row = r;
        }
        platforms.push_back(row);
      }
      total = platforms[0];
      total["platform"] = "total";
      for (auto& [k, v] : total.items()) {
        if (k != "platform") v = 0;
      }
      for (const auto& r : rows) {
        if (r["platform"] == "total") total = r;
      }
      if (ctx.format() == Format::json) {
        ctx.out() << nlohmann::json{{"platforms", platforms}, {"total", total}}.dump(2) << '\n';
        return;
      }
      platforms.push_back(total);
      print_rows(ctx.out(), ctx.format(), platforms,
                 {"platform", "total", "available", "claimed", "live", "offline", "error",
                  "is_live", "expired_claims"},
                 "platform");
    });
  }
}

}  // namespace waddle::cli
