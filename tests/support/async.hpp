#pragma once
// Coroutine helpers for tests (header-only: include it from tests that link Asio).
// Never co_await inside CHECK/REQUIRE: g++ 12 evaluates the expression twice there.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>

#include "error/error.hpp"

namespace waddle::test {

// Runs `task` on `ioc` until it finishes, for at most `limit`; rethrows what it threw. A task
// still running at the limit fails the test instead of hanging it.
inline void run_bounded(boost::asio::io_context& ioc, boost::asio::awaitable<void> task,
                        std::chrono::seconds limit = std::chrono::seconds(60)) {
  struct Outcome {
    bool done = false;
    std::exception_ptr error;
  };
  auto outcome = std::make_shared<Outcome>();
  auto on_done = [outcome, &ioc](std::exception_ptr e) {
    outcome->done = true;
    outcome->error = e;
    ioc.stop();
  };
  boost::asio::co_spawn(ioc, std::move(task), on_done);
  ioc.restart();
  ioc.run_for(limit);
  REQUIRE(outcome->done);
  if (outcome->error) std::rethrow_exception(outcome->error);
}

// Awaits `op`; returns the waddle::Error it threw, or nullopt when it succeeded.
template <typename T>
boost::asio::awaitable<std::optional<Error>> error_of(boost::asio::awaitable<T> op) {
  try {
    co_await std::move(op);
  } catch (const Error& e) {
    co_return e;
  }
  co_return std::nullopt;
}

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

}  // namespace waddle::test
