#pragma once
// Where the integration tests find the real PostgreSQL and Redis started by scripts/dev-cluster.
// WADDLE_DATABASE_URL / WADDLE_REDIS_URL in the environment win; otherwise the `env` file that
// `dev-cluster start` wrote into $WADDLE_TEST_CLUSTER is read.

#include <string>

namespace waddle::test {

// postgresql://… of the test cluster; throws when no cluster is configured.
std::string database_url();
// redis://127.0.0.1:PORT of the test cluster; throws when no cluster is configured.
std::string redis_url();
// Port of the test redis-server.
int redis_port();
// Unix socket path of the test redis-server.
std::string redis_socket();
// Port of the test PostgreSQL server on 127.0.0.1.
int pg_port();
// Restarts the test redis-server on the same port (scripts/dev-cluster redis-restart DIR).
void restart_redis();
// Stops the test redis-server (scripts/dev-cluster redis-stop DIR); restart_redis() brings it back.
void stop_redis();
// Path of the source tree (for migrations, example configs, scripts).
std::string source_dir();

}  // namespace waddle::test
