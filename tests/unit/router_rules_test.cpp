#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "router/command_line.hpp"
#include "router/rules.hpp"

using namespace waddle::router;
using Ids = std::vector<std::int64_t>;

namespace {

constexpr std::string_view kEntity = "twitch:channel:waddle";

Rule rule(std::int64_t id, std::string pattern, MatchType type, bool case_sensitive = false) {
  Rule r;
  r.id = id;
  r.pattern = std::move(pattern);
  r.match_type = type;
  r.case_sensitive = case_sensitive;
  r.warning_message = "rule " + std::to_string(id);
  return r;
}

RuleSet compiled(std::vector<Rule> rules) {
  auto result = RuleSet::compile(std::move(rules));
  if (auto* error = std::get_if<RuleError>(&result)) FAIL("compile failed: " << error->message);
  return std::get<RuleSet>(std::move(result));
}

RuleError compile_error(std::vector<Rule> rules) {
  auto result = RuleSet::compile(std::move(rules));
  REQUIRE(std::holds_alternative<RuleError>(result));
  return std::get<RuleError>(result);
}

Ids ids(const std::vector<const Rule*>& rules) {
  Ids out;
  for (const auto* r : rules) out.push_back(r->id);
  return out;
}

bool matches(const Rule& r, std::string_view message, std::string_view entity = kEntity) {
  auto set = compiled({r});
  bool any = !set.match(message, entity).empty();
  CHECK((set.first_match(message, entity) != nullptr) == any);
  return any;
}

// The reference the automaton is compared with: each rule on its own, by plain string search.
// Word characters: ASCII letters, digits, '_' and any non-ASCII byte (the random alphabet below
// only has letters outside ASCII).
bool naive_word_byte(char c) {
  auto b = static_cast<unsigned char>(c);
  return b >= 0x80 || b == '_' || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
         (b >= 'A' && b <= 'Z');
}

bool naive_matches(const Rule& r, std::string_view message, std::string_view entity) {
  if (!r.is_active) return false;
  if (!r.enabled_entity_ids.empty() &&
      std::find(r.enabled_entity_ids.begin(), r.enabled_entity_ids.end(), entity) ==
          r.enabled_entity_ids.end()) {
    return false;
  }
  if (r.pattern == "*" || r.match_type == MatchType::any) return true;
  std::string text = r.case_sensitive ? std::string(message) : fold_case(message);
  std::string pattern = r.case_sensitive ? r.pattern : fold_case(r.pattern);
  switch (r.match_type) {
    case MatchType::exact: return trim_whitespace(text) == trim_whitespace(pattern);
    case MatchType::contains: return text.find(pattern) != std::string::npos;
    case MatchType::word:
      for (auto pos = text.find(pattern); pos != std::string::npos;
           pos = text.find(pattern, pos + 1)) {
        auto end = pos + pattern.size();
        bool left = pos == 0 || !naive_word_byte(text[pos - 1]);
        bool right = end == text.size() || !naive_word_byte(text[end]);
        if (left && right) return true;
      }
      return false;
    default: return false;
  }
}

}  // namespace

TEST_CASE("match types and their spellings round-trip") {
  for (auto type :
       {MatchType::exact, MatchType::contains, MatchType::word, MatchType::regex, MatchType::any}) {
    CHECK(parse_match_type(to_string(type)) == type);
  }
  CHECK(parse_match_type("*") == MatchType::any);
  CHECK_FALSE(parse_match_type("fuzzy").has_value());
  for (auto action :
       {RuleAction::warn, RuleAction::block, RuleAction::command, RuleAction::webhook}) {
    CHECK(parse_rule_action(to_string(action)) == action);
  }
  CHECK_FALSE(parse_rule_action("ban").has_value());
}

TEST_CASE("exact compares the whole trimmed message") {
  CHECK(matches(rule(1, "hello", MatchType::exact), "  Hello\t"));
  CHECK(matches(rule(1, " hello ", MatchType::exact), "hello"));
  CHECK_FALSE(matches(rule(1, "hello", MatchType::exact), "hello there"));
  CHECK_FALSE(matches(rule(1, "hello", MatchType::exact), "oh hello"));
  CHECK(matches(rule(1, "Hello", MatchType::exact, true), "Hello"));
  CHECK_FALSE(matches(rule(1, "Hello", MatchType::exact, true), "hello"));
  CHECK(matches(rule(1, "hi", MatchType::exact), "\xE3\x80\x80hi\xC2\xA0"));
}

