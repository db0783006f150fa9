// waddle::pg::Pool against the real PostgreSQL of the test cluster.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "error/error.hpp"
#include "pg/pool.hpp"
#include "support/cluster.hpp"

using waddle::Errc;
using waddle::pg::Pool;
using waddle::pg::PoolOptions;
using waddle::pg::RunOptions;
using waddle::pg::Target;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::string unique(const std::string& stem) {
  return "waddle_pg_" + stem + "_" + std::to_string(::getpid());
}

PoolOptions options_for(const std::string& application_name, std::size_t size = 4) {
  PoolOptions options;
  options.primary_url = waddle::test::database_url();
  options.application_name = application_name;
  options.size = size;
  options.worker_threads = size;
  return options;
}

// Runs one coroutine to completion on a fresh io_context with `threads` threads.
template <class T>
T complete(asio::awaitable<T> task, int threads = 1) {
  asio::io_context io;
  auto result = asio::co_spawn(io, std::move(task), asio::use_future);
  std::vector<std::thread> runners;
  for (int i = 1; i < threads; ++i) runners.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : runners) t.join();
  return result.get();
}

template <class F>
Errc error_code_of(F&& f, std::string* message) {
  try {
    f();
  } catch (const waddle::Error& e) {
    *message = e.what();
    return e.code();
  }
  return Errc::ok;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int scalar_int(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx(c);
  return tx.exec1(sql)[0].as<int>();
}

int backend_pid(pqxx::connection& c) {
  return scalar_int(c, "select pg_backend_pid()");
}

// Terminates a backend from outside the pool and waits (bounded) until the process is gone.
void terminate_backend(int pid) {
  pqxx::connection admin(waddle::test::database_url());
  pqxx::nontransaction tx(admin);
  auto row = tx.exec_params1("select pg_terminate_backend($1, 10000)", pid);
  REQUIRE(row[0].as<bool>());
}

// A self-inflicted broken link: the server kills the backend while it runs this very query.
void kill_own_backend(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  tx.exec("select pg_terminate_backend(pg_backend_pid())");
}

// A closed TCP port on 127.0.0.1: bound by the kernel's choice, then released.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("a simple select, awaited and blocking") {
  Pool pool(options_for(unique("select")));
  int two = complete(pool.run([](pqxx::connection& c) { return scalar_int(c, "select 1 + 1"); }));
  CHECK(two == 2);
  CHECK(pool.run_sync([](pqxx::connection& c) { return scalar_int(c, "select 40 + 2"); }) == 42);
  auto stats = pool.stats();
  CHECK(stats.open == 1);
  CHECK(stats.idle == 1);
  CHECK(stats.in_use == 0);
  CHECK(stats.size == 4);
}

TEST_CASE("exec_params passes values as parameters, quotes and all") {
  Pool pool(options_for(unique("params")));
  const std::string table = unique("params");
  const std::string nasty = "Robert'); drop table " + table + "; -- \"o'clock\" \\";
  pool.run_sync([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec("drop table if exists " + table);
    tx.exec("create table " + table + " (id int primary key, name text not null)");
  });
  complete(pool.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params0("insert into " + table + " (id, name) values ($1, $2)", 1, nasty);
  }));
  auto stored = complete(pool.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx
        .exec_params1("select name from " + table + " where id = $1 and name = $2", 1, nasty)[0]
        .as<std::string>();
  }));
  CHECK(stored == nasty);
  auto tables = pool.run_sync([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec_params1("select count(*) from pg_tables where tablename = $1", table)[0]
        .as<int>();
  });
  CHECK(tables == 1);
  pool.run_sync([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec("drop table " + table);
  });
}

