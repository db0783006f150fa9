#include "actions/scheduler.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pqxx/pqxx>

#include "actions/outbox.hpp"
#include "actions/text.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr const char* kChannel = "waddle_scheduler";
// Rows of a module no waddle-actiond knows are given up this long after they were due.
constexpr const char* kUnknownModuleGrace = "1 hour";
constexpr std::chrono::seconds kSweepInterval{60};
// A pass that found a due row it could not claim (another worker's claim is being written) looks
// again this soon rather than at once.
constexpr milliseconds kMinWait{50};
constexpr int kFinishAttempts = 3;
constexpr std::size_t kMaxErrorLength = 500;

// A Postgres text[] literal of names that need no escaping beyond quotes (module names).
std::string text_array(const std::vector<std::string>& names) {
  std::string out = "{";
  for (const auto& name : names) {
    out += (out.size() > 1 ? ",\"" : "\"");
    for (char c : name) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string bigint_array(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (auto id : ids) out += (out.size() > 1 ? "," : "") + std::to_string(id);
  return out + "}";
}

std::string what_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

std::string make_worker_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, 8, "unknown");
  return std::string(host) + ":" + std::to_string(getpid()) + ":" +
         crypto::hex_encode(crypto::random_bytes(4));
}

std::chrono::seconds retry_delay(int attempts, std::chrono::seconds base,
                                 std::chrono::seconds cap) {
  std::chrono::seconds delay = base;
  for (int i = 1; i < attempts && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

struct Scheduler::Claimed {
  ScheduledItem item;
  int attempts_now = 0;  // attempts including this one
};

Scheduler::Scheduler(asio::io_context& io, pg::Pool& pool, Outbox& outbox, ModuleMap modules,
                     SchedulerSettings settings)
    : io_(io),
      strand_(asio::make_strand(io.get_executor())),
      pool_(pool),
      outbox_(outbox),
      modules_(std::move(modules)),
      settings_(std::move(settings)),
      timer_(std::make_shared<asio::steady_timer>(strand_)),
      done_future_(done_.get_future().share()) {
  if (settings_.worker_id.empty()) settings_.worker_id = make_worker_id();
  settings_.batch_size = std::max<std::size_t>(settings_.batch_size, 1);
  settings_.max_attempts = std::max(settings_.max_attempts, 1);
  if (settings_.poll_interval < kMinWait) settings_.poll_interval = kMinWait;
  if (settings_.claim_duration < std::chrono::seconds(10)) {
    settings_.claim_duration = std::chrono::seconds(10);
  }
}

Scheduler::~Scheduler() {
  stop(std::chrono::steady_clock::now() + std::chrono::seconds(3));
}

void Scheduler::start() {
  if (started_) return;
  started_ = true;
  asio::co_spawn(strand_, loop(), [this](std::exception_ptr error) {
    if (error) spdlog::error("scheduler: the loop ended: {}", what_of(error));
    done_.set_value();
  });
  if (!settings_.database_url.empty()) listener_ = std::thread([this] { listen_thread(); });
  std::vector<std::string> names;
  for (const auto& [name, module] : modules_) names.push_back(name);
  spdlog::info("scheduler {} started for {}", settings_.worker_id, text_array(names));
}

void Scheduler::stop(std::chrono::steady_clock::time_point deadline) {
  if (!stopping_.exchange(true) && started_) {
    asio::post(strand_, [timer = timer_] { timer->cancel(); });
  }
  if (started_ && done_future_.wait_until(deadline) != std::future_status::ready) {
    spdlog::warn(
        "scheduler {}: a delivery is still running at the stop deadline; its claim "
        "expires by itself",
        settings_.worker_id);
  }
  if (listener_.joinable()) listener_.join();
}

void Scheduler::wake() {
  woken_.store(true);
  asio::post(strand_, [timer = timer_] { timer->cancel(); });
}

void Scheduler::note_error(const std::string& error) {
  spdlog::warn("scheduler: {}", error);
  std::lock_guard lock(mutex_);
  last_error_ = error;
}

nlohmann::json Scheduler::status() const {
  std::lock_guard lock(mutex_);
  return {
      {"state", stopping_ ? "stopped" : (started_ ? "running" : "starting")},
      {"worker_id", settings_.worker_id},
      {"listening", listening_.load()},
      {"pending", pending_},
      {"due", due_},
      {"next_due_in_seconds", next_due_in_ ? nlohmann::json(*next_due_in_) : nullptr},
      {"last_error", last_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_error_)}};
}

nlohmann::json Scheduler::stats() const {
  std::lock_guard lock(mutex_);
  return {{"passes", passes_}, {"delivered", delivered_},     {"retried", retried_},
          {"failed", failed_}, {"handed_back", handed_back_}, {"lost_claims", lost_claims_}};
}

asio::awaitable<void> Scheduler::loop() {
  while (!stopping_) {
    milliseconds wait = settings_.poll_interval;
    try {
      wait = co_await pass();
    } catch (const std::exception& e) {
      note_error(e.what());
    }
    if (stopping_) break;
    if (woken_.exchange(false) || wait.count() == 0) continue;
    timer_->expires_after(wait);
    boost::system::error_code ec;
    co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<milliseconds> Scheduler::pass() {
  {
    std::lock_guard lock(mutex_);
    ++passes_;
  }
  std::vector<std::string> served;
  for (const auto& [name, module] : modules_) served.push_back(name);
  const std::string served_array = text_array(served);

  if (const auto now = std::chrono::steady_clock::now(); now >= next_sweep_) {
    next_sweep_ = now + kSweepInterval;
    const std::string known = text_array(known_modules());
    auto sweep = [&](pqxx::work& tx) {
      return tx
          .exec_params(std::string("update scheduled_messages set state = 'failed', finished_at = "
                                   "now(), claimed_by = null, claimed_until = null, last_error = "
                                   "'no waddle-actiond module is named ' || module_name where "
                                   "state = 'pending' and due_at < now() - interval '") +
                           kUnknownModuleGrace + "' and not (module_name = any($1::text[]))",
                       known)
          .affected_rows();
    };
    const auto swept = co_await pool_.transaction(std::move(sweep));
    if (swept > 0) {
      std::lock_guard lock(mutex_);
      failed_ += swept;
      last_error_ = std::to_string(swept) + " scheduled message(s) of unknown modules failed";
    }
  }

  auto claim = [&](pqxx::work& tx) {
    std::vector<Claimed> rows;
    const pqxx::result r = tx.exec_params(
        "update scheduled_messages s set claimed_by = $1, claimed_until = now() + "
        "make_interval(secs => $2), attempts = s.attempts + 1 "
        "where s.id in (select id from scheduled_messages where state = 'pending' and due_at <= "
        "now() and (claimed_until is null or claimed_until < now()) and module_name = "
        "any($3::text[]) order by due_at limit $4 for update skip locked) "
        "returning s.id, s.community_id, s.entity_id, s.module_name, s.kind, s.ref_id, "
        "(extract(epoch from s.due_at) * 1000000)::bigint, s.actions::text, "
        "coalesce(s.created_by_id, ''), coalesce(s.created_by_name, ''), s.attempts",
        settings_.worker_id, static_cast<double>(settings_.claim_duration.count()), served_array,
        static_cast<std::int64_t>(settings_.batch_size));
    for (const auto& row : r) {
      Claimed c;
      c.item.id = row[0].as<std::int64_t>();
      c.item.community_id = row[1].as<std::int64_t>();
      c.item.entity_id = row[2].as<std::string>();
      c.item.module_name = row[3].as<std::string>();
      c.item.kind = row[4].as<std::string>();
      if (!row[5].is_null()) c.item.ref_id = row[5].as<std::int64_t>();
      c.item.due_at = SystemTime(std::chrono::microseconds(row[6].as<std::int64_t>()));
      try {
        c.item.actions = model::parse_actions(nlohmann::json::parse(row[7].as<std::string>()));
      } catch (const std::exception& e) {
        // Left empty: on_due() may compute the text; the default says nothing.
        spdlog::warn("scheduled message {}: stored actions unreadable: {}", c.item.id, e.what());
      }
      c.item.created_by_id = row[8].as<std::string>();
      c.item.created_by_name = row[9].as<std::string>();
      c.attempts_now = row[10].as<int>();
      c.item.attempts = c.attempts_now - 1;
      rows.push_back(std::move(c));
    }
    return rows;
  };
  std::vector<Claimed> claimed = co_await pool_.transaction(std::move(claim));
  std::sort(claimed.begin(), claimed.end(),
            [](const Claimed& a, const Claimed& b) { return a.item.due_at < b.item.due_at; });

  // Never start a row with less than half its claim left: the delivery (outbox timeout) and the
  // finishing transaction must end before another worker may take it over.
  const auto start_by = std::chrono::steady_clock::now() + settings_.claim_duration / 2;
  std::size_t done = 0;
  for (; done < claimed.size(); ++done) {
    if (stopping_ || std::chrono::steady_clock::now() >= start_by) break;
    co_await handle(claimed[done]);
  }
  if (done < claimed.size()) {
    std::vector<std::int64_t> rest;
    for (std::size_t i = done; i < claimed.size(); ++i) rest.push_back(claimed[i].item.id);
    co_await hand_back(std::move(rest));
  }

  struct Counts {
    std::int64_t pending = 0;
    std::int64_t due = 0;
    std::optional<double> next_in;
  };
  auto count = [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    // The next time a row of ours may be claimed: its due time, or its claim's end.
    const pqxx::row row = tx.exec_params1(
        "select count(*), count(*) filter (where due_at <= now()), extract(epoch from "
        "min(greatest(due_at, coalesce(claimed_until, due_at))) filter (where module_name = "
        "any($1::text[])) - now())::float8 from scheduled_messages where state = 'pending'",
        served_array);
    Counts c{row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), std::nullopt};
    if (!row[2].is_null()) c.next_in = row[2].as<double>();
    return c;
  };
  const Counts counts = co_await pool_.run(std::move(count));
  {
    std::lock_guard lock(mutex_);
    pending_ = counts.pending;
    due_ = counts.due;
    next_due_in_ = counts.next_in;
  }
  if (claimed.size() == settings_.batch_size && done == claimed.size()) co_return milliseconds(0);
  milliseconds wait = settings_.poll_interval;
  if (counts.next_in) {
    const auto next = milliseconds(static_cast<std::int64_t>(*counts.next_in * 1000.0) + 1);
    wait = std::clamp(next, kMinWait, settings_.poll_interval);
  }
  co_return wait;
}

asio::awaitable<void> Scheduler::handle(const Claimed& row) {
  const ScheduledItem& item = row.item;
  std::exception_ptr failure;
  std::optional<NewScheduledItem> next;
  bool said = false;
  try {
    auto found = modules_.find(item.module_name);
    if (found == modules_.end()) {
      throw Error(Errc::internal, "module " + item.module_name + " is not served here");
    }
    DueResult result = co_await found->second->on_due(item);
    next = std::move(result.next);
    auto actions = fit_for_chat(std::move(result.actions));
    if (!actions.empty()) {
      co_await outbox_.send(item.entity_id, std::move(actions), item.module_name);
      said = true;
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    const bool final = !is_retryable(failure) || row.attempts_now >= settings_.max_attempts;
    co_await finish_failed(row, what_of(failure), final);
    co_return;
  }

  // Retried a few times: once said, a lost finish would let the claim expire and the message be
  // said again by whoever claims it next.
  for (int attempt = 1; attempt <= kFinishAttempts; ++attempt) {
    try {
      auto finish = [&](pqxx::work& tx) {
        const auto r = tx.exec_params(
            "update scheduled_messages set state = 'delivered', finished_at = now(), "
            "claimed_by = null, claimed_until = null, last_error = null "
            "where id = $1 and claimed_by = $2 and state = 'pending'",
            item.id, settings_.worker_id);
        if (r.affected_rows() == 0) return false;
        if (next) schedule_item(tx, *next);
        return true;
      };
      const bool ours = co_await pool_.transaction(std::move(finish));
      std::lock_guard lock(mutex_);
      if (ours) {
        ++delivered_;
      } else {
        ++lost_claims_;
        spdlog::warn(
            "scheduled message {}: the claim was lost before it was finished (cancelled "
            "meanwhile, or delivered past its claim)",
            item.id);
      }
      if (said) {
        spdlog::debug("scheduled message {} ({} {}) delivered to {}", item.id, item.module_name,
                      item.kind, item.entity_id);
      }
      co_return;
    } catch (const std::exception& e) {
      note_error("scheduled message " + std::to_string(item.id) +
                 ": delivered, but marking it delivered failed: " + e.what());
    }
    co_await pause(std::chrono::seconds(1));
  }
}

asio::awaitable<void> Scheduler::pause(milliseconds duration) {
  asio::steady_timer timer(strand_, duration);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> Scheduler::finish_failed(const Claimed& row, const std::string& error,
                                               bool final) {
  const std::string text = trim_chat(error, kMaxErrorLength);
  const auto delay = retry_delay(row.attempts_now, settings_.retry_base, settings_.retry_cap);
  note_error("scheduled message " + std::to_string(row.item.id) + " (" + row.item.module_name +
             " " + row.item.kind + " for " + row.item.entity_id + "), attempt " +
             std::to_string(row.attempts_now) + ": " + text +
             (final ? "; given up" : "; next attempt in " + std::to_string(delay.count()) + " s"));
  try {
    auto fail = [&](pqxx::work& tx) {
      return tx
          .exec_params(
              "update scheduled_messages set claimed_by = null, claimed_until = null, "
              "last_error = $3, state = case when $4 then 'failed' else 'pending' end, "
              "finished_at = case when $4 then now() end, "
              "due_at = case when $4 then due_at else now() + make_interval(secs => $5) end "
              "where id = $1 and claimed_by = $2 and state = 'pending'",
              row.item.id, settings_.worker_id, text, final, static_cast<double>(delay.count()))
          .affected_rows();
    };
    const auto changed = co_await pool_.transaction(std::move(fail));
    std::lock_guard lock(mutex_);
    if (changed == 0) {
      ++lost_claims_;
    } else if (final) {
      ++failed_;
    } else {
      ++retried_;
    }
  } catch (const std::exception& e) {
    // The claim expires by itself and the row is tried again then.
    note_error("scheduled message " + std::to_string(row.item.id) +
               ": recording the failure failed: " + e.what());
  }
}

asio::awaitable<void> Scheduler::hand_back(std::vector<std::int64_t> ids) {
  const std::string array = bigint_array(ids);
  try {
    auto release = [&](pqxx::work& tx) {
      return tx
          .exec_params(
              "update scheduled_messages set claimed_by = null, claimed_until = null, attempts = "
              "greatest(attempts - 1, 0) where id = any($1::bigint[]) and claimed_by = $2 and "
              "state = 'pending'",
              array, settings_.worker_id)
          .affected_rows();
    };
    const auto released = co_await pool_.transaction(std::move(release));
    std::lock_guard lock(mutex_);
    handed_back_ += released;
  } catch (const std::exception& e) {
    note_error("handing back " + std::to_string(ids.size()) + " claimed message(s): " + e.what());
  }
}

namespace {

class Wakeup final : public pqxx::notification_receiver {
 public:
  Wakeup(pqxx::connection_base& conn, Scheduler& scheduler)
      : pqxx::notification_receiver(conn, kChannel), scheduler_(scheduler) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override {
    scheduler_.wake();
  }

 private:
  Scheduler& scheduler_;
};

}  // namespace

void Scheduler::listen_thread() {
  bool warned = false;
  while (!stopping_) {
    try {
      pqxx::connection conn(settings_.database_url);
      Wakeup wakeup(conn, *this);
      listening_ = true;
      if (warned) spdlog::info("scheduler: listening on {} again", kChannel);
      warned = false;
      wake();  // whatever was added while nobody listened
      while (!stopping_) conn.await_notification(0, 250000);
    } catch (const std::exception& e) {
      listening_ = false;
      if (!warned) {
        spdlog::warn("scheduler: LISTEN {} failed ({}); polling every {} ms until it is back",
                     kChannel, e.what(), settings_.poll_interval.count());
        warned = true;
      }
    }
    listening_ = false;
    for (int i = 0; i < 10 && !stopping_; ++i) {
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
}

}  // namespace waddle::actions
