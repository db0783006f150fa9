#include "log/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

#include "error/error.hpp"

namespace waddle::log {
namespace {

// "%*" → INFO/WARNING/..., the seeds' upper-case level word.
class UpperLevelFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kNames[] = {"TRACE", "DEBUG",    "INFO", "WARNING",
                                                  "ERROR", "CRITICAL", "OFF"};
    auto name = kNames[static_cast<int>(msg.level)];
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<UpperLevelFlag>();
  }
};

// "%#" → the "<N>" syslog priority prefix journald turns into the entry's priority.
class SyslogPriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kPriorities[] = {"<7>", "<7>", "<6>", "<4>",
                                                       "<3>", "<2>", "<6>"};
    auto p = kPriorities[static_cast<int>(msg.level)];
    dest.append(p.data(), p.data() + p.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriorityFlag>();
  }
};

bool needs_quotes(std::string_view v) {
  return v.empty() || std::any_of(v.begin(), v.end(), [](unsigned char c) {
           return std::isspace(c) || c == '"' || c == '=' || c < 0x20;
         });
}

void append_value(std::string& out, std::string_view v) {
  if (v.empty()) {
    out += '-';
    return;
  }
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

}  // namespace

std::optional<spdlog::level::level_enum> parse_level(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower == "trace") return spdlog::level::trace;
  if (lower == "debug") return spdlog::level::debug;
  if (lower == "info") return spdlog::level::info;
  if (lower == "warning" || lower == "warn") return spdlog::level::warn;
  if (lower == "error") return spdlog::level::err;
  if (lower == "critical") return spdlog::level::critical;
  if (lower == "off") return spdlog::level::off;
  return std::nullopt;
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

void init(std::string_view program, std::string_view version, std::string_view level) {
  auto parsed = parse_level(level);
  if (!parsed) {
    throw Error(Errc::invalid_argument,
                "log.level: unknown level '" + std::string(level) +
                    "' (expected trace, debug, info, warning, error, critical or off)");
  }
  auto logger = std::make_shared<spdlog::logger>(std::string(program),
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<UpperLevelFlag>('*');
  formatter->add_flag<SyslogPriorityFlag>('#');
  std::string prefix = std::string(program) + ":" + std::string(version);
  formatter->set_pattern(stderr_is_journal() ? "%#%* " + prefix + " %v"
                                             : "%Y-%m-%dT%H:%M:%S.%e %* " + prefix + " %v");
  logger->set_formatter(std::move(formatter));
  logger->set_level(*parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

bool set_level(std::string_view name) {
  auto parsed = parse_level(name);
  if (!parsed) return false;
  spdlog::set_level(*parsed);
  return true;
}

std::string level_name() {
  auto sv = spdlog::level::to_string_view(spdlog::get_level());
  return std::string(sv.data(), sv.size());
}

std::string_view category_name(Category category) {
  switch (category) {
    case Category::auth: return "AUTH";
    case Category::authz: return "AUTHZ";
    case Category::audit: return "AUDIT";
    case Category::error: return "ERROR";
    case Category::system: return "SYSTEM";
  }
  return "AUDIT";
}

std::string format_audit(const AuditEntry& entry) {
  std::string out(category_name(entry.category));
  out += " community=";
  append_value(out, entry.community);
  out += " user=";
  append_value(out, entry.user);
  out += " action=";
  append_value(out, entry.action);
  out += " result=";
  append_value(out, entry.result);
  return out;
}

void audit(spdlog::level::level_enum level, const AuditEntry& entry) {
  spdlog::log(level, "{}", format_audit(entry));
}

}  // namespace waddle::log
