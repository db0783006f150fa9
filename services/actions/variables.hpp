#pragma once
// The variables of a custom command's text, expanded in one pass (a value is never expanded
// again, so an argument holding "$(count)" stays as typed):
//   $(user)           the caller's display name
//   $(touser)         the first argument without a leading '@', or the caller when there is none
//   $(args)           every argument as typed;  $(arg1) … $(arg99) one argument, empty if absent
//   $(count)          how often the command has been used, this use included
//   $(random A-B)     a whole number from A to B inclusive (|A|, |B| ≤ 1e9); $(random N) is 1-N
//   $(channel)        the channel name
//   {user} {args} {all_args} {arg1}…  the seeds' alias spellings of the same values
// An unknown or malformed variable stays literally in the text.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace waddle::actions {

struct VariableValues {
  std::string user;
  std::vector<std::string> args;
  std::string raw_args;
  std::string channel;
  std::int64_t count = 0;
  // A uniformly drawn number in [low, high]; low <= high is guaranteed by the caller.
  std::function<std::int64_t(std::int64_t low, std::int64_t high)> random;
};

std::string expand_variables(std::string_view text, const VariableValues& values);

// A thread-safe uniform draw from a per-thread std::mt19937_64 seeded by std::random_device.
std::int64_t random_between(std::int64_t low, std::int64_t high);

}  // namespace waddle::actions
