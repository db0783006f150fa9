// The calendar module against the real PostgreSQL: events added, approved, joined, cancelled and
// listed from chat (signed module requests, and through the real waddle-routerd), reminders
// scheduled in scheduled_messages, Calendar::on_due on real rows, and one reminder delivered by
// the scheduler through the router to a fake collector.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "actions/modules/calendar/calendar.hpp"
#include "actions/text.hpp"
#include "actions_chat_harness.hpp"
#include "fakes/collector_server.hpp"
#include "pg/pool.hpp"
#include "router_support.hpp"

using namespace waddle::test::actions;
namespace chr = std::chrono;

namespace {

int this_year() {
  const auto today = chr::floor<chr::days>(chr::system_clock::now());
  return static_cast<int>(chr::year_month_day{today}.year());
}

// "<year>-<rest>" for a year relative to this one: dates that stay ahead (or behind) whenever
// the test runs.
std::string in_year(int offset, const std::string& rest) {
  return std::to_string(this_year() + offset) + "-" + rest;
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

void set_calendar_config(ChatHarness& h, const std::string& config, std::int64_t community = 0) {
  h.exec("update communities set config = '" + config +
         "' where id = " + std::to_string(community ? community : h.community()));
}

}  // namespace

TEST_CASE("calendar: moderators' events are approved at once, members' wait for a moderator") {
  ChatHarness h;
  const std::string m = "calendar";
  set_calendar_config(h, R"({"timezone": "Europe/Berlin", "calendar": {"remind_minutes": 30}})");
  const std::string xmas = in_year(1, "12-24");

  const std::string added = h.chat(m, kMod, "!event add " + xmas + " 18:00 Christmas stream 🎄");
  CHECK(contains(added, "Event #1 Christmas stream 🎄 on "));
  CHECK(contains(added, xmas + " 18:00 (Europe/Berlin) is on the calendar."));
  // Stored in UTC (CET is +1), with the zone it was added in; the reminder 30 minutes before.
  CHECK(h.query("select status, to_char(starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), "
                "time_zone, recurrence, created_by_name, approved_by, entity_id from "
                "calendar_events") ==
        json::array({json::array({"approved", xmas + " 17:00", "Europe/Berlin", "none", "modbob",
                                  "modbob", "console:local:demo"})}));
  CHECK(h.query("select module_name, kind, ref_id, to_char(due_at at time zone 'UTC', "
                "'YYYY-MM-DD HH24:MI'), state, actions->0->>'text', actions->1->>'type' from "
                "scheduled_messages") ==
        json::array(
            {json::array({"calendar", "event", "1", xmas + " 16:30", "pending",
                          "Starting in 30 minutes: Christmas stream 🎄 (0 going)", "ticker"})}));

  const std::string nye = in_year(1, "12-31");
  const std::string sneaky = "Robert'); DROP TABLE calendar_events;-- ‏שלום weekly";
  const std::string pending = h.chat(m, kAlice, "!event add " + nye + "T20:00 " + sneaky);
  CHECK(contains(pending, "Event #2 Robert'); DROP TABLE calendar_events;-- ‏שלום on "));
  CHECK(contains(pending, nye + " 20:00 (Europe/Berlin), weekly waits for a moderator to approve "
                                "it (!event approve 2)."));
  CHECK(h.query("select count(*) from scheduled_messages where ref_id = 2")[0][0] == "0");
  CHECK(h.chat(m, kAlice, "!event approve 2") ==
        "Sorry alice, only moderators and above can approve events.");
  CHECK(h.chat(m, kAlice, "!event reject 2") ==
        "Sorry alice, only moderators and above can reject events.");
  const std::string only_first = h.chat(m, kAlice, "!events");
  CHECK(contains(only_first, "Upcoming (Europe/Berlin): #1 "));
  CHECK(count_of(only_first, "#") == 1);
  CHECK(contains(h.chat(m, kAlice, "!event 2"), "; it waits for a moderator's approval."));

  CHECK(h.chat(m, kMod, "!event approve #2") ==
        "Approved event #2 Robert'); DROP TABLE calendar_events;-- ‏שלום.");
  CHECK(h.chat(m, kMod, "!event approve 2") ==
        "Event #2 Robert'); DROP TABLE calendar_events;-- ‏שלום is approved already.");
  CHECK(h.query("select count(*) from scheduled_messages where ref_id = 2 and state = "
                "'pending'")[0][0] == "1");

  // The one-off, then the weekly event's occurrences, in time order.
  const std::string five = h.chat(m, kAlice, "!events 5");
  CHECK(contains(five, "#1 "));
  CHECK(count_of(five, "#2 ") == 4);
  CHECK(five.find("#1 ") < five.find("#2 "));
  CHECK(contains(five, in_year(2, "01-07 20:00")));
  CHECK(h.chat(m, kAlice, "!events 50") == h.chat(m, kAlice, "!events 10"));  // at most 10

  CHECK(h.chat(m, kMod, "!event reject 2") ==
        "Rejected event #2 Robert'); DROP TABLE calendar_events;-- ‏שלום.");
  CHECK(h.query("select state from scheduled_messages where ref_id = 2") ==
        json::array({json::array({"cancelled"})}));
  CHECK(contains(h.chat(m, kAlice, "!event 2"), "; it was rejected."));
  CHECK(count_of(h.chat(m, kAlice, "!events 5"), "#") == 1);
  CHECK(h.query("select count(*) from calendar_events")[0][0] == "2");
}

TEST_CASE("calendar: join and leave counts, cancelling by the creator or a moderator") {
  ChatHarness h;
  const std::string m = "calendar";
  const std::string day = in_year(1, "06-01");
  CHECK(contains(h.chat(m, kMod, "!event add " + day + " 19:00 Board games"), "(UTC)"));

  CHECK(h.chat(m, kAlice, "!event join 1") == "alice is going to #1 Board games (1 going).");
  CHECK(h.chat(m, kAlice, "!event join 1") ==
        "alice is already going to #1 Board games (1 going).");
  CHECK(h.chat(m, kBob, "!event join 1") == "bob is going to #1 Board games (2 going).");
  const std::string shown = h.chat(m, kAlice, "!event 1");
  CHECK(shown.rfind("#1 Board games: ", 0) == 0);
  CHECK(contains(shown, day + " 19:00 (UTC), 2 going, added by modbob."));
  CHECK(h.chat(m, kAlice, "!event leave 1") ==
        "alice is no longer going to #1 Board games (1 going).");
  CHECK(h.chat(m, kAlice, "!event leave 1") == "alice was not going to #1 Board games.");
  CHECK(h.query("select platform, user_id, user_name from calendar_attendees") ==
        json::array({json::array({"console", "4", "bob"})}));

  CHECK(contains(h.chat(m, kAlice, "!event add " + day + " 21:00 Alice's quiz"),
                 "waits for a moderator"));
  CHECK(h.chat(m, kBob, "!event cancel 2") ==
        "Sorry bob, only moderators and above can cancel events others added.");
  CHECK(h.chat(m, kAlice, "!event cancel 2") == "Cancelled event #2 Alice's quiz.");
  CHECK(h.chat(m, kAlice, "!event cancel 2") == "Event #2 Alice's quiz was cancelled already.");
  CHECK(h.chat(m, kBob, "!event join 2") == "Event #2 Alice's quiz was cancelled.");
  CHECK(h.chat(m, kMod, "!event approve 2") == "Event #2 Alice's quiz was cancelled already.");

  CHECK(h.chat(m, kMod, "!event cancel 1") == "Cancelled event #1 Board games.");
  CHECK(h.query("select state from scheduled_messages where ref_id = 1") ==
        json::array({json::array({"cancelled"})}));
  CHECK(h.chat(m, kAlice, "!events") ==
        "No upcoming events. Add one with !event add <when> <title>.");

  CHECK(h.chat(m, kAlice, "!event join 99") == "There is no event #99.");
  CHECK(h.chat(m, kAlice, "!event 99") == "There is no event #99.");
  CHECK(h.chat(m, kMod, "!event cancel 99") == "There is no event #99.");
  // Another community does not see this one's events.
  const auto other = h.add_community("other");
  CHECK(h.chat(m, kAlice, "!event 1", other) == "There is no event #1.");
  CHECK(h.chat(m, kMod, "!event approve 2", other) == "There is no event #2.");
}

TEST_CASE("calendar: bad input gets usage lines and limits, and nothing is stored") {
  ChatHarness h;
  const std::string m = "calendar";
  const std::string usage = "Usage: !event add <when> <title> [weekly|monthly]";
  CHECK(contains(h.chat(m, kAlice, "!event"), "Usage: !event add"));
  CHECK(contains(h.chat(m, kAlice, "!event frobnicate"), "Usage: !event add"));
  CHECK(contains(h.chat(m, kAlice, "!event add"), usage));
  CHECK(contains(h.chat(m, kAlice, "!event add party tonight"), usage));
  CHECK(contains(h.chat(m, kAlice, "!event add tomorrow"), "Give a time after 'tomorrow'"));
  CHECK(contains(h.chat(m, kAlice, "!event add tomorrow 8pm Party"), "'8pm' is not a time"));
  CHECK(contains(h.chat(m, kAlice, "!event add " + in_year(1, "02-30") + " 10:00 Party"),
                 "is not a date"));
  CHECK(contains(h.chat(m, kAlice, "!event add " + in_year(1, "05-01") + " 10:00"), usage));
  CHECK(contains(h.chat(m, kAlice, "!event add " + in_year(1, "05-01") + " 10:00 weekly"),
                 "Event #"));  // "weekly" alone is the title
  CHECK(contains(h.chat(m, kAlice, "!event add " + in_year(-1, "05-01") + " 10:00 Old"),
                 "is in the past; events need a time ahead."));
  CHECK(contains(h.chat(m, kAlice, "!event add " + in_year(3, "05-01") + " 10:00 Far"),
                 "is more than 2 years ahead"));
  const std::string huge =
      h.chat(m, kAlice, "!event add tomorrow 18:00 " + std::string(10240, 'x'));
  CHECK(huge == "An event title is at most 200 characters (that one has 10240).");
  CHECK(
      contains(h.chat(m, kAlice, "!event add tomorrow 18:00 " + std::string(200, 'y')), "Event #"));
  for (const std::string sub : {"approve", "reject", "join", "leave", "cancel"}) {
    CHECK(h.chat(m, kMod, "!event " + sub) == "Usage: !event " + sub + " <id>");
    CHECK(h.chat(m, kMod, "!event " + sub + " x") == "Usage: !event " + sub + " <id>");
    CHECK(h.chat(m, kMod, "!event " + sub + " 1 2") == "Usage: !event " + sub + " <id>");
  }
  CHECK(h.chat(m, kAlice, "!events 0") == "Usage: !events [n] (n from 1 to 10)");
  CHECK(h.chat(m, kAlice, "!events lots") == "Usage: !events [n] (n from 1 to 10)");
  CHECK(h.chat(m, kAlice, "!events 1 2") == "Usage: !events [n] (n from 1 to 10)");
  CHECK(h.query("select count(*) from calendar_events")[0][0] == "2");

  // Emoji and right-to-left text are stored and shown as typed.
  const std::string rtl = "مرحبا 🎉 שלום \"quoted\" 100% $(user) {arg1}";
  CHECK(contains(h.chat(m, kMod, "!event add tomorrow 18:00 " + rtl), "Event #3 " + rtl + " on "));
  CHECK(h.query("select title from calendar_events where id = 3")[0][0] == rtl);
  CHECK(contains(h.chat(m, kAlice, "!event 3"), "#3 " + rtl + ": "));

  // A member has at most 5 events waiting for approval (2 so far).
  for (int i = 0; i < 3; ++i) {
    CHECK(contains(h.chat(m, kAlice, "!event add tomorrow 1" + std::to_string(i) + ":00 Idea"),
                   "waits for a moderator"));
  }
  CHECK(contains(h.chat(m, kAlice, "!event add tomorrow 20:00 One too many"),
                 "You already have 5 events waiting for approval"));
  CHECK(contains(h.chat(m, kBob, "!event add tomorrow 20:00 Bob's idea"), "waits for a moderator"));

  // Every answer fits one chat message, even with ten 200-character titles.
  for (int i = 0; i < 10; ++i) {
    h.chat(m, kMod, "!event add tomorrow 0" + std::to_string(i) + ":00 " + std::string(200, 'z'));
  }
  const std::string listed = h.chat(m, kAlice, "!events 10");
  CHECK(waddle::actions::utf8_length(listed) <= 500);
  CHECK(contains(listed, "…"));
}

TEST_CASE("calendar: the community's time zone and reminder lead, and events too soon to remind") {
  ChatHarness h;
  const std::string m = "calendar";
  set_calendar_config(h,
                      R"({"timezone": "America/New_York", "calendar": {"remind_minutes": "60"}})");
  const std::string game = h.chat(m, kMod, "!event add fri 20:00 Game night weekly");
  CHECK(contains(game, "Event #1 Game night on Fri "));
  CHECK(contains(game, " 20:00 (America/New_York), weekly is on the calendar."));
  // Reminder an hour before; 20:00 in New York is 00:00 or 01:00 UTC the next day.
  CHECK(h.query("select extract(epoch from e.starts_at - s.due_at)::int, to_char(e.starts_at at "
                "time zone 'America/New_York', 'Dy HH24:MI') from calendar_events e join "
                "scheduled_messages s on s.ref_id = e.id") ==
        json::array({json::array({"3600", "Fri 20:00"})}));
  CHECK(contains(h.chat(m, kAlice, "!event 1"), "#1 Game night: weekly from Fri "));

  // An unknown zone is UTC.
  set_calendar_config(h, R"({"timezone": "Mars/Olympus_Mons"})");
  CHECK(contains(h.chat(m, kMod, "!event add tomorrow 18:00 Mars party"), "(UTC)"));

  // Starting within the lead time: on the calendar, without a reminder.
  set_calendar_config(h, R"({"calendar": {"remind_minutes": 120}})");
  const auto soon = chr::floor<chr::minutes>(chr::system_clock::now() + chr::minutes(30));
  const auto soon_day = chr::floor<chr::days>(soon);
  const chr::year_month_day ymd{soon_day};
  const auto minute_of_day = (soon - soon_day).count();
  char when[32];
  std::snprintf(when, sizeof when, "%04d-%02u-%02uT%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(minute_of_day / 60), static_cast<int>(minute_of_day % 60));
  const std::string quick = h.chat(m, kMod, std::string("!event add ") + when + " Quick one");
  CHECK(contains(quick, "is on the calendar. It starts too soon for a reminder."));
  CHECK(h.query("select count(*) from scheduled_messages s join calendar_events e on e.id = "
                "s.ref_id where e.title = 'Quick one'")[0][0] == "0");
  CHECK(contains(h.chat(m, kAlice, "!events"), "Quick one"));
}

namespace {

namespace asio = boost::asio;
using waddle::actions::Calendar;
using waddle::actions::ModuleRequest;
using waddle::actions::ScheduledItem;

// The calendar module on its own pool, called directly (no HTTP): for on_due on real rows.
class DirectCalendar {
 public:
  DirectCalendar()
      : guard_(asio::make_work_guard(io_)),
        runner_([this] { io_.run(); }),
        pool_({.primary_url = db_.url(), .size = 2, .worker_threads = 2}),
        calendar_(waddle::actions::ModuleEnv{pool_, "http://127.0.0.1:1/modules/calendar"}) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    community_ = tx.exec1("insert into communities (name) values ('demo') returning id")[0]
                     .as<std::int64_t>();
    tx.commit();
  }
  ~DirectCalendar() {
    guard_.reset();
    runner_.join();
  }

  std::string chat(const ChatUser& user, const std::string& message) {
    ModuleRequest r =
        waddle::actions::parse_module_request(ChatHarnessBody::body_for(user, message, community_));
    auto actions = asio::co_spawn(io_, calendar_.handle(r), asio::use_future).get();
    REQUIRE(actions.size() == 1);
    return std::get<waddle::model::ChatAction>(actions[0]).text;
  }

  // The pending scheduled_messages row of event `id`, as the scheduler hands it to on_due.
  ScheduledItem pending_item(std::int64_t id) {
    pqxx::connection conn(db_.url());
    pqxx::nontransaction tx(conn);
    auto row = tx.exec_params1(
        "select id, community_id, entity_id, module_name, kind, ref_id, "
        "extract(epoch from due_at)::bigint, actions::text from scheduled_messages where ref_id = "
        "$1 and state = 'pending'",
        id);
    ScheduledItem item;
    item.id = row[0].as<std::int64_t>();
    item.community_id = row[1].as<std::int64_t>();
    item.entity_id = row[2].as<std::string>();
    item.module_name = row[3].as<std::string>();
    item.kind = row[4].as<std::string>();
    item.ref_id = row[5].as<std::int64_t>();
    item.due_at = waddle::actions::SystemTime{chr::seconds{row[6].as<std::int64_t>()}};
    item.actions = waddle::model::parse_actions(json::parse(row[7].as<std::string>()));
    return item;
  }

  waddle::actions::DueResult due(const ScheduledItem& item) {
    return asio::co_spawn(io_, calendar_.on_due(item), asio::use_future).get();
  }

  void exec(const std::string& sql) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec(sql);
    tx.commit();
  }

 private:
  // body_for without a server: the harness's request shape.
  struct ChatHarnessBody {
    static json body_for(const ChatUser& user, const std::string& message, std::int64_t id) {
      std::string rest = message.substr(1);
      const auto space = rest.find(' ');
      const std::string command = rest.substr(0, space);
      const std::string raw = space == std::string::npos ? "" : rest.substr(space + 1);
      json args = json::array();
      std::string word;
      for (char c : raw + " ") {
        if (c != ' ') {
          word += c;
        } else if (!word.empty()) {
          args.push_back(word);
          word.clear();
        }
      }
      return {{"entity_id", "console:local:demo"},
              {"community", {{"id", id}, {"name", "demo"}}},
              {"platform", "console"},
              {"user",
               {{"id", user.id},
                {"name", user.name},
                {"roles", user.roles},
                {"community_role", user.community_role}}},
              {"trigger", "command"},
              {"command", command},
              {"args", args},
              {"raw_args", raw},
              {"message", message}};
    }
  };

  waddle::test::FreshDatabase db_{true};
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread runner_;
  waddle::pg::Pool pool_;
  Calendar calendar_;
  std::int64_t community_ = 0;
};

std::string chat_text(const waddle::actions::DueResult& result) {
  for (const auto& action : result.actions) {
    if (auto* chat = std::get_if<waddle::model::ChatAction>(&action)) return chat->text;
  }
  return "";
}

}  // namespace

