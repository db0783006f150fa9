#include "actions/modules/timers/timers.hpp"

#include <chrono>
#include <pqxx/pqxx>

#include "actions/text.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

using Actions = std::vector<model::Action>;
using std::chrono::system_clock;

constexpr std::string_view kUsage =
    "Usage: !timer add <name> <minutes> <text> | !timer remove <name> | !timer on|off <name> | "
    "!timer list";
constexpr std::string_view kAddUsage = "Usage: !timer add <name> <minutes 5-1440> <text>";

// The community's module config may lower or raise how much chat a timer waits for.
int min_chat_lines(const ModuleRequest& request) {
  if (auto it = request.config.find("min_chat_lines");
      it != request.config.end() && it->is_number_integer()) {
    const auto value = it->get<std::int64_t>();
    if (value >= 0 && value <= 100000) return static_cast<int>(value);
  }
  return kDefaultMinChatLines;
}

NewScheduledItem next_post(std::int64_t community_id, const std::string& entity_id,
                           std::int64_t timer_id, int interval_minutes, const std::string& by) {
  NewScheduledItem item;
  item.community_id = community_id;
  item.entity_id = entity_id;
  item.module_name = std::string(kTimersModule);
  item.kind = std::string(kTimerKind);
  item.ref_id = timer_id;
  // From now, not from the missed due time: a worker that was down does not post a burst.
  item.due_at = system_clock::now() + std::chrono::minutes(interval_minutes);
  item.created_by_name = by;
  return item;
}

std::string bad_name(const std::string& word) {
  return "'" + trim_chat(word, 40) + "' is not a timer name (letters, digits, - and _, up to 32).";
}

}  // namespace

std::vector<CommandSpec> Timers::commands() const {
  return {{"timer", "messages every N minutes when chat is active: !timer add|remove|on|off|list"}};
}

boost::asio::awaitable<Actions> Timers::handle(const ModuleRequest& request) {
  if (request.trigger != "command" || request.command != "timer") co_return Actions{};
  const std::string sub = request.args.empty() ? "" : lower_ascii(request.args[0]);
  if (sub == "list") co_return co_await list(request);
  if (sub != "add" && sub != "remove" && sub != "delete" && sub != "on" && sub != "off") {
    co_return say(std::string(kUsage));
  }
  if (request.role() < Role::moderator) {
    co_return say(role_refusal(request, Role::moderator, "manage timers"));
  }
  if (sub == "add") co_return co_await add(request);
  if (sub == "on" || sub == "off") co_return co_await toggle(request, sub == "on");
  co_return co_await remove(request);
}

boost::asio::awaitable<Actions> Timers::add(const ModuleRequest& request) {
  if (request.args.size() < 4) co_return say(std::string(kAddUsage));
  const std::string name = lower_ascii(request.args[1]);
  if (!is_short_name(name)) co_return say(bad_name(request.args[1]));
  const int minutes = parse_positive(request.args[2]);
  if (minutes < kMinTimerMinutes || minutes > kMaxTimerMinutes) {
    co_return say("'" + trim_chat(request.args[2], 20) + "' is not a number of minutes from " +
                  std::to_string(kMinTimerMinutes) + " to " + std::to_string(kMaxTimerMinutes) +
                  ". " + std::string(kAddUsage));
  }
  const std::string text(skip_words(request.raw_args, 3));
  if (text.empty()) co_return say(std::string(kAddUsage));
  if (const std::size_t length = utf8_length(text); length > kMaxTimerCharacters) {
    co_return say("That timer text is too long (" + std::to_string(length) +
                  " characters; at most " + std::to_string(kMaxTimerCharacters) + ").");
  }
  const int lines = min_chat_lines(request);
  enum class Outcome { added, exists, full };
  auto insert = [&](pqxx::work& tx) {
    const auto count = tx.exec_params1("select count(*) from timers where community_id = $1",
                                       request.community_id)[0]
                           .as<std::int64_t>();
    if (count >= static_cast<std::int64_t>(kMaxTimersPerCommunity)) return Outcome::full;
    auto rows = tx.exec_params(
        "insert into timers (community_id, entity_id, name, interval_minutes, text, "
        "min_chat_lines, created_by, chat_lines_at_last_post) values ($1, $2, $3, $4, $5, $6, "
        "$7, coalesce((select chat_lines from entity_activity where entity_id = $2), 0)) on "
        "conflict (community_id, name) do nothing returning id",
        request.community_id, request.entity_id, name, minutes, text, lines,
        request.user_display_name);
    if (rows.empty()) return Outcome::exists;
    schedule_item(tx, next_post(request.community_id, request.entity_id,
                                rows[0][0].as<std::int64_t>(), minutes, request.user_display_name));
    return Outcome::added;
  };
  const Outcome outcome = co_await env_.pool.transaction(std::move(insert));
  if (outcome == Outcome::full) {
    co_return say("This community has " + std::to_string(kMaxTimersPerCommunity) +
                  " timers already; remove one first.");
  }
  if (outcome == Outcome::exists) {
    co_return say("The timer " + name + " already exists; remove it first.");
  }
  co_return say("Added the timer " + name + ": every " + std::to_string(minutes) +
                " minutes here, when at least " + std::to_string(lines) +
                " chat lines were said since its last post.");
}

