#include "actions/modules/memories/remind.hpp"

#include <pqxx/pqxx>

#include "actions/modules/memories/memories.hpp"
#include "actions/modules/memories/when.hpp"
#include "actions/text.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

using Actions = std::vector<model::Action>;
using std::chrono::system_clock;

constexpr std::string_view kUsage =
    "Usage: !remind in 10m <text> | !remind at 18:00 <text> | !remind at 2026-12-24 18:00 <text> "
    "| !remind list | !remind cancel <id>";
constexpr std::string_view kCancelUsage = "Usage: !remind cancel <id> (see !remind list)";
constexpr std::string_view kPrefixEnd = ", reminder: ";

// The community's zone as PostgreSQL knows it; UTC when unset or unknown to the database.
std::string community_zone(pqxx::connection& conn, std::int64_t community_id) {
  pqxx::nontransaction tx(conn);
  auto rows = tx.exec_params(
      "select coalesce(nullif(config->>'timezone', ''), 'UTC') from communities where id = $1",
      community_id);
  if (rows.empty()) return "UTC";
  const std::string zone = rows[0][0].as<std::string>();
  try {
    tx.exec_params("select now() at time zone $1", zone);
    return zone;
  } catch (const pqxx::data_exception&) {
    return "UTC";
  }
}

std::string two(int n) {
  return (n < 10 ? "0" : "") + std::to_string(n);
}

struct Resolved {
  system_clock::time_point at;
  std::string zone;
  std::string local;  // "2026-12-24 18:00"
};

// A wall-clock time in the community's zone as an instant: PostgreSQL converts with its own tz
// database (DST included; a time skipped by a DST change is read with the offset before it).
// "at HH:MM" is today there, or tomorrow when that time has passed.
Resolved resolve_local(pqxx::connection& conn, std::int64_t community_id, const LocalWhen& when) {
  Resolved out;
  out.zone = community_zone(conn, community_id);
  pqxx::nontransaction tx(conn);
  const std::string clock = two(when.hour) + ":" + two(when.minute);
  pqxx::row row;
  if (when.date_given) {
    const std::string local =
        std::to_string(when.year) + "-" + two(when.month) + "-" + two(when.day) + " " + clock;
    row = tx.exec_params1(
        "select (extract(epoch from t) * 1000000)::bigint, to_char(t at time zone $1, "
        "'YYYY-MM-DD HH24:MI') from (select $2::timestamp at time zone $1 as t) x",
        out.zone, local);
  } else {
    row = tx.exec_params1(
        "select (extract(epoch from t) * 1000000)::bigint, to_char(t at time zone $1, "
        "'YYYY-MM-DD HH24:MI') from (select case when (d + $2::time) at time zone $1 > now() "
        "then (d + $2::time) at time zone $1 else (d + 1 + $2::time) at time zone $1 end as t "
        "from (select (now() at time zone $1)::date as d) days) x",
        out.zone, clock);
  }
  out.at = system_clock::time_point(std::chrono::microseconds(row[0].as<std::int64_t>()));
  out.local = row[1].as<std::string>();
  return out;
}

// The user's own words of a stored reminder ("@alice, reminder: stretch" -> "stretch").
std::string reminder_words(const std::string& said) {
  const auto at = said.find(kPrefixEnd);
  return at == std::string::npos ? said : said.substr(at + kPrefixEnd.size());
}

}  // namespace

CommandSpec Reminders::command() {
  return {"remind", "a reminder to yourself: !remind in 10m|at 18:00 <text>, list, cancel <id>"};
}

boost::asio::awaitable<Actions> Reminders::handle(const ModuleRequest& request) {
  if (request.args.empty()) co_return say(std::string(kUsage));
  const std::string sub = lower_ascii(request.args[0]);
  if (sub == "list") co_return co_await list(request);
  if (sub == "cancel" || sub == "remove" || sub == "delete") co_return co_await cancel(request);
  if (sub == "in" || sub == "at") co_return co_await add(request);
  co_return say(std::string(kUsage));
}

