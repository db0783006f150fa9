#pragma once
// Everything the router writes to PostgreSQL off the hot path (DESIGN.md §8): execution audit
// rows, module answers, late-answer status updates, string-rule match counts and reputation
// credits and per-channel chat line counts. Callers only append to memory; one coroutine writes
// batches (one statement per table, jsonb_to_recordset) every flush interval. While PostgreSQL is
// away the rows wait in memory up to a bound; beyond it the oldest are dropped and counted.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "pg/pool.hpp"

namespace waddle::router {

struct ExecutionRow {
  std::string execution_id;
  std::string session_id;
  std::int64_t community_id = 0;
  std::int64_t command_id = 0;  // 0: none (a rule webhook)
  std::string entity_id;
  std::string trigger;  // command | event | rule
  std::string user_id;
  std::string user_name;
  std::string message;
  nlohmann::json parameters = nlohmann::json::array();
  std::string location_url;
  int response_status = 0;
  nlohmann::json response_data;  // null when none
  int execution_time_ms = 0;
  std::string error;
  std::string status;      // pending | success | failed | timeout
  std::string created_at;  // RFC 3339 with milliseconds
  std::string completed_at;
};

struct ResponseRow {
  std::string execution_id;
  std::int64_t community_id = 0;
  std::string session_id;
  std::string module_name;
  bool success = true;
  nlohmann::json action;  // one action object (chat, media, ticker, general, form)
  std::string error;
  int processing_time_ms = 0;
  std::string created_at;
};

struct ExecutionUpdate {
  std::string execution_id;
  std::string status;
  int response_status = 0;
  std::string error;
  std::string completed_at;
};

struct ReputationCredit {
  std::int64_t community_id = 0;
  std::string platform;
  std::string user_id;  // platform user id
  std::string user_name;
  std::string display_name;
  std::string event_type;
  std::int64_t points = 0;
};

struct AuditOptions {
  std::chrono::milliseconds flush_interval{50};
  std::size_t batch_size = 500;
  std::size_t buffer_limit = 100000;  // rows of all kinds waiting at most
  std::chrono::milliseconds reputation_interval{1000};
};

class AuditWriter {
 public:
  struct Stats {
    std::uint64_t queued = 0;
    std::uint64_t written = 0;
    std::uint64_t dropped = 0;  // rows lost because the buffer was full
    std::uint64_t flushes = 0;
    std::uint64_t failures = 0;
    std::size_t pending = 0;
    std::uint64_t reputation_credits = 0;  // credits summed (events credited)
    std::uint64_t reputation_rows = 0;     // ledger rows written
    std::string last_error;
  };

  AuditWriter(pg::Pool& pool, boost::asio::any_io_executor executor, AuditOptions options = {});
  ~AuditWriter();
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  void start();
  // Stops the timer and writes what is pending, trying until `deadline`.
  boost::asio::awaitable<void> stop(std::chrono::steady_clock::time_point deadline);

  void add(ExecutionRow row);
  void add(ResponseRow row);
  void add(ExecutionUpdate update);
  void add(const ReputationCredit& credit);
  void count_rule_match(std::int64_t rule_id);
  // Forgets which users.id each platform account is (an identity was linked elsewhere or
  // unlinked); the next credit looks it up again.
  void forget_users();
  // One chat line said in a channel: summed in memory, added to entity_activity with the
  // reputation batch (timers read it).
  void count_chat(const std::string& entity_id);

  // Writes everything pending now (tests, shutdown). Returns false when a write failed.
  boost::asio::awaitable<bool> flush(bool include_reputation = true);

  Stats stats() const;
  static std::string now_text();  // RFC 3339 UTC with milliseconds
  static std::string time_text(std::chrono::system_clock::time_point at);

 private:
  struct Batch;
  boost::asio::awaitable<void> loop(std::shared_ptr<boost::asio::steady_timer> timer);
  void trim_locked();
  std::size_t pending_locked() const;
  void requeue(Batch batch, const std::string& error);
  void drop(const Batch& batch, const std::string& error);

  pg::Pool& pool_;
  boost::asio::any_io_executor executor_;
  const AuditOptions options_;
  mutable std::mutex mutex_;
  std::vector<ExecutionRow> executions_;
  std::vector<ResponseRow> responses_;
  std::vector<ExecutionUpdate> updates_;
  // (rule id) -> (matches, last match time)
  std::map<std::int64_t, std::pair<std::int64_t, std::string>> rule_matches_;
  // (community, platform, user id, event type) -> credit with summed points, and how many
  std::map<std::tuple<std::int64_t, std::string, std::string, std::string>,
           std::pair<ReputationCredit, std::int64_t>>
      credits_;
  // entity id -> (chat lines, last line's time); formatted only when written
  std::map<std::string, std::pair<std::int64_t, std::chrono::system_clock::time_point>, std::less<>>
      chat_lines_;
  std::unordered_map<std::string, std::int64_t> user_ids_;  // "platform\x1fid" -> users.id
  Stats stats_;
  std::chrono::steady_clock::time_point last_reputation_flush_{};
  std::shared_ptr<boost::asio::steady_timer> timer_;
  bool stopped_ = false;
  std::atomic<bool> flushing_{false};
};

}  // namespace waddle::router
