// waddle-bench-router: events/s and latency of waddle-routerd for three mixes (plain chat, a
// cached !ping to a fast container module, plain chat in a community with 1,000 string rules),
// each beside the bare Beast baseline it is compared with, measured in the same run.
// See bench/README.md.

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "migrate/migrate.hpp"
#include "router/bare_server.hpp"
#include "router/bench_setup.hpp"
#include "router/load_generator.hpp"

namespace {

using nlohmann::json;
using namespace waddle::bench;

struct Settings {
  int connections = 16;
  double duration = 5;
  double warmup = 1;
  int rules = 1000;
  int server_threads = 2;
  int module_threads = 1;
  int client_threads = 1;
  bool json_output = false;
  bool smoke = false;
  bool keep_workdir = false;
  std::string routerd = WADDLE_ROUTERD;
  std::string database_url;
  std::string redis_url;
  bool no_redis = false;
  std::string migrations;
  std::string log_level = "warning";
};

struct MixResult {
  std::string key;
  std::string label;
  bool router = false;
  LoadResult load;
  std::optional<double> cpu_us_per_event;  // the router's CPU time / events answered
  std::optional<double> cpu_cores;         // the router's CPU time / wall time
  std::optional<double> redis_per_event;   // Redis commands / events answered
  std::uint64_t module_calls = 0;          // requests the fake module answered
  std::uint64_t module_connections = 0;    // connections the fake module accepted
};

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : fallback;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", &tm);
  return buffer;
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// The event body of each connection, split around its event id so that every request gets a
// unique id (the router drops duplicates) without building JSON in the load generator.
class EventBodies {
 public:
  EventBodies(const std::string& tag, const std::string& entity, const std::string& message,
              int connections) {
    for (int i = 0; i < connections; ++i) {
      const std::string body =
          chat_event("@ID@", entity, message, "viewer" + std::to_string(i % 16)).dump();
      const auto at = body.find("@ID@");
      parts_.emplace_back(body.substr(0, at) + tag + "-" + std::to_string(i) + "-",
                          body.substr(at + 4));
    }
  }
  std::string operator()(int connection, std::uint64_t sequence) const {
    const auto& [before, after] = parts_[static_cast<std::size_t>(connection)];
    return before + std::to_string(sequence) + after;
  }

 private:
  std::vector<std::pair<std::string, std::string>> parts_;
};

// Checks what the router answers for each mix before measuring it, so that a figure never
// stands for error replies.
void probe_router(std::uint16_t port) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/router/events";
  const std::string tag = "probe-" + waddle::crypto::hex_encode(waddle::crypto::random_bytes(4));
  auto post = [&](const std::string& id, const char* entity, const std::string& message) {
    const auto answer = http_call(
        "POST", url, chat_event(tag + id, entity, message, "probe").dump(), kCollectorKey);
    if (answer.status != 200) {
      throw std::runtime_error("probe '" + message + "': HTTP " + std::to_string(answer.status) +
                               ": " + answer.body);
    }
    return std::pair(json::parse(answer.body), answer.body);
  };
  auto require = [](bool ok, const std::string& what, const std::string& body) {
    if (!ok) throw std::runtime_error("probe: " + what + "; the router answered " + body);
  };
  auto [plain, plain_body] = post("-plain", kChatEntity, kChatMessage);
  require(plain.value("duplicate", true) == false && plain["actions"].empty(),
          "plain chat should run nothing", plain_body);
  auto [again, again_body] = post("-plain", kChatEntity, kChatMessage);
  require(again.value("duplicate", false) == true, "a repeated event_id should be a duplicate",
          again_body);
  auto [ping, ping_body] = post("-ping", kChatEntity, "!ping");
  require(ping["actions"].size() == 1 && ping["actions"][0].value("text", "") == "pong" &&
              ping["executions"].size() == 1 &&
              ping["executions"][0].value("status", "") == "success",
          "!ping should answer pong from the fake module", ping_body);
  auto [rules, rules_body] = post("-rules", kRulesEntity, kChatMessage);
  require(rules["actions"].empty(), "plain chat should match none of the rules", rules_body);
  auto [hit, hit_body] = post("-hit", kRulesEntity, kRuleHit);
  require(!hit["actions"].empty(),
          "the rules should be loaded ('" + std::string(kRuleHit) + "' matches one of them)",
          hit_body);
}

