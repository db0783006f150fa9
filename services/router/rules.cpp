#define PCRE2_CODE_UNIT_WIDTH 8
#include "router/rules.hpp"

#include <pcre2.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <utility>

#include "router/command_line.hpp"

namespace waddle::router {
namespace {

// Regex patterns are typed by people; anything this long is a mistake, and JIT code grows with it.
constexpr std::size_t kMaxRegexPatternBytes = 4096;

// ---- case folding -------------------------------------------------------------------------------

void fold_into(std::string_view in, std::string& out) {
  out.resize(in.size());
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n;) {
    auto b0 = static_cast<unsigned char>(in[i]);
    if (b0 < 0x80) {
      out[i++] = static_cast<char>((b0 >= 'A' && b0 <= 'Z') ? b0 + 32 : b0);
      continue;
    }
    unsigned char o0 = b0;
    unsigned char o1 = 0;
    bool folded = false;
    if (i + 1 < n) {
      auto b1 = static_cast<unsigned char>(in[i + 1]);
      folded = true;
      if (b0 == 0xC3 && b1 >= 0x80 && b1 <= 0x9E && b1 != 0x97) {  // À–Þ, not ×
        o1 = b1 + 0x20;
      } else if (b0 == 0xCE && b1 >= 0x91 && b1 <= 0x9F) {  // Α–Ο
        o1 = b1 + 0x20;
      } else if (b0 == 0xCE && b1 >= 0xA0 && b1 <= 0xA9 && b1 != 0xA2) {  // Π–Ω
        o0 = 0xCF;
        o1 = b1 - 0x20;
      } else if (b0 == 0xD0 && b1 >= 0x90 && b1 <= 0x9F) {  // А–П
        o1 = b1 + 0x20;
      } else if (b0 == 0xD0 && b1 >= 0xA0 && b1 <= 0xAF) {  // Р–Я
        o0 = 0xD1;
        o1 = b1 - 0x20;
      } else if (b0 == 0xD0 && b1 >= 0x80 && b1 <= 0x8F) {  // Ѐ–Џ
        o0 = 0xD1;
        o1 = b1 + 0x10;
      } else {
        folded = false;
      }
    }
    if (folded) {
      out[i] = static_cast<char>(o0);
      out[i + 1] = static_cast<char>(o1);
      i += 2;
    } else {
      out[i] = in[i];  // continuation bytes and unfolded characters pass byte by byte
      ++i;
    }
  }
}

// ---- word boundaries ----------------------------------------------------------------------------

// Decodes the UTF-8 sequence at `pos`; nullopt when it is not a valid one.
std::optional<char32_t> decode_at(std::string_view s, std::size_t pos) {
  auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return b0;
  std::size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
  if (len == 0 || pos + len > s.size() || b0 > 0xF4) return std::nullopt;
  char32_t cp = b0 & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[pos + k]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  return cp;
}

// Letters and digits of any script (everything non-ASCII that is not in a space, punctuation or
// symbol block below) count as word characters, so "café" does not contain the word "caf".
bool is_word_code_point(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           cp == '_';
  }
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;  // C1, Latin-1 punctuation, × ÷
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x2BFF))
    return false;                                  // spaces, punctuation,
                                                   // arrows, symbols
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK spaces and punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;  // CJK compatibility forms
  if ((cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20)) return false;  // fullwidth
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;  // emoji and pictographs
  return true;
}

bool word_char_before(std::string_view s, std::size_t pos) {
  if (pos == 0) return false;
  std::size_t lead = pos - 1;
  while (lead > 0 && pos - lead < 4 && (static_cast<unsigned char>(s[lead]) & 0xC0) == 0x80) {
    --lead;
  }
  auto cp = decode_at(s.substr(0, pos), lead);
  if (!cp) return static_cast<unsigned char>(s[pos - 1]) >= 0x80;  // broken UTF-8: a letter
  return is_word_code_point(*cp);
}

