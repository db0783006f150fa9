#include "actions/modules/calendar/calendar.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "actions/text.hpp"
#include "model/event.hpp"
#include "pg/pool.hpp"

// GCC 12 reports Asio's awaitable-frame operator new/delete pair as mismatched once it inlines
// aligned_alloc into a coroutine ramp (here: on_due); the pair is Asio's own and matches.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace waddle::actions {
namespace {

namespace chr = std::chrono;
using Actions = std::vector<model::Action>;

constexpr std::string_view kUsage =
    "Usage: !event add <when> <title> [weekly|monthly] | !events [n] | !event <id> | !event "
    "join|leave <id> | !event approve|reject|cancel <id>";
constexpr std::string_view kAddUsage =
    "Usage: !event add <when> <title> [weekly|monthly], <when> as 2026-12-24 18:00, "
    "2026-12-24T18:00, today 18:00, tomorrow 18:00 or fri 20:00";
constexpr std::string_view kListUsage = "Usage: !events [n] (n from 1 to 10)";
constexpr std::size_t kDefaultListed = 3;
constexpr std::size_t kMaxListed = 10;
// Events read for one listing (recurring ones and one-offs still ahead).
constexpr int kMaxListedRows = 500;
// A reminder delivered this late after the start (a worker was down) is not said at all.
constexpr chr::minutes kReminderGrace{10};

struct EventRow {
  std::int64_t id = 0;
  std::int64_t community_id = 0;
  std::string entity_id;
  std::string title;
  SystemTime starts_at;
  std::string time_zone;
  Recurrence recurrence = Recurrence::none;
  std::string status;
  std::string created_by_id;
  std::string created_by_platform;
  std::string created_by_name;
  int going = 0;
};

constexpr const char* kEventSelect =
    "select e.id, e.community_id, e.entity_id, e.title, extract(epoch from e.starts_at)::bigint, "
    "e.time_zone, e.recurrence, e.status, e.created_by_id, coalesce(e.created_by_platform, ''), "
    "e.created_by_name, (select count(*) from calendar_attendees a where a.event_id = e.id) from "
    "calendar_events e ";

EventRow read_event(const pqxx::row& row) {
  EventRow e;
  e.id = row[0].as<std::int64_t>();
  e.community_id = row[1].as<std::int64_t>();
  e.entity_id = row[2].as<std::string>();
  e.title = row[3].as<std::string>();
  e.starts_at = SystemTime{chr::seconds{row[4].as<std::int64_t>()}};
  e.time_zone = row[5].as<std::string>();
  e.recurrence = parse_recurrence(row[6].as<std::string>()).value_or(Recurrence::none);
  e.status = row[7].as<std::string>();
  e.created_by_id = row[8].as<std::string>();
  e.created_by_platform = row[9].as<std::string>();
  e.created_by_name = row[10].as<std::string>();
  e.going = row[11].as<int>();
  return e;
}

std::optional<EventRow> find_event(pqxx::transaction_base& tx, std::int64_t community_id,
                                   std::int64_t id, bool lock) {
  auto rows = tx.exec_params(std::string(kEventSelect) + "where e.id = $1 and e.community_id = $2" +
                                 (lock ? " for update" : ""),
                             id, community_id);
  if (rows.empty()) return std::nullopt;
  return read_event(rows[0]);
}

CalendarSettings load_settings(pqxx::transaction_base& tx, std::int64_t community_id) {
  auto rows = tx.exec_params(
      "select config->>'timezone', config->'calendar'->>'remind_minutes' from communities where "
      "id = $1",
      community_id);
  if (rows.empty()) return {};
  auto text = [](const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
  };
  return calendar_settings(text(rows[0][0]), text(rows[0][1]));
}

// The event's own zone: occurrences keep the wall-clock time they were added with.
TimeZone zone_of(const EventRow& e) {
  if (auto zone = TimeZone::load(e.time_zone)) return *zone;
  return TimeZone::utc();
}

std::string when_text(const TimeZone& zone, SystemTime at) {
  return format_local(zone.to_local(at));
}

NewScheduledItem reminder_item(const EventRow& e, SystemTime occurrence, int minutes) {
  return NewScheduledItem{.community_id = e.community_id,
                          .entity_id = e.entity_id,
                          .module_name = std::string(kCalendarModule),
                          .kind = std::string(kCalendarReminderKind),
                          .ref_id = e.id,
                          .due_at = occurrence - chr::minutes(minutes),
                          .actions = event_reminder(e.title, minutes, e.going),
                          .created_by_id = e.created_by_id,
                          .created_by_name = e.created_by_name};
}

// The reminder of the first occurrence whose reminder time has not passed; false when there is
// none (a one-off event that starts within the lead time).
bool schedule_reminder(pqxx::work& tx, const EventRow& e, int minutes, SystemTime now) {
  const auto occurrence =
      next_occurrence(e.starts_at, e.recurrence, zone_of(e), now + chr::minutes(minutes));
  if (!occurrence) return false;
  schedule_item(tx, reminder_item(e, occurrence->at, minutes));
  return true;
}

std::string going_text(int going) {
  return std::to_string(going) + " going";
}

std::string event_label(const EventRow& e) {
  return "#" + std::to_string(e.id) + " " + e.title;
}

std::string no_event(std::int64_t id) {
  return "There is no event #" + std::to_string(id) + ".";
}

std::string status_phrase(const EventRow& e) {
  if (e.status == "pending") return "waits for a moderator's approval";
  if (e.status == "rejected") return "was rejected";
  if (e.status == "cancelled") return "was cancelled";
  return "is approved";
}

bool is_creator(const EventRow& e, const ModuleRequest& request) {
  return !request.user_id.empty() && e.created_by_id == request.user_id &&
         e.created_by_platform == request.platform;
}

std::string_view last_word(std::string_view text) {
  const auto space = text.find_last_of(" \t\n\r\f\v");
  return space == std::string_view::npos ? text : text.substr(space + 1);
}

bool has_control_characters(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

}  // namespace

CalendarSettings calendar_settings(const std::optional<std::string>& timezone,
                                   const std::optional<std::string>& remind_minutes) {
  CalendarSettings out;
  if (timezone && !timezone->empty()) {
    out.configured_zone = *timezone;
    if (auto zone = TimeZone::load(*timezone)) {
      out.zone = *zone;
    } else {
      spdlog::warn("calendar: communities.config timezone '{}' is not a known time zone; using UTC",
                   model::quote_for_error(*timezone));
    }
  }
  if (remind_minutes) {
    const std::string_view text = trim(*remind_minutes);
    const bool digits = !text.empty() && text.size() <= 4 &&
                        text.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits) {
      const int minutes = std::stoi(std::string(text));
      if (minutes <= kMaxRemindMinutes) out.remind_minutes = minutes;
    }
  }
  return out;
}

