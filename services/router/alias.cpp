#include "router/alias.hpp"

#include <algorithm>
#include <optional>

namespace waddle::router {
namespace {

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

std::string join_chain(const std::vector<std::string>& chain) {
  std::string out;
  for (const auto& name : chain) {
    if (!out.empty()) out += " \xE2\x86\x92 ";  // " → "
    out += name;
  }
  return out;
}

std::string join_args(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& arg : args) {
    if (!out.empty()) out.push_back(' ');
    out += arg;
  }
  return out;
}

// What a placeholder stands for: every argument, one argument (index), or the user.
struct Placeholder {
  enum class Kind { all_args, arg, user } kind;
  std::size_t index = 0;   // 0-based, for Kind::arg
  std::size_t length = 0;  // bytes of the placeholder in the template
};

std::optional<std::size_t> parse_index(std::string_view digits) {
  if (digits.empty() || digits.size() > 3 || digits[0] == '0') return std::nullopt;
  std::size_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n - 1;
}

// The placeholder starting at `pos` ({name} or $(name)), if any.
std::optional<Placeholder> placeholder_at(std::string_view text, std::size_t pos) {
  std::size_t open = 0;
  char close = '}';
  if (text[pos] == '{') {
    open = 1;
  } else if (text[pos] == '$' && pos + 1 < text.size() && text[pos + 1] == '(') {
    open = 2;
    close = ')';
  } else {
    return std::nullopt;
  }
  // Placeholder names are short; looking no further keeps a stray '{' from scanning the line.
  auto inner_begin = pos + open;
  auto end = text.substr(inner_begin, 16).find(close);
  if (end == std::string_view::npos) return std::nullopt;
  auto key = ascii_lower(text.substr(inner_begin, end));
  std::size_t length = open + end + 1;
  if (key == "user") return Placeholder{Placeholder::Kind::user, 0, length};
  if (key == "args" || key == "all_args" || key == "query") {
    return Placeholder{Placeholder::Kind::all_args, 0, length};
  }
  std::string_view digits = key;
  if (digits.starts_with("arg")) {
    digits.remove_prefix(3);
  } else if (open == 1) {
    return std::nullopt;  // bare {1} is too likely to be ordinary text; $(1) is Nightbot's
  }
  if (auto index = parse_index(digits)) return Placeholder{Placeholder::Kind::arg, *index, length};
  return std::nullopt;
}

// `text` with every placeholder replaced; all arguments become `all_args`. Only the template is
// scanned, so placeholder-like text inside an argument stays literal.
std::string substitute(std::string_view text, const CommandLine& input, std::string_view user,
                       std::string_view all_args) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    auto found = placeholder_at(text, pos);
    if (!found) {
      out.push_back(text[pos++]);
      continue;
    }
    switch (found->kind) {
      case Placeholder::Kind::user: out += user; break;
      case Placeholder::Kind::all_args: out += all_args; break;
      case Placeholder::Kind::arg:
        if (found->index < input.args.size()) out += input.args[found->index];
        break;
    }
    pos += found->length;
  }
  return out;
}

std::variant<CommandLine, AliasError> expand_once(const Alias& alias, const CommandLine& input,
                                                  std::string_view user,
                                                  const std::vector<std::string>& chain) {
  auto target = parse_command_line(alias.expansion, "!#");
  if (!target) {
    return AliasError{"alias '" + alias.alias + "' expands to '" + alias.expansion +
                          "', which is not a command (it must start with ! or # and a name)",
                      chain};
  }
  CommandLine out;
  out.prefix = target->prefix;
  out.name = std::move(target->name);

  const std::string joined = join_args(input.args);
  for (const auto& token : target->args) {
    if (out.args.size() >= kMaxCommandArgs) break;
    auto whole = token.empty() ? std::nullopt : placeholder_at(token, 0);
    if (whole && whole->length == token.size() && whole->kind == Placeholder::Kind::all_args) {
      // A lone {args} keeps each argument whole, so "a b" given quoted stays one argument.
      for (const auto& arg : input.args) {
        if (out.args.size() >= kMaxCommandArgs) break;
        out.args.push_back(arg);
      }
      continue;
    }
    auto value = substitute(token, input, user, joined);
    // Like an unquoted empty shell variable: a placeholder with nothing behind it is no argument.
    if (value.empty() && !token.empty()) continue;
    out.args.push_back(std::move(value));
  }
  out.raw_args =
      std::string(trim_whitespace(substitute(target->raw_args, input, user, input.raw_args)));
  return out;
}

}  // namespace

void AliasTable::set(std::vector<Alias> aliases) {
  std::unordered_map<std::string, Alias> by_name;
  by_name.reserve(aliases.size());
  for (auto& alias : aliases) {
    if (!alias.is_active) continue;
    auto key = ascii_lower(alias.alias);
    by_name.insert_or_assign(std::move(key), std::move(alias));
  }
  by_name_ = std::move(by_name);
}

const Alias* AliasTable::find(std::string_view name) const {
  auto it = by_name_.find(ascii_lower(name));
  return it == by_name_.end() ? nullptr : &it->second;
}

std::variant<Expansion, AliasError> expand(const AliasTable& table, const CommandLine& input,
                                           std::string_view user) {
  Expansion result{input, {}};
  while (const Alias* alias = table.find(result.command.name)) {
    auto name = ascii_lower(alias->alias);
    if (std::find(result.chain.begin(), result.chain.end(), name) != result.chain.end()) {
      result.chain.push_back(std::move(name));
      return AliasError{"alias loop: " + join_chain(result.chain), std::move(result.chain)};
    }
    result.chain.push_back(std::move(name));
    if (result.chain.size() > kMaxAliasDepth) {
      return AliasError{"alias chain deeper than " + std::to_string(kMaxAliasDepth) + ": " +
                            join_chain(result.chain),
                        std::move(result.chain)};
    }
    auto next = expand_once(*alias, result.command, user, result.chain);
    if (auto* error = std::get_if<AliasError>(&next)) return std::move(*error);
    result.command = std::move(std::get<CommandLine>(next));
  }
  return result;
}

}  // namespace waddle::router