bool word_char_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return false;
  auto cp = decode_at(s, pos);
  if (!cp) return static_cast<unsigned char>(s[pos]) >= 0x80;
  return is_word_code_point(*cp);
}

// ---- Aho–Corasick over bytes --------------------------------------------------------------------

// One pattern ending in a state: which rule, its length, and which copy of the message it reads.
struct Output {
  std::uint32_t rule;
  std::uint32_t length;
  bool folded;
};

// A full DFA (failure transitions folded into the table) over byte classes: bytes that occur in no
// pattern share class 0, which keeps the table at states × (distinct pattern bytes + 1).
class Automaton {
 public:
  void add(std::string_view pattern, Output output) { pending_.emplace_back(pattern, output); }

  void build() {
    byte_class_.fill(0);
    std::uint16_t classes = 1;
    for (const auto& [pattern, out] : pending_) {
      for (char c : pattern) {
        auto& cls = byte_class_[static_cast<unsigned char>(c)];
        if (cls == 0) cls = classes++;
      }
    }
    classes_ = classes;
    next_.assign(classes_, -1);
    std::vector<std::vector<Output>> terminal(1);
    for (const auto& [pattern, out] : pending_) {
      std::int32_t state = 0;
      for (char c : pattern) {
        auto& slot = next_[state * classes_ + byte_class_[static_cast<unsigned char>(c)]];
        if (slot < 0) {
          slot = static_cast<std::int32_t>(terminal.size());
          terminal.emplace_back();
          next_.resize(next_.size() + classes_, -1);
        }
        // Re-read through the index: resize may have moved the table.
        state = next_[state * classes_ + byte_class_[static_cast<unsigned char>(c)]];
      }
      terminal[state].push_back(out);
    }
    pending_.clear();
    pending_.shrink_to_fit();

    const std::size_t states = terminal.size();
    std::vector<std::int32_t> fail(states, 0);
    dict_.assign(states, -1);
    std::deque<std::int32_t> queue;
    for (std::uint16_t c = 0; c < classes_; ++c) {
      auto& slot = next_[c];
      if (slot < 0) {
        slot = 0;
      } else {
        queue.push_back(slot);
      }
    }
    while (!queue.empty()) {
      auto s = queue.front();
      queue.pop_front();
      auto f = fail[s];
      dict_[s] = terminal[f].empty() ? dict_[f] : f;
      for (std::uint16_t c = 0; c < classes_; ++c) {
        auto& slot = next_[s * classes_ + c];
        auto via_fail = next_[f * classes_ + c];
        if (slot < 0) {
          slot = via_fail;
        } else {
          fail[slot] = via_fail;
          queue.push_back(slot);
        }
      }
    }
    // Flatten the outputs; first_output_ skips states that end no pattern themselves.
    out_begin_.assign(states + 1, 0);
    for (std::size_t s = 0; s < states; ++s) {
      out_begin_[s + 1] = out_begin_[s] + static_cast<std::uint32_t>(terminal[s].size());
      outputs_.insert(outputs_.end(), terminal[s].begin(), terminal[s].end());
    }
    first_output_.resize(states);
    for (std::size_t s = 0; s < states; ++s) {
      first_output_[s] = terminal[s].empty() ? dict_[s] : static_cast<std::int32_t>(s);
    }
  }

  bool empty() const noexcept { return outputs_.empty(); }

  std::int32_t step(std::int32_t state, char byte) const noexcept {
    return next_[state * classes_ + byte_class_[static_cast<unsigned char>(byte)]];
  }

  // Calls f(output) for every pattern ending in `state`.
  template <typename F>
  void outputs(std::int32_t state, F&& f) const {
    for (auto s = first_output_[state]; s >= 0; s = dict_[s]) {
      for (auto k = out_begin_[s]; k < out_begin_[s + 1]; ++k) f(outputs_[k]);
    }
  }