TEST_CASE("a transaction commits on return and rolls back when it throws") {
  Pool pool(options_for(unique("tx")));
  const std::string table = unique("tx");
  pool.transaction_sync([&](pqxx::work& tx) {
    tx.exec("drop table if exists " + table);
    tx.exec("create table " + table + " (id int primary key)");
  });
  int inserted = complete(pool.transaction([&](pqxx::work& tx) {
    tx.exec_params0("insert into " + table + " values ($1)", 1);
    return 1;
  }));
  CHECK(inserted == 1);

  std::string message;
  try {
    complete(pool.transaction([&](pqxx::work& tx) {
      tx.exec_params0("insert into " + table + " values ($1)", 2);
      throw std::runtime_error("changed my mind");
    }));
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CHECK(message == "changed my mind");
  CHECK_THROWS_AS(pool.transaction_sync([&](pqxx::work& tx) {
    tx.exec_params0("insert into " + table + " values ($1)", 3);
    tx.exec_params0("insert into " + table + " values ($1)", 1);  // duplicate key
  }),
                  pqxx::unique_violation);

  auto ids = pool.run_sync([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::vector<int> ids;
    for (const auto& row : tx.exec("select id from " + table + " order by id")) {
      ids.push_back(row[0].as<int>());
    }
    return ids;
  });
  CHECK(ids == std::vector<int>{1});
  CHECK(pool.stats().replaced == 0);
  pool.run_sync([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec("drop table " + table);
  });
}

TEST_CASE("50 coroutines on 2 io threads share 4 connections and all complete") {
  const std::string app = unique("fifty");
  Pool pool(options_for(app, 4));
  asio::io_context io;
  std::atomic<int> completed{0};
  std::atomic<int> most_backends{0};
  for (int i = 0; i < 50; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          int backends = co_await pool.run([&](pqxx::connection& c) {
            pqxx::nontransaction tx(c);
            tx.exec("select pg_sleep(0.01)");
            return tx
                .exec_params1("select count(*) from pg_stat_activity where application_name = $1",
                              app)[0]
                .as<int>();
          });
          int seen = most_backends.load();
          while (backends > seen && !most_backends.compare_exchange_weak(seen, backends)) {
          }
          ++completed;
        },
        asio::detached);
  }
  std::thread second([&] { io.run(); });
  io.run();
  second.join();
  CHECK(completed == 50);
  CHECK(most_backends >= 1);
  CHECK(most_backends <= 4);
  auto stats = pool.stats();
  CHECK(stats.open <= 4);
  CHECK(stats.in_use == 0);
  CHECK(stats.waiting == 0);
  CHECK(stats.replaced == 0);
}

TEST_CASE("f runs on the pool's workers and the coroutine resumes on its io threads") {
  Pool pool(options_for(unique("threads"), 2));
  asio::io_context io;
  std::mutex mutex;
  std::set<std::thread::id> io_threads, resumed_on, worker_threads;
  for (int i = 0; i < 8; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          {
            std::lock_guard lock(mutex);
            io_threads.insert(std::this_thread::get_id());
          }
          auto worker = co_await pool.run([](pqxx::connection& c) {
            scalar_int(c, "select 1");
            return std::this_thread::get_id();
          });
          std::lock_guard lock(mutex);
          worker_threads.insert(worker);
          resumed_on.insert(std::this_thread::get_id());
        },
        asio::detached);
  }
  std::set<std::thread::id> runners;
  std::thread second([&] { io.run(); });
  runners.insert(second.get_id());
  runners.insert(std::this_thread::get_id());
  io.run();
  second.join();
  REQUIRE(worker_threads.size() >= 1);
  for (auto id : worker_threads) CHECK(runners.count(id) == 0);
  for (auto id : resumed_on) CHECK(runners.count(id) == 1);
  for (auto id : io_threads) CHECK(runners.count(id) == 1);
}

