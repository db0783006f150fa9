#pragma once
// The router's in-memory catalog: entities, commands, per-community permissions, aliases and
// compiled string rules, loaded from PostgreSQL and kept fresh by the `waddle_changes`
// notifications (see change_listener.hpp) plus a TTL safety net. The hot path only reads
// immutable snapshots: a lookup never queries Postgres and never waits for a reload.
//
//   waddle::router::Catalog catalog(pool, io.get_executor());
//   waddle::router::ChangeListener listener({.url = db_url}, catalog.change_handlers());
//   listener.start();
//   listener.wait_until_listening(5s);   // so that no change slips between load and LISTEN
//   co_await catalog.load_all();
//   catalog.start();                     // TTL reloads; changes are applied from here on
//   ...
//   listener.stop();
//   catalog.stop();                      // then let the io_context finish before ~Catalog
//
// All writes (the change queue, TTL reloads) run one at a time in a single coroutine on the
// catalog's executor, so reloads never overtake each other.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "pg/pool.hpp"
#include "router/alias.hpp"
#include "router/change_listener.hpp"
#include "router/rules.hpp"

namespace waddle::router {

struct CommunityRef {
  std::int64_t id = 0;
  std::string name;
  bool is_active = true;
  std::string prefixes;  // communities.config->>'command_prefixes'; empty: the router's default
};

// One `entities` row with its community.
struct EntityInfo {
  std::string entity_id;
  std::int64_t community_id = 0;
  std::string community_name;
  bool is_active = true;            // the entity's own flag
  bool community_is_active = true;  // the community's flag
};

// The `commands` columns the router reads.
struct CommandInfo {
  std::int64_t id = 0;
  std::string prefix;  // "!" or "#"
  std::string name;    // column `command`
  std::string location_url;
  std::string type;                      // container | webhook | lambda | openwhisk
  std::string method;                    // GET | POST | …
  int timeout = 30;                      // seconds
  std::string trigger_type;              // command | event | both
  std::vector<std::string> event_types;  // message types for event triggers
  int priority = 100;                    // lower first
  std::string execution_mode;            // sequential | parallel
  int rate_limit = 0;                    // per minute, 0: none
  std::string module_name;
  bool is_active = true;

  std::string key() const { return prefix + name; }
};

// One `command_permissions` row (for a command or for a whole module).
struct Permission {
  bool is_enabled = true;
  std::string min_role = "member";  // owner | admin | moderator | member
  nlohmann::json config = nlohmann::json::object();
};

struct CatalogOptions {
  std::chrono::seconds command_ttl{300};    // commands: full reload at least this often
  std::chrono::seconds community_ttl{600};  // entities, permissions, aliases, rules
  std::chrono::milliseconds ttl_check_interval{5000};
  // After a failed reload, how long until the next full attempt.
  std::chrono::milliseconds retry_delay{2000};
};

class Catalog {
 public:
  struct Stats {
    std::uint64_t loads = 0;          // full reloads completed (load_all, TTL, reconnect, TRUNCATE)
    std::uint64_t reloads = 0;        // targeted reloads completed (one change payload each)
    std::uint64_t hits = 0;           // lookups that found something
    std::uint64_t misses = 0;         // lookups of unknown keys
    std::uint64_t skipped_rules = 0;  // string_rules rows in the snapshot that failed check_rule
    std::uint64_t changes = 0;        // change payloads received
    std::uint64_t failures = 0;       // reloads that failed (the old snapshot stays)
    std::string last_reload_error;    // empty once a later reload succeeded
  };

  // `pool` must outlive the catalog; `executor` runs the reloads.
  Catalog(pg::Pool& pool, boost::asio::any_io_executor executor, CatalogOptions options = {});
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // Reads every table and swaps in the new snapshots. Throws (pg errors, Errc::unavailable)
  // without touching the current snapshots. Call before start(); afterwards request_full_reload.
  boost::asio::awaitable<void> load_all();
  // The same on a plain thread (not an io_context thread).
  void load_all_sync();

  // Starts the TTL timer. Change payloads queued before start() are applied then.
  void start();
  // Stops the timer and the change queue; a reload in flight finishes on its own.
  void stop();