TEST_CASE("contains finds a substring anywhere") {
  CHECK(matches(rule(1, "bad", MatchType::contains), "this is BADLY done"));
  CHECK_FALSE(matches(rule(1, "bad", MatchType::contains), "this is fine"));
  CHECK(matches(rule(1, "Bad", MatchType::contains, true), "so Bad"));
  CHECK_FALSE(matches(rule(1, "Bad", MatchType::contains, true), "so bad"));
  CHECK_FALSE(matches(rule(1, "bad", MatchType::contains), ""));
}

TEST_CASE("case-insensitive literals fold Latin-1, Greek and Cyrillic") {
  CHECK(fold_case("ÀÉÎ×ÞŸ") == "àéî×þŸ");
  CHECK(fold_case("ΣΟΦΙΑ Ѐ") == "σοφια ѐ");
  CHECK(matches(rule(1, "привет", MatchType::contains), "ПРИВЕТ всем"));
  CHECK(matches(rule(1, "ПРИВЕТ", MatchType::word), "ну привет!"));
  CHECK(matches(rule(1, "crème", MatchType::exact), "CRÈME"));
  CHECK(matches(rule(1, "σοφια", MatchType::contains), "ΣΟΦΙΑ"));
  CHECK_FALSE(matches(rule(1, "привет", MatchType::contains, true), "ПРИВЕТ"));
}

TEST_CASE("word needs a boundary on both sides") {
  auto world = rule(1, "world", MatchType::word);
  CHECK(matches(world, "world"));
  CHECK(matches(world, "hello world"));
  CHECK(matches(world, "world, hello"));
  CHECK(matches(world, "(WORLD)"));
  CHECK(matches(world, "worldwide world"));  // a later occurrence counts
  CHECK_FALSE(matches(world, "worldwide"));
  CHECK_FALSE(matches(world, "underworld"));
  CHECK_FALSE(matches(world, "_world"));
  CHECK_FALSE(matches(world, "world2"));
  // Non-ASCII letters are word characters; Unicode spaces, punctuation and emoji are not.
  CHECK_FALSE(matches(world, "éworld"));
  CHECK_FALSE(matches(world, "worldé"));
  CHECK_FALSE(matches(world, "мирworld"));
  CHECK(matches(world, "world\xE2\x80\x94next"));          // em dash
  CHECK(matches(world, "\xE3\x80\x8Cworld\xE3\x80\x8D"));  // 「world」
  CHECK(matches(world, "world\xF0\x9F\x98\x80"));          // 😀
  CHECK(matches(world, "\xC2\xA0world"));                  // no-break space
  CHECK(matches(world, "\xC2\xBFworld?"));                 // ¿
  // Broken UTF-8 next to the word counts as a letter.
  CHECK_FALSE(matches(world, "\xFFworld"));

  CHECK(matches(rule(1, "caf\xC3\xA9", MatchType::word), "un CAF\xC3\x89 noir"));
  CHECK_FALSE(matches(rule(1, "World", MatchType::word, true), "hello world"));
}

TEST_CASE("regex rules use PCRE2 with Unicode properties") {
  CHECK(matches(rule(1, R"(b[a4]d\s+w[o0]rd)", MatchType::regex), "a BAD  w0rd"));
  CHECK_FALSE(matches(rule(1, R"(b[a4]d\s+w[o0]rd)", MatchType::regex, true), "a BAD  w0rd"));
  CHECK(matches(rule(1, R"(^\w+$)", MatchType::regex), "\xC3\xA9t\xC3\xA9"));
  CHECK(matches(rule(1, "\\bcaf\xC3\xA9\\b", MatchType::regex), "un CAF\xC3\x89 noir"));
  // A message with broken UTF-8 is matched where it is valid and never an error.
  auto set = compiled({rule(1, "ok", MatchType::regex), rule(2, "x", MatchType::regex)});
  CHECK(ids(set.match("\xFF\xFEok\xC3", kEntity)) == Ids{1});
  CHECK(set.stats().regex_errors == 0);
}

TEST_CASE("the pattern * matches every message, whatever its type") {
  CHECK(matches(rule(1, "ignored", MatchType::any), ""));
  CHECK(matches(rule(1, "*", MatchType::contains), "anything"));
  CHECK(matches(rule(1, "*", MatchType::regex), "anything"));
  CHECK(matches(rule(1, "*", MatchType::exact), ""));
  CHECK(matches(rule(1, "*", MatchType::word, true), ""));
}

