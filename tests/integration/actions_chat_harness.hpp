#pragma once
// Shared by the integration tests of waddle-actiond's modules (actions_<module>_test.cpp): a
// migrated database of the test's own, the module server in-process on 127.0.0.1, and chat
// commands sent to it signed as the router signs them.
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "actions/server.hpp"
#include "crypto/module_signature.hpp"
#include "net/http_client.hpp"
#include "support/database.hpp"

namespace waddle::test::actions {

namespace asio = boost::asio;
using nlohmann::json;

struct ChatUser {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::string community_role = "member";
  std::string platform = "console";
};

inline const ChatUser kAlice{"1", "alice", {"subscriber"}};
inline const ChatUser kBob{"4", "bob", {}};
inline const ChatUser kMod{"2", "modbob", {"moderator"}};
inline const ChatUser kOwner{"3", "carol", {}, "owner"};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ChatHarness {
 public:
  ChatHarness()
      : guard_(asio::make_work_guard(io_)),
        runner_([this] { io_.run(); }),
        client_(io_.get_executor(), {.total_timeout = std::chrono::seconds(20)}) {
    community_ = add_community("demo");
    server_ = std::make_unique<waddle::actions::ActionServer>(
        io_,
        waddle::actions::Settings{
            .listen_address = "127.0.0.1", .port = 0, .database_url = db_.url(), .pool_size = 2});
    port_ = server_->start();
  }

  ~ChatHarness() {
    server_->stop(std::chrono::seconds(2));
    guard_.reset();
    runner_.join();
  }

  ChatHarness(const ChatHarness&) = delete;
  ChatHarness& operator=(const ChatHarness&) = delete;

  std::int64_t add_community(const std::string& name) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    auto id = tx.exec_params1("insert into communities (name) values ($1) returning id", name)[0]
                  .as<std::int64_t>();
    tx.commit();
    return id;
  }

  // A user the router has seen (it stores everyone who chats): users + platform_identities.
  std::int64_t add_user(const ChatUser& user) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    auto id = tx.exec_params1(
                    "insert into users (display_name, primary_platform) values ($1, $2) "
                    "returning id",
                    user.name, user.platform)[0]
                  .as<std::int64_t>();
    tx.exec_params(
        "insert into platform_identities (user_id, platform, platform_user_id, username) values "
        "($1, $2, $3, $4)",
        id, user.platform, user.id, user.name);
    tx.commit();
    return id;
  }

  // Every row of `sql` as an array of strings ("" for null).
  json query(const std::string& sql) {
    pqxx::connection conn(db_.url());
    pqxx::nontransaction tx(conn);
    json rows = json::array();
    for (const auto& row : tx.exec(sql)) {
      json r = json::array();
      for (const auto& field : row) r.push_back(field.is_null() ? "" : field.c_str());
      rows.push_back(r);
    }
    return rows;
  }

  void exec(const std::string& sql) {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec(sql);
    tx.commit();
  }

  std::string secret(const std::string& module) {
    auto rows = query("select secret from module_secrets where module_name = '" + module + "'");
    REQUIRE(rows.size() == 1);
    return rows[0][0];
  }

  // The §2.3 body the router builds for `message` typed by `user` (args split on spaces).
  json body_for(const ChatUser& user, const std::string& message, std::int64_t community) {
    std::string rest = message.substr(1);
    const auto space = rest.find(' ');
    std::string command = rest.substr(0, space);
    std::string raw = space == std::string::npos ? "" : rest.substr(space + 1);
    while (!raw.empty() && raw.front() == ' ') raw.erase(0, 1);
    json args = json::array();
    std::string word;
    for (char c : raw + " ") {
      if (c == ' ') {
        if (!word.empty()) args.push_back(word);
        word.clear();
      } else {
        word += c;
      }
    }
    return {{"session_id", "sess_1"},
            {"execution_id", "exec_1"},
            {"entity_id", user.platform + ":local:demo"},
            {"community", {{"id", community}, {"name", "demo"}}},
            {"platform", user.platform},
            {"user",
             {{"id", user.id},
              {"name", user.name},
              {"display_name", user.name},
              {"roles", user.roles},
              {"community_role", user.community_role},
              {"reputation", 0}}},
            {"trigger", "command"},
            {"prefix", "!"},
            {"command", command},
            {"args", args},
            {"raw_args", raw},
            {"message", message},
            {"message_type", "chatMessage"},
            {"event", {{"channel_id", "demo"}}},
            {"config", config_}};
  }

  // One POST to the module with the given headers (none: unsigned).
  waddle::net::ClientResponse post(const std::string& module, const std::string& body,
                                   waddle::net::HeaderList headers) {
    waddle::net::ClientRequest request{
        .method = "POST",
        .url = "http://127.0.0.1:" + std::to_string(port_) + "/modules/" + module,
        .headers = std::move(headers),
        .body = body};
    request.headers.emplace_back("Content-Type", "application/json");
    auto call = [this, request]() mutable { return client_.request(std::move(request)); };
    return asio::co_spawn(io_, call(), asio::use_future).get();
  }

  // Signed as the router signs, with the module's secret, at unix time `at`.
  waddle::net::ClientResponse post_signed(const std::string& module, const std::string& body,
                                          std::int64_t at = std::time(nullptr)) {
    const std::string ts = std::to_string(at);
    return post(
        module, body,
        {{"X-Waddle-Timestamp", ts},
         {"X-Waddle-Signature", waddle::crypto::module_signature(secret(module), ts, body)}});
  }

  // What `module` says in chat to `message` (empty when it says nothing).
  std::string chat(const std::string& module, const ChatUser& user, const std::string& message,
                   std::int64_t community = 0) {
    const std::string body = body_for(user, message, community ? community : community_).dump();
    auto response = post_signed(module, body);
    INFO(message << " -> " << response.status << " " << response.body);
    REQUIRE(response.status == 200);
    const json answer = json::parse(response.body);
    REQUIRE(answer["actions"].is_array());
    if (answer["actions"].empty()) return "";
    REQUIRE(answer["actions"].size() == 1);
    REQUIRE(answer["actions"][0]["type"] == "chat");
    const std::string text = answer["actions"][0]["text"];
    CHECK(text.size() <= 500 * 4);
    return text;
  }

  // The module config the next requests carry (the community's command_permissions.config).
  void set_config(json config) { config_ = std::move(config); }

  std::int64_t community() const { return community_; }

 private:
  waddle::test::FreshDatabase db_{true};
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread runner_;
  waddle::net::HttpClient client_;
  std::unique_ptr<waddle::actions::ActionServer> server_;
  json config_ = json::object();
  std::int64_t community_ = 0;
  std::uint16_t port_ = 0;
};

}  // namespace waddle::test::actions
