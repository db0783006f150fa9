// The quickstart's last step for real: scripts/demo starts waddle-actiond and waddle-routerd
// against a fresh database, and `waddle chat` (stdin not a terminal) talks to them through the
// router's API and the module protocol.
#include <string>
#include <thread>

#include <pqxx/pqxx>

#include <catch2/catch.hpp>

#include "router_support.hpp"
#include "support/cli.hpp"

using namespace waddle::test;

TEST_CASE("scripts/demo and waddle chat: commands run through the real modules", "[cli][demo]") {
  FreshDatabase db(false);
  TempDir dir;
  const std::string demo = source_dir() + "/scripts/demo";
  const std::string router_port = std::to_string(free_port());
  const std::string actions_port = std::to_string(free_port());
  const std::string overlay_port = std::to_string(free_port());
  const EnvList env = {
      {"WADDLE_DATABASE_URL", db.url()},      {"WADDLE_REDIS_URL", redis_url()},
      {"WADDLE_BUILD_DIR", WADDLE_BUILD_DIR}, {"WADDLE_ROUTER_PORT", router_port},
      {"WADDLE_ACTIONS_PORT", actions_port},  {"WADDLE_OVERLAY_PORT", overlay_port}};
  struct Stop {
    std::string demo, dir;
    EnvList env;
    ~Stop() { run_process({demo, "stop", dir}, env); }
  } stop{demo, dir.path() + "/demo", env};

  auto started =
      run_process({demo, "start", dir.path() + "/demo"}, env, "", std::chrono::seconds(60));
  INFO(started.out << started.err);
  REQUIRE(started.status == 0);
  // The quickstart shows where OBS points: the demo community's overlay pages.
  CHECK(started.out.find("http://127.0.0.1:" + overlay_port + "/overlay/") != std::string::npos);

  const std::string script =
      "!ping\n"
      "!quote add The penguin waddles\n"
      "!quote 1\n"
      "!command add !hug {user} hugs $(touser)\n"
      "just chatting\n";
  const std::vector<std::string> chat_argv = {waddle_binary(),  "chat",
                                              "--community",    "demo",
                                              "--user",         "alice",
                                              "--role",         "moderator",
                                              "--router",       "http://127.0.0.1:" + router_port,
                                              "--api-key-file", dir.path() + "/demo/api-key"};
  auto chat = run_process(chat_argv, env, script, std::chrono::seconds(60));
  INFO("stdout:\n" << chat.out << "\nstderr:\n" << chat.err);
  CHECK(chat.status == 0);
  CHECK(chat.out.find("pong") != std::string::npos);
  CHECK(chat.out.find("The penguin waddles") != std::string::npos);
  CHECK(chat.out.find("Added !hug") != std::string::npos);

  // The new command reaches the router through PostgreSQL's NOTIFY a moment later.
  std::string hug;
  for (int i = 0; i < 100 && hug.find("alice hugs bob") == std::string::npos; ++i) {
    hug = run_process(chat_argv, env, "!hug bob\n", std::chrono::seconds(30)).out;
    if (hug.find("alice hugs bob") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  CHECK(hug.find("alice hugs bob") != std::string::npos);

  // A reminder: stored by !remind, made due now (the database, as time would), said by the
  // scheduler through the router to `waddle chat`, the console collector, while it waits.
  std::thread make_due([&] {
    pqxx::connection c(db.url());
    for (int i = 0; i < 500; ++i) {
      pqxx::work tx(c);
      auto due = tx.exec(
          "update scheduled_messages set due_at = now() where state = 'pending' and "
          "module_name = 'memories' returning id");
      tx.commit();
      if (!due.empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::vector<std::string> waiting = chat_argv;
  waiting.insert(waiting.end(), {"--wait", "5"});
  auto reminded =
      run_process(waiting, env, "!remind in 2h stretch your legs\n", std::chrono::seconds(60));
  make_due.join();
  INFO("stdout:\n" << reminded.out << "\nstderr:\n" << reminded.err);
  CHECK(reminded.status == 0);
  CHECK(reminded.out.find("waddlebot: @alice, reminder: stretch your legs") != std::string::npos);

  // One message with `waddle send --json`: the router's raw reply.
  auto sent = run_process({waddle_binary(), "send", "--entity", "console:local:demo", "--user",
                           "carol", "--json", "--router", "http://127.0.0.1:" + router_port,
                           "--api-key-file", dir.path() + "/demo/api-key", "!ping"},
                          env, "", std::chrono::seconds(30));
  INFO(sent.out << sent.err);
  CHECK(sent.status == 0);
  CHECK(sent.out.find("\"session_id\"") != std::string::npos);
}
