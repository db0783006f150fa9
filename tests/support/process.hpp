#pragma once
// Runs a program to completion for tests: argv, extra environment, stdin text; stdout and stderr
// captured. The child is killed by SIGALRM after `timeout`, so a hung program fails the test
// instead of hanging it.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace waddle::test {

struct ProcessResult {
  int status = -1;  // exit code, or -1 when killed by a signal
  int signal = 0;   // the signal that ended it, if any
  std::string out;
  std::string err;
};

using EnvList = std::vector<std::pair<std::string, std::string>>;

ProcessResult run_process(const std::vector<std::string>& argv, const EnvList& env = {},
                          const std::string& stdin_text = {},
                          std::chrono::seconds timeout = std::chrono::seconds(60));

// A private directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to `name` inside the directory and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

}  // namespace waddle::test