boost::asio::awaitable<Actions> Reminders::add(const ModuleRequest& request) {
  const auto parsed = parse_when(request.raw_args);
  if (const auto* error = std::get_if<std::string>(&parsed)) co_return say(*error);
  const ParsedWhen& when = std::get<ParsedWhen>(parsed);
  if (when.rest.empty()) co_return say(std::string(kUsage));
  if (const std::size_t length = utf8_length(when.rest); length > kMaxReminderCharacters) {
    co_return say("That reminder is too long (" + std::to_string(length) + " characters; at most " +
                  std::to_string(kMaxReminderCharacters) + ").");
  }

  const auto now = system_clock::now();
  Resolved resolved;
  std::string confirm_when;
  if (const auto* relative = std::get_if<RelativeWhen>(&when.when)) {
    resolved.at = now + relative->after;
    confirm_when = describe_after(relative->after);
  } else {
    const LocalWhen local = std::get<LocalWhen>(when.when);
    auto resolve = [&](pqxx::connection& conn) {
      return resolve_local(conn, request.community_id, local);
    };
    resolved = co_await env_.pool.run(std::move(resolve));
    confirm_when = "at " + resolved.local + " (" + resolved.zone + ")";
  }
  if (auto refusal = check_when(resolved.at, now)) co_return say(*refusal);

  NewScheduledItem item;
  item.community_id = request.community_id;
  item.entity_id = request.entity_id;
  item.module_name = std::string(kMemoriesModule);
  item.kind = std::string(kReminderKind);
  item.due_at = resolved.at;
  item.actions = say("@" + request.user_name + std::string(kPrefixEnd) + std::string(when.rest));
  item.created_by_id = request.user_id;
  item.created_by_name = request.user_display_name;
  struct Added {
    std::int64_t id = 0;
    bool over_limit = false;
  };
  auto insert = [&](pqxx::work& tx) {
    // One user's concurrent !remind calls are counted one after the other.
    tx.exec_params("select pg_advisory_xact_lock(hashtext('waddle:remind:' || $1 || ':' || $2))",
                   request.community_id, request.platform + ":" + request.user_id);
    const auto pending = tx.exec_params1(
                               "select count(*) from scheduled_messages where community_id = $1 "
                               "and module_name = $2 and kind = $3 and state = 'pending' and "
                               "created_by_id = $4 and split_part(entity_id, ':', 1) = $5",
                               request.community_id, item.module_name, item.kind, request.user_id,
                               request.platform)[0]
                             .as<std::int64_t>();
    if (pending >= static_cast<std::int64_t>(kMaxPendingReminders)) return Added{0, true};
    return Added{schedule_item(tx, item), false};
  };
  const Added added = co_await env_.pool.transaction(std::move(insert));
  if (added.over_limit) {
    co_return say("Sorry " + request.user_display_name + ", you already have " +
                  std::to_string(kMaxPendingReminders) +
                  " reminders waiting here. See !remind list, or !remind cancel <id>.");
  }
  co_return say("Okay " + request.user_display_name + ", I will remind you " + confirm_when +
                " (#" + std::to_string(added.id) + ").");
}

boost::asio::awaitable<Actions> Reminders::list(const ModuleRequest& request) {
  auto load = [&](pqxx::connection& conn) {
    const std::string zone = community_zone(conn, request.community_id);
    pqxx::nontransaction tx(conn);
    std::string text;
    for (const auto& row : tx.exec_params(
             "select id, to_char(due_at at time zone $2, 'YYYY-MM-DD HH24:MI'), "
             "coalesce(actions->0->>'text', '') from scheduled_messages where community_id = $1 "
             "and module_name = $3 and kind = $4 and state = 'pending' and created_by_id = $5 and "
             "split_part(entity_id, ':', 1) = $6 order by due_at, id",
             request.community_id, zone, std::string(kMemoriesModule), std::string(kReminderKind),
             request.user_id, request.platform)) {
      text += (text.empty() ? "" : "; ") + std::string("#") + row[0].as<std::string>() + " " +
              row[1].as<std::string>() + " " +
              trim_chat(reminder_words(row[2].as<std::string>()), 60);
    }
    return text.empty() ? text : text + " (" + zone + ")";
  };
  const std::string text = co_await env_.pool.run(std::move(load));
  if (text.empty()) co_return say("You have no reminders waiting here.");
  co_return say("Your reminders: " + text);
}

boost::asio::awaitable<Actions> Reminders::cancel(const ModuleRequest& request) {
  const std::int64_t id = request.args.size() == 2 ? parse_positive(request.args[1]) : 0;
  if (id <= 0) co_return say(std::string(kCancelUsage));
  const bool moderator = request.role() >= Role::moderator;
  enum class Outcome { cancelled, not_yours, missing };
  auto cancel_row = [&](pqxx::work& tx) {
    auto rows = tx.exec_params(
        "select created_by_id, split_part(entity_id, ':', 1) from scheduled_messages where id = "
        "$1 and community_id = $2 and module_name = $3 and kind = $4 and state = 'pending' for "
        "update",
        id, request.community_id, std::string(kMemoriesModule), std::string(kReminderKind));
    if (rows.empty()) return Outcome::missing;
    const bool mine = !rows[0][0].is_null() && rows[0][0].as<std::string>() == request.user_id &&
                      rows[0][1].as<std::string>() == request.platform;
    if (!mine && !moderator) return Outcome::not_yours;
    tx.exec_params(
        "update scheduled_messages set state = 'cancelled', finished_at = now(), claimed_by = "
        "null, claimed_until = null where id = $1",
        id);
    return Outcome::cancelled;
  };
  const Outcome outcome = co_await env_.pool.transaction(std::move(cancel_row));
  switch (outcome) {
    case Outcome::cancelled: co_return say("Cancelled reminder #" + std::to_string(id) + ".");
    case Outcome::not_yours:
      co_return say("Sorry " + request.user_display_name + ", reminder #" + std::to_string(id) +
                    " is not yours (moderators may cancel anyone's).");
    case Outcome::missing: break;
  }
  co_return say("There is no waiting reminder #" + std::to_string(id) + " here.");
}

}  // namespace waddle::actions
