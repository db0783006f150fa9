#pragma once
// Logging for every daemon: spdlog's default logger on stderr. Under journald (JOURNAL_STREAM
// names our stderr) lines carry a "<N>" syslog priority prefix and no timestamp, because the
// journal adds its own. Every line reads "LEVEL program:version message", so the seeds' AAA
// audit line is `audit(...)`: "INFO router:0.1.0 AUTH community=X user=Y action=Z result=STATUS".

#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <string_view>

namespace waddle::log {

// Installs the stderr logger for `program` (e.g. "router") at `version` and `level`.
// Throws waddle::Error(invalid_argument) for an unknown level name.
void init(std::string_view program, std::string_view version, std::string_view level = "info");

// Parses "trace|debug|info|warning|warn|error|critical|off"; nullopt when unknown.
std::optional<spdlog::level::level_enum> parse_level(std::string_view name);
// Sets the level at run time (admin socket `log-level`); false for an unknown name.
bool set_level(std::string_view name);
std::string level_name();

// True when stderr is the journal's stream (JOURNAL_STREAM matches stderr's device and inode).
bool stderr_is_journal();

enum class Category { auth, authz, audit, error, system };
std::string_view category_name(Category category);

struct AuditEntry {
  Category category = Category::audit;
  std::string community;  // community name or id; "-" when none
  std::string user;       // who acted: platform user, API key prefix, uid=N; "-" when none
  std::string action;     // what was attempted: "POST /router/events", "ctl:reload"
  std::string result;     // SUCCESS, DENIED, FAILED, ... or an HTTP status
};

// "CATEGORY community=X user=Y action=Z result=STATUS", values quoted when they hold spaces,
// quotes or '=' so the line stays machine-parsable.
std::string format_audit(const AuditEntry& entry);
void audit(spdlog::level::level_enum level, const AuditEntry& entry);
inline void audit(const AuditEntry& entry) {
  audit(spdlog::level::info, entry);
}

}  // namespace waddle::log
