#pragma once
// Calls the action modules matched for one event (DESIGN.md §2.3) and turns each answer into a
// ModuleResult. Four transports: container and webhook (signed HTTP POST), lambda (AWS Lambda
// Invoke, SigV4) and openwhisk (REST blocking invoke, basic auth). A module call is never retried:
// modules post to chat, and a second delivery would post twice.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "model/action.hpp"
#include "model/event.hpp"
#include "net/http_client.hpp"

namespace waddle::router {

inline constexpr std::string_view kModuleTypes[] = {"container", "webhook", "lambda", "openwhisk"};
inline constexpr std::string_view kExecutionSequential = "sequential";
inline constexpr std::string_view kExecutionParallel = "parallel";

// One module to call, as resolved from the command registry and the community's settings.
struct ModuleTarget {
  std::int64_t command_id = 0;
  std::string name;
  std::string type;  // container | webhook | lambda | openwhisk
  // container/webhook: the module's URL. lambda: the function name or ARN (the endpoint comes
  // from aws_region or ExecutorOptions::lambda_endpoint). openwhisk: the API host
  // ("https://ow.example"), or the whole action URL ".../api/v1/namespaces/<ns>/actions/<a>".
  std::string url;
  std::string method = "POST";  // container/webhook only
  std::chrono::milliseconds timeout{5000};
  int priority = 100;                                // lower runs first
  std::string execution_mode = "sequential";         // sequential | parallel
  std::string secret;                                // HMAC key for X-Waddle-Signature
  nlohmann::json config = nlohmann::json::object();  // the community's settings for the module
  // lambda:
  std::string aws_region;  // empty: taken from an ARN in url
  std::string aws_access_key_id;
  std::string aws_secret_access_key;
  std::string aws_session_token;
  // openwhisk:
  std::string openwhisk_auth;             // "user:pass" (the OpenWhisk API key)
  std::string openwhisk_namespace = "_";  // "_" is the key's default namespace
  std::string openwhisk_action;           // empty: name
};

// Everything the §2.3 request body needs besides the event itself.
struct ModuleRequestContext {
  std::string session_id;
  std::string execution_id;
  std::int64_t community_id = 0;
  std::string community_name;
  std::string community_role;  // the user's role in the community ("member", "moderator", …)
  int reputation = 0;
  std::string trigger = "command";  // command | event | rule
  std::string prefix;               // "!" or "#", empty for events and rules
  std::string command;              // without the prefix
  std::vector<std::string> args;
  std::string raw_args;
  model::Event event;
  nlohmann::json config = nlohmann::json::object();
};

// The §2.3 body: session_id, execution_id, entity_id, community, platform, user, trigger, prefix,
// command, args, raw_args, message, message_type, event, config. Throws
// waddle::Error(invalid_argument) for a trigger outside command|event|rule or a non-object config.
nlohmann::json build_module_request(const ModuleRequestContext& context);

struct ModuleResult {
  std::int64_t command_id = 0;
  std::string execution_id;
  std::string status;   // success | failed | timeout | accepted (202: the answer comes later)
  int http_status = 0;  // 0 when no HTTP answer arrived
  std::vector<model::Action> actions;
  std::string error;  // empty on success/accepted; names the module and what went wrong
  std::chrono::milliseconds elapsed{0};
  nlohmann::json response_json;  // the parsed answer when it was JSON, else null
};

struct ExecutorOptions {
  // The clock behind X-Waddle-Timestamp and X-Amz-Date (tests pin it).
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
  // Replaces https://lambda.<region>.amazonaws.com (tests, LocalStack): "http://127.0.0.1:9001".
  std::string lambda_endpoint;
};

class Executor {
 public:
  // Builds the body for one target; throwing marks that module failed with the message.
  using RequestBuilder = std::function<nlohmann::json(const ModuleTarget&)>;

  Executor(boost::asio::any_io_executor executor, net::HttpClient& client,
           ExecutorOptions options = {});

  // One module call, bounded by target.timeout. Never throws: every failure is in the result.
  // request_body should carry "execution_id", which is copied into the result.
  boost::asio::awaitable<ModuleResult> call(const ModuleTarget& target,
                                            const nlohmann::json& request_body);

  // Runs every target: the sequential ones one after another in priority order (ties by
  // command_id), and meanwhile the parallel ones all at once. A failing module does not stop
  // the others. Results are in priority order.
  boost::asio::awaitable<std::vector<ModuleResult>> run_all(std::vector<ModuleTarget> targets,
                                                            RequestBuilder build_request);

 private:
  boost::asio::awaitable<ModuleResult> call_owned(ModuleTarget target, nlohmann::json body);
  boost::asio::awaitable<std::vector<ModuleResult>> run_sequence(
      std::vector<ModuleTarget> targets, std::vector<nlohmann::json> bodies);

  boost::asio::any_io_executor executor_;
  net::HttpClient& client_;
  ExecutorOptions options_;
};

// The wire request for one module call (method, URL, headers and exact body), signed with
// `now`. Exposed so tests can check each transport's form. Throws waddle::Error(invalid_argument)
// for an unknown type or a target that lacks what its type needs.
net::ClientRequest make_module_http_request(const ModuleTarget& target, std::string body,
                                            std::chrono::system_clock::time_point now,
                                            const std::string& lambda_endpoint = {});

}  // namespace waddle::router