 private:
  std::vector<std::pair<std::string, Output>> pending_;
  std::array<std::uint16_t, 256> byte_class_{};
  std::uint16_t classes_ = 1;
  std::vector<std::int32_t> next_;
  std::vector<std::int32_t> dict_;  // nearest proper suffix state that ends a pattern
  std::vector<std::int32_t> first_output_;
  std::vector<std::uint32_t> out_begin_;
  std::vector<Output> outputs_;
};

// ---- PCRE2 --------------------------------------------------------------------------------------

struct CodeDeleter {
  void operator()(pcre2_code* code) const noexcept { pcre2_code_free(code); }
};
using CodePtr = std::unique_ptr<pcre2_code, CodeDeleter>;

struct MatchContextDeleter {
  void operator()(pcre2_match_context* context) const noexcept {
    pcre2_match_context_free(context);
  }
};

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  int n = pcre2_get_error_message(code, buffer, sizeof buffer);
  if (n < 0) return "PCRE2 error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
}

std::string rule_name(const Rule& rule) {
  return "string rule " + std::to_string(rule.id);
}

std::variant<CodePtr, RuleError> compile_regex(const Rule& rule) {
  if (rule.pattern.size() > kMaxRegexPatternBytes) {
    return RuleError{rule.id,
                     rule_name(rule) + ": regex is " + std::to_string(rule.pattern.size()) +
                         " bytes, more than the " + std::to_string(kMaxRegexPatternBytes) +
                         " allowed",
                     std::nullopt};
  }
  // MATCH_INVALID_UTF: a message with broken UTF-8 is matched (and fails) where it is broken
  // instead of being an error. NEVER_BACKSLASH_C: \C could split a character.
  std::uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C;
  if (!rule.case_sensitive) options |= PCRE2_CASELESS;
  int error = 0;
  PCRE2_SIZE offset = 0;
  CodePtr code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rule.pattern.data()), rule.pattern.size(),
                             options, &error, &offset, nullptr));
  if (!code) {
    return RuleError{rule.id,
                     rule_name(rule) + ": invalid regex at offset " + std::to_string(offset) +
                         ": " + pcre2_message(error),
                     static_cast<std::size_t>(offset)};
  }
  // Without JIT (not built for this CPU, or refused by the system) pcre2_match interprets the
  // code under the same limits, so a failure here only costs speed.
  pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE);
  return code;
}

pcre2_jit_stack* thread_jit_stack(void*) {
  struct Holder {
    pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, nullptr);
    ~Holder() {
      if (stack) pcre2_jit_stack_free(stack);
    }
  };
  thread_local Holder holder;
  return holder.stack;  // nullptr: PCRE2 falls back to 32 KiB on the machine stack
}

pcre2_match_data* thread_match_data() {
  struct Holder {
    // One pair is enough: only whether the pattern matched is needed.
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    ~Holder() {
      if (data) pcre2_match_data_free(data);
    }
  };
  thread_local Holder holder;
  return holder.data;
}

std::optional<RuleError> check_fields(const Rule& rule) {
  if (rule.pattern.empty()) return RuleError{rule.id, rule_name(rule) + ": empty pattern", {}};
  if (rule.match_type == MatchType::exact && rule.pattern != "*" &&
      trim_whitespace(rule.pattern).empty()) {
    return RuleError{rule.id, rule_name(rule) + ": exact pattern is only whitespace", {}};
  }
  if (rule.action == RuleAction::command && rule.command_to_execute.empty()) {
    return RuleError{rule.id, rule_name(rule) + ": action 'command' needs command_to_execute", {}};
  }
  if (rule.action == RuleAction::webhook && rule.webhook_url.empty()) {
    return RuleError{rule.id, rule_name(rule) + ": action 'webhook' needs webhook_url", {}};
  }
  return std::nullopt;
}

bool matches_everything(const Rule& rule) {
  return rule.match_type == MatchType::any || rule.pattern == "*";
}

}  // namespace

