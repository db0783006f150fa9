#pragma once
// A daemon started in the background for a test (header-only): stderr goes to a log file the
// test can print on failure; the destructor kills whatever is still running, so a failing test
// never leaves a process behind.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace waddle::test {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv,
               const std::vector<std::pair<std::string, std::string>>& env, std::string log_path)
      : log_path_(std::move(log_path)) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      if (!freopen(log_path_.c_str(), "w", stderr)) _exit(126);
      dup2(2, 1);
      for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
      alarm(600);  // a daemon the test forgot can never outlive it by long
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool alive() { return pid_ > 0 && waitpid(pid_, &status_, WNOHANG) == 0; }
  void signal(int signo) {
    if (pid_ > 0) kill(pid_, signo);
  }
  // SIGTERM, then the exit code once it exited; -1 when it had to be killed or died of a signal.
  int stop(std::chrono::seconds limit = std::chrono::seconds(15)) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
  }
  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int status_ = 0;
};

}  // namespace waddle::test
