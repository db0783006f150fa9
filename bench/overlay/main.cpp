// waddle-bench-overlay: N WebSocket clients on one overlay token of waddle-overlayd, actions
// published on Redis one at a time, and the time from PUBLISH to the last client receiving each;
// then the same clients against a bare Beast broadcast server with the same messages (issue 6,
// bench/README.md). Exit 1 when a client misses a message or gets a wrong one; never on time.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include "net/websocket.hpp"
#include "overlay/bare_broadcast.hpp"
#include "overlay/overlay_setup.hpp"
#include "router/bench_setup.hpp"

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace waddle::bench {
namespace {

struct Options {
  std::string database_url;
  std::string redis_url;
  std::string overlayd = WADDLE_OVERLAYD;
  int clients = 1000;
  int publishes = 50;
  int warmup = 3;
  int payload = 100;  // bytes of the general action's text
  int server_threads = 2;
  int client_threads = 1;
  int connect_batch = 100;
  int wait_seconds = 10;  // per publish, for every client to have it
  bool json = false;
  bool smoke = false;
};

constexpr const char* kMarker = "wbseq-";

// The general action's text for publish `seq`: the marker, the number, padding to `payload`.
std::string action_text(int seq, int payload) {
  std::string text = fmt::format("{}{:06d} ", kMarker, seq);
  if (static_cast<int>(text.size()) < payload) text.append(payload - text.size(), 'x');
  return text;
}

std::optional<int> find_seq(const std::string& message) {
  auto at = message.find(kMarker);
  if (at == std::string::npos) return std::nullopt;
  at += std::char_traits<char>::length(kMarker);
  if (at + 6 > message.size()) return -1;
  int seq = 0;
  for (std::size_t i = at; i < at + 6; ++i) {
    if (message[i] < '0' || message[i] > '9') return -1;
    seq = seq * 10 + (message[i] - '0');
  }
  return seq;
}

struct Arrival {
  int seq;
  Clock::time_point at;
};

struct ClientRecord {
  std::vector<Arrival> arrivals;
  std::vector<std::string> messages;  // the marked ones, checked after the run
  int other = 0;                      // unmarked messages (hello, the initial views)
  std::string error;
};

// N clients reading on `threads` threads of their own, recording when each marked message came.
class ClientFleet {
 public:
  ClientFleet(int clients, int threads, int total)
      : records_(clients), counts_(total), total_(total), guard_(io_.get_executor()) {
    for (auto& c : counts_) c = 0;
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { io_.run(); });
  }
  ~ClientFleet() {
    guard_.reset();
    io_.stop();
    for (auto& t : workers_) t.join();
  }

  // Connects every client, `batch` at a time; returns how many connected.
  int connect(std::uint16_t port, const std::string& target, int batch) {
    const int n = static_cast<int>(records_.size());
    for (int start = 0; start < n; start += batch) {
      const int end = std::min(n, start + batch);
      for (int i = start; i < end; ++i) {
        asio::co_spawn(io_, run(i, port, target), asio::detached);
      }
      const auto deadline = Clock::now() + 30s;
      while (attempted_.load() < end && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    }
    return connected_.load();
  }

  // True once every connected client has message `seq`.
  bool wait_for(int seq, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (counts_[seq].load() < connected_.load()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(50us);
    }
    return true;
  }

  void wait_finished(std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (finished_.load() < attempted_.load() && Clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
  }

  int finished() const { return finished_.load(); }
  const std::vector<ClientRecord>& records() const { return records_; }

 private:
  asio::awaitable<void> run(int index, std::uint16_t port, std::string target) {
    auto& record = records_[index];
    net::WebSocketClient ws(co_await asio::this_coro::executor);
    try {
      co_await ws.connect("127.0.0.1", port, target, 20s);
    } catch (const std::exception& e) {
      record.error = std::string("connect: ") + e.what();
      ++attempted_;
      ++finished_;
      co_return;
    }
    ++connected_;
    ++attempted_;
    try {
      for (;;) {
        std::string text = co_await ws.read(60s);
        const auto now = Clock::now();
        auto seq = find_seq(text);
        if (!seq) {
          ++record.other;
          continue;
        }
        if (*seq < 0 || *seq >= total_) {
          record.error = "a message with a bad sequence number: " + text.substr(0, 200);
          break;
        }
        record.arrivals.push_back({*seq, now});
        ++counts_[*seq];
        record.messages.push_back(std::move(text));
        if (*seq == total_ - 1) break;
      }
    } catch (const std::exception& e) {
      record.error = std::string("read: ") + e.what();
    }
    co_await ws.close();
    ++finished_;
  }

  asio::io_context io_;
  std::vector<ClientRecord> records_;
  std::vector<std::atomic<int>> counts_;
  int total_;
  std::atomic<int> attempted_{0};
  std::atomic<int> connected_{0};
  std::atomic<int> finished_{0};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> workers_;
};

struct PhaseResult {
  std::string name;
  int connected = 0;
  double connect_seconds = 0;
  std::vector<double> last_ms;    // per measured publish: publish → last client
  std::vector<double> median_ms;  // per measured publish: publish → the median client
  std::size_t message_bytes = 0;
  double server_cpu_us = -1;  // per measured publish; < 0 when not measured
  std::vector<std::string> errors;
  int error_count = 0;
  std::vector<std::string> first_messages;  // client 0's marked messages, by seq
};

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

using Publisher = std::function<void(int seq)>;
using Checker = std::function<std::string(int seq, const std::string& message)>;  // "" = good

PhaseResult run_phase(const std::string& name, const Options& options, std::uint16_t port,
                      const std::string& target, const Publisher& publish, const Checker& check,
                      const std::function<double()>& server_cpu) {
  PhaseResult result;
  result.name = name;
  const int total = options.warmup + options.publishes;
  ClientFleet fleet(options.clients, options.client_threads, total);
  const auto connect_start = Clock::now();
  result.connected = fleet.connect(port, target, options.connect_batch);
  result.connect_seconds = std::chrono::duration<double>(Clock::now() - connect_start).count();
  auto fail = [&](std::string what) {
    ++result.error_count;
    if (result.errors.size() < 10) result.errors.push_back(std::move(what));
  };
  if (result.connected < options.clients) {
    fail(fmt::format("{} of {} clients connected", result.connected, options.clients));
  }
  // Let the hello and initial views of the last clients go out before the first publish.
  std::this_thread::sleep_for(200ms);

  std::vector<Clock::time_point> published(total);
  double cpu_before = 0;
  for (int seq = 0; seq < total; ++seq) {
    if (seq == options.warmup && server_cpu) cpu_before = server_cpu();
    published[seq] = Clock::now();
    publish(seq);
    if (!fleet.wait_for(seq, std::chrono::seconds(options.wait_seconds))) {
      fail(
          fmt::format("publish {}: not every client had it after {} s", seq, options.wait_seconds));
    }
    std::this_thread::sleep_for(2ms);  // one at a time: latency, not throughput
  }
  if (server_cpu) {
    result.server_cpu_us = (server_cpu() - cpu_before) * 1e6 / options.publishes;
  }
  fleet.wait_finished(std::chrono::seconds(options.wait_seconds));
  if (fleet.finished() < result.connected) {
    fail(fmt::format("{} clients still reading at the end", result.connected - fleet.finished()));
  }

  // Check every client's messages: each publish once, in order, with the right content.
  std::vector<std::vector<Clock::time_point>> arrivals(total);
  const auto& records = fleet.records();
  for (std::size_t c = 0; c < records.size(); ++c) {
    const auto& record = records[c];
    if (!record.error.empty()) fail(fmt::format("client {}: {}", c, record.error));
    if (record.error.rfind("connect:", 0) == 0) continue;
    if (static_cast<int>(record.arrivals.size()) != total) {
      fail(fmt::format("client {}: {} of {} messages", c, record.arrivals.size(), total));
    }
    for (std::size_t i = 0; i < record.arrivals.size(); ++i) {
      const int seq = record.arrivals[i].seq;
      if (seq != static_cast<int>(i)) {
        fail(fmt::format("client {}: message {} carries publish {}", c, i, seq));
        break;
      }
      if (auto why = check(seq, record.messages[i]); !why.empty()) {
        fail(fmt::format("client {}, publish {}: {}", c, seq, why));
        break;
      }
      arrivals[seq].push_back(record.arrivals[i].at);
    }
    if (result.first_messages.empty() && static_cast<int>(record.messages.size()) == total) {
      result.first_messages = record.messages;
      result.message_bytes = record.messages.back().size();
    }
  }
  for (int seq = options.warmup; seq < total; ++seq) {
    auto& times = arrivals[seq];
    if (times.empty()) continue;
    std::sort(times.begin(), times.end());
    auto ms = [&](Clock::time_point t) {
      return std::chrono::duration<double, std::milli>(t - published[seq]).count();
    };
    result.last_ms.push_back(ms(times.back()));
    result.median_ms.push_back(ms(times[times.size() / 2]));
  }
  return result;
}

std::string load_average() {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) return "?";
  return fmt::format("{:.2f} {:.2f} {:.2f}", load[0], load[1], load[2]);
}

void raise_file_limit(int needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur >= static_cast<rlim_t>(needed)) return;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, static_cast<rlim_t>(needed));
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < static_cast<rlim_t>(needed)) {
    std::cerr << "warning: RLIMIT_NOFILE is " << limit.rlim_cur << ", " << needed
              << " descriptors wanted; raise `ulimit -n`\n";
  }
}

