#pragma once
// A PostgreSQL connection pool for coroutine code. libpqxx blocks, so every query runs on the
// pool's own worker threads and the awaiting coroutine resumes on its own executor: an
// io_context thread never waits for the database. An optional read replica gets its own
// connections; writes and transactions always go to the primary.
//
//   waddle::pg::Pool pool({.primary_url = url});
//   auto name = co_await pool.run([&](pqxx::connection& c) {
//     pqxx::nontransaction tx(c);
//     return tx.exec_params1("select name from community where id = $1", id)[0].as<std::string>();
//   }, waddle::pg::Target::replica);
//
// The pool must outlive every run() it started; ~Pool joins the worker threads.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/transaction>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "error/error.hpp"
#include "pg/conninfo.hpp"

namespace waddle::pg {

struct PoolOptions {
  std::string primary_url;
  std::string replica_url;  // optional: empty sends Target::replica reads to the primary
  std::size_t size = 8;     // connections to the primary, opened lazily
  std::size_t replica_size = 4;
  std::size_t worker_threads = 4;  // queries in flight at once; size it like `size`
  std::chrono::milliseconds acquire_timeout{5000};
  std::chrono::seconds connect_timeout{5};     // passed to libpq unless the URL sets it
  std::string application_name = "waddlebot";  // unless the URL sets it
};

enum class Target { primary, replica };

struct RunOptions {
  // Run f once more, on a fresh connection, when its connection broke under it. Only for work
  // that is safe to repeat (a read, or a transaction that had not reached COMMIT).
  bool retry_on_broken = false;
};

struct Stats {
  std::size_t size = 0;      // the most connections this target opens
  std::size_t open = 0;      // connections established now
  std::size_t idle = 0;      // open and free
  std::size_t in_use = 0;    // handed to callers (some may still be connecting)
  std::size_t waiting = 0;   // callers queued for a connection
  std::size_t replaced = 0;  // connections thrown away because they broke
};

namespace detail {

class ConnectionSet;

// One slot of a ConnectionSet, held by one caller: an open connection, or the right to open one.
// Destroying it returns the slot (and a healthy connection) to the set.
class Lease {
 public:
  Lease() = default;
  Lease(ConnectionSet* set, std::unique_ptr<pqxx::connection> conn) noexcept;
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  // A usable connection: opened now if the slot has none, replaced if it broke while idle.
  // Blocks; throws Error(Errc::unavailable) when the server cannot be reached.
  pqxx::connection& connection();
  // After the caller's work threw: true (and the connection thrown away) when the link is broken.
  bool discard_if_broken(const std::exception_ptr& error);
  ConnectionSet& set() const { return *set_; }

 private:
  void release() noexcept;

  ConnectionSet* set_ = nullptr;
  std::unique_ptr<pqxx::connection> conn_;
};

// A caller queued for a connection. `done` is guarded by the set's mutex: whoever sets it (a
// returning connection, or the waiter's own timeout) completes the waiter, exactly once.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void grant(Lease lease) = 0;
  bool done = false;
};

// The connections to one server (the primary or the replica).
class ConnectionSet {
 public:
  ConnectionSet(ConnInfo info, std::string role, std::size_t size,
                std::chrono::milliseconds acquire_timeout);
  ~ConnectionSet();
  ConnectionSet(const ConnectionSet&) = delete;
  ConnectionSet& operator=(const ConnectionSet&) = delete;

  // A lease at once (and `waiter` marked done) when a connection or slot is free and nobody
  // queues ahead; otherwise `waiter` joins the FIFO queue and is granted one later.
  std::optional<Lease> try_acquire(const std::shared_ptr<Waiter>& waiter);
  // A timed-out waiter leaves the queue: false when it was granted a lease in the meantime.
  bool withdraw(Waiter& waiter);
  // Blocks the calling thread, at most acquire_timeout.
  Lease acquire_blocking();
  // Completes with a Lease (or an Error after acquire_timeout) on the token's executor.
  template <class CompletionToken>
  auto async_acquire(CompletionToken&& token);

  std::unique_ptr<pqxx::connection> open();
  void discard(std::unique_ptr<pqxx::connection> conn) noexcept;
  void give_back(std::unique_ptr<pqxx::connection> conn) noexcept;

  Error timeout_error() const;
  Error broken_error(const std::exception_ptr& error) const;
  Stats stats() const;
  std::chrono::milliseconds acquire_timeout() const { return acquire_timeout_; }

 private:
  const ConnInfo info_;
  const std::string role_;
  const std::size_t size_;
  const std::chrono::milliseconds acquire_timeout_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::deque<std::weak_ptr<Waiter>> waiters_;
  std::size_t in_use_ = 0;
  std::size_t open_ = 0;
  std::size_t replaced_ = 0;
};

// A coroutine (or any Asio operation) waiting for a connection, with its acquire_timeout timer
// on the caller's executor. Only the timer's pending wait owns it, so an io_context that goes
// away takes its waiters along and the queue just skips them.
template <class Handler>
class AsyncWaiter final : public Waiter, public std::enable_shared_from_this<AsyncWaiter<Handler>> {
 public:
  explicit AsyncWaiter(Handler handler)
      : handler_(std::move(handler)), timer_(boost::asio::get_associated_executor(handler_)) {}

  void start_timer(ConnectionSet& set) {
    timer_.expires_after(set.acquire_timeout());
    timer_.async_wait([self = this->shared_from_this(), &set](boost::system::error_code ec) {
      if (ec || !set.withdraw(*self)) return;
      std::move(self->handler_)(std::make_exception_ptr(set.timeout_error()), Lease());
    });
  }