TEST_CASE("an exhausted pool answers unavailable after acquire_timeout") {
  auto options = options_for(unique("exhausted"), 1);
  options.worker_threads = 2;
  options.acquire_timeout = 200ms;
  Pool pool(options);

  std::promise<void> holding;
  std::atomic<bool> release{false};
  asio::io_context io;
  auto holder = asio::co_spawn(io, pool.run([&](pqxx::connection& c) {
    holding.set_value();
    pqxx::nontransaction tx(c);
    // Bounded: at most ~30 s even if the test below went wrong.
    for (int i = 0; i < 600 && !release; ++i) {
      tx.exec("select pg_sleep(0.05)");
    }
    return 1;
  }),
                               asio::use_future);
  std::thread runner([&] { io.run(); });
  holding.get_future().get();

  std::string async_message, sync_message;
  {
    asio::io_context other;
    auto waiting = asio::co_spawn(
        other, pool.run([](pqxx::connection& c) { return scalar_int(c, "select 1"); }),
        asio::use_future);
    other.run();
    CHECK(error_code_of([&] { waiting.get(); }, &async_message) == Errc::unavailable);
  }
  CHECK(error_code_of([&] { pool.run_sync([](pqxx::connection&) { return 0; }); }, &sync_message) ==
        Errc::unavailable);
  CHECK(pool.stats().waiting == 0);
  release = true;
  runner.join();
  CHECK(holder.get() == 1);
  CHECK(contains(async_message, "no free database connection within 200 ms"));
  CHECK(contains(sync_message, "no free database connection within 200 ms"));
  // Once freed, the connection serves the next caller.
  CHECK(pool.run_sync([](pqxx::connection& c) { return scalar_int(c, "select 7"); }) == 7);
}

TEST_CASE("waiters are served in order once a connection comes back") {
  auto options = options_for(unique("fifo"), 1);
  Pool pool(options);
  asio::io_context io;
  std::vector<int> order;
  std::mutex mutex;
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          co_await pool.run([&, i](pqxx::connection& c) {
            scalar_int(c, "select 1");
            std::lock_guard lock(mutex);
            order.push_back(i);
          });
        },
        asio::detached);
  }
  io.run();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("a backend terminated while idle is replaced before the next query") {
  Pool pool(options_for(unique("terminated"), 1));
  int first = complete(pool.run(backend_pid));
  terminate_backend(first);
  int second = complete(pool.run(backend_pid));
  CHECK(second != first);
  CHECK(pool.stats().replaced == 1);
  CHECK(pool.stats().open == 1);
  CHECK(pool.run_sync(backend_pid) == second);
}

TEST_CASE("the query that hits a broken link gets unavailable, the next one succeeds") {
  Pool pool(options_for(unique("broken"), 1));
  int first = pool.run_sync(backend_pid);
  std::string message;
  CHECK(error_code_of([&] { complete(pool.run([](pqxx::connection& c) { kill_own_backend(c); })); },
                      &message) == Errc::unavailable);
  CHECK(contains(message, "broke"));
  int next = complete(pool.run(backend_pid));
  CHECK(next != first);
  CHECK(pool.stats().replaced == 1);

  CHECK(error_code_of([&] { pool.run_sync(kill_own_backend); }, &message) == Errc::unavailable);
  CHECK(pool.run_sync(backend_pid) != next);
  CHECK(pool.stats().replaced == 2);
}

TEST_CASE("retry_on_broken runs the work again on a fresh connection") {
  Pool pool(options_for(unique("retry"), 1));
  int attempts = 0;
  auto flaky = [&attempts](pqxx::connection& c) {
    if (++attempts == 1) kill_own_backend(c);
    return backend_pid(c);
  };
  int pid = complete(pool.run(flaky, Target::primary, RunOptions{.retry_on_broken = true}));
  CHECK(attempts == 2);
  CHECK(pid > 0);
  CHECK(pool.stats().replaced == 1);

  attempts = 0;
  int again = pool.run_sync(flaky, Target::primary, RunOptions{.retry_on_broken = true});
  CHECK(attempts == 2);
  CHECK(again != pid);
  CHECK(pool.stats().replaced == 2);

  // A transaction that broke before COMMIT is retried as a whole.
  int tx_attempts = 0;
  int value = complete(pool.transaction(
      [&](pqxx::work& tx) {
        if (++tx_attempts == 1) tx.exec("select pg_terminate_backend(pg_backend_pid())");
        return tx.exec1("select 5")[0].as<int>();
      },
      RunOptions{.retry_on_broken = true}));
  CHECK(value == 5);
  CHECK(tx_attempts == 2);
}