// ---- the compiled set ---------------------------------------------------------------------------

struct RuleSet::Compiled {
  enum class Kind : std::uint8_t { literal, regex, any };

  std::vector<Rule> rules;  // active, in priority order
  std::vector<Kind> kinds;
  std::vector<CodePtr> regexes;  // per rule; null unless Kind::regex
  std::vector<bool> everywhere;  // enabled_entity_ids empty
  // entity id → the indices of the rules that name it, sorted by entity then index.
  std::vector<std::pair<std::string, std::vector<std::uint32_t>>> by_entity;
  // Rules evaluated on every message (regex and `*`), in index order.
  std::vector<std::uint32_t> always_evaluated;
  Automaton automaton;
  bool has_raw_literals = false;
  bool has_folded_literals = false;
  std::unique_ptr<pcre2_match_context, MatchContextDeleter> match_context;

  mutable std::atomic<std::uint64_t> messages{0};
  mutable std::atomic<std::uint64_t> rule_matches{0};
  mutable std::atomic<std::uint64_t> regex_runs{0};
  mutable std::atomic<std::uint64_t> limit_hits{0};
  mutable std::atomic<std::uint64_t> regex_errors{0};

  const std::vector<std::uint32_t>* entity_rules(std::string_view entity_id) const {
    auto it = std::lower_bound(by_entity.begin(), by_entity.end(), entity_id,
                               [](const auto& entry, std::string_view key) {
                                 return std::string_view(entry.first) < key;
                               });
    if (it == by_entity.end() || it->first != entity_id) return nullptr;
    return &it->second;
  }

  bool applies(std::uint32_t index, const std::vector<std::uint32_t>* named) const {
    return everywhere[index] ||
           (named != nullptr && std::binary_search(named->begin(), named->end(), index));
  }

  bool regex_matches(std::uint32_t index, std::string_view message) const {
    regex_runs.fetch_add(1, std::memory_order_relaxed);
    pcre2_match_data* data = thread_match_data();
    if (data == nullptr) {
      regex_errors.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    int rc = pcre2_match(regexes[index].get(), reinterpret_cast<PCRE2_SPTR>(message.data()),
                         message.size(), 0, 0, data, match_context.get());
    if (rc >= 0) return true;
    if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL) return false;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT ||
        rc == PCRE2_ERROR_NOMEMORY) {
      limit_hits.fetch_add(1, std::memory_order_relaxed);
    } else {
      regex_errors.fetch_add(1, std::memory_order_relaxed);
    }
    return false;
  }

  // The literal rules that match `message`, sorted by index (each once).
  std::vector<std::uint32_t> literal_hits(std::string_view message) const {
    std::vector<std::uint32_t> hits;
    if (automaton.empty()) return hits;
    thread_local std::vector<std::uint64_t> seen;
    thread_local std::string folded;
    if (seen.size() * 64 < rules.size()) seen.resize((rules.size() + 63) / 64, 0);
    if (has_folded_literals) fold_into(message, folded);
    // The scratch bits are shared by every set this thread matches with: leave them clear.
    struct ClearSeen {
      const std::vector<std::uint32_t>& hits;
      void operator()() const {
        for (auto index : hits) seen[index / 64] &= ~(std::uint64_t{1} << (index % 64));
      }
      ~ClearSeen() { (*this)(); }  // also when an allocation throws mid-scan
    } clear_seen{hits};

    const std::string_view trimmed = trim_whitespace(message);
    const std::size_t trim_begin = static_cast<std::size_t>(trimmed.data() - message.data());
    const std::size_t trim_end = trim_begin + trimmed.size();

    auto report = [&](const Output& out, bool folded_copy, std::size_t end) {
      if (out.folded != folded_copy) return;
      auto& word = seen[out.rule / 64];
      const std::uint64_t bit = std::uint64_t{1} << (out.rule % 64);
      if (word & bit) return;
      const std::size_t begin = end - out.length;
      switch (rules[out.rule].match_type) {
        case MatchType::exact:
          if (begin != trim_begin || end != trim_end) return;
          break;
        case MatchType::word:
          if (word_char_before(message, begin) || word_char_at(message, end)) return;
          break;
        default: break;
      }
      hits.push_back(out.rule);
      word |= bit;
    };

    std::int32_t raw_state = 0;
    std::int32_t folded_state = 0;
    for (std::size_t i = 0; i < message.size(); ++i) {
      if (has_raw_literals) {
        raw_state = automaton.step(raw_state, message[i]);
        automaton.outputs(raw_state, [&](const Output& out) { report(out, false, i + 1); });
      }
      if (has_folded_literals) {
        folded_state = automaton.step(folded_state, folded[i]);
        automaton.outputs(folded_state, [&](const Output& out) { report(out, true, i + 1); });
      }
    }
    clear_seen();  // before `hits` may be moved into the return value
    std::sort(hits.begin(), hits.end());
    return hits;
  }

  // Walks the candidates (literal hits merged with the always-evaluated rules) in priority order;
  // stops after the first match when `first_only`.
  std::vector<const Rule*> run(std::string_view message, std::string_view entity_id,
                               bool first_only) const {
    messages.fetch_add(1, std::memory_order_relaxed);
    std::vector<const Rule*> matched;
    const auto* named = entity_rules(entity_id);
    const auto hits = literal_hits(message);
    std::size_t h = 0;
    std::size_t a = 0;
    while (h < hits.size() || a < always_evaluated.size()) {
      std::uint32_t index;
      if (a >= always_evaluated.size() || (h < hits.size() && hits[h] < always_evaluated[a])) {
        index = hits[h++];
      } else {
        index = always_evaluated[a++];
      }
      if (!applies(index, named)) continue;
      if (kinds[index] == Kind::regex && !regex_matches(index, message)) continue;
      matched.push_back(&rules[index]);
      if (first_only) break;
    }
    rule_matches.fetch_add(matched.size(), std::memory_order_relaxed);
    return matched;
  }
};