TEST_CASE("rules apply to the entities they name, or to all when none") {
  auto everywhere = rule(1, "spam", MatchType::contains);
  auto one = rule(2, "spam", MatchType::contains);
  one.enabled_entity_ids = {"twitch:channel:a"};
  auto two = rule(3, "spam", MatchType::regex);
  two.enabled_entity_ids = {"discord:1:2", "twitch:channel:a"};
  auto set = compiled({everywhere, one, two});
  CHECK(ids(set.match("spam!", "twitch:channel:a")) == Ids{1, 2, 3});
  CHECK(ids(set.match("spam!", "discord:1:2")) == Ids{1, 3});
  CHECK(ids(set.match("spam!", "slack:t:c")) == Ids{1});
  CHECK(ids(set.match("ham", "twitch:channel:a")).empty());
}

TEST_CASE("matches come in priority order, then by id, inactive rules never") {
  auto a = rule(7, "x", MatchType::contains);
  a.priority = 50;
  auto b = rule(9, "x", MatchType::word);
  b.priority = 10;
  auto c = rule(2, "x", MatchType::regex);
  c.priority = 10;
  auto d = rule(1, "*", MatchType::any);
  d.priority = 200;
  auto off = rule(3, "x", MatchType::contains);
  off.priority = 0;
  off.is_active = false;
  auto set = compiled({a, b, c, d, off});
  CHECK(set.size() == 4);
  CHECK(ids(set.match("a x b", kEntity)) == Ids{2, 9, 7, 1});
  REQUIRE(set.first_match("a x b", kEntity) != nullptr);
  CHECK(set.first_match("a x b", kEntity)->id == 2);
  CHECK(set.first_match("nothing", kEntity)->id == 1);
  CHECK(set.rules().front().id == 2);
}

TEST_CASE("first_match does not run regexes behind a literal match") {
  auto literal = rule(1, "hello", MatchType::contains);
  literal.priority = 1;
  auto regex = rule(2, "h.llo", MatchType::regex);
  regex.priority = 2;
  auto set = compiled({literal, regex});
  REQUIRE(set.first_match("hello", kEntity) != nullptr);
  CHECK(set.stats().regex_runs == 0);
  CHECK(ids(set.match("hello", kEntity)) == Ids{1, 2});
  auto stats = set.stats();
  CHECK(stats.regex_runs == 1);
  CHECK(stats.messages == 2);
  CHECK(stats.rule_matches == 3);
}

TEST_CASE("a rule keeps its action fields") {
  auto r = rule(4, "!discord", MatchType::exact);
  r.action = RuleAction::command;
  r.command_to_execute = "discord";
  r.command_parameters = {"invite", "{user}"};
  auto set = compiled({r});
  const Rule* hit = set.first_match("!discord", kEntity);
  REQUIRE(hit != nullptr);
  CHECK(*hit == r);
}

TEST_CASE("a catastrophic regex gives up at the PCRE2 limit") {
  auto set =
      compiled({rule(1, "(a+)+$", MatchType::regex), rule(2, R"((\w+\s?)+$)", MatchType::regex)});
  std::string message(64, 'a');
  message += "!";
  CHECK(set.match(message, kEntity).empty());
  auto stats = set.stats();
  CHECK(stats.limit_hits == 2);
  CHECK(stats.regex_runs == 2);
  CHECK(stats.regex_errors == 0);
  // The same rule still matches an ordinary message.
  CHECK(ids(set.match("aaa", kEntity)) == Ids{1, 2});
}

TEST_CASE("an invalid regex names the rule, PCRE2's message and the offset") {
  auto error =
      compile_error({rule(1, "fine", MatchType::contains), rule(7, "ab(c", MatchType::regex)});
  CHECK(error.rule_id == 7);
  REQUIRE(error.offset.has_value());
  CHECK(*error.offset == 4);
  CHECK(error.message.find("string rule 7") != std::string::npos);
  CHECK(error.message.find("offset 4") != std::string::npos);
  CHECK(error.message.find("missing closing parenthesis") != std::string::npos);

  auto bad_utf8 = check_rule(rule(8, "a\xFF", MatchType::regex));
  REQUIRE(bad_utf8.has_value());
  CHECK(bad_utf8->rule_id == 8);
  CHECK(bad_utf8->offset == 1);

  CHECK(check_rule(rule(9, R"(\C)", MatchType::regex)).has_value());
  CHECK(check_rule(rule(10, std::string(5000, 'a'), MatchType::regex)).has_value());
  CHECK_FALSE(check_rule(rule(11, "a+b", MatchType::regex)).has_value());
  // An inactive broken rule is not compiled at all.
  auto inactive = rule(12, "(", MatchType::regex);
  inactive.is_active = false;
  CHECK(compiled({inactive}).size() == 0);
}

