#pragma once
// A community's string rules (table `string_rules`), compiled once per change and matched against
// every chat line that is not a command.
//
// Literal rules (exact, contains, word) all live in one Aho–Corasick automaton over bytes, so a
// message costs one pass however many rules there are. Case-insensitive literals are matched
// against a folded copy of the message; the fold (see fold_case) maps ASCII A–Z, Latin-1 À–Þ
// (not ×), Greek Α–Ω and Cyrillic Ѐ–Я to their lower-case forms, each to a character of the same
// byte length; other characters match only themselves. Regex rules are PCRE2 (UTF, UCP, invalid
// UTF-8 in a message never matches), JIT-compiled, matched under a match, depth and heap limit so
// that a catastrophic pattern gives up (counted in Stats::limit_hits) instead of hanging.
//
// A compiled RuleSet is immutable and may be shared by any number of threads; copies share it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace waddle::router {

enum class MatchType { exact, contains, word, regex, any };
enum class RuleAction { warn, block, command, webhook };

// The column spellings: "exact", "contains", "word", "regex", "*"; "warn", "block", …
std::string_view to_string(MatchType type) noexcept;
std::string_view to_string(RuleAction action) noexcept;
std::optional<MatchType> parse_match_type(std::string_view text) noexcept;
std::optional<RuleAction> parse_rule_action(std::string_view text) noexcept;

// One `string_rules` row, minus the bookkeeping columns (community_id, match_count, last_matched,
// created_by, timestamps) that matching does not read.
struct Rule {
  std::int64_t id = 0;
  std::string pattern;  // column `string`; "*" matches every message whatever the match type
  MatchType match_type = MatchType::contains;
  bool case_sensitive = false;
  std::vector<std::string> enabled_entity_ids;  // empty: every entity of the community
  RuleAction action = RuleAction::warn;
  std::string command_to_execute;               // action command: required
  std::vector<std::string> command_parameters;  // jsonb array
  std::string webhook_url;                      // action webhook: required
  std::string warning_message;
  std::string block_message;
  int priority = 100;  // lower first; ties by id
  bool is_active = true;

  bool operator==(const Rule&) const = default;
};

struct RuleError {
  std::int64_t rule_id = 0;
  std::string message;  // names the rule, and for a regex PCRE2's message and the offset
  std::optional<std::size_t> offset;  // byte offset into the pattern of a regex error
};

// PCRE2 limits for one regex match. The match limit counts backtracking steps; chat lines are
// short, so an honest pattern stays far below it.
inline constexpr std::uint32_t kRegexMatchLimit = 100'000;
inline constexpr std::uint32_t kRegexDepthLimit = 1'000;
inline constexpr std::uint32_t kRegexHeapLimitKib = 2'048;

// `text` with the case fold that case-insensitive literal rules use (same byte length).
std::string fold_case(std::string_view text);

// The error compile would report for this one rule, if any: empty pattern, a command rule without
// a command, a webhook rule without a URL, a regex PCRE2 refuses. Lets a loader skip a bad row.
std::optional<RuleError> check_rule(const Rule& rule);

class RuleSet {
 public:
  struct Stats {
    std::uint64_t messages = 0;      // match / first_match calls
    std::uint64_t rule_matches = 0;  // rules returned by those calls
    std::uint64_t regex_runs = 0;    // regex evaluations
    std::uint64_t limit_hits = 0;    // regex evaluations stopped by a PCRE2 limit (no match)
    std::uint64_t regex_errors = 0;  // other PCRE2 match errors (no match)
  };

  // An empty set: matches nothing.
  RuleSet();

  // Compiles the active rules; the first bad one (see check_rule) is the error.
  static std::variant<RuleSet, RuleError> compile(std::vector<Rule> rules);

  // Every active rule that applies to `entity_id` and matches `message`, in priority order (lower
  // priority first, then lower id). The pointers live as long as this set or a copy of it.
  std::vector<const Rule*> match(std::string_view message, std::string_view entity_id) const;
  // The first rule match would return, without evaluating regexes of later rules.
  const Rule* first_match(std::string_view message, std::string_view entity_id) const;

  // The active rules, in priority order.
  const std::vector<Rule>& rules() const noexcept;
  std::size_t size() const noexcept { return rules().size(); }
  Stats stats() const noexcept;

  struct Compiled;  // opaque: the automaton, the PCRE2 code and the counters

 private:
  explicit RuleSet(std::shared_ptr<const Compiled> compiled);
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace waddle::router
