// The scheduler end to end: chat commands go through the real waddle-routerd to waddle-actiond
// (in-process ActionServers, or the real waddle-actiond binary), scheduled rows fire through the
// router's POST /router/messages, and arrive at a fake collector registered with the router.
// Tests make rows due by moving due_at in the database instead of waiting minutes.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <thread>

#include "actions/scheduler.hpp"
#include "actions/server.hpp"
#include "ctl/client.hpp"
#include "fakes/collector_server.hpp"
#include "router_support.hpp"

#ifndef WADDLE_ACTIOND
#error "WADDLE_ACTIOND must name the waddle-actiond binary"
#endif

using nlohmann::json;
using waddle::test::RouterHarness;
using waddle::test::RouterOptions;
using namespace std::chrono_literals;

namespace {

// How many chat actions of `calls` say `text`.
std::size_t count(const waddle::fakes::CollectorServer::Calls& calls, const std::string& text) {
  std::size_t n = 0;
  for (const auto& call : calls) {
    for (const auto& action : call.value("actions", json::array())) {
      if (action.value("type", "") == "chat" && action.value("text", "") == text) ++n;
    }
  }
  return n;
}

const std::vector<std::string> kMod{"moderator"};

// An io_context on its own thread, for the fake collector and the in-process servers.
class Loop {
 public:
  Loop() : guard_(boost::asio::make_work_guard(io_)), runner_([this] { io_.run(); }) {}
  ~Loop() { stop(); }
  // Servers that ran on it are destroyed only after this: no handler of theirs runs any more.
  void stop() {
    guard_.reset();
    io_.stop();
    if (runner_.joinable()) runner_.join();
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread runner_;
};

// One waddle-actiond in-process: its modules, its outbox to the router and its scheduler.
class Worker {
 public:
  Worker(const RouterHarness& h, std::uint16_t router_port) {
    server_ = std::make_unique<waddle::actions::ActionServer>(
        loop_.io(),
        waddle::actions::Settings{.listen_address = "127.0.0.1",
                                  .port = 0,
                                  .database_url = h.db().url(),
                                  .pool_size = 3,
                                  .router_url = "http://127.0.0.1:" + std::to_string(router_port),
                                  .router_api_key = waddle::test::kModuleKey,
                                  .scheduler = {.poll_interval = 200ms}});
    server_->start();
  }
  ~Worker() {
    server_->stop(5s);
    loop_.stop();
    server_.reset();
  }
  waddle::actions::Scheduler& scheduler() { return *server_->scheduler(); }
  // Waits for `n` more passes of the scheduler: what was due before is handled by then.
  bool passes(std::uint64_t n) {
    const auto start = scheduler().stats()["passes"].get<std::uint64_t>();
    for (int i = 0; i < 500; ++i) {
      scheduler().wake();
      if (scheduler().stats()["passes"].get<std::uint64_t>() >= start + n) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

 private:
  Loop loop_;
  std::unique_ptr<waddle::actions::ActionServer> server_;
};

// The router, a fake console collector registered with it, helpers to chat and wait.
class Stack {
 public:
  Stack() : h_(RouterOptions{.redis = false}) {
    h_.start();
    collector_ =
        std::make_unique<waddle::fakes::CollectorServer>(fakes_.io(), "console", "console-test");
    collector_->register_with(base_url(), waddle::test::kCollectorKey);
  }
  ~Stack() { fakes_.stop(); }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(h_.port()); }
  RouterHarness& h() { return h_; }
  waddle::fakes::CollectorServer& collector() { return *collector_; }

  // The chat answers of the router's reply to `message`, joined by " | ".
  std::string say(const std::string& message, const std::string& user = "alice",
                  std::vector<std::string> roles = {}) {
    const json reply = h_.send(h_.chat_event(message, user, std::move(roles)));
    std::string out;
    for (const auto& action : reply.at("actions")) {
      if (action.at("type") == "chat") {
        out += (out.empty() ? "" : " | ") + action.at("text").get<std::string>();
      }
    }
    return out;
  }

  // The router learns new commands through NOTIFY: waits until `message` gets an answer.
  std::string say_eventually(const std::string& message, const std::string& user = "alice",
                             std::vector<std::string> roles = {}) {
    std::string answer;
    h_.eventually([&] {
      answer = say(message, user, roles);
      return !answer.empty();
    });
    return answer;
  }

  // The first column of the first row; 0 or "" when there is no row or it is null.
  std::int64_t number(const std::string& sql) {
    const auto rows = h_.query(sql);
    return rows.empty() || rows[0][0].is_null() ? 0 : rows[0][0].as<std::int64_t>();
  }
  std::string text(const std::string& sql) {
    const auto rows = h_.query(sql);
    return rows.empty() || rows[0][0].is_null() ? "" : rows[0][0].as<std::string>();
  }

  // How many times `text` was said to the collector.
  std::size_t said(const std::string& text) const { return count(collector_->calls(), text); }
  bool wait_said(const std::string& text, std::size_t times = 1) {
    const bool ok = collector_->wait_for(
        [&](const waddle::fakes::CollectorServer::Calls& calls) {
          return count(calls, text) >= times;
        },
        20s);
    if (!ok) UNSCOPED_INFO("waddle-routerd log:\n" << h_.log());
    return ok;
  }

 private:
  RouterHarness h_;
  Loop fakes_;
  std::unique_ptr<waddle::fakes::CollectorServer> collector_;
};

std::int64_t id_in(const std::string& answer) {
  const auto hash = answer.rfind("(#");
  REQUIRE(hash != std::string::npos);
  return std::stoll(answer.substr(hash + 2));
}

// waddle-actiond as a child process with the scheduler configured.
class ActiondProcess {
 public:
  ActiondProcess(const RouterHarness& h, const std::string& router_url) {
    const std::string config =
        "database:\n  url: " + h.db().url() + "\n  pool_size: 3\nlog:\n  level: debug\n" +
        "actions:\n  port: " + std::to_string(waddle::test::free_port()) +
        "\n  admin_socket: " + dir_.file("actions.sock") + "\n  router_url: " + router_url +
        "\n  router_api_key: " + waddle::test::kModuleKey + "\n";
    child_ = std::make_unique<waddle::test::ChildProcess>(
        std::vector<std::string>{WADDLE_ACTIOND, "--config", dir_.write("waddle.yaml", config)},
        std::vector<std::pair<std::string, std::string>>{}, dir_.file("actiond.log"));
    for (int i = 0; i < 500; ++i) {
      if (!child_->alive()) FAIL("waddle-actiond exited:\n" << child_->log());
      try {
        if (waddle::ctl::call(socket(), "status").result == 0) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(20ms);
    }
    FAIL("waddle-actiond did not answer on its admin socket:\n" << child_->log());
  }
  ~ActiondProcess() { stop(); }
  int stop() { return child_ ? std::exchange(child_, nullptr)->stop() : 0; }
  std::string socket() const { return dir_.file("actions.sock"); }
  std::string log() const { return child_ ? child_->log() : ""; }
  json status() { return waddle::ctl::call(socket(), "status").arguments; }
  json stats() { return waddle::ctl::call(socket(), "stats").arguments; }

 private:
  waddle::test::TempDir dir_;
  std::unique_ptr<waddle::test::ChildProcess> child_;
};

}  // namespace

TEST_CASE("a reminder fires through the router and reaches the collector exactly once") {
  Stack s;
  Worker worker(s.h(), s.h().port());
  const std::string answer = s.say_eventually("!remind in 1m stretch 🧘 ‏שלום");
  CHECK(answer.rfind("Okay alice, I will remind you in 1 min (#", 0) == 0);
  const auto id = id_in(answer);
  CHECK(s.text("select state from scheduled_messages where id = " + std::to_string(id)) ==
        "pending");

  s.h().sql("update scheduled_messages set due_at = now() where id = " + std::to_string(id));
  const std::string expected = "@alice, reminder: stretch 🧘 ‏שלום";
  REQUIRE(s.wait_said(expected));
  const auto call = s.collector().calls().front();
  CHECK(call["entity_id"] == waddle::test::kEntity);
  CHECK(call["module_name"] == "memories");
  CHECK(call["community"]["name"] == "demo");

  // Later passes do not say it again.
  REQUIRE(worker.passes(3));
  CHECK(s.said(expected) == 1);
  CHECK(s.text("select state || ' ' || attempts from scheduled_messages where id = " +
               std::to_string(id)) == "delivered 1");
  CHECK(worker.scheduler().stats()["delivered"] == 1);
  CHECK(s.say("!remind list") == "You have no reminders waiting here.");
}

TEST_CASE("two workers deliver 50 due reminders exactly once each") {
  Stack s;
  // Due before either worker starts, so both claim at once.
  s.h().sql(
      "insert into scheduled_messages (community_id, entity_id, module_name, kind, due_at, "
      "actions, created_by_id) select " +
      std::to_string(s.h().community_id()) +
      ", 'console:local:demo', 'memories', 'reminder', now() - interval '1 second', "
      "jsonb_build_array(jsonb_build_object('type', 'chat', 'text', 'r' || i)), 'id-alice' from "
      "generate_series(1, 50) i");
  Worker a(s.h(), s.h().port());
  Worker b(s.h(), s.h().port());
  REQUIRE(s.collector().wait_for(
      [](const waddle::fakes::CollectorServer::Calls& calls) { return calls.size() >= 50; }, 60s));
  REQUIRE(a.passes(2));
  REQUIRE(b.passes(2));
  const auto texts = s.collector().chat_texts();
  std::map<std::string, int> seen;
  for (const auto& t : texts) ++seen[t];
  CHECK(texts.size() == 50);
  CHECK(seen.size() == 50);
  for (int i = 1; i <= 50; ++i) CHECK(seen["r" + std::to_string(i)] == 1);
  CHECK(s.number("select count(*) from scheduled_messages where state = 'delivered'") == 50);
  const auto delivered_a = a.scheduler().stats()["delivered"].get<int>();
  const auto delivered_b = b.scheduler().stats()["delivered"].get<int>();
  CHECK(delivered_a + delivered_b == 50);
  CHECK(a.scheduler().worker_id() != b.scheduler().worker_id());
}

TEST_CASE("a timer posts when chat was active, skips a quiet channel, and stops when removed") {
  Stack s;
  Worker worker(s.h(), s.h().port());
  CHECK(s.say_eventually("!timer add follow 5 Follow the channel! 'quotes'; --", "modbob", kMod) ==
        "Added the timer follow: every 5 minutes here, when at least 5 chat lines were said "
        "since its last post.");
  const std::string pending =
      "select id from scheduled_messages where module_name = 'timers' and state = 'pending'";
  CHECK(s.number("select count(*) from (" + pending + ") p") == 1);

  // Quiet: fewer than 5 lines since it was added. Skipped, and the next post is scheduled.
  auto fire = [&] {
    const auto id = s.number(pending);
    s.h().sql("update scheduled_messages set due_at = now() where id = " + std::to_string(id));
    REQUIRE(s.h().eventually(
        [&] {
          return s.text("select state from scheduled_messages where id = " + std::to_string(id)) ==
                     "delivered" &&
                 s.number("select count(*) from (" + pending + ") p") == 1;
        },
        1000));
  };
  fire();
  CHECK(s.number("select skip_count from timers where name = 'follow'") == 1);
  REQUIRE(worker.passes(2));
  CHECK(s.collector().chat_texts().empty());

  // Six chat lines, counted by the router into entity_activity.
  for (int i = 0; i < 6; ++i) s.say("hello " + std::to_string(i), "viewer");
  CHECK(s.h().wait_count(
            "select coalesce((select chat_lines from entity_activity where entity_id = "
            "'console:local:demo'), 0) - (select chat_lines_at_last_post from timers where name = "
            "'follow')",
            5) >= 5);
  fire();
  REQUIRE(s.wait_said("Follow the channel! 'quotes'; --"));
  CHECK(s.number("select post_count from timers where name = 'follow'") == 1);

  // Posted again right away: the lines were used up, so it skips.
  fire();
  CHECK(s.number("select skip_count from timers where name = 'follow'") == 2);
  CHECK(s.said("Follow the channel! 'quotes'; --") == 1);

  CHECK(s.say("!timer remove follow", "modbob", kMod) == "Removed the timer follow.");
  CHECK(s.number("select count(*) from (" + pending + ") p") == 0);
  CHECK(s.number("select count(*) from scheduled_messages where module_name = 'timers' and state "
                 "= 'cancelled'") == 1);
}

TEST_CASE("a failed delivery is retried with backoff and then delivered once") {
  Stack s;
  Worker worker(s.h(), s.h().port());
  const auto id = id_in(s.say_eventually("!remind in 5m retry me"));
  s.collector().set_failing(true);
  s.h().sql("update scheduled_messages set due_at = now() where id = " + std::to_string(id));
  REQUIRE(s.h().eventually(
      [&] {
        return s.number("select attempts from scheduled_messages where id = " + std::to_string(id) +
                        " and claimed_by is null") >= 1;
      },
      1000));
  CHECK(s.text("select state from scheduled_messages where id = " + std::to_string(id)) ==
        "pending");
  CHECK(s.text("select last_error from scheduled_messages where id = " + std::to_string(id))
            .find("could not hand the message") != std::string::npos);
  // Moved 10 s ahead (the first backoff step).
  CHECK(s.number("select (due_at > now() + interval '5 seconds')::int from scheduled_messages "
                 "where id = " +
                 std::to_string(id)) == 1);
  CHECK(worker.scheduler().status()["last_error"].get<std::string>().find("attempt 1") !=
        std::string::npos);

  s.collector().set_failing(false);
  s.h().sql("update scheduled_messages set due_at = now() where id = " + std::to_string(id));
  REQUIRE(s.wait_said("@alice, reminder: retry me"));
  REQUIRE(worker.passes(2));
  CHECK(s.said("@alice, reminder: retry me") == 1);
  CHECK(s.text("select state || ' ' || attempts from scheduled_messages where id = " +
               std::to_string(id)) == "delivered 2");
  CHECK(worker.scheduler().stats()["retried"] == 1);
}

TEST_CASE("a reminder for an unknown channel fails at once, without retries") {
  Stack s;
  Worker worker(s.h(), s.h().port());
  s.h().sql(
      "insert into scheduled_messages (community_id, entity_id, module_name, kind, due_at, "
      "actions) values (" +
      std::to_string(s.h().community_id()) +
      ", 'console:local:nowhere', 'memories', 'reminder', now(), '[{\"type\": \"chat\", "
      "\"text\": \"lost\"}]')");
  REQUIRE(s.h().eventually(
      [&] { return s.number("select count(*) from scheduled_messages where state = 'failed'"); },
      1000));
  CHECK(s.number("select attempts from scheduled_messages where state = 'failed'") == 1);
  CHECK(
      s.text("select last_error from scheduled_messages where state = 'failed'").find("HTTP 404") !=
      std::string::npos);
  CHECK(s.collector().chat_texts().empty());
}

TEST_CASE("reminders and timers fire after waddle-actiond is restarted") {
  Stack s;
  std::int64_t reminder = 0;
  {
    ActiondProcess actiond(s.h(), s.base_url());
    const json status = actiond.status();
    INFO(status.dump());
    CHECK(status["scheduler"]["state"] == "running");
    reminder = id_in(s.say_eventually("!remind in 30m after the restart"));
    CHECK(s.say("!timer add news 5 Read the news", "modbob", kMod).rfind("Added the timer", 0) ==
          0);
    CHECK(actiond.stop() == 0);
  }
  // Both due while no worker runs; the timer had enough chat.
  s.h().sql("update timers set min_chat_lines = 0");
  s.h().sql("update scheduled_messages set due_at = now() where state = 'pending'");

  ActiondProcess again(s.h(), s.base_url());
  REQUIRE(s.wait_said("@alice, reminder: after the restart"));
  REQUIRE(s.wait_said("Read the news"));
  // Counted once the rows are marked delivered (after the collector got them).
  REQUIRE(s.h().eventually([&] { return again.stats()["scheduler"]["delivered"] == 2; }, 500));
  CHECK(s.text("select state from scheduled_messages where id = " + std::to_string(reminder)) ==
        "delivered");
  // The timer's next post is scheduled, about 5 minutes ahead.
  CHECK(s.number("select count(*) from scheduled_messages where module_name = 'timers' and state "
                 "= 'pending' and due_at > now() + interval '4 minutes'") == 1);
  // The counts are those of the scheduler's last pass.
  json status;
  CHECK(s.h().eventually(
      [&] {
        status = again.status()["scheduler"];
        return status["pending"] == 1 && status["due"] == 0;
      },
      500));
  INFO(status.dump() << "\n" << again.log());
  CHECK(status["state"] == "running");
  CHECK(status["last_error"].is_null());
  CHECK(s.said("@alice, reminder: after the restart") == 1);
}

TEST_CASE("without router_api_key there is no scheduler, and status says so") {
  RouterHarness h(RouterOptions{.redis = false});
  Loop loop;
  waddle::actions::ActionServer server(
      loop.io(),
      waddle::actions::Settings{
          .listen_address = "127.0.0.1", .port = 0, .database_url = h.db().url(), .pool_size = 2});
  server.start();
  CHECK(server.scheduler() == nullptr);
  CHECK(server.outbox() == nullptr);
  CHECK(server.scheduler_status()["state"] == "disabled");
  CHECK(server.stats()["scheduler"].is_null());
  server.stop(2s);
  loop.stop();
}
