#include "router/settings.hpp"

#include "config/keys.hpp"

#ifndef WADDLE_VERSION
#define WADDLE_VERSION "0.0.0"
#endif

namespace waddle::router {
namespace {

constexpr const char* kSection = "router";

const config::KeyMaker key(kSection);

config::KeySpec secret(std::string name, std::string doc) {
  return key.secret(std::move(name), std::move(doc));
}

}  // namespace

daemon::Info daemon_info() {
  return {"router", "waddle-routerd", WADDLE_VERSION,
          "the WaddleBot router: event API, commands, rules, rate limits, module execution"};
}

config::Schema config_schema() {
  using config::Type;
  config::Schema schema = daemon::base_schema(daemon_info());
  schema.add(key("listen", Type::string, "127.0.0.1", "address the HTTP API listens on"));
  schema.add(config::bounded(key("port", Type::integer, 8000, "HTTP API port"), 1, 65535));
  schema.add(
      config::bounded(key("body_limit", Type::integer, 65536,
                          "largest event body in bytes (a batch may be batch_limit times larger)"),
                      1024, 16 * 1024 * 1024));
  schema.add(config::bounded(
      key("batch_limit", Type::integer, 100, "most events in one batch request"), 1, 1000));
  schema.add(
      config::bounded(key("prefixes", Type::string, "!#", "command prefix characters"), 1, 8));
  schema.add(config::bounded(
      key("session_ttl", Type::duration, "1h", "how long a module may answer late to a session"),
      1000, 86400000));
  schema.add(config::bounded(key("dedupe_ttl", Type::duration, "10m",
                                 "how long an event_id is remembered to drop duplicates"),
                             1000, 86400000));
  schema.add(config::bounded(
      key("dedupe_capacity", Type::integer, 200000, "event ids remembered in process at most"),
      1000, 10000000));
  schema.add(
      config::bounded(key("command_ttl", Type::duration, "5m",
                          "commands are reloaded at least this often (NOTIFY reloads at once)"),
                      1000, 86400000));
  schema.add(
      config::bounded(key("community_ttl", Type::duration, "10m",
                          "entities, permissions, aliases and rules: reload at least this often"),
                      1000, 86400000));
  schema.add(config::bounded(key("member_ttl", Type::duration, "1m",
                                 "how long a user's community role and reputation are cached"),
                             0, 3600000));
  schema.add(
      config::bounded(key("api_key_ttl", Type::duration, "1m",
                          "API keys are reloaded at least this often (and on an unknown key)"),
                      1000, 3600000));
  schema.add(
      config::bounded(key("audit_flush_interval", Type::duration, "50ms",
                          "audit rows (executions, responses) are written at least this often"),
                      1, 60000));
  schema.add(config::bounded(
      key("audit_batch_size", Type::integer, 500, "audit rows written in one statement at most"), 1,
      100000));
  schema.add(
      config::bounded(key("audit_buffer_limit", Type::integer, 100000,
                          "audit rows kept in memory while PostgreSQL is away; more are dropped "
                          "and counted"),
                      100, 10000000));
  schema.add(config::bounded(key("reputation_flush_interval", Type::duration, "1s",
                                 "reputation points are summed in memory and written this often"),
                             10, 600000));
  schema.add(config::bounded(key("rate_limit_window", Type::duration, "1m",
                                 "the sliding window of every command rate limit"),
                             1000, 86400000));
  schema.add(config::bounded(key("command_entity_limit", Type::integer, 0,
                                 "calls of one command per channel per window; 0 = no limit"),
                             0, 1000000));
  schema.add(config::bounded(
      key("entity_limit", Type::integer, 0, "commands per channel per window; 0 = no limit"), 0,
      1000000));
  schema.add(key("cooldown_message", Type::string,
                 "@{user}, {command} is cooling down: try again in {seconds}s.",
                 "answered once when a rate limit refuses a command ({user}, {command}, "
                 "{seconds})"));
  schema.add(key("default_warning", Type::string, "@{user}, please keep the chat friendly.",
                 "a warn rule's message when the rule has none ({user})"));
  schema.add(key("overlay_url", Type::string, "http://127.0.0.1:8080",
                 "waddle-overlayd's base URL, used when redis.url is empty"));
  schema.add(secret("overlay_api_key",
                    "API key (role module) for waddle-overlayd's "
                    "/internal/overlay when there is no Redis"));
  schema.add(key("lambda_endpoint", Type::string, "",
                 "replaces https://lambda.<region>.amazonaws.com (LocalStack, tests)"));
  schema.add(key("aws_region", Type::string, "", "region of lambda modules without an ARN"));
  schema.add(secret("aws_access_key_id", "AWS access key id for lambda modules"));
  schema.add(secret("aws_secret_access_key", "AWS secret access key for lambda modules"));
  schema.add(secret("aws_session_token", "AWS session token for lambda modules (optional)"));
  schema.add(secret("openwhisk_auth", "OpenWhisk API key user:password for openwhisk modules"));
  schema.add(key("ca_file", Type::string, "",
                 "extra CA certificates (PEM) trusted for modules and callbacks"));
  schema.add(config::bounded(key("callback_timeout", Type::duration, "5s",
                                 "deadline for delivering a late answer to a collector's callback"),
                             100, 60000));
  schema.add(config::bounded(
      key("claim_ttl", Type::duration, "10m",
          "how long a collector's channel claim lasts after its last checkin or heartbeat (it "
          "checks in every 5 minutes); then another instance may claim the channel"),
      1000, 86400000));
  return schema;
}

Settings load_settings(const config::Config& c) {
  Settings s;
  auto str = [&](const char* name) { return c.get_string(kSection, name); };
  auto size = [&](const char* name) { return static_cast<std::size_t>(c.get_int(kSection, name)); };
  auto seconds = [&](const char* name) {
    return std::chrono::duration_cast<std::chrono::seconds>(c.get_duration(kSection, name));
  };
  auto opt = [&](const char* name) { return c.has(kSection, name) ? str(name) : std::string(); };
  s.listen_address = str("listen");
  s.port = static_cast<std::uint16_t>(c.get_int(kSection, "port"));
  s.body_limit = size("body_limit");
  s.batch_limit = size("batch_limit");
  s.prefixes = str("prefixes");
  s.session_ttl = seconds("session_ttl");
  s.dedupe_ttl = seconds("dedupe_ttl");
  s.dedupe_capacity = size("dedupe_capacity");
  s.command_ttl = seconds("command_ttl");
  s.community_ttl = seconds("community_ttl");
  s.member_ttl = seconds("member_ttl");
  s.api_key_ttl = seconds("api_key_ttl");
  s.audit_flush_interval = c.get_duration(kSection, "audit_flush_interval");
  s.audit_batch_size = size("audit_batch_size");
  s.audit_buffer_limit = size("audit_buffer_limit");
  s.reputation_flush_interval = c.get_duration(kSection, "reputation_flush_interval");
  s.rate_limit_window = seconds("rate_limit_window");
  s.command_entity_limit = size("command_entity_limit");
  s.entity_limit = size("entity_limit");
  s.cooldown_message = str("cooldown_message");
  s.default_warning = str("default_warning");
  s.overlay_url = str("overlay_url");
  s.overlay_api_key = opt("overlay_api_key");
  s.lambda_endpoint = str("lambda_endpoint");
  s.aws_region = str("aws_region");
  s.aws_access_key_id = opt("aws_access_key_id");
  s.aws_secret_access_key = opt("aws_secret_access_key");
  s.aws_session_token = opt("aws_session_token");
  s.openwhisk_auth = opt("openwhisk_auth");
  s.ca_file = str("ca_file");
  s.callback_timeout = c.get_duration(kSection, "callback_timeout");
  s.claim_ttl = seconds("claim_ttl");
  return s;
}

}  // namespace waddle::router
