// The audit writer while PostgreSQL cannot be reached: rows wait in memory up to the bound, the
// oldest beyond it are dropped and counted, and a failed write keeps what it could not write.
#include <chrono>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "pg/pool.hpp"
#include "router/audit.hpp"
#include "support/async.hpp"

using namespace std::chrono_literals;
using waddle::router::AuditOptions;
using waddle::router::AuditWriter;
using waddle::router::ExecutionRow;

namespace {

ExecutionRow row(int i) {
  ExecutionRow r;
  r.execution_id = "exe_" + std::to_string(i);
  r.community_id = 1;
  r.entity_id = "console:local:demo";
  r.trigger = "command";
  r.status = "success";
  r.created_at = AuditWriter::now_text();
  return r;
}

}  // namespace

TEST_CASE("audit rows wait in memory up to the bound and the overflow is counted", "[router]") {
  boost::asio::io_context io;
  // Port 1 on loopback: nothing listens, every connect is refused at once.
  waddle::pg::Pool pool({.primary_url = "postgresql://nobody@127.0.0.1:1/none",
                         .size = 1,
                         .worker_threads = 1,
                         .acquire_timeout = 2s,
                         .connect_timeout = 2s});
  AuditOptions options;
  options.batch_size = 10;
  options.buffer_limit = 100;
  AuditWriter audit(pool, io.get_executor(), options);
  for (int i = 0; i < 150; ++i) audit.add(row(i));
  auto stats = audit.stats();
  CHECK(stats.queued == 150);
  CHECK(stats.pending == 100);
  CHECK(stats.dropped == 50);

  bool written = true;
  waddle::test::run_bounded(
      io, [&]() -> boost::asio::awaitable<void> { written = co_await audit.flush(); }(), 30s);
  CHECK_FALSE(written);
  stats = audit.stats();
  CHECK(stats.pending == 100);  // kept for the next attempt, nothing more lost
  CHECK(stats.dropped == 50);
  CHECK(stats.failures == 1);
  CHECK_FALSE(stats.last_error.empty());
}

TEST_CASE("audit timestamps are RFC 3339 UTC with milliseconds", "[router]") {
  const std::string now = AuditWriter::now_text();
  REQUIRE(now.size() == 24);
  CHECK(now[10] == 'T');
  CHECK(now[19] == '.');
  CHECK(now.back() == 'Z');
}