TEST_CASE("calendar: on_due rebuilds the reminder from the event's row and schedules the next") {
  DirectCalendar c;
  CHECK(contains(c.chat(kMod, "!event add tomorrow 18:00 Weekly stream weekly"), "Event #1"));
  const ScheduledItem item = c.pending_item(1);
  CHECK(item.module_name == "calendar");
  CHECK(item.kind == "event");
  CHECK(item.entity_id == "console:local:demo");
  REQUIRE(item.actions.size() == 2);
  CHECK(std::get<waddle::model::ChatAction>(item.actions[0]).text ==
        "Starting in 15 minutes: Weekly stream (0 going)");

  // Joins after scheduling count at fire time.
  c.chat(kAlice, "!event join 1");
  c.chat(kBob, "!event join 1");
  const auto result = c.due(item);
  REQUIRE(result.actions.size() == 2);
  CHECK(chat_text(result) == "Starting in 15 minutes: Weekly stream (2 going)");
  const auto& ticker = std::get<waddle::model::TickerAction>(result.actions[1]);
  CHECK(ticker.text == "Starting in 15 minutes: Weekly stream");
  REQUIRE(result.next);
  CHECK(result.next->due_at == item.due_at + chr::days(7));  // UTC: the same wall-clock time
  CHECK(result.next->ref_id == item.ref_id);
  CHECK(result.next->module_name == "calendar");
  CHECK(result.next->kind == "event");
  CHECK(result.next->entity_id == "console:local:demo");
  CHECK(result.next->community_id == item.community_id);

  // A reminder delivered long after the start says nothing, but the next one still comes.
  c.exec("update calendar_events set starts_at = now() - interval '2 hours' where id = 1");
  ScheduledItem late = item;
  late.due_at =
      chr::floor<chr::seconds>(chr::system_clock::now()) - chr::hours(2) - chr::minutes(15);
  const auto stale = c.due(late);
  CHECK(stale.actions.empty());
  REQUIRE(stale.next);
  CHECK(stale.next->due_at > chr::system_clock::now() + chr::days(6));

  // A one-off event has no next; a cancelled one says nothing at all.
  CHECK(contains(c.chat(kMod, "!event add tomorrow 19:00 Once"), "Event #2"));
  const ScheduledItem once = c.pending_item(2);
  const auto once_result = c.due(once);
  CHECK(chat_text(once_result) == "Starting in 15 minutes: Once (0 going)");
  CHECK_FALSE(once_result.next);
  CHECK(c.chat(kMod, "!event cancel 2") == "Cancelled event #2 Once.");
  const auto cancelled = c.due(once);
  CHECK(cancelled.actions.empty());
  CHECK_FALSE(cancelled.next);
  ScheduledItem unknown = once;
  unknown.ref_id = 999;
  CHECK(c.due(unknown).actions.empty());
}

