// Command lines: any bytes → parse_command_line with the default and a per-community prefix set.
// Checks the invariants the router relies on: bounded name and argument count, a lower-case name
// that is a prefix-free slice of the input, arguments no longer than the input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "router/command_line.hpp"

namespace {

void check(std::string_view message, std::string_view prefixes) {
  auto line = waddle::router::parse_command_line(message, prefixes);
  if (!line) return;
  if (prefixes.find(line->prefix) == std::string_view::npos) std::abort();
  if (line->prefix != message[0]) std::abort();
  if (line->name.empty() || line->name.size() > waddle::router::kMaxCommandNameBytes) std::abort();
  if (line->name.size() + 1 > message.size()) std::abort();
  for (char c : line->name) {
    if (c >= 'A' && c <= 'Z') std::abort();
  }
  if (line->args.size() > waddle::router::kMaxCommandArgs) std::abort();
  for (const auto& arg : line->args) {
    if (arg.size() > message.size()) std::abort();
  }
  if (line->raw_args.size() > message.size()) std::abort();
  if (waddle::router::trim_whitespace(line->raw_args) != line->raw_args) std::abort();
  if (!line->raw_args.empty() && message.find(line->raw_args) == std::string_view::npos) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view message(reinterpret_cast<const char*>(data), size);
  check(message, "!#");
  check(message, "?~!");
  return 0;
}