boost::asio::awaitable<Actions> Timers::remove(const ModuleRequest& request) {
  if (request.args.size() != 2) co_return say("Usage: !timer remove <name>");
  const std::string name = lower_ascii(request.args[1]);
  if (!is_short_name(name)) co_return say(bad_name(request.args[1]));
  auto erase = [&](pqxx::work& tx) {
    auto rows =
        tx.exec_params("delete from timers where community_id = $1 and name = $2 returning id",
                       request.community_id, name);
    if (rows.empty()) return false;
    cancel_scheduled(tx, kTimersModule, kTimerKind, rows[0][0].as<std::int64_t>());
    return true;
  };
  const bool removed = co_await env_.pool.transaction(std::move(erase));
  co_return say(removed ? "Removed the timer " + name + "." : "There is no timer " + name + ".");
}

boost::asio::awaitable<Actions> Timers::toggle(const ModuleRequest& request, bool on) {
  const std::string usage = std::string("Usage: !timer ") + (on ? "on" : "off") + " <name>";
  if (request.args.size() != 2) co_return say(usage);
  const std::string name = lower_ascii(request.args[1]);
  if (!is_short_name(name)) co_return say(bad_name(request.args[1]));
  enum class Outcome { changed, already, missing };
  auto change = [&](pqxx::work& tx) {
    auto rows = tx.exec_params(
        "select id, enabled, entity_id, interval_minutes from timers where community_id = $1 and "
        "name = $2 for update",
        request.community_id, name);
    if (rows.empty()) return Outcome::missing;
    const auto id = rows[0][0].as<std::int64_t>();
    if (rows[0][1].as<bool>() == on) return Outcome::already;
    // Counting starts afresh: lines said while it was off do not count toward its first post.
    tx.exec_params(
        "update timers set enabled = $2, chat_lines_at_last_post = coalesce((select chat_lines "
        "from entity_activity a where a.entity_id = timers.entity_id), 0) where id = $1",
        id, on);
    cancel_scheduled(tx, kTimersModule, kTimerKind, id);
    if (on) {
      schedule_item(tx, next_post(request.community_id, rows[0][2].as<std::string>(), id,
                                  rows[0][3].as<int>(), request.user_display_name));
    }
    return Outcome::changed;
  };
  const Outcome outcome = co_await env_.pool.transaction(std::move(change));
  if (outcome == Outcome::missing) co_return say("There is no timer " + name + ".");
  if (outcome == Outcome::already) {
    co_return say("The timer " + name + " is already " + (on ? "on" : "off") + ".");
  }
  co_return say("The timer " + name + " is " + (on ? "on" : "off") + ".");
}

boost::asio::awaitable<Actions> Timers::list(const ModuleRequest& request) {
  auto load = [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    std::string text;
    for (const auto& row :
         tx.exec_params("select name, interval_minutes, enabled, min_chat_lines from timers where "
                        "community_id = $1 order by name",
                        request.community_id)) {
      text += (text.empty() ? "" : ", ") + row[0].as<std::string>() + " every " +
              row[1].as<std::string>() + " min (" + (row[2].as<bool>() ? "on" : "off") + ", " +
              row[3].as<std::string>() + " lines)";
    }
    return text;
  };
  const std::string text = co_await env_.pool.run(std::move(load), pg::Target::replica);
  if (text.empty())
    co_return say("No timers yet. Moderators add them with " + std::string(kAddUsage.substr(7)) +
                  ".");
  co_return say("Timers: " + text);
}

boost::asio::awaitable<DueResult> Timers::on_due(const ScheduledItem& item) {
  if (!item.ref_id) co_return DueResult{};
  const double due_seconds = std::chrono::duration<double>(item.due_at.time_since_epoch()).count();
  struct Decision {
    bool alive = false;
    bool post = false;
    std::string text;
    std::string entity_id;
    int interval = 0;
  };
  auto decide = [&](pqxx::work& tx) {
    Decision d;
    auto rows = tx.exec_params(
        "select t.text, t.entity_id, t.interval_minutes, t.min_chat_lines, t.enabled, "
        "t.chat_lines_at_last_post, coalesce(a.chat_lines, 0), coalesce(t.last_posted_at >= "
        "to_timestamp($2::float8), false) from timers t left join entity_activity a on "
        "a.entity_id = t.entity_id where t.id = $1 for update of t",
        *item.ref_id, due_seconds);
    if (rows.empty() || !rows[0][4].as<bool>()) return d;  // removed or off: no next post
    const auto& row = rows[0];
    d.alive = true;
    d.text = row[0].as<std::string>();
    d.entity_id = row[1].as<std::string>();
    d.interval = row[2].as<int>();
    const auto needed = row[3].as<std::int64_t>();
    const auto at_last = row[5].as<std::int64_t>();
    const auto now_lines = row[6].as<std::int64_t>();
    // A counter that went backwards (the activity row was reset) counts from zero.
    const auto said = now_lines >= at_last ? now_lines - at_last : now_lines;
    // A retry of an occurrence that already decided to post posts again, though the lines it
    // counted were used up by that decision.
    if (item.attempts > 0 && row[7].as<bool>()) {
      d.post = true;
    } else if (said >= needed) {
      d.post = true;
      tx.exec_params(
          "update timers set last_posted_at = now(), chat_lines_at_last_post = $2, post_count = "
          "post_count + 1 where id = $1",
          *item.ref_id, now_lines);
    } else {
      tx.exec_params("update timers set skip_count = skip_count + 1 where id = $1", *item.ref_id);
    }
    return d;
  };
  const Decision d = co_await env_.pool.transaction(std::move(decide));
  DueResult result;
  if (!d.alive) co_return result;
  if (d.post) result.actions = say(d.text);
  result.next =
      next_post(item.community_id, d.entity_id, *item.ref_id, d.interval, item.created_by_name);
  co_return result;
}

}  // namespace waddle::actions
