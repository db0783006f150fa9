#include "pg/pool.hpp"

#include <poll.h>

#include <algorithm>

namespace waddle::pg {
namespace detail {
namespace {

// An idle pooled connection has nothing to read: readable means the server hung up (e.g.
// pg_terminate_backend sent its FATAL and closed) or sent something we never asked for. Either
// way the connection is not worth the risk.
bool looks_usable(const pqxx::connection& conn) {
  if (!conn.is_open()) return false;
  int fd = conn.sock();
  if (fd < 0) return false;
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) == 0;
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

Lease::Lease(ConnectionSet* set, std::unique_ptr<pqxx::connection> conn) noexcept
    : set_(set), conn_(std::move(conn)) {}

Lease::Lease(Lease&& other) noexcept
    : set_(std::exchange(other.set_, nullptr)), conn_(std::move(other.conn_)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    set_ = std::exchange(other.set_, nullptr);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

Lease::~Lease() {
  release();
}

void Lease::release() noexcept {
  if (set_) std::exchange(set_, nullptr)->give_back(std::move(conn_));
}

pqxx::connection& Lease::connection() {
  if (conn_ && !looks_usable(*conn_)) set_->discard(std::move(conn_));
  if (!conn_) conn_ = set_->open();
  return *conn_;
}

bool Lease::discard_if_broken(const std::exception_ptr& error) {
  bool broken = !conn_ || !conn_->is_open();
  if (!broken) {
    try {
      std::rethrow_exception(error);
    } catch (const pqxx::broken_connection&) {
      broken = true;
    } catch (...) {
    }
  }
  if (broken && conn_) set_->discard(std::move(conn_));
  return broken;
}

ConnectionSet::ConnectionSet(ConnInfo info, std::string role, std::size_t size,
                             std::chrono::milliseconds acquire_timeout)
    : info_(std::move(info)),
      role_(std::move(role)),
      size_(size),
      acquire_timeout_(acquire_timeout) {}

ConnectionSet::~ConnectionSet() = default;

std::optional<Lease> ConnectionSet::try_acquire(const std::shared_ptr<Waiter>& waiter) {
  std::lock_guard lock(mutex_);
  while (!waiters_.empty() && waiters_.front().expired()) waiters_.pop_front();
  if (waiters_.empty()) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      ++in_use_;
      waiter->done = true;
      return Lease(this, std::move(conn));
    }
    if (in_use_ < size_) {
      ++in_use_;
      waiter->done = true;
      return Lease(this, nullptr);
    }
  }
  waiters_.push_back(waiter);
  return std::nullopt;
}

bool ConnectionSet::withdraw(Waiter& waiter) {
  std::lock_guard lock(mutex_);
  if (waiter.done) return false;
  waiter.done = true;
  auto it = std::find_if(waiters_.begin(), waiters_.end(), [&](const std::weak_ptr<Waiter>& w) {
    auto locked = w.lock();
    return locked.get() == &waiter;
  });
  if (it != waiters_.end()) waiters_.erase(it);
  return true;
}

namespace {

class BlockingWaiter final : public Waiter {
 public:
  void grant(Lease lease) override { promise.set_value(std::move(lease)); }
  std::promise<Lease> promise;
};

}  // namespace

Lease ConnectionSet::acquire_blocking() {
  auto waiter = std::make_shared<BlockingWaiter>();
  auto granted = waiter->promise.get_future();
  if (auto lease = try_acquire(waiter)) return std::move(*lease);
  if (granted.wait_for(acquire_timeout_) == std::future_status::ready || !withdraw(*waiter)) {
    return granted.get();
  }
  throw timeout_error();
}

std::unique_ptr<pqxx::connection> ConnectionSet::open() {
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(info_.conninfo);
  } catch (const std::exception& e) {
    throw Error(Errc::unavailable, "cannot connect to PostgreSQL (" + role_ + ") at " +
                                       info_.description + ": " +
                                       redact(e.what(), {}, info_.password));
  }
  // The pool alone replaces broken connections; libpqxx 6 would otherwise reconnect behind
  // our back and silently drop session state.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
  std::lock_guard lock(mutex_);
  ++open_;
  return conn;
}

void ConnectionSet::discard(std::unique_ptr<pqxx::connection> conn) noexcept {
  if (!conn) return;
  {
    std::lock_guard lock(mutex_);
    --open_;
    ++replaced_;
  }
  conn.reset();
}

void ConnectionSet::give_back(std::unique_ptr<pqxx::connection> conn) noexcept {
  if (conn && !conn->is_open()) discard(std::move(conn));
  std::shared_ptr<Waiter> next;
  {
    std::lock_guard lock(mutex_);
    while (!waiters_.empty() && !next) {
      next = waiters_.front().lock();
      waiters_.pop_front();
      if (next && next->done) next.reset();
    }
    if (next) {
      next->done = true;  // the slot passes on: in_use_ stays
    } else {
      if (conn) idle_.push_back(std::move(conn));
      --in_use_;
      return;
    }
  }
  next->grant(Lease(this, std::move(conn)));
}

Error ConnectionSet::timeout_error() const {
  return Error(Errc::unavailable, "no free database connection within " +
                                      std::to_string(acquire_timeout_.count()) + " ms (" + role_ +
                                      ", " + std::to_string(size_) + " connections in use)");
}

Error ConnectionSet::broken_error(const std::exception_ptr& error) const {
  return Error(Errc::unavailable, "connection to PostgreSQL (" + role_ + ") at " +
                                      info_.description +
                                      " broke: " + redact(what_of(error), {}, info_.password));
}

Stats ConnectionSet::stats() const {
  std::lock_guard lock(mutex_);
  Stats stats;
  stats.size = size_;
  stats.open = open_;
  stats.idle = idle_.size();
  stats.in_use = in_use_;
  stats.waiting = static_cast<std::size_t>(
      std::count_if(waiters_.begin(), waiters_.end(), [](const std::weak_ptr<Waiter>& w) {
        auto locked = w.lock();
        return locked && !locked->done;
      }));
  stats.replaced = replaced_;
  return stats;
}

}  // namespace detail

namespace {

std::size_t at_least_one(std::size_t value, const char* setting) {
  if (value == 0)
    throw Error(Errc::invalid_argument, std::string("database ") + setting + " must be at least 1");
  return value;
}

}  // namespace

Pool::Pool(PoolOptions options)
    : primary_(std::make_unique<detail::ConnectionSet>(
          parse_conninfo(options.primary_url, "primary_url", options.connect_timeout,
                         options.application_name),
          "primary", at_least_one(options.size, "size"), options.acquire_timeout)),
      replica_(options.replica_url.empty()
                   ? nullptr
                   : std::make_unique<detail::ConnectionSet>(
                         parse_conninfo(options.replica_url, "replica_url", options.connect_timeout,
                                        options.application_name),
                         "replica", at_least_one(options.replica_size, "replica_size"),
                         options.acquire_timeout)),
      workers_(at_least_one(options.worker_threads, "worker_threads")) {}

Pool::~Pool() {
  workers_.join();
}

Stats Pool::stats(Target target) const {
  return set_for(target).stats();
}

}  // namespace waddle::pg