TEST_CASE("rows the schema would refuse are errors too") {
  CHECK(compile_error({rule(1, "", MatchType::contains)}).message ==
        "string rule 1: empty pattern");
  CHECK(compile_error({rule(2, "  ", MatchType::exact)}).rule_id == 2);
  auto command = rule(3, "x", MatchType::contains);
  command.action = RuleAction::command;
  CHECK(compile_error({command}).message.find("command_to_execute") != std::string::npos);
  auto webhook = rule(4, "x", MatchType::contains);
  webhook.action = RuleAction::webhook;
  CHECK(compile_error({webhook}).message.find("webhook_url") != std::string::npos);
  webhook.webhook_url = "https://example.invalid/hook";
  CHECK_FALSE(check_rule(webhook).has_value());
}

TEST_CASE("an empty set matches nothing") {
  RuleSet empty;
  CHECK(empty.match("anything", kEntity).empty());
  CHECK(empty.first_match("", kEntity) == nullptr);
  CHECK(compiled({}).match("x", kEntity).empty());
}

TEST_CASE("1,000 literal rules, compiled once, agree with a naive matcher") {
  std::mt19937 rng(424242);
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const std::vector<std::string> alphabet = {
      "a", "b", "c", "A", "B", " ", ".", "_", "\xC3\xA9", "\xC3\x89", "\xD0\xB4", "\xD0\x94"};
  auto random_text = [&](std::size_t max_symbols) {
    std::string out;
    auto n = pick(max_symbols + 1);
    for (std::size_t i = 0; i < n; ++i) out += alphabet[pick(alphabet.size())];
    return out;
  };
  const std::vector<std::string> entities = {"twitch:channel:a", "discord:1:2", "slack:t:c"};

  std::vector<Rule> rules;
  for (int id = 1; id <= 1000; ++id) {
    Rule r;
    r.id = id;
    do {
      r.pattern = random_text(4);
    } while (r.pattern.empty() || trim_whitespace(r.pattern).empty() || r.pattern == "*");
    r.match_type = std::array{MatchType::exact, MatchType::contains, MatchType::word}[pick(3)];
    r.case_sensitive = pick(2) == 0;
    r.priority = static_cast<int>(pick(20));
    r.is_active = pick(10) != 0;
    if (pick(4) == 0) r.enabled_entity_ids.push_back(entities[pick(entities.size())]);
    if (pick(8) == 0) r.enabled_entity_ids.push_back(entities[pick(entities.size())]);
    rules.push_back(std::move(r));
  }
  rules.push_back(rule(1001, "*", MatchType::contains));
  rules.back().priority = 5;
  rules.back().enabled_entity_ids = {"slack:t:c"};

  auto set = compiled(rules);
  std::vector<const Rule*> sorted;
  for (const auto& r : rules) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Rule* a, const Rule* b) {
    return std::pair(a->priority, a->id) < std::pair(b->priority, b->id);
  });

  std::size_t total_matches = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string message = random_text(i % 3 == 0 ? 3 : 24);
    const auto& entity = entities[pick(entities.size())];
    Ids expected;
    for (const auto* r : sorted) {
      if (naive_matches(*r, message, entity)) expected.push_back(r->id);
    }
    auto got = ids(set.match(message, entity));
    INFO("message: '" << message << "' entity " << entity);
    REQUIRE(got == expected);
    const Rule* first = set.first_match(message, entity);
    REQUIRE((first ? Ids{first->id} : Ids{}) ==
            Ids(expected.begin(), expected.begin() + std::min<std::size_t>(1, expected.size())));
    total_matches += got.size();
  }
  // The generator must exercise real matches, or the comparison proves nothing.
  CHECK(total_matches > 3000);
  CHECK(set.stats().regex_runs == 0);
}

TEST_CASE("a compiled set is shared by threads") {
  std::vector<Rule> rules = {rule(1, "spam", MatchType::word),
                             rule(2, R"(\d{3,})", MatchType::regex),
                             rule(3, "(a+)+$", MatchType::regex)};
  auto set = compiled(rules);
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&set, &wrong, t] {
      for (int i = 0; i < 300; ++i) {
        if (ids(set.match("spam 1234", kEntity)) != Ids{1, 2}) ++wrong[t];
        if (!set.match(std::string(40, 'a') + "!", kEntity).empty()) ++wrong[t];
        if (set.first_match("ham", kEntity) != nullptr) ++wrong[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == std::vector<int>(4, 0));
  CHECK(set.stats().messages == 4 * 300 * 3);
  CHECK(set.stats().limit_hits == 4 * 300);
}
