// The generated completions: bash is exercised for real through compgen; zsh and fish are
// syntax-checked with `zsh -n` / `fish -n` (and zsh is also run through compsys-free calls).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "support/cli.hpp"

using waddle::test::run_process;
using waddle::test::TempDir;

namespace {

std::string script(const std::string& shell) {
  auto r = run_process({waddle::test::waddle_binary(), "completion", shell});
  REQUIRE(r.status == 0);
  return r.out;
}

// What bash offers for the words typed so far (the last word is the one being completed).
std::string bash_complete(const TempDir& dir, const std::string& words) {
  auto file = dir.write("waddle.bash", script("bash"));
  auto r = run_process({"bash", "-c",
                        "source '" + file + "'; COMP_WORDS=(" + words +
                            "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _waddle; "
                            "echo \"${COMPREPLY[*]}\""});
  REQUIRE(r.status == 0);
  return r.out.substr(0, r.out.find('\n'));
}

bool have(const char* program) {
  return run_process({"sh", "-c", std::string("command -v ") + program}).status == 0;
}

}  // namespace

TEST_CASE("bash completes nouns, verbs and options from the command tree") {
  TempDir dir;
  CHECK(bash_complete(dir, "waddle mi") == "migrate");
  CHECK(bash_complete(dir, "waddle migrate ''") == "status");
  CHECK(bash_complete(dir, "waddle migrate --d") == "--dir --dry-run");
  CHECK(bash_complete(dir, "waddle --json migrate st") == "status");
  CHECK(bash_complete(dir, "waddle --j") == "--json");
  CHECK(bash_complete(dir, "waddle completion ''").empty());  // a positional, no verbs
  auto nouns = bash_complete(dir, "waddle ''");
  for (const char* noun : {"migrate", "status", "ctl", "completion"}) {
    INFO(noun);
    CHECK(nouns.find(noun) != std::string::npos);
  }
}

TEST_CASE("zsh and fish scripts are valid syntax") {
  TempDir dir;
  if (have("zsh")) {
    auto file = dir.write("_waddle", script("zsh"));
    auto r = run_process({"zsh", "-n", file});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
  } else {
    WARN("zsh not installed: skipped");
  }
  if (have("fish")) {
    auto file = dir.write("waddle.fish", script("fish"));
    auto r = run_process({"fish", "-n", file});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
  } else {
    WARN("fish not installed: skipped");
  }
}

TEST_CASE("fish offers the verbs of the noun being typed") {
  if (!have("fish")) {
    WARN("fish not installed: skipped");
    return;
  }
  TempDir dir;
  auto file = dir.write("waddle.fish", script("fish"));
  auto r = run_process({"fish", "-c", "source '" + file + "'; complete -C 'waddle migrate '"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("status") != std::string::npos);
}

TEST_CASE("an unknown shell is a usage error") {
  auto r = run_process({waddle::test::waddle_binary(), "completion", "tcsh"});
  CHECK(r.status == 2);
  CHECK(r.err.rfind("waddle: ", 0) == 0);
}