std::string fold_case(std::string_view text) {
  std::string out;
  fold_into(text, out);
  return out;
}

std::string_view to_string(MatchType type) noexcept {
  switch (type) {
    case MatchType::exact: return "exact";
    case MatchType::contains: return "contains";
    case MatchType::word: return "word";
    case MatchType::regex: return "regex";
    case MatchType::any: return "*";
  }
  return "?";
}

std::string_view to_string(RuleAction action) noexcept {
  switch (action) {
    case RuleAction::warn: return "warn";
    case RuleAction::block: return "block";
    case RuleAction::command: return "command";
    case RuleAction::webhook: return "webhook";
  }
  return "?";
}

std::optional<MatchType> parse_match_type(std::string_view text) noexcept {
  for (auto type :
       {MatchType::exact, MatchType::contains, MatchType::word, MatchType::regex, MatchType::any}) {
    if (to_string(type) == text) return type;
  }
  return std::nullopt;
}

std::optional<RuleAction> parse_rule_action(std::string_view text) noexcept {
  for (auto action :
       {RuleAction::warn, RuleAction::block, RuleAction::command, RuleAction::webhook}) {
    if (to_string(action) == text) return action;
  }
  return std::nullopt;
}

std::optional<RuleError> check_rule(const Rule& rule) {
  if (auto error = check_fields(rule)) return error;
  if (rule.match_type == MatchType::regex && !matches_everything(rule)) {
    auto compiled = compile_regex(rule);
    if (auto* error = std::get_if<RuleError>(&compiled)) return std::move(*error);
  }
  return std::nullopt;
}

RuleSet::RuleSet() : RuleSet(std::make_shared<const Compiled>()) {}

RuleSet::RuleSet(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}