  // Thread-safe: queue a `waddle_changes` payload (raw JSON text or parsed). Unparseable or
  // unrecognisable payloads make a full reload, since we cannot tell what changed.
  void enqueue_change(std::string_view payload);
  void enqueue_change(nlohmann::json payload);
  // Thread-safe: queue a full reload (e.g. after the listener reconnected).
  void request_full_reload();
  // Handlers for a ChangeListener that feed this catalog.
  ChangeListener::Handlers change_handlers();

  // Applies one payload now, reloading only what it names. For tests and admin commands; do not
  // call it concurrently with a started catalog's own queue.
  boost::asio::awaitable<void> apply_change(const nlohmann::json& payload);

  // Lookups: snapshot reads, no I/O. nullptr / nullopt / empty on a miss.
  std::shared_ptr<const EntityInfo> entity(std::string_view entity_id) const;
  std::shared_ptr<const CommandInfo> command(std::string_view prefix, std::string_view name) const;
  // Active commands with trigger_type event|both whose event_types hold message_type, by
  // priority then id.
  std::vector<std::shared_ptr<const CommandInfo>> event_commands(
      std::string_view message_type) const;
  // The community's row for this command, else the row for its module, else nullopt (no row:
  // the router's default applies).
  std::optional<Permission> permission(std::int64_t community_id, const CommandInfo& command) const;
  // The community's aliases / compiled rules; nullptr when the community is unknown.
  std::shared_ptr<const AliasTable> aliases(std::int64_t community_id) const;
  std::shared_ptr<const RuleSet> rules(std::int64_t community_id) const;
  // Why rows of the community's rules were skipped.
  std::vector<RuleError> rule_errors(std::int64_t community_id) const;
  std::optional<CommunityRef> community(std::int64_t community_id) const;
  std::optional<CommunityRef> community(std::string_view name) const;

  Stats stats() const;

  struct CommunityData;
  struct CommandIndex;
  struct EntityIndex;
  struct CommunityIndex;
  struct Snapshot;
  struct Plan;  // what a batch of changes needs reloading

 private:
  struct FullReload {
    bool commands = true;
    bool communities = true;  // entities, permissions, aliases, rules
  };
  using Change = std::variant<nlohmann::json, FullReload>;

  void enqueue(Change change);
  boost::asio::awaitable<void> drain();
  boost::asio::awaitable<void> ttl_loop(std::shared_ptr<boost::asio::steady_timer> timer);
  boost::asio::awaitable<void> execute(const Plan& plan);
  boost::asio::awaitable<void> full_reload(FullReload what);
  boost::asio::awaitable<void> reload_commands(std::vector<std::string> keys);
  boost::asio::awaitable<void> reload_entities(std::vector<std::string> keys);
  boost::asio::awaitable<void> reload_communities(std::vector<std::int64_t> ids);
  void install(Snapshot snapshot, FullReload what);
  void install_communities(std::shared_ptr<const CommunityIndex> index);
  void record_failure(const std::string& what);
  void count(bool hit) const;

  pg::Pool& pool_;
  boost::asio::any_io_executor executor_;
  const CatalogOptions options_;

  std::atomic<std::shared_ptr<const CommandIndex>> commands_;
  std::atomic<std::shared_ptr<const EntityIndex>> entities_;
  std::atomic<std::shared_ptr<const CommunityIndex>> communities_;

  mutable std::atomic<std::uint64_t> hits_{0};
  mutable std::atomic<std::uint64_t> misses_{0};

  mutable std::mutex mutex_;  // guards everything below
  std::deque<Change> queue_;
  bool started_ = false;
  bool stopped_ = false;
  bool draining_ = false;
  std::uint64_t loads_ = 0;
  std::uint64_t reloads_ = 0;
  std::uint64_t changes_ = 0;
  std::uint64_t failures_ = 0;
  std::string last_error_;
  std::chrono::steady_clock::time_point commands_loaded_at_{};
  std::chrono::steady_clock::time_point communities_loaded_at_{};
  std::chrono::steady_clock::time_point retry_at_{};
  bool retry_pending_ = false;
  bool ttl_reload_queued_ = false;
  std::shared_ptr<boost::asio::steady_timer> timer_;
};

}  // namespace waddle::router
