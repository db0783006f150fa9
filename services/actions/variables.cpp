#include "actions/variables.hpp"

#include <charconv>
#include <optional>
#include <random>

#include "actions/text.hpp"

namespace waddle::actions {
namespace {

constexpr std::int64_t kRandomBound = 1'000'000'000;

std::optional<std::int64_t> parse_int(std::string_view text) {
  text = trim(text);
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (text.empty() || text.size() > 11) return std::nullopt;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  if (value < -kRandomBound || value > kRandomBound) return std::nullopt;
  return value;
}

// "A-B" (either may be negative: "-5-5", "-10--1") or "N" meaning 1-N.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_range(std::string_view spec) {
  spec = trim(spec);
  if (spec.empty()) return std::nullopt;
  const std::size_t dash = spec.find('-', 1);
  if (dash == std::string_view::npos) {
    auto high = parse_int(spec);
    if (!high || *high < 1) return std::nullopt;
    return std::pair<std::int64_t, std::int64_t>{1, *high};
  }
  auto low = parse_int(spec.substr(0, dash));
  auto high = parse_int(spec.substr(dash + 1));
  if (!low || !high || *low > *high) return std::nullopt;
  return std::pair{*low, *high};
}

// The argument number of "argN" (1..99), 0 when `name` is not one.
int arg_index(std::string_view name) {
  if (name.substr(0, 3) != "arg" || name.size() < 4 || name.size() > 5) return 0;
  int n = 0;
  for (char c : name.substr(3)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string touser(const VariableValues& v) {
  if (v.args.empty() || v.args.front().empty()) return v.user;
  std::string_view first = v.args.front();
  if (first.front() == '@' && first.size() > 1) first.remove_prefix(1);
  return std::string(first);
}

// The value of a $(…) or {…} variable, nullopt when it is not one we know.
std::optional<std::string> value_of(std::string_view inner, bool braces, const VariableValues& v) {
  const std::string name = lower_ascii(trim(inner));
  if (name == "user") return v.user;
  if (name == "args" || name == "all_args") {
    if (name == "all_args" && !braces) return std::nullopt;
    return v.raw_args;
  }
  if (int n = arg_index(name); n > 0) {
    return static_cast<std::size_t>(n) <= v.args.size() ? v.args[n - 1] : std::string();
  }
  if (braces) return std::nullopt;
  if (name == "touser") return touser(v);
  if (name == "count") return std::to_string(v.count);
  if (name == "channel") return v.channel;
  if (name.substr(0, 7) == "random ") {
    auto range = parse_range(std::string_view(name).substr(7));
    if (!range || !v.random) return std::nullopt;
    return std::to_string(v.random(range->first, range->second));
  }
  return std::nullopt;
}

}  // namespace

std::string expand_variables(std::string_view text, const VariableValues& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const bool dollar = text[i] == '$' && i + 1 < text.size() && text[i + 1] == '(';
    const bool brace = text[i] == '{';
    if (dollar || brace) {
      const std::size_t open = i + (dollar ? 2 : 1);
      const std::size_t close = text.find(dollar ? ')' : '}', open);
      // A variable never spans more than a short name, so "(…" with no close nearby is text.
      if (close != std::string_view::npos && close - open <= 40) {
        if (auto value = value_of(text.substr(open, close - open), brace, values)) {
          out += *value;
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i];
    ++i;
  }
  return out;
}

std::int64_t random_between(std::int64_t low, std::int64_t high) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> dist(low, high);
  return dist(engine);
}

}  // namespace waddle::actions