TEST_CASE("Target::replica reads go to the replica when configured, else to the primary") {
  const std::string primary_app = unique("primary");
  const std::string replica_app = unique("replica");
  auto url = waddle::test::database_url();
  auto options = options_for(primary_app, 2);
  options.replica_url = url + (contains(url, "?") ? "&" : "?") + "application_name=" + replica_app;
  options.replica_size = 1;
  auto app_name = [](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec1("select current_setting('application_name')")[0].as<std::string>();
  };
  {
    Pool pool(options);
    CHECK(pool.has_replica());
    CHECK(complete(pool.run(app_name, Target::replica)) == replica_app);
    CHECK(complete(pool.run(app_name, Target::primary)) == primary_app);
    CHECK(complete(pool.run(app_name)) == primary_app);
    CHECK(pool.run_sync(app_name, Target::replica) == replica_app);
    CHECK(complete(pool.transaction([](pqxx::work& tx) {
            return tx.exec1("select current_setting('application_name')")[0].as<std::string>();
          })) == primary_app);
    CHECK(pool.stats(Target::replica).size == 1);
    CHECK(pool.stats(Target::replica).open == 1);
    CHECK(pool.stats(Target::primary).size == 2);
  }
  options.replica_url.clear();
  Pool primary_only(options);
  CHECK_FALSE(primary_only.has_replica());
  CHECK(complete(primary_only.run(app_name, Target::replica)) == primary_app);
}

TEST_CASE("unreachable servers are unavailable, and no message shows the password") {
  const std::string password = "s3cr3t-pw";
  std::string message;
  {
    int port = closed_port();
    auto options = options_for(unique("closed"), 1);
    options.primary_url =
        "postgresql://waddle:" + password + "@127.0.0.1:" + std::to_string(port) + "/waddle";
    Pool pool(options);  // lazy: no connection yet
    CHECK(error_code_of([&] { pool.run_sync(backend_pid); }, &message) == Errc::unavailable);
    CHECK(contains(message, "127.0.0.1:" + std::to_string(port)));
    CHECK(contains(message, "database \"waddle\""));
    CHECK_FALSE(contains(message, password));
    CHECK(error_code_of([&] { complete(pool.run(backend_pid)); }, &message) == Errc::unavailable);
    CHECK(contains(message, std::to_string(port)));
    CHECK_FALSE(contains(message, password));
    // The failed attempts gave their slot back.
    CHECK(pool.stats().in_use == 0);
    CHECK(pool.stats().open == 0);
  }
  {
    // The real server, a database that does not exist.
    const std::string db = unique("nodb");
    int port = Pool(options_for(unique("port"), 1)).run_sync([](pqxx::connection& c) {
      return scalar_int(c, "select current_setting('port')::int");
    });
    auto options = options_for(unique("nodb"), 1);
    options.primary_url =
        "postgresql://postgres:" + password + "@127.0.0.1:" + std::to_string(port) + "/" + db;
    Pool pool(options);
    CHECK(error_code_of([&] { pool.run_sync(backend_pid); }, &message) == Errc::unavailable);
    CHECK(contains(message, db));
    CHECK_FALSE(contains(message, password));
  }
  {
    auto options = options_for(unique("malformed"), 1);
    options.primary_url = "postgresql://waddle:" + password + "@127.0.0.1/waddle?bogus=1";
    CHECK(error_code_of([&] { Pool pool(options); }, &message) == Errc::invalid_argument);
    CHECK(contains(message, "primary_url"));
    CHECK_FALSE(contains(message, password));
    options.primary_url = options_for("x").primary_url;
    options.replica_url = "postgresql://waddle:" + password + "%zz@127.0.0.1/waddle";
    CHECK(error_code_of([&] { Pool pool(options); }, &message) == Errc::invalid_argument);
    CHECK(contains(message, "replica_url"));
    CHECK_FALSE(contains(message, password));
    options.replica_url.clear();
    options.size = 0;
    CHECK(error_code_of([&] { Pool pool(options); }, &message) == Errc::invalid_argument);
    CHECK(contains(message, "size"));
  }
}
