#include "support/cluster.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

namespace waddle::test {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string cluster_dir() {
  auto dir = env_or_empty("WADDLE_TEST_CLUSTER");
  if (dir.empty()) {
    throw std::runtime_error(
        "no test cluster: set WADDLE_TEST_CLUSTER to a scripts/dev-cluster directory, or "
        "WADDLE_DATABASE_URL and WADDLE_REDIS_URL (run the tests with ctest)");
  }
  return dir;
}

std::map<std::string, std::string> read_env_file() {
  auto path = cluster_dir() + "/env";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path + ": is the dev cluster started?");
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

std::string lookup(const char* name) {
  if (auto v = env_or_empty(name); !v.empty()) return v;
  auto values = read_env_file();
  auto it = values.find(name);
  if (it == values.end()) throw std::runtime_error(std::string("the cluster env lacks ") + name);
  return it->second;
}

void run_cluster(const char* verb) {
  auto cmd = source_dir() + "/scripts/dev-cluster " + verb + " '" + cluster_dir() + "' >/dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

}  // namespace

std::string database_url() {
  return lookup("WADDLE_DATABASE_URL");
}
std::string redis_url() {
  return lookup("WADDLE_REDIS_URL");
}
int redis_port() {
  return std::stoi(lookup("WADDLE_REDIS_PORT"));
}
std::string redis_socket() {
  return lookup("WADDLE_REDIS_SOCKET");
}
int pg_port() {
  return std::stoi(lookup("WADDLE_PG_PORT"));
}
void restart_redis() {
  run_cluster("redis-restart");
}
void stop_redis() {
  run_cluster("redis-stop");
}

std::string source_dir() {
  auto dir = env_or_empty("WADDLE_SOURCE_DIR");
  return dir.empty() ? std::string(WADDLE_SOURCE_DIR_DEFAULT) : dir;
}

}  // namespace waddle::test