std::variant<RuleSet, RuleError> RuleSet::compile(std::vector<Rule> rules) {
  auto set = std::make_shared<Compiled>();
  for (auto& rule : rules) {
    if (!rule.is_active) continue;
    if (auto error = check_fields(rule)) return std::move(*error);
    set->rules.push_back(std::move(rule));
  }
  std::stable_sort(set->rules.begin(), set->rules.end(), [](const Rule& a, const Rule& b) {
    return std::pair(a.priority, a.id) < std::pair(b.priority, b.id);
  });

  const std::size_t n = set->rules.size();
  set->kinds.resize(n);
  set->regexes.resize(n);
  set->everywhere.resize(n);
  std::vector<std::pair<std::string, std::uint32_t>> entity_pairs;
  for (std::uint32_t i = 0; i < n; ++i) {
    const Rule& rule = set->rules[i];
    set->everywhere[i] = rule.enabled_entity_ids.empty();
    for (const auto& entity : rule.enabled_entity_ids) entity_pairs.emplace_back(entity, i);

    if (matches_everything(rule)) {
      set->kinds[i] = Compiled::Kind::any;
      set->always_evaluated.push_back(i);
    } else if (rule.match_type == MatchType::regex) {
      auto compiled = compile_regex(rule);
      if (auto* error = std::get_if<RuleError>(&compiled)) return std::move(*error);
      set->kinds[i] = Compiled::Kind::regex;
      set->regexes[i] = std::move(std::get<CodePtr>(compiled));
      set->always_evaluated.push_back(i);
    } else {
      set->kinds[i] = Compiled::Kind::literal;
      std::string_view pattern = rule.pattern;
      if (rule.match_type == MatchType::exact) pattern = trim_whitespace(pattern);
      const bool folded = !rule.case_sensitive;
      std::string key = folded ? fold_case(pattern) : std::string(pattern);
      (folded ? set->has_folded_literals : set->has_raw_literals) = true;
      set->automaton.add(key, Output{i, static_cast<std::uint32_t>(key.size()), folded});
    }
  }
  set->automaton.build();

  std::sort(entity_pairs.begin(), entity_pairs.end());
  for (auto& [entity, index] : entity_pairs) {
    if (set->by_entity.empty() || set->by_entity.back().first != entity) {
      set->by_entity.emplace_back(std::move(entity), std::vector<std::uint32_t>{});
    }
    auto& list = set->by_entity.back().second;
    if (list.empty() || list.back() != index) list.push_back(index);
  }

  if (!set->always_evaluated.empty()) {
    set->match_context.reset(pcre2_match_context_create(nullptr));
    if (!set->match_context) {
      return RuleError{0, "string rules: out of memory creating the PCRE2 match context", {}};
    }
    pcre2_set_match_limit(set->match_context.get(), kRegexMatchLimit);
    pcre2_set_depth_limit(set->match_context.get(), kRegexDepthLimit);
    pcre2_set_heap_limit(set->match_context.get(), kRegexHeapLimitKib);
    pcre2_jit_stack_assign(set->match_context.get(), thread_jit_stack, nullptr);
  }
  return RuleSet(std::move(set));
}

std::vector<const Rule*> RuleSet::match(std::string_view message,
                                        std::string_view entity_id) const {
  return compiled_->run(message, entity_id, false);
}

const Rule* RuleSet::first_match(std::string_view message, std::string_view entity_id) const {
  auto matched = compiled_->run(message, entity_id, true);
  return matched.empty() ? nullptr : matched.front();
}

const std::vector<Rule>& RuleSet::rules() const noexcept {
  return compiled_->rules;
}

RuleSet::Stats RuleSet::stats() const noexcept {
  const auto& c = *compiled_;
  return Stats{
      c.messages.load(std::memory_order_relaxed), c.rule_matches.load(std::memory_order_relaxed),
      c.regex_runs.load(std::memory_order_relaxed), c.limit_hits.load(std::memory_order_relaxed),
      c.regex_errors.load(std::memory_order_relaxed)};
}

}  // namespace waddle::router
