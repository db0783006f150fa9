#pragma once
// waddle-routerd's configuration: the `router` section of waddle.yaml declared as data (the
// schema feeds validation, --print-default-config and waddle.yaml(5)), and the typed Settings the
// service reads once per (re)load.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "daemon/daemon.hpp"

namespace waddle::router {

daemon::Info daemon_info();

// daemon::base_schema(daemon_info()) plus the router's own keys.
config::Schema config_schema();

struct Settings {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 8000;
  std::size_t body_limit = 64 * 1024;  // one event; a batch may be batch_limit times larger
  std::size_t batch_limit = 100;
  std::string prefixes = "!#";
  std::chrono::seconds session_ttl{3600};
  std::chrono::seconds dedupe_ttl{600};
  std::size_t dedupe_capacity = 200000;  // in-process ids remembered at most
  std::chrono::seconds command_ttl{300};
  std::chrono::seconds community_ttl{600};
  std::chrono::seconds member_ttl{60};
  std::chrono::seconds api_key_ttl{60};
  std::chrono::milliseconds audit_flush_interval{50};
  std::size_t audit_batch_size = 500;
  std::size_t audit_buffer_limit = 100000;
  std::chrono::milliseconds reputation_flush_interval{1000};
  std::chrono::seconds rate_limit_window{60};
  std::size_t command_entity_limit = 0;  // per command and entity per window; 0 = off
  std::size_t entity_limit = 0;          // commands per entity per window; 0 = off
  std::string cooldown_message = "@{user}, {command} is cooling down: try again in {seconds}s.";
  std::string default_warning = "@{user}, please keep the chat friendly.";
  std::string overlay_url;  // without Redis: where POST /internal/overlay/{community} goes
  std::string overlay_api_key;
  std::string lambda_endpoint;  // tests and LocalStack; empty = AWS
  std::string aws_region;
  std::string aws_access_key_id;
  std::string aws_secret_access_key;
  std::string aws_session_token;
  std::string openwhisk_auth;
  std::string ca_file;
  std::chrono::milliseconds callback_timeout{5000};
  std::chrono::seconds claim_ttl{600};  // a coordination claim lives this long past a checkin
};

// Reads the router section of an already validated config.
Settings load_settings(const config::Config& config);

}  // namespace waddle::router