  // The timer may only be touched on its own executor, so cancel it there, then resume.
  void grant(Lease lease) override {
    auto ex = boost::asio::get_associated_executor(handler_);
    boost::asio::post(ex, [self = this->shared_from_this(), lease = std::move(lease)]() mutable {
      self->timer_.cancel();
      std::move(self->handler_)(nullptr, std::move(lease));
    });
  }

  // Served without queueing (try_acquire already marked it done).
  void grant_now(Lease lease) {
    timer_.cancel();
    boost::asio::post(boost::asio::append(std::move(handler_), nullptr, std::move(lease)));
  }

 private:
  Handler handler_;
  boost::asio::steady_timer timer_;
};

template <class CompletionToken>
auto ConnectionSet::async_acquire(CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Lease)>(
      [this](auto handler) {
        auto waiter = std::make_shared<AsyncWaiter<decltype(handler)>>(std::move(handler));
        // The timer starts before the waiter is queued, so a grant never races its start.
        waiter->start_timer(*this);
        if (auto lease = try_acquire(waiter)) waiter->grant_now(std::move(*lease));
      },
      token);
}

// Runs f on the lease's connection; a broken link is replaced and, if allowed, f runs once more.
template <class F>
auto run_with(Lease& lease, F& f, const RunOptions& options)
    -> std::invoke_result_t<F&, pqxx::connection&> {
  for (bool retried = false;; retried = true) {
    pqxx::connection& conn = lease.connection();
    try {
      return f(conn);
    } catch (...) {
      auto error = std::current_exception();
      if (!lease.discard_if_broken(error)) throw;
      if (!options.retry_on_broken || retried) throw lease.set().broken_error(error);
    }
  }
}

template <class F>
auto in_transaction(F& f, pqxx::connection& conn) -> std::invoke_result_t<F&, pqxx::work&> {
  pqxx::work tx(conn);
  if constexpr (std::is_void_v<std::invoke_result_t<F&, pqxx::work&>>) {
    f(tx);
    tx.commit();
  } else {
    auto result = f(tx);
    tx.commit();
    return result;
  }
}

}  // namespace detail

class Pool {
 public:
  // Checks the URLs (Error(Errc::invalid_argument) when one is malformed); connects lazily.
  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // f(pqxx::connection&) on a worker thread. Errors: Errc::unavailable when no connection is
  // free within acquire_timeout, the server cannot be reached, or the link broke during f;
  // anything else f throws reaches the caller unchanged.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F, pqxx::connection&>> run(
      F f, Target target = Target::primary, RunOptions options = {}) {
    using Result = std::invoke_result_t<F, pqxx::connection&>;
    static_assert(!std::is_reference_v<Result>, "return a value: the connection goes back");
    detail::ConnectionSet& set = set_for(target);
    detail::Lease lease = co_await set.async_acquire(boost::asio::use_awaitable);
    // Named, not a temporary inside the co_await: g++ 12 destroys a capturing lambda temporary
    // in a co_await expression twice (see README.md).
    auto job = [lease = std::move(lease), f = std::move(f), options]() mutable {
      return detail::run_with(lease, f, options);
    };
    co_return co_await offload<Result>(std::move(job));
  }

  // f(pqxx::work&) on the primary, committed when f returns, rolled back when it throws.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F, pqxx::work&>> transaction(
      F f, RunOptions options = {}) {
    return run([f = std::move(f)](
                   pqxx::connection& conn) mutable { return detail::in_transaction(f, conn); },
               Target::primary, options);
  }

  // Blocking variants for the CLI and start-up code: f runs on the calling thread, which must
  // not be an io_context thread.
  template <class F>
  std::invoke_result_t<F, pqxx::connection&> run_sync(F f, Target target = Target::primary,
                                                      RunOptions options = {}) {
    detail::Lease lease = set_for(target).acquire_blocking();
    return detail::run_with(lease, f, options);
  }

  template <class F>
  std::invoke_result_t<F, pqxx::work&> transaction_sync(F f, RunOptions options = {}) {
    return run_sync([&f](pqxx::connection& conn) { return detail::in_transaction(f, conn); },
                    Target::primary, options);
  }

  // The counters of the connections that serve `target`.
  Stats stats(Target target = Target::primary) const;
  bool has_replica() const { return replica_ != nullptr; }

 private:
  detail::ConnectionSet& set_for(Target target) const {
    return target == Target::replica && replica_ ? *replica_ : *primary_;
  }

  // fn() on a worker thread; the result (or exception) comes back on the caller's executor.
  // fn is destroyed on the worker, so its lease is back in the pool before the caller resumes.
  template <class Result, class Fn>
  boost::asio::awaitable<Result> offload(Fn fn) {
    using Value = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;
    auto initiation = [this](auto handler, Fn fn) {
      auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                      boost::asio::execution::outstanding_work.tracked);
      boost::asio::post(workers_, [handler = std::move(handler), work = std::move(work),
                                   fn = std::optional<Fn>(std::move(fn))]() mutable {
        std::exception_ptr error;
        std::optional<Value> value;
        try {
          if constexpr (std::is_void_v<Result>) {
            (*fn)();
            value.emplace();
          } else {
            value.emplace((*fn)());
          }
        } catch (...) {
          error = std::current_exception();
        }
        fn.reset();
        boost::asio::post(work, boost::asio::append(std::move(handler), error, std::move(value)));
      });
    };
    auto value =
        co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                             void(std::exception_ptr, std::optional<Value>)>(
            std::move(initiation), boost::asio::use_awaitable, std::move(fn));
    if constexpr (!std::is_void_v<Result>) co_return std::move(*value);
  }

  std::unique_ptr<detail::ConnectionSet> primary_;
  std::unique_ptr<detail::ConnectionSet> replica_;
  // Last, so that it is joined before the connection sets go away.
  boost::asio::thread_pool workers_;
};

}  // namespace waddle::pg
