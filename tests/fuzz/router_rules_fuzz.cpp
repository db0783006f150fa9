// String rules: the input's lines up to a line "--" describe rules, the rest is the message.
// A rule line is <type byte><flags byte><pattern>: type % 5 picks exact, contains, word, regex or
// *; flag bit 0 case-sensitive, bit 1 limited to entity "e:1:1", bit 2 inactive, bits 4–7 the
// priority. compile must succeed or name a rule; match must agree with first_match, return rules
// in priority order, and agree with a plain search for every literal "contains" rule.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "router/rules.hpp"

using namespace waddle::router;

namespace {

void check_matches(const RuleSet& set, const std::vector<Rule>& rules, std::string_view message,
                   std::string_view entity) {
  auto matched = set.match(message, entity);
  const Rule* first = set.first_match(message, entity);
  if ((first == nullptr) != matched.empty()) std::abort();
  if (first != nullptr && first != matched.front()) std::abort();
  for (std::size_t i = 1; i < matched.size(); ++i) {
    auto before = std::pair(matched[i - 1]->priority, matched[i - 1]->id);
    if (!(before < std::pair(matched[i]->priority, matched[i]->id))) std::abort();
  }
  for (const auto& rule : rules) {
    if (!rule.is_active || rule.match_type != MatchType::contains || rule.pattern == "*") continue;
    if (!rule.enabled_entity_ids.empty() && rule.enabled_entity_ids.front() != entity) continue;
    std::string text = rule.case_sensitive ? std::string(message) : fold_case(message);
    std::string pattern = rule.case_sensitive ? rule.pattern : fold_case(rule.pattern);
    bool expected = text.find(pattern) != std::string::npos;
    bool got = std::any_of(matched.begin(), matched.end(),
                           [&](const Rule* r) { return r->id == rule.id; });
    if (expected != got) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<Rule> rules;
  std::string_view message;
  std::int64_t id = 0;
  while (true) {
    auto eol = input.find('\n');
    std::string_view line = input.substr(0, eol);
    if (line == "--" || eol == std::string_view::npos) {
      message = eol == std::string_view::npos ? line : input.substr(eol + 1);
      break;
    }
    input.remove_prefix(eol + 1);
    if (line.size() < 2 || rules.size() >= 64) continue;
    Rule rule;
    rule.id = ++id;
    auto type = static_cast<unsigned char>(line[0]) % 5;
    rule.match_type = std::array{MatchType::exact, MatchType::contains, MatchType::word,
                                 MatchType::regex, MatchType::any}[type];
    auto flags = static_cast<unsigned char>(line[1]);
    rule.case_sensitive = flags & 1;
    if (flags & 2) rule.enabled_entity_ids = {"e:1:1"};
    rule.is_active = !(flags & 4);
    rule.priority = flags >> 4;
    rule.pattern = std::string(line.substr(2));
    rules.push_back(std::move(rule));
  }

  auto compiled = RuleSet::compile(rules);
  if (auto* error = std::get_if<RuleError>(&compiled)) {
    if (error->message.empty()) std::abort();
    auto named = std::find_if(rules.begin(), rules.end(),
                              [&](const Rule& r) { return r.id == error->rule_id; });
    if (named == rules.end() || !check_rule(*named)) std::abort();
    return 0;
  }
  const auto& set = std::get<RuleSet>(compiled);
  check_matches(set, rules, message, "e:1:1");
  check_matches(set, rules, message, "e:2:2");
  return 0;
}
