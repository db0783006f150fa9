#pragma once
// The scheduler of waddle-actiond: delivers the due rows of `scheduled_messages` (schedule.hpp)
// through the Outbox, exactly once while the workers holding claims are alive.
//
// One loop coroutine on the io_context (its own strand). It wakes on NOTIFY waddle_scheduler (a
// dedicated libpqxx connection on its own thread, reconnecting by itself), at the next due time,
// and at least every poll_interval (the fallback when LISTEN is down). Each pass:
//   1. claims up to batch_size due pending rows of the modules THIS worker serves with
//      FOR UPDATE SKIP LOCKED (claimed_by = worker id, claimed_until = now() + claim_duration,
//      attempts + 1), so two workers never hold one row;
//   2. per row: the module's on_due(), then Outbox::send() unless there is nothing to say;
//   3. in one transaction, only while the claim is still ours: state 'delivered', finished_at,
//      the claim cleared, and DueResult::next inserted.
// A failure clears the claim, records last_error and moves due_at to now() + retry_delay; after
// max_attempts (or at once for an error a retry cannot help: invalid_argument, not_found,
// forbidden) the row becomes 'failed'. A row is never started when less than half the claim is
// left (a slow batch hands the rest back), so another worker cannot claim a row mid-delivery.
// Rows of modules this worker does not serve are left for a worker that does; rows of a module no
// waddle-actiond knows (known_modules()) are marked failed once an hour overdue.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include "actions/module.hpp"

namespace waddle::pg {
class Pool;
}

namespace waddle::actions {

struct SchedulerSettings {
  std::string database_url;  // for LISTEN waddle_scheduler; empty: poll only
  std::string worker_id;     // empty: make_worker_id()
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::seconds claim_duration{60};
  std::size_t batch_size = 50;
  int max_attempts = 10;
  std::chrono::seconds retry_base{10};   // the first retry waits this long, then doubles
  std::chrono::seconds retry_cap{3600};  // the longest wait between two attempts
};

// "<hostname>:<pid>:<8 random hex digits>".
std::string make_worker_id();

// How long to wait after the `attempts`-th failed attempt (1-based): base × 2^(attempts-1),
// at most cap.
std::chrono::seconds retry_delay(int attempts, std::chrono::seconds base, std::chrono::seconds cap);

class Scheduler {
 public:
  // The modules this worker serves, by name; they and the pool and outbox must outlive it.
  using ModuleMap = std::map<std::string, Module*, std::less<>>;

  Scheduler(boost::asio::io_context& io, pg::Pool& pool, Outbox& outbox, ModuleMap modules,
            SchedulerSettings settings);
  ~Scheduler();  // stop()s, waiting at most a few seconds
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the loop and the LISTEN thread. Returns at once.
  void start();
  // Stops taking new rows; the row being delivered is finished (or, past the deadline, left to
  // its claim); claimed rows not started are handed back. Blocks until the loop is done or the
  // deadline passes: call it from a thread that is not the io_context's only runner.
  void stop(std::chrono::steady_clock::time_point deadline);
  // Runs a pass soon (thread-safe): a test that moved due_at, a module that added a row.
  void wake();

  const std::string& worker_id() const { return settings_.worker_id; }

  // {"state": "running"|"stopped", "worker_id", "listening": bool, "pending": N, "due": N,
  //  "next_due_in_seconds": x|null, "last_error": "..."|null} (counts from the last pass).
  nlohmann::json status() const;
  // {"passes", "delivered", "retried", "failed", "handed_back", "lost_claims"}.
  nlohmann::json stats() const;

 private:
  struct Claimed;
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<std::chrono::milliseconds> pass();
  boost::asio::awaitable<void> handle(const Claimed& row);
  boost::asio::awaitable<void> finish_failed(const Claimed& row, const std::string& error,
                                             bool final);
  boost::asio::awaitable<void> hand_back(std::vector<std::int64_t> ids);
  boost::asio::awaitable<void> pause(std::chrono::milliseconds duration);
  void listen_thread();
  void note_error(const std::string& error);

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  pg::Pool& pool_;
  Outbox& outbox_;
  ModuleMap modules_;
  SchedulerSettings settings_;
  // Shared with the handlers wake() posts, which may run after this object is gone.
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  std::atomic<bool> woken_{false};
  std::chrono::steady_clock::time_point next_sweep_{};  // strand only
  bool started_ = false;
  std::promise<void> done_;
  std::shared_future<void> done_future_;
  std::thread listener_;

  mutable std::mutex mutex_;
  std::int64_t pending_ = 0;
  std::int64_t due_ = 0;
  std::optional<double> next_due_in_;
  std::string last_error_;
  std::uint64_t passes_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t retried_ = 0;
  std::uint64_t failed_ = 0;
  std::uint64_t handed_back_ = 0;
  std::uint64_t lost_claims_ = 0;
};

}  // namespace waddle::actions