std::vector<model::Action> event_reminder(std::string_view title, int minutes, int going) {
  std::string when;
  if (minutes <= 0) {
    when = "Starting now";
  } else if (minutes % 60 == 0) {
    const int hours = minutes / 60;
    when = "Starting in " + std::to_string(hours) + (hours == 1 ? " hour" : " hours");
  } else {
    when = "Starting in " + std::to_string(minutes) + (minutes == 1 ? " minute" : " minutes");
  }
  const std::string headline = when + ": " + std::string(title);
  return {
      model::ChatAction{.text = trim_chat(headline + " (" + going_text(going) + ")")},
      model::TickerAction{
          .text = trim_chat(headline, 200), .duration = 15, .priority = "normal", .style = "info"}};
}

std::vector<CommandSpec> Calendar::commands() const {
  return {{"event", "community events: !event add|approve|reject|join|leave|cancel, !event <id>"},
          {"events", "the next approved community events: !events [n]"}};
}

boost::asio::awaitable<Actions> Calendar::handle(const ModuleRequest& request) {
  if (request.trigger != "command") co_return Actions{};
  if (request.command == "events") co_return co_await list(request);
  if (request.command != "event") co_return Actions{};
  const std::string sub = request.args.empty() ? std::string() : lower_ascii(request.args[0]);
  if (sub == "add") co_return co_await add(request);
  if (sub == "approve" || sub == "reject" || sub == "join" || sub == "leave" || sub == "cancel") {
    co_return co_await change(request, sub);
  }
  if (!sub.empty() && request.args.size() == 1) {
    if (const int id = parse_positive(sub); id > 0) co_return co_await show(request, id);
  }
  co_return say(std::string(kUsage));
}

