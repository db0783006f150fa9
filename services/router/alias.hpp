#pragma once
// A community's command aliases (table `aliases`) and their expansion into the command they name.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "router/command_line.hpp"

namespace waddle::router {

// More aliases than this in one chain (`!a` → `!b` → … → a command) is refused.
inline constexpr std::size_t kMaxAliasDepth = 5;

// One `aliases` row: `alias` without prefix, `expansion` a command line starting with `!` or `#`
// that may hold placeholders: {user}, {args}, {all_args}, {arg1}…{argN}, and the Nightbot-style
// $(user), $(args), $(all_args), $(query), $(arg1), $(1)….
struct Alias {
  std::string alias;
  std::string expansion;
  bool is_active = true;

  bool operator==(const Alias&) const = default;
};

class AliasTable {
 public:
  // Replaces every alias. Names are matched ASCII case-insensitively; inactive rows are left out;
  // of two rows with the same name the later one wins.
  void set(std::vector<Alias> aliases);
  // The active alias called `name` (any case), nullptr when none.
  const Alias* find(std::string_view name) const;
  std::size_t size() const noexcept { return by_name_.size(); }

 private:
  std::unordered_map<std::string, Alias> by_name_;  // key: lower-cased alias
};

struct Expansion {
  CommandLine command;             // the command to look up: no longer an alias
  std::vector<std::string> chain;  // the aliases expanded, in order (empty: not an alias)
};

struct AliasError {
  std::string message;             // e.g. "alias loop: hi → hello → hi"
  std::vector<std::string> chain;  // the aliases involved, in order
};

// Expands `input` while its name is an alias of `table` (prefixes do not matter: `!hi` and `#hi`
// both use alias "hi"). Placeholders in the expansion are replaced by the user's name and the
// input's arguments; an argument stays one argument even when it holds spaces, and its text is
// never scanned for placeholders again. A missing {argN} is empty; an unknown {name} stays as
// typed. A loop (an alias met twice) or a chain longer than kMaxAliasDepth, and an expansion that
// is not a command line, are an AliasError naming the chain.
std::variant<Expansion, AliasError> expand(const AliasTable& table, const CommandLine& input,
                                           std::string_view user);

}  // namespace waddle::router