namespace {

// An io_context run by its own thread until destroyed.
struct IoThread {
  IoThread() : guard(asio::make_work_guard(io)), runner([this] { io.run(); }) {}
  ~IoThread() {
    guard.reset();
    runner.join();
  }
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::thread runner;
};

// waddle-actiond's server (calendar only) with its scheduler sending to the router.
class ActiondBeside {
 public:
  ActiondBeside(const std::string& database_url, std::uint16_t router_port)
      : server_(thread_.io, waddle::actions::Settings{
                                .listen_address = "127.0.0.1",
                                .port = 0,
                                .modules = {"calendar"},
                                .database_url = database_url,
                                .pool_size = 2,
                                .router_url = "http://127.0.0.1:" + std::to_string(router_port),
                                .router_api_key = waddle::test::kModuleKey,
                                .scheduler = {.poll_interval = chr::milliseconds(200)}}) {
    server_.start();
  }
  ~ActiondBeside() { server_.stop(chr::seconds(2)); }
  waddle::actions::ActionServer& server() { return server_; }

 private:
  IoThread thread_;
  waddle::actions::ActionServer server_;
};

}  // namespace

TEST_CASE("calendar: through the router, a reminder reaches the collector via the scheduler") {
  waddle::test::RouterHarness router;
  router.start();
  IoThread collector_thread;
  waddle::fakes::CollectorServer collector(collector_thread.io, "console", "console-test");
  collector.register_with("http://127.0.0.1:" + std::to_string(router.port()),
                          waddle::test::kCollectorKey);
  ActiondBeside actiond(router.db().url(), router.port());
  // The calendar's commands rows reach the router through NOTIFY.
  CHECK(router.eventually(
      [&] { return router.send(router.chat_event("!events")).at("executions").size() == 1; }));

  auto say = [&](const std::string& message, const std::string& user,
                 std::vector<std::string> roles = {}) {
    const json reply = router.send(router.chat_event(message, user, std::move(roles)));
    INFO(message << " -> " << reply.dump());
    REQUIRE(reply.at("executions").size() == 1);
    CHECK(reply["executions"][0]["status"] == "success");
    REQUIRE(reply.at("actions").size() == 1);
    return reply["actions"][0].at("text").get<std::string>();
  };
  CHECK(contains(say("!event add tomorrow 18:00 Launch party 🚀", "alice"),
                 "waits for a moderator to approve it (!event approve 1)."));
  CHECK(say("!event approve 1", "alice") ==
        "Sorry alice, only moderators and above can approve events.");
  CHECK(say("!event approve 1", "modbob", {"moderator"}) == "Approved event #1 Launch party 🚀.");
  CHECK(say("!event join 1", "alice") == "alice is going to #1 Launch party 🚀 (1 going).");

  // Make the reminder due now instead of tomorrow, and wake the scheduler.
  router.sql("update scheduled_messages set due_at = now() where ref_id = 1");
  REQUIRE(actiond.server().scheduler() != nullptr);
  actiond.server().scheduler()->wake();
  const bool arrived =
      collector.wait_for([](const auto& calls) { return !calls.empty(); }, chr::seconds(20));
  INFO(router.log());
  REQUIRE(arrived);
  CHECK(collector.chat_texts() ==
        std::vector<std::string>{"Starting in 15 minutes: Launch party 🚀 (1 going)"});
  const auto calls = collector.calls();
  CHECK(calls[0].at("entity_id") == "console:local:demo");
  CHECK(calls[0].at("module_name") == "calendar");
  CHECK(router.wait_count(
            "select count(*) from scheduled_messages where ref_id = 1 and state = 'delivered'",
            1) == 1);
}