std::string fmt_ratio(double numerator, double denominator) {
  if (denominator <= 0) return "n/a";
  return fmt::format("{:.0f} %", 100.0 * numerator / denominator);
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  s.database_url = env_or("WADDLE_DATABASE_URL", "");
  s.redis_url = env_or("WADDLE_REDIS_URL", "");
  s.migrations = waddle::migrate::default_migrations_dir();
  CLI::App app{
      "waddle-bench-router: waddle-routerd against bare Beast baselines (bench/README.md)"};
  app.add_option("-c,--connections", s.connections, "keep-alive connections")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("-d,--duration", s.duration, "measured seconds per mix")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("-w,--warmup", s.warmup, "warm-up seconds per mix (not measured)")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_option("--rules", s.rules, "string rules in the rule-heavy community")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--server-threads", s.server_threads,
                 "threads of the bare servers and router.threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--module-threads", s.module_threads, "threads of the fake module")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--client-threads", s.client_threads, "threads of the load generator")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--json", s.json_output, "print the results as JSON instead of a table");
  app.add_flag("--smoke", s.smoke,
               "quick check: 0.5 s per mix, 0.2 s warm-up; fails on wrong answers, never on time");
  app.add_option("--routerd", s.routerd, "the waddle-routerd binary")->capture_default_str();
  app.add_option("--database-url", s.database_url,
                 "PostgreSQL server (a database of the bench's own is created and dropped); "
                 "default $WADDLE_DATABASE_URL");
  app.add_option("--redis-url", s.redis_url, "Redis for the router; default $WADDLE_REDIS_URL");
  app.add_flag("--no-redis", s.no_redis, "run the router without Redis");
  app.add_option("--migrations", s.migrations, "migrations directory")->capture_default_str();
  app.add_option("--log-level", s.log_level, "the router's log.level")->capture_default_str();
  app.add_flag("--keep-workdir", s.keep_workdir, "keep the router's config and log");
  CLI11_PARSE(app, argc, argv);
  if (s.smoke) {
    s.duration = 0.5;
    s.warmup = 0.2;
  }
  if (s.no_redis) s.redis_url.clear();
  if (s.database_url.empty()) {
    std::cerr << "waddle-bench-router: no PostgreSQL: give --database-url or set "
                 "WADDLE_DATABASE_URL (bench/router/run.sh starts a private cluster)\n";
    return 2;
  }

  char workdir_template[] = "/tmp/waddle-bench-router.XXXXXX";
  if (!mkdtemp(workdir_template)) {
    std::perror("waddle-bench-router: mkdtemp");
    return 1;
  }
  const std::string workdir = workdir_template;
  const auto ms = [](double seconds) {
    return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000)));
  };
  const std::string started_at = now_utc();
  const std::string load_before = loadavg();
  std::vector<MixResult> mixes;
  int status = 0;
  try {
    BareServer module({.mode = BareMode::fake_module, .threads = s.module_threads});
    BenchDatabase database(s.database_url, s.migrations);
    seed(database.url(), {.module_url = module.url(), .rules = s.rules});
    RouterProcess router({.binary = s.routerd,
                          .database_url = database.url(),
                          .redis_url = s.redis_url,
                          .threads = s.server_threads,
                          .log_level = s.log_level,
                          .workdir = workdir});
    router.wait_ready(std::chrono::seconds(60));
    probe_router(router.port());

    const std::string run = waddle::crypto::hex_encode(waddle::crypto::random_bytes(4));
    // `bare`: the baseline server measured (its threads' CPU time), null for the router.
    auto measure = [&](std::string key, std::string label, std::uint16_t port, const char* target,
                       const char* entity, const char* message, std::vector<std::string> expect,
                       const BareServer* bare) {
      const bool is_router = bare == nullptr;
      if (!s.json_output) std::cerr << "measuring " << label << " …" << std::endl;
      EventBodies bodies("bench-" + run + "-" + key, entity, message, s.connections);
      LoadOptions options;
      options.port = port;
      options.target = target;
      options.api_key = is_router ? kCollectorKey : "";
      options.connections = s.connections;
      options.threads = s.client_threads;
      options.warmup = ms(s.warmup);
      options.duration = ms(s.duration);
      options.body = [&bodies](int connection, std::uint64_t sequence) {
        return bodies(connection, sequence);
      };
      options.expect = std::move(expect);
      MixResult mix{std::move(key), std::move(label), is_router};
      const double cpu_before = is_router ? router.cpu_seconds() : bare->cpu_seconds();
      const auto redis_before = is_router ? redis_commands(s.redis_url) : std::nullopt;
      const auto module_calls = module.requests();
      const auto module_connections = module.connections();
      const auto wall_start = std::chrono::steady_clock::now();
      mix.load = run_load(options);
      mix.module_calls = module.requests() - module_calls;
      mix.module_connections = module.connections() - module_connections;
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
      if (mix.load.answered > 0) {
        const double cpu = (is_router ? router.cpu_seconds() : bare->cpu_seconds()) - cpu_before;
        mix.cpu_us_per_event = cpu * 1e6 / static_cast<double>(mix.load.answered);
        mix.cpu_cores = cpu / wall;
      }
      if (is_router && mix.load.answered > 0) {
        const auto redis_after = redis_commands(s.redis_url);
        if (redis_before && redis_after) {
          // Minus our own INFO call.
          mix.redis_per_event = static_cast<double>(*redis_after - *redis_before - 1) /
                                static_cast<double>(mix.load.answered);
        }
      }
      mixes.push_back(std::move(mix));
    };
    const std::vector<std::string> router_quiet{R"("duplicate":false)", R"("actions":[])"};
    {
      BareServer bare({.mode = BareMode::parse_json, .threads = s.server_threads});
      measure("bare", "bare server (parse JSON)", bare.port(), "/router/events", kChatEntity,
              kChatMessage, {R"("ok":true)"}, &bare);
    }
    measure("router_chat", "router: plain chat", router.port(), "/router/events", kChatEntity,
            kChatMessage, router_quiet, nullptr);
    {
      BareServer two_hop(
          {.mode = BareMode::two_hop, .threads = s.server_threads, .upstream_port = module.port()});
      measure("bare_two_hop", "bare two-hop (server → module)", two_hop.port(), "/router/events",
              kChatEntity, kChatMessage, {"pong"}, &two_hop);
    }
    measure("router_ping", "router: !ping (cached command)", router.port(), "/router/events",
            kChatEntity, "!ping", {R"("duplicate":false)", "pong"}, nullptr);
    measure("router_rules", fmt::format("router: plain chat, {} rules", s.rules), router.port(),
            "/router/events", kRulesEntity, kChatMessage, router_quiet, nullptr);
    if (!router.alive()) {
      throw std::runtime_error("waddle-routerd died during the run; its log:\n" +
                               router.log_tail());
    }
    if (const auto exit_status = router.stop();
        exit_status && !(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0)) {
      throw std::runtime_error("waddle-routerd did not stop cleanly; its log:\n" +
                               router.log_tail());
    }
  } catch (const std::exception& e) {
    std::cerr << "waddle-bench-router: " << e.what() << "\n";
    status = 1;
  }
  if (!s.keep_workdir) {
    std::error_code ignored;
    std::filesystem::remove_all(workdir, ignored);
  } else {
    std::cerr << "router config and log kept in " << workdir << "\n";
  }
  if (status != 0) return status;

  auto find = [&](const std::string& key) -> const LoadResult& {
    for (const auto& mix : mixes) {
      if (mix.key == key) return mix.load;
    }
    throw std::logic_error("no mix " + key);
  };
  const double bare = find("bare").events_per_second;
  const double chat = find("router_chat").events_per_second;
  const double two_hop = find("bare_two_hop").events_per_second;
  const double ping = find("router_ping").events_per_second;
  const double rules = find("router_rules").events_per_second;
  const double chat_vs_bare = bare > 0 ? chat / bare : 0;
  const double ping_vs_two_hop = two_hop > 0 ? ping / two_hop : 0;
  // Cost per event, not throughput: 1/rules over 1/chat, minus one.
  const double rules_cost = rules > 0 ? chat / rules - 1 : 0;
  std::uint64_t errors = 0;
  for (const auto& mix : mixes) errors += mix.load.errors;
  const std::string load_after = loadavg();

  if (s.json_output) {
    json out = {
        {"date", started_at},
        {"cpus", std::thread::hardware_concurrency()},
        {"loadavg_before", load_before},
        {"loadavg_after", load_after},
        {"connections", s.connections},
        {"warmup_s", s.warmup},
        {"duration_s", s.duration},
        {"server_threads", s.server_threads},
        {"rules", s.rules},
        {"redis", !s.redis_url.empty()},
        {"mixes", json::array()},
        {"ratios",
         {{"router_chat_vs_bare", chat_vs_bare},
          {"router_ping_vs_bare_two_hop", ping_vs_two_hop},
          {"rules_added_cost", rules_cost}}},
        {"targets",
         {{"router_chat_vs_bare", {{"min", 0.70}, {"met", chat_vs_bare >= 0.70}}},
          {"router_ping_vs_bare_two_hop", {{"min", 0.50}, {"met", ping_vs_two_hop >= 0.50}}},
          {"rules_added_cost", {{"max", 0.20}, {"met", rules_cost < 0.20}}}}},
        {"errors", errors}};
    for (const auto& mix : mixes) {
      json m = {{"mix", mix.key},
                {"label", mix.label},
                {"events_per_second", mix.load.events_per_second},
                {"p50_ms", mix.load.p50_ms},
                {"p99_ms", mix.load.p99_ms},
                {"mean_ms", mix.load.mean_ms},
                {"max_ms", mix.load.max_ms},
                {"requests", mix.load.requests},
                {"errors", mix.load.errors}};
      if (!mix.load.first_error.empty()) m["first_error"] = mix.load.first_error;
      if (mix.cpu_us_per_event) m["router_cpu_us_per_event"] = *mix.cpu_us_per_event;
      if (mix.cpu_cores) m["router_cpu_cores"] = *mix.cpu_cores;
      if (mix.redis_per_event) m["redis_commands_per_event"] = *mix.redis_per_event;
      if (mix.module_calls) {
        m["module_calls"] = mix.module_calls;
        m["module_connections"] = mix.module_connections;
      }
      out["mixes"].push_back(std::move(m));
    }
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << fmt::format(
        "WaddleBot router benchmark, {}: {} CPUs, load average {} before / {} after,\n"
        "{} connections, {} s warm-up + {} s per mix, {} server threads, Redis {}\n\n",
        started_at, std::thread::hardware_concurrency(), load_before, load_after, s.connections,
        s.warmup, s.duration, s.server_threads, s.redis_url.empty() ? "off" : "on");
    std::cout << fmt::format("{:<36} {:>9} {:>7} {:>7}  {:<42} {:>9} {:>5} {:>8}\n", "mix",
                             "events/s", "p50 ms", "p99 ms", "events/s compared with its baseline",
                             "CPU µs/ev", "cores", "redis/ev");
    for (const auto& mix : mixes) {
      std::string compared;
      if (mix.key == "router_chat") {
        compared = fmt_ratio(chat, bare) + " of bare (target ≥ 70 %)";
      } else if (mix.key == "router_ping") {
        compared = fmt_ratio(ping, two_hop) + " of bare two-hop (target ≥ 50 %)";
      } else if (mix.key == "router_rules") {
        compared = fmt::format("{:+.0f} % cost vs plain chat (target < 20 %)", rules_cost * 100);
      }
      std::cout << fmt::format(
          "{:<36} {:>9.0f} {:>7.2f} {:>7.2f}  {:<42} {:>9} {:>5} {:>8}\n", mix.label,
          mix.load.events_per_second, mix.load.p50_ms, mix.load.p99_ms, compared,
          mix.cpu_us_per_event ? fmt::format("{:.0f}", *mix.cpu_us_per_event) : "",
          mix.cpu_cores ? fmt::format("{:.2f}", *mix.cpu_cores) : "",
          mix.redis_per_event ? fmt::format("{:.2f}", *mix.redis_per_event) : "");
    }
    auto cpu = [&](const std::string& key) {
      for (const auto& mix : mixes) {
        if (mix.key == key && mix.cpu_us_per_event) return *mix.cpu_us_per_event;
      }
      return 0.0;
    };
    auto times = [](double a, double b) {
      return b > 0 ? fmt::format("{:.1f}×", a / b) : std::string("n/a");
    };
    std::cout << fmt::format(
        "\nCPU per event: router plain chat {} the bare server's; router !ping {} the bare "
        "two-hop's;\n1,000 rules add {:+.0f} % to plain chat.\n",
        times(cpu("router_chat"), cpu("bare")), times(cpu("router_ping"), cpu("bare_two_hop")),
        cpu("router_chat") > 0 ? 100 * (cpu("router_rules") / cpu("router_chat") - 1) : 0.0);
    std::cout << "\nCPU µs/ev: CPU time of the server measured (the router process, or the bare "
                 "server's threads;\nnot the load generator's nor the fake module's) per event "
                 "answered, warm-up included; cores: that\nCPU time over wall time; redis/ev: "
                 "Redis commands per event.\n";
    for (const auto& mix : mixes) {
      if (mix.module_calls) {
        std::cout << fmt::format("fake module during '{}': {} calls over {} new connections\n",
                                 mix.label, mix.module_calls, mix.module_connections);
      }
    }
  }
  if (errors > 0) {
    for (const auto& mix : mixes) {
      if (mix.load.errors) {
        std::cerr << "waddle-bench-router: " << mix.label << ": " << mix.load.errors
                  << " wrong answers, the first: " << mix.load.first_error << "\n";
      }
    }
    return 1;
  }
  return 0;
}
