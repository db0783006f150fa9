#pragma once
// The router's event pipeline (the seeds' "Event Processing Flow", DESIGN.md §2): for one
// normalised event it drops duplicates, resolves the entity's community, credits reputation, and
// then runs a command (alias expansion, permission, role, rate limit), the string rules, or the
// modules an event triggers; and it takes modules' late answers. HTTP is in api.cpp; everything
// here is plain coroutines over the parts in Parts, so tests can drive it directly.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "model/action.hpp"
#include "model/event.hpp"
#include "router/audit.hpp"
#include "router/catalog.hpp"
#include "router/directory.hpp"
#include "router/executor.hpp"
#include "router/metrics.hpp"
#include "router/settings.hpp"
#include "router/stores.hpp"

namespace waddle::ratelimit {
class Limiter;
}
namespace waddle::redis {
class Client;
}
namespace waddle::net {
class HttpClient;
}

namespace waddle::router {

struct Parts {
  boost::asio::any_io_executor executor;
  Catalog& catalog;
  Executor& executor_calls;
  net::HttpClient& http;
  ratelimit::Limiter& limiter;
  Deduper& dedupe;
  SessionStore& sessions;
  AuditWriter& audit;
  ModuleSecrets& secrets;
  ReputationPoints& points;
  MemberCache& members;
  Registry& registry;
  Metrics& metrics;
  redis::Client* redis = nullptr;  // null: no Redis configured
};

class Engine {
 public:
  Engine(Parts parts, Settings settings);

  // The reply of POST /router/events for one parsed event. Throws Error(not_found) for an entity
  // no community owns, Error(forbidden) when `key` is limited to another community.
  boost::asio::awaitable<nlohmann::json> handle_event(model::Event event, const ApiKey& key);

  // POST /router/responses. Throws FieldError / Error(invalid_argument) for a malformed body,
  // not_found for an unknown or expired session, forbidden when the session is someone else's.
  boost::asio::awaitable<nlohmann::json> handle_response(const nlohmann::json& body,
                                                         const ApiKey& key);

  // POST /router/messages: a module's message outside any request (a reminder, a timer, a
  // whisper to another platform) for one entity. Overlay actions are published; the rest go to
  // the collector serving the entity. Throws FieldError for a malformed body, not_found for an
  // unknown entity, forbidden when `key` is limited to another community.
  boost::asio::awaitable<nlohmann::json> handle_message(const nlohmann::json& body,
                                                        const ApiKey& key);

  void set_settings(Settings settings);
  std::shared_ptr<const Settings> settings() const { return settings_.load(); }
  Parts& parts() { return parts_; }

 private:
  struct Call;  // one event's state
  struct Job;   // one command or trigger to run
  boost::asio::awaitable<void> run_command_line(Call& call);
  boost::asio::awaitable<bool> run_command(Call& call, const Job& job, bool check_access);
  boost::asio::awaitable<void> run_rules(Call& call);
  boost::asio::awaitable<void> run_event_triggers(Call& call);
  boost::asio::awaitable<void> execute(Call& call, std::vector<Job> jobs);
  void credit_reputation(const Call& call);
  bool enabled(std::int64_t community_id, const CommandInfo& command,
               std::optional<Permission>* permission) const;
  ModuleTarget target_for(const Job& job, const std::optional<Permission>& permission) const;
  void publish_overlay(const Call& call, const model::Action& action);
  void publish_overlay(std::int64_t community_id, const std::string& community_name,
                       const std::string& entity_id, const model::Action& action);
  void send_webhook(const Call& call, const Rule& rule);
  boost::asio::awaitable<bool> deliver_to_collector(const Registration& collector,
                                                    const Session& session,
                                                    const std::string& execution_id,
                                                    nlohmann::json actions);
  boost::asio::awaitable<bool> post_to_collector(const Registration& collector,
                                                 const nlohmann::json& body);

  Parts parts_;
  std::atomic<std::shared_ptr<const Settings>> settings_;
};

// A community's command_prefixes: 1 to 8 ASCII punctuation characters other than '#'.
bool valid_prefixes(std::string_view prefixes);

// A fresh id: "<prefix>_" + 24 hex digits.
std::string make_id(std::string_view prefix);

}  // namespace waddle::router