boost::asio::awaitable<Actions> Calendar::add(const ModuleRequest& request) {
  // The settings first: "tomorrow" and "fri" depend on the community's zone.
  auto read_settings = [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    return load_settings(tx, request.community_id);
  };
  const CalendarSettings settings = co_await env_.pool.run(std::move(read_settings));
  const SystemTime now = chr::system_clock::now();

  const std::vector<std::string> words(request.args.begin() + 1, request.args.end());
  const WhenParse when = parse_when(words, settings.zone.to_local(now));
  if (!when.error.empty()) co_return say(when.error + " " + std::string(kAddUsage));
  if (!when.when) co_return say(std::string(kAddUsage));

  std::string_view title = skip_words(request.raw_args, 1 + when.words);
  Recurrence recurrence = Recurrence::none;
  if (const std::string_view word = last_word(title); word.size() != title.size()) {
    if (auto r = parse_recurrence(word); r && *r != Recurrence::none) {
      recurrence = *r;
      title = trim(title.substr(0, title.size() - word.size()));
    }
  }
  if (title.empty()) co_return say(std::string(kAddUsage));
  if (utf8_length(title) > kMaxEventTitleCharacters) {
    co_return say("An event title is at most " + std::to_string(kMaxEventTitleCharacters) +
                  " characters (that one has " + std::to_string(utf8_length(title)) + ").");
  }
  if (has_control_characters(title)) {
    co_return say("An event title cannot hold control characters (tabs, new lines).");
  }
  const SystemTime starts_at = settings.zone.from_local(*when.when);
  const std::string starts_text = when_text(settings.zone, starts_at);
  if (starts_at <= now) {
    co_return say(starts_text + " (" + settings.zone.name() +
                  ") is in the past; events need a time ahead.");
  }
  if (starts_at > now + kMaxEventAhead) {
    co_return say(starts_text + " is more than 2 years ahead; add events at most 2 years ahead.");
  }

  const bool approved = request.role() >= Role::moderator;
  struct Result {
    std::int64_t id = 0;  // 0: the pending limit was reached
    bool reminder = false;
  };
  auto insert = [&](pqxx::work& tx) {
    Result r;
    if (!approved) {
      const int pending = tx.exec_params1(
                                "select count(*) from calendar_events where community_id = $1 and "
                                "status = 'pending' and created_by_id = $2 and "
                                "created_by_platform is not distinct from nullif($3, '')",
                                request.community_id, request.user_id,
                                model::is_platform(request.platform) ? request.platform : "")[0]
                              .as<int>();
      if (pending >= kMaxPendingPerUser) return r;
    }
    EventRow e;
    e.community_id = request.community_id;
    e.entity_id = request.entity_id;
    e.title = std::string(title);
    e.starts_at = starts_at;
    e.time_zone = settings.zone.name();
    e.recurrence = recurrence;
    e.created_by_id = request.user_id;
    e.created_by_name = request.user_display_name;
    e.id = tx.exec_params1(
                 "insert into calendar_events (community_id, entity_id, title, starts_at, "
                 "time_zone, recurrence, status, created_by_id, created_by_platform, "
                 "created_by_name, approved_by, approved_at) values ($1, $2, $3, to_timestamp($4), "
                 "$5, $6, $7, $8, nullif($9, ''), $10, $11, case when $7 = 'approved' then now() "
                 "end) returning id",
                 e.community_id, e.entity_id, e.title,
                 chr::duration_cast<chr::seconds>(starts_at.time_since_epoch()).count(),
                 e.time_zone, std::string(recurrence_name(recurrence)),
                 std::string(approved ? "approved" : "pending"), e.created_by_id,
                 model::is_platform(request.platform) ? request.platform : std::string(),
                 e.created_by_name,
                 approved ? std::optional<std::string>(request.user_display_name) : std::nullopt)[0]
               .as<std::int64_t>();
    r.id = e.id;
    if (approved) r.reminder = schedule_reminder(tx, e, settings.remind_minutes, now);
    return r;
  };
  const Result result = co_await env_.pool.transaction(std::move(insert));
  if (result.id == 0) {
    co_return say("You already have " + std::to_string(kMaxPendingPerUser) +
                  " events waiting for approval; wait until a moderator has looked at them.");
  }
  std::string text = "Event #" + std::to_string(result.id) + " " + std::string(title) + " on " +
                     starts_text + " (" + settings.zone.name() + ")";
  if (recurrence != Recurrence::none) text += ", " + std::string(recurrence_name(recurrence));
  if (!approved) {
    co_return say(text + " waits for a moderator to approve it (!event approve " +
                  std::to_string(result.id) + ").");
  }
  text += " is on the calendar.";
  if (!result.reminder) text += " It starts too soon for a reminder.";
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> Calendar::list(const ModuleRequest& request) {
  std::size_t n = kDefaultListed;
  if (request.args.size() > 1) co_return say(std::string(kListUsage));
  if (request.args.size() == 1) {
    const int asked = parse_positive(request.args[0]);
    if (asked <= 0) co_return say(std::string(kListUsage));
    n = std::min<std::size_t>(static_cast<std::size_t>(asked), kMaxListed);
  }
  struct Listing {
    CalendarSettings settings;
    std::vector<EventRow> events;
  };
  auto read = [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    Listing out;
    out.settings = load_settings(tx, request.community_id);
    for (const auto& row : tx.exec_params(
             std::string(kEventSelect) +
                 "where e.community_id = $1 and e.status = 'approved' and (e.recurrence <> 'none' "
                 "or e.starts_at >= now()) order by e.starts_at limit $2",
             request.community_id, kMaxListedRows)) {
      out.events.push_back(read_event(row));
    }
    return out;
  };
  const Listing listing = co_await env_.pool.run(std::move(read), pg::Target::replica);
  const SystemTime now = chr::system_clock::now();
  std::vector<std::pair<SystemTime, const EventRow*>> upcoming;
  for (const auto& e : listing.events) {
    for (SystemTime at : occurrences_from(e.starts_at, e.recurrence, zone_of(e), now, n)) {
      upcoming.emplace_back(at, &e);
    }
  }
  if (upcoming.empty()) {
    co_return say("No upcoming events. Add one with !event add <when> <title>.");
  }
  std::stable_sort(upcoming.begin(), upcoming.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (upcoming.size() > n) upcoming.resize(n);
  std::string text = "Upcoming (" + listing.settings.zone.name() + "):";
  for (std::size_t i = 0; i < upcoming.size(); ++i) {
    const auto& [at, e] = upcoming[i];
    const std::string entry = (i == 0 ? " " : "; ") + std::string("#") + std::to_string(e->id) +
                              " " + when_text(listing.settings.zone, at) + " " + e->title;
    // Whole entries only; the last one that does not fit is cut with "…".
    if (utf8_length(text) + utf8_length(entry) > kMaxChatCharacters) {
      text = trim_chat(text + entry);
      break;
    }
    text += entry;
  }
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> Calendar::show(const ModuleRequest& request, int id) {
  struct Shown {
    CalendarSettings settings;
    std::optional<EventRow> event;
  };
  auto read = [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    return Shown{load_settings(tx, request.community_id),
                 find_event(tx, request.community_id, id, false)};
  };
  const Shown shown = co_await env_.pool.run(std::move(read), pg::Target::replica);
  if (!shown.event) co_return say(no_event(id));
  const EventRow& e = *shown.event;
  const auto& zone = shown.settings.zone;
  std::string text = event_label(e) + ": ";
  const auto next =
      next_occurrence(e.starts_at, e.recurrence, zone_of(e), chr::system_clock::now());
  if (e.recurrence == Recurrence::none) {
    text += when_text(zone, e.starts_at);
    if (!next) text += " (over)";
  } else {
    text += std::string(recurrence_name(e.recurrence)) + " from " + when_text(zone, e.starts_at);
    if (next && next->index > 0) text += ", next " + when_text(zone, next->at);
  }
  text += " (" + zone.name() + "), " + going_text(e.going) + ", added by " + e.created_by_name;
  if (e.status != "approved") text += "; it " + status_phrase(e);
  co_return say(text + ".");
}

boost::asio::awaitable<Actions> Calendar::change(const ModuleRequest& request,
                                                 std::string_view sub) {
  const std::string usage = "Usage: !event " + std::string(sub) + " <id>";
  if (request.args.size() != 2) co_return say(usage);
  const int id = parse_positive(request.args[1]);
  if (id <= 0) co_return say(usage);
  const bool moderator = request.role() >= Role::moderator;
  if ((sub == "approve" || sub == "reject") && !moderator) {
    co_return say(role_refusal(request, Role::moderator, std::string(sub) + " events"));
  }

  const SystemTime now = chr::system_clock::now();
  const std::string platform = model::is_platform(request.platform) ? request.platform : "";
  auto apply = [&](pqxx::work& tx) -> std::string {
    const CalendarSettings settings = load_settings(tx, request.community_id);
    auto found = find_event(tx, request.community_id, id, true);
    if (!found) return no_event(id);
    EventRow& e = *found;
    const bool open = e.status == "pending" || e.status == "approved";

    if (sub == "join" || sub == "leave") {
      if (sub == "join") {
        if (!open) return "Event " + event_label(e) + " " + status_phrase(e) + ".";
        const bool joined = !tx.exec_params(
                                   "insert into calendar_attendees (event_id, platform, user_id, "
                                   "user_name) values ($1, coalesce(nullif($2, ''), 'console'), "
                                   "$3, $4) on conflict do nothing returning id",
                                   e.id, platform, request.user_id, request.user_display_name)
                                 .empty();
        if (!joined) {
          return request.user_display_name + " is already going to " + event_label(e) + " (" +
                 going_text(e.going) + ").";
        }
        return request.user_display_name + " is going to " + event_label(e) + " (" +
               going_text(e.going + 1) + ").";
      }
      const bool left = !tx.exec_params(
                               "delete from calendar_attendees where event_id = $1 and platform = "
                               "coalesce(nullif($2, ''), 'console') and user_id = $3 returning id",
                               e.id, platform, request.user_id)
                             .empty();
      if (!left) return request.user_display_name + " was not going to " + event_label(e) + ".";
      return request.user_display_name + " is no longer going to " + event_label(e) + " (" +
             going_text(e.going - 1) + ").";
    }

    if (sub == "cancel" && !moderator && !is_creator(e, request)) {
      return role_refusal(request, Role::moderator, "cancel events others added");
    }
    if (!open) return "Event " + event_label(e) + " " + status_phrase(e) + " already.";

    if (sub == "approve") {
      if (e.status == "approved") return "Event " + event_label(e) + " is approved already.";
      if (!next_occurrence(e.starts_at, e.recurrence, zone_of(e), now)) {
        return "Event " + event_label(e) + " was on " + when_text(settings.zone, e.starts_at) +
               "; it is over. Reject it instead.";
      }
      tx.exec_params(
          "update calendar_events set status = 'approved', approved_by = $2, approved_at = now() "
          "where id = $1",
          e.id, request.user_display_name);
      const bool reminder = schedule_reminder(tx, e, settings.remind_minutes, now);
      return "Approved event " + event_label(e) + "." +
             (reminder ? "" : " It starts too soon for a reminder.");
    }
    // reject or cancel: the event and any pending reminder go.
    const std::string status = sub == "reject" ? "rejected" : "cancelled";
    tx.exec_params(
        "update calendar_events set status = $2, cancelled_by = $3, cancelled_at = now() where id "
        "= $1",
        e.id, status, request.user_display_name);
    cancel_scheduled(tx, kCalendarModule, kCalendarReminderKind, e.id);
    return (sub == "reject" ? "Rejected event " : "Cancelled event ") + event_label(e) + ".";
  };
  std::string text = co_await env_.pool.transaction(std::move(apply));
  co_return say(std::move(text));
}

boost::asio::awaitable<DueResult> Calendar::on_due(const ScheduledItem& item) {
  if (!item.ref_id) co_return DueResult{};
  struct Due {
    CalendarSettings settings;
    std::optional<EventRow> event;
  };
  auto read = [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    return Due{load_settings(tx, item.community_id),
               find_event(tx, item.community_id, *item.ref_id, false)};
  };
  const Due due = co_await env_.pool.run(std::move(read));
  // Cancelled, rejected or deleted since it was scheduled: nothing to say, nothing next.
  if (!due.event || due.event->status != "approved") co_return DueResult{};
  const EventRow& e = *due.event;
  const TimeZone zone = zone_of(e);
  // The occurrence this reminder was for: the first at or after its due time.
  const auto occurrence = next_occurrence(e.starts_at, e.recurrence, zone, item.due_at);
  if (!occurrence) co_return DueResult{};
  const SystemTime now = chr::system_clock::now();

  DueResult result;
  if (now <= occurrence->at + kReminderGrace) {
    // The configured lead, unless the reminder comes later than that (a worker was down).
    const std::int64_t left = chr::ceil<chr::minutes>(occurrence->at - now).count();
    const std::int64_t minutes = std::min<std::int64_t>(due.settings.remind_minutes, left);
    result.actions = event_reminder(e.title, static_cast<int>(minutes), e.going);
  }
  if (e.recurrence != Recurrence::none) {
    const int minutes = due.settings.remind_minutes;
    const LocalDateTime first = zone.to_local(e.starts_at);
    for (std::int64_t index = occurrence->index + 1;; ++index) {
      const SystemTime at = zone.from_local(occurrence_local(first, e.recurrence, index));
      if (at - chr::minutes(minutes) > now) {
        result.next = reminder_item(e, at, minutes);
        break;
      }
    }
  }
  co_return result;
}

}  // namespace waddle::actions
