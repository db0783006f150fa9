// waddle-bench-twitch-irc: the Twitch chat benchmark of issue 7 (bench/README.md).
//
// 1. Parse rate. A buffer of captured-shape PRIVMSG lines (tags with escapes, emotes, replies,
//    bits, badges) is read the way the collector reads its socket, in 4 KiB chunks, and each
//    line goes through IrcLineBuffer, parse_irc_message and normalize_irc_message (the
//    collector's whole path up to the event it posts). Baseline, in the same run: splitting the
//    same buffer on CRLF. Reported as lines/s and as a ratio.
// 2. Memory. waddle-twitchd joined to N channels (5,000 by default) on the fake Twitch IRC server
//    of tests/fakes with the join limiter opened up, against the same daemon joined to one
//    channel: resident set size (VmRSS) of each, and the difference per channel.
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "fakes/twitch_irc_server.hpp"
#include "router/bench_setup.hpp"
#include "twitch/irc.hpp"
#include "twitch/normalize.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// Shapes of real Twitch PRIVMSG lines (docs examples and captured traffic), with {n} replaced so
// that ids, users and channels differ from line to line.
const char* const kTemplates[] = {
    "@badge-info=;badges=turbo/1;color=#0D4200;display-name=ronni{n};emotes=25:0-4,12-16/"
    "1902:6-10;id=b34ccfc7-4977-403a-8a94-33c6bac3{n};mod=0;room-id=1337;subscriber=0;"
    "tmi-sent-ts=1507246572675;turbo=1;user-id={n};user-type=global_mod "
    ":ronni{n}!ronni{n}@ronni{n}.tmi.twitch.tv PRIVMSG #ronni :Kappa Keepo Kappa",
    "@badge-info=;badges=;client-nonce=cd56193132f934ac71b4d5ac488d4bd6;color=;display-name="
    "LeftSwing;emotes=;first-msg=0;flags=;id=5b4f63a9-776f-4fce-bf3c-d9707f52{n};mod=0;"
    "reply-parent-display-name=Retoon;reply-parent-msg-body=hello\\sthere\\:\\sfriend;"
    "reply-parent-msg-id=6b13e51b-7ecb-43b5-ba5b-2bb5288df696;reply-parent-user-id=37940952;"
    "reply-parent-user-login=retoon;returning-chatter=0;room-id=37940952;subscriber=0;"
    "tmi-sent-ts=1673925983585;turbo=0;user-id=1336{n};user-type= "
    ":leftswing!leftswing@leftswing.tmi.twitch.tv PRIVMSG #retoon :@Retoon yes",
    "@badge-info=subscriber/16;badges=subscriber/12,bits/1000;bits=100;color=#1E90FF;"
    "display-name=Cheerer{n};emotes=;id=a1b2c3d4-0000-4000-8000-0000000{n};mod=0;room-id=12826;"
    "subscriber=1;tmi-sent-ts=1700000000000;turbo=0;user-id=77{n};user-type= "
    ":cheerer{n}!cheerer{n}@cheerer{n}.tmi.twitch.tv PRIVMSG #twitch :cheer100 great stream!",
    "@badge-info=;badges=moderator/1,partner/1;color=#FF4500;display-name=ModBot;emotes=;"
    "id=ffeeddcc-1111-4222-8333-44445555{n};mod=1;room-id=22484632;subscriber=0;"
    "tmi-sent-ts=1700000000001;turbo=0;user-id=1000{n};user-type=mod "
    ":modbot!modbot@modbot.tmi.twitch.tv PRIVMSG #forsen :!so @somebody check them out 👍",
    "@badge-info=;badges=vip/1;color=;display-name=Émoji{n};emotes=305954156:8-15;"
    "id=12345678-90ab-4cde-8f01-23456789{n};mod=0;room-id=1;subscriber=0;"
    "tmi-sent-ts=1700000000002;turbo=0;user-id=555{n};user-type= "
    ":emoji{n}!emoji{n}@emoji{n}.tmi.twitch.tv PRIVMSG #shroud :😀😀 hi PogChamp gg",
};

std::string make_buffer(std::size_t lines) {
  std::string buffer;
  buffer.reserve(lines * 420);
  constexpr std::size_t kShapes = sizeof kTemplates / sizeof kTemplates[0];
  for (std::size_t i = 0; i < lines; ++i) {
    std::string line = kTemplates[i % kShapes];
    const std::string n = std::to_string(1000 + i % 9000);
    for (auto pos = line.find("{n}"); pos != std::string::npos; pos = line.find("{n}", pos)) {
      line.replace(pos, 3, n);
    }
    buffer += line;
    buffer += "\r\n";
  }
  return buffer;
}

