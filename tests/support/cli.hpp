#pragma once
// Runs the real `waddle` binary against a test database.

#include <string>
#include <vector>

#include "support/database.hpp"
#include "support/process.hpp"

namespace waddle::test {

// Path of the built waddle binary.
std::string waddle_binary();

// Runs `waddle ARGS…` with WADDLE_DATABASE_URL pointing at `db` (and no config file), stdin given.
ProcessResult run_waddle(const FreshDatabase& db, const std::vector<std::string>& args,
                         const std::string& stdin_text = {}, const EnvList& extra_env = {});

}  // namespace waddle::test