int run(Options options) {
  if (options.smoke) {
    options.clients = 50;
    options.publishes = 5;
    options.warmup = 1;
  }
  raise_file_limit(options.clients + 256);  // the child inherits it
  // Forked first, while this process has no other thread.
  BareBroadcastProcess bare_server(options.server_threads);
  signal(SIGPIPE, SIG_IGN);  // a dead bare server is an error, not a signal
  const std::string load_before = load_average();

  BenchDatabase database(options.database_url, WADDLE_SOURCE_MIGRATIONS);
  const auto seed = seed_overlay(database.url());
  const auto workdir =
      std::filesystem::temp_directory_path() / ("waddle-bench-overlay-" + std::to_string(getpid()));
  std::filesystem::create_directories(workdir);
  struct RemoveDir {
    std::filesystem::path path;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_workdir{workdir};

  OverlayConfig config;
  config.binary = options.overlayd;
  config.database_url = database.url();
  config.redis_url = options.redis_url;
  config.threads = options.server_threads;
  config.max_connections_per_token = static_cast<std::size_t>(options.clients) + 10;
  config.workdir = workdir.string();
  OverlayProcess overlayd(config);
  overlayd.wait_ready(30s);

  RedisPublisher redis(options.redis_url);
  const std::string channel = fmt::format("waddlebot:overlay:{}", seed.community_id);
  std::vector<std::string> publish_errors;
  auto publish_overlay = [&](int seq) {
    nlohmann::json envelope{{"community_id", seed.community_id},
                            {"community", "bench"},
                            {"entity_id", "console:local:bench"},
                            {"action",
                             {{"type", "general"},
                              {"content_type", "text"},
                              {"content", action_text(seq, options.payload)},
                              {"duration", 0}}},
                            {"published_at", "2026-11-23T12:00:00Z"}};
    const auto receivers = redis.publish(channel, envelope.dump());
    if (receivers != 1 && publish_errors.size() < 5) {
      publish_errors.push_back(
          fmt::format("PUBLISH {} reached {} subscribers, not 1", seq, receivers));
    }
  };
  auto check_overlay = [&](int seq, const std::string& message) -> std::string {
    auto json = nlohmann::json::parse(message, nullptr, false);
    if (json.is_discarded()) return "not JSON: " + message.substr(0, 200);
    const auto expected = action_text(seq, options.payload);
    if (json.value("type", "") != "general" || !json.contains("content") ||
        !json["content"].is_object() || json["content"].value("text", "") != expected ||
        json["content"].value("content_type", "") != "text") {
      return "unexpected message: " + message.substr(0, 300);
    }
    return "";
  };
  auto overlay = run_phase("waddle-overlayd", options, overlayd.port(),
                           "/overlay/" + seed.token + "/ws?source=general", publish_overlay,
                           check_overlay, [&] { return overlayd.cpu_seconds(); });
  for (auto& e : publish_errors) {
    ++overlay.error_count;
    overlay.errors.push_back(e);
  }
  if (!overlayd.alive()) {
    ++overlay.error_count;
    overlay.errors.push_back("waddle-overlayd died; its log:\n" + overlayd.log_tail());
  }
  overlayd.stop();

  // The baseline sends the very messages the daemon sent (same bytes, same size); where none
  // was captured, a message of the same shape.
  const int total = options.warmup + options.publishes;
  std::vector<std::shared_ptr<const std::string>> bare_messages(total);
  for (int seq = 0; seq < total; ++seq) {
    std::string text = seq < static_cast<int>(overlay.first_messages.size())
                           ? overlay.first_messages[seq]
                           : nlohmann::json{{"v", 1},
                                            {"type", "general"},
                                            {"content",
                                             {{"content_type", "text"},
                                              {"text", action_text(seq, options.payload)},
                                              {"duration", 0}}}}
                                 .dump();
    bare_messages[seq] = std::make_shared<const std::string>(std::move(text));
  }
  auto bare = run_phase(
      "bare Beast broadcast", options, bare_server.port(), "/",
      [&](int seq) { bare_server.broadcast(*bare_messages[seq]); },
      [&](int seq, const std::string& message) -> std::string {
        return message == *bare_messages[seq] ? "" : "not the message broadcast";
      },
      [&] { return process_cpu_seconds(bare_server.pid()); });
  bare_server.stop();
  const std::string load_after = load_average();

  const double bare_p50 = percentile(bare.last_ms, 0.5);
  const double bare_p99 = percentile(bare.last_ms, 0.99);
  const double overlay_p50 = percentile(overlay.last_ms, 0.5);
  const double overlay_p99 = percentile(overlay.last_ms, 0.99);
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };

  if (options.json) {
    auto phase_json = [&](const PhaseResult& r) {
      return nlohmann::json{{"name", r.name},
                            {"clients_connected", r.connected},
                            {"connect_seconds", r.connect_seconds},
                            {"message_bytes", r.message_bytes},
                            {"last_client_ms",
                             {{"p50", percentile(r.last_ms, 0.5)},
                              {"p99", percentile(r.last_ms, 0.99)},
                              {"max", percentile(r.last_ms, 1.0)}}},
                            {"median_client_ms_p50", percentile(r.median_ms, 0.5)},
                            {"server_cpu_us_per_publish", r.server_cpu_us},
                            {"errors", r.error_count},
                            {"error_samples", r.errors}};
    };
    nlohmann::json out{{"clients", options.clients},
                       {"publishes", options.publishes},
                       {"warmup", options.warmup},
                       {"server_threads", options.server_threads},
                       {"client_threads", options.client_threads},
                       {"cpus", std::thread::hardware_concurrency()},
                       {"load_before", load_before},
                       {"load_after", load_after},
                       {"overlay", phase_json(overlay)},
                       {"bare", phase_json(bare)},
                       {"ratio_p50", ratio(overlay_p50, bare_p50)},
                       {"ratio_p99", ratio(overlay_p99, bare_p99)}};
    std::cout << out.dump(2) << "\n";
  } else {
    char when[64];
    const std::time_t now = std::time(nullptr);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::cout << fmt::format(
        "WaddleBot overlay benchmark, {}: {} CPUs, load average {} before / {} after,\n"
        "{} clients on one token, {} publishes (+{} warm-up) one at a time, {} server threads, "
        "{} client thread(s)\n\n",
        when, std::thread::hardware_concurrency(), load_before, load_after, options.clients,
        options.publishes, options.warmup, options.server_threads, options.client_threads);
    std::cout << fmt::format("{:<24}{:>8}{:>7}{:>10}{:>10}{:>10}{:>12}{:>12}  {}\n", "server",
                             "clients", "bytes", "last p50", "last p99", "last max", "median p50",
                             "CPU µs/pub", "last-client p50 / p99 vs bare");
    for (const auto* r : {&bare, &overlay}) {
      const bool is_overlay = r == &overlay;
      std::cout << fmt::format(
          "{:<24}{:>8}{:>7}{:>10.2f}{:>10.2f}{:>10.2f}{:>12.2f}{:>12}  {}\n", r->name, r->connected,
          r->message_bytes, percentile(r->last_ms, 0.5), percentile(r->last_ms, 0.99),
          percentile(r->last_ms, 1.0), percentile(r->median_ms, 0.5),
          r->server_cpu_us >= 0 ? fmt::format("{:.0f}", r->server_cpu_us) : std::string("—"),
          is_overlay ? fmt::format("{:.2f}× / {:.2f}×", ratio(overlay_p50, bare_p50),
                                   ratio(overlay_p99, bare_p99))
                     : std::string());
    }
    std::cout << fmt::format(
        "\nTimes in ms from the publish (Redis PUBLISH for the daemon, a pipe write to the bare\n"
        "server's process) to the last / the median client receiving it. CPU µs/pub: the server\n"
        "process's CPU time per measured publish (10 ms clock ticks). Connecting all clients took\n"
        "{:.2f} s (daemon) and {:.2f} s (bare).\n",
        overlay.connect_seconds, bare.connect_seconds);
  }
  int errors = 0;
  for (const auto* r : {&overlay, &bare}) {
    errors += r->error_count;
    for (const auto& e : r->errors) std::cerr << r->name << ": " << e << "\n";
    if (r->error_count > static_cast<int>(r->errors.size())) {
      std::cerr << r->name << ": … " << r->error_count - r->errors.size() << " more errors\n";
    }
  }
  if (errors > 0) {
    std::cerr << "FAILED: " << errors << " wrong or missing messages (see above)\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace waddle::bench

int main(int argc, char** argv) {
  waddle::bench::Options options;
  CLI::App app{"waddle-bench-overlay: publish-to-last-client latency of waddle-overlayd"};
  if (const char* v = std::getenv("WADDLE_DATABASE_URL")) options.database_url = v;
  if (const char* v = std::getenv("WADDLE_REDIS_URL")) options.redis_url = v;
  app.add_option("--database-url", options.database_url,
                 "PostgreSQL server URL (a database of the bench's own is created there)");
  app.add_option("--redis-url", options.redis_url, "Redis URL (the daemon's feed)");
  app.add_option("--overlayd", options.overlayd, "the waddle-overlayd binary");
  app.add_option("--clients", options.clients, "WebSocket clients")->check(CLI::Range(1, 20000));
  app.add_option("--publishes", options.publishes, "measured publishes")
      ->check(CLI::Range(1, 100000));
  app.add_option("--warmup", options.warmup, "publishes before measuring")
      ->check(CLI::Range(0, 1000));
  app.add_option("--payload", options.payload, "bytes of text in each action")
      ->check(CLI::Range(16, 60000));
  app.add_option("--server-threads", options.server_threads,
                 "threads of waddle-overlayd and of the bare server")
      ->check(CLI::Range(1, 64));
  app.add_option("--client-threads", options.client_threads, "threads running the clients")
      ->check(CLI::Range(1, 64));
  app.add_option("--connect-batch", options.connect_batch, "clients connecting at once")
      ->check(CLI::Range(1, 20000));
  app.add_flag("--json", options.json, "print JSON instead of the table");
  app.add_flag("--smoke", options.smoke,
               "50 clients, 5 publishes: checks the messages, not the speed");
  CLI11_PARSE(app, argc, argv);
  if (options.database_url.empty() || options.redis_url.empty()) {
    std::cerr << "waddle-bench-overlay: --database-url and --redis-url (or WADDLE_DATABASE_URL "
                 "and WADDLE_REDIS_URL) are required\n";
    return 2;
  }
  try {
    return waddle::bench::run(options);
  } catch (const std::exception& e) {
    std::cerr << "waddle-bench-overlay: " << e.what() << "\n";
    return 1;
  }
}