struct ParseRun {
  double seconds = 0;
  std::size_t lines = 0;
  std::size_t events = 0;
  std::size_t bytes = 0;  // checksum-like sum, so nothing is optimised away
};

constexpr std::size_t kChunk = 4096;

ParseRun split_baseline(const std::string& buffer) {
  ParseRun run;
  const auto start = Clock::now();
  std::string_view rest(buffer);
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    if (end == std::string_view::npos) break;
    std::string_view line = rest.substr(0, end);
    run.bytes += line.size();
    ++run.lines;
    rest.remove_prefix(end + 2);
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

ParseRun collector_path(const std::string& buffer, bool normalize) {
  ParseRun run;
  waddle::twitch::IrcLineBuffer lines;
  const auto start = Clock::now();
  for (std::size_t offset = 0; offset < buffer.size(); offset += kChunk) {
    lines.append(std::string_view(buffer).substr(offset, kChunk));
    while (auto line = lines.next_line()) {
      auto message = waddle::twitch::try_parse_irc_message(*line);
      ++run.lines;
      if (!message) continue;
      run.bytes += message->params.size();
      if (normalize) {
        auto event = waddle::twitch::normalize_irc_message(*message, "2026-01-01T00:00:00Z");
        if (event) {
          ++run.events;
          run.bytes += event->message.size();
        }
      } else {
        ++run.events;
      }
    }
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

template <class F>
ParseRun best_of(int rounds, F f) {
  ParseRun best;
  for (int i = 0; i < rounds; ++i) {
    ParseRun run = f();
    if (i == 0 || run.seconds < best.seconds) best = run;
  }
  return best;
}

long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// The fake server lives on its own io thread; its state is read there.
class FakeIrc {
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

 public:
  FakeIrc() : guard_(io_.get_executor()), server_(io_) {
    port_ = server_.start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeIrc() {
    boost::asio::post(io_, [this] { server_.stop(); });
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  std::string certificate() {
    return on_io([this] { return server_.certificate_pem(); });
  }
  // Channels JOINed on the newest connection so far.
  std::size_t joined() {
    return on_io([this] {
      std::size_t n = 0;
      const std::size_t connection = server_.accepted();
      for (const auto& line : server_.lines_of(connection, "JOIN ")) {
        n += 1 + static_cast<std::size_t>(std::count(line.begin(), line.end(), ','));
      }
      return n;
    });
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  waddle::fakes::FakeTwitchIrcServer server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

struct MemoryRun {
  std::size_t channels = 0;
  std::size_t joined = 0;
  long rss_kib = -1;
  double join_seconds = 0;
};

MemoryRun joined_rss(const std::string& twitchd, std::size_t channels, const std::string& dir) {
  FakeIrc irc;
  const std::string ca = dir + "/irc-ca.pem";
  std::ofstream(ca) << irc.certificate();
  std::string list;
  for (std::size_t i = 0; i < channels; ++i) {
    list += (i ? ", " : "") + fmt::format("chan{:05}", i);
  }
  const std::uint16_t port = waddle::bench::free_port();
  const std::string config = fmt::format(
      "log:\n  level: warning\ntwitch:\n  threads: 2\n  admin_socket: {}/twitch.sock\n"
      "  port: {}\n  irc_host: 127.0.0.1\n  irc_port: {}\n  irc_ca_file: {}\n"
      "  nick: waddlebot\n  oauth_token: oauth:bench-token\n  channels: [{}]\n"
      "  router_url: http://127.0.0.1:{}\n  router_api_key: wdl_bench_unused_key_0123456789\n"
      "  join_limit: 100000\n  join_window: 1s\n",
      dir, port, irc.port(), ca, list, waddle::bench::free_port());
  waddle::bench::DaemonProcess twitch("twitchd", twitchd, dir, config, "", "", port);
  MemoryRun run;
  run.channels = channels;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(120);
  while (Clock::now() < deadline && twitch.alive()) {
    run.joined = irc.joined();
    if (run.joined >= channels) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run.join_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // Let the echoes and the status settle before reading the resident size.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  run.rss_kib = rss_kib(twitch.pid());
  if (run.joined < channels) {
    std::cerr << "twitchd joined " << run.joined << " of " << channels << " channels:\n"
              << twitch.log_tail() << '\n';
  }
  twitch.stop();
  return run;
}

std::string load_average() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3) return "?";
  return fmt::format("{:.2f} {:.2f} {:.2f}", l[0], l[1], l[2]);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"waddle-bench-twitch-irc: Twitch IRC parse rate and joined-channel memory"};
  std::size_t lines = 200000;
  int rounds = 5;
  std::size_t channels = 5000;
  bool smoke = false;
  bool as_json = false;
  std::string twitchd = WADDLE_TWITCHD;
  app.add_option("--lines", lines, "PRIVMSG lines in the parse buffer")->capture_default_str();
  app.add_option("--rounds", rounds, "parse rounds (the best is reported)")->capture_default_str();
  app.add_option("--channels", channels, "channels waddle-twitchd joins")->capture_default_str();
  app.add_option("--twitchd", twitchd, "the waddle-twitchd binary")->capture_default_str();
  app.add_flag("--smoke", smoke, "small sizes; fails on wrong results, never on speed");
  app.add_flag("--json", as_json, "print JSON");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    lines = 5000;
    rounds = 1;
    channels = 300;
  }
  const std::string before = load_average();
  const std::string buffer = make_buffer(lines);
  const ParseRun split = best_of(rounds, [&] { return split_baseline(buffer); });
  const ParseRun parse = best_of(rounds, [&] { return collector_path(buffer, false); });
  const ParseRun full = best_of(rounds, [&] { return collector_path(buffer, true); });
  bool ok =
      split.lines == lines && parse.lines == lines && parse.events == lines && full.events == lines;
  if (!ok) {
    std::cerr << "wrong parse results: split " << split.lines << ", parsed " << parse.events
              << ", normalised " << full.events << " of " << lines << " lines\n";
  }

  char dir_template[] = "/tmp/waddle-bench-twitch-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (!dir) {
    std::perror("mkdtemp");
    return 1;
  }
  MemoryRun one = joined_rss(twitchd, 1, dir);
  MemoryRun many = joined_rss(twitchd, channels, dir);
  std::filesystem::remove_all(dir);
  ok = ok && one.joined >= 1 && many.joined >= channels && one.rss_kib > 0 && many.rss_kib > 0;

  auto rate = [](const ParseRun& r) { return r.seconds > 0 ? r.lines / r.seconds : 0.0; };
  const double per_channel =
      channels > 1 ? double(many.rss_kib - one.rss_kib) / double(channels - 1) : 0.0;
  if (as_json) {
    json out = {{"lines", lines},
                {"bytes", buffer.size()},
                {"split_lines_per_s", rate(split)},
                {"parse_lines_per_s", rate(parse)},
                {"parse_normalise_lines_per_s", rate(full)},
                {"parse_ratio", rate(parse) / rate(split)},
                {"parse_normalise_ratio", rate(full) / rate(split)},
                {"rss_kib_1_channel", one.rss_kib},
                {"rss_kib_n_channels", many.rss_kib},
                {"channels", channels},
                {"joined", many.joined},
                {"join_seconds", many.join_seconds},
                {"rss_kib_per_channel", per_channel},
                {"ok", ok}};
    std::cout << out.dump(2) << '\n';
  } else {
    std::time_t now = std::time(nullptr);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::cout << fmt::format(
        "WaddleBot Twitch IRC benchmark, {}: {} CPUs, load average {} before / {} after\n"
        "{} PRIVMSG lines ({:.1f} MB, {:.0f} B/line), read in 4 KiB chunks, best of {}\n\n",
        when, std::thread::hardware_concurrency(), before, load_average(), lines,
        buffer.size() / 1e6, double(buffer.size()) / double(lines), rounds);
    std::cout << fmt::format("{:<44}{:>14}{:>22}\n", "parse", "lines/s", "vs split on CRLF");
    std::cout << fmt::format("{:<44}{:>14.0f}{:>22}\n", "split on CRLF (baseline)", rate(split),
                             "");
    std::cout << fmt::format("{:<44}{:>14.0f}{:>21.1f}%\n", "line buffer + IRCv3 parse",
                             rate(parse), 100.0 * rate(parse) / rate(split));
    std::cout << fmt::format("{:<44}{:>14.0f}{:>21.1f}%\n", "line buffer + parse + normalise",
                             rate(full), 100.0 * rate(full) / rate(split));
    std::cout << fmt::format(
        "\nwaddle-twitchd memory (VmRSS), fake TLS IRC server, join limiter opened\n"
        "{:<44}{:>14}\n{:<44}{:>11} KiB\n{:<44}{:>11} KiB   ({} joined in {:.1f} s)\n"
        "{:<44}{:>11.2f} KiB\n",
        "channels", "RSS", "1", one.rss_kib, channels, many.rss_kib, many.joined, many.join_seconds,
        "per additional channel", per_channel);
  }
  return ok ? 0 : 1;
}
