// The labels, reputation, inventory and alias modules driven through the real waddle-routerd:
// a console chat event goes to POST /router/events, the router signs the module call to
// waddle-actiond's server (in-process, same database), and the chat answer comes back in the
// router's reply. An alias added from chat reaches the router through NOTIFY.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>

#include "actions/server.hpp"
#include "router_support.hpp"

using nlohmann::json;
using waddle::test::RouterHarness;
using waddle::test::RouterOptions;

namespace {

// The module server on its own io_context thread, registered in the router's database.
class ActionsBeside {
 public:
  explicit ActionsBeside(const std::string& database_url)
      : guard_(boost::asio::make_work_guard(io_)), runner_([this] { io_.run(); }) {
    server_ = std::make_unique<waddle::actions::ActionServer>(
        io_, waddle::actions::Settings{.listen_address = "127.0.0.1",
                                       .port = 0,
                                       .database_url = database_url,
                                       .pool_size = 2});
    server_->start();
  }
  ~ActionsBeside() {
    server_->stop(std::chrono::seconds(2));
    guard_.reset();
    runner_.join();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread runner_;
  std::unique_ptr<waddle::actions::ActionServer> server_;
};

// Every chat text of the router's reply, joined by " | ".
std::string chat_of(const json& reply) {
  std::string out;
  for (const auto& action : reply.at("actions")) {
    if (action.at("type") != "chat") continue;
    out += (out.empty() ? "" : " | ") + action.at("text").get<std::string>();
  }
  return out;
}

}  // namespace

TEST_CASE("labels, reputation, inventory and aliases answer through the router") {
  RouterHarness h(RouterOptions{.redis = false});
  ActionsBeside actions(h.db().url());
  h.start();
  const std::vector<std::string> mod{"moderator"};
  auto say = [&](const std::string& message, const std::string& user = "alice",
                 std::vector<std::string> roles = {}) {
    const json reply = h.send(h.chat_event(message, user, std::move(roles)));
    INFO(message << " -> " << reply.dump());
    REQUIRE(reply.at("executions").size() == 1);
    CHECK(reply["executions"][0]["status"] == "success");
    return chat_of(reply);
  };

  CHECK(say("!inv add HDMI cable 2", "modbob", mod) == "Added 2 × HDMI cable (now 2).");
  CHECK(say("!inv checkout hdmi cable") == "alice checked out HDMI cable (1 of 2 left).");
  CHECK(say("!inv list") == "Inventory (in/total): HDMI cable 1/2");
  CHECK(say("!inv add mic") == "Sorry alice, only moderators and above can change the inventory.");

  // alice was stored by the checkout; the moderator labels her and corrects her reputation.
  CHECK(say("!label add @alice vip", "modbob", mod) ==
        "Created the label vip and gave it to alice.");
  CHECK(say("!labels") == "alice's labels: vip");
  CHECK(say("!rep give @alice 40 helped", "modbob", mod).rfind("Gave alice 40 reputation", 0) == 0);
  CHECK(say("!rep").rfind("alice has ", 0) == 0);
  CHECK(say("!top 1").rfind("Top 1: 1. ", 0) == 0);

  CHECK(say("!alias add stock !inv list", "modbob", mod) == "Added the alias !stock → !inv list.");
  // The router reloads aliases on NOTIFY; until it has, !stock is an unknown command.
  CHECK(h.eventually([&] {
    const json reply = h.send(h.chat_event("!stock"));
    return chat_of(reply) == "Inventory (in/total): HDMI cable 1/2";
  }));
  CHECK(say("!alias remove stock", "modbob", mod) == "Removed the alias !stock.");
  CHECK(h.eventually([&] { return h.send(h.chat_event("!stock"))["executions"].empty(); }));
}
