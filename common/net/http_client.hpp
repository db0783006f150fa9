#pragma once
// Outgoing HTTP/1.1 client (http and https) with a keep-alive pool, deadlines and opt-in retries.
// Callers see only these plain types; Beast and OpenSSL stay inside http_client.cpp.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

namespace waddle::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http://host[:port]/path?query or https://…
  HeaderList headers;
  std::string body;
  // Deadline for the whole call, retries included; unset = ClientOptions::total_timeout.
  std::optional<std::chrono::milliseconds> timeout;
  // The caller vouches that sending the request twice is harmless (GET, PUT, idempotency key):
  // only then are connection errors, timeouts and 502/503/504 retried.
  bool retry_safe = false;
};

struct ClientResponse {
  int status = 0;
  HeaderList headers;
  std::string body;

  // First header with this name, compared case-insensitively.
  std::optional<std::string_view> header(std::string_view name) const;
  // The body parsed as JSON; throws Error(invalid_argument) saying where the JSON is broken.
  nlohmann::json json() const;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};  // DNS + TCP connect + TLS handshake
  std::chrono::milliseconds total_timeout{15000};   // default ClientRequest::timeout
  std::size_t max_idle_per_host = 8;                // 0 disables keep-alive reuse
  std::chrono::milliseconds idle_expiry{30000};     // idle connections older than this are dropped
  std::string ca_file;  // extra trust anchors (PEM); the system store is always loaded
  bool verify_peer = true;
  std::size_t max_response_body = 8 * 1024 * 1024;
  int max_attempts = 3;  // per retry_safe request, the first attempt included
  std::string user_agent = "waddlebot/0.1";
};

// Thread-safe: many coroutines, on any threads of the executor's io_context, may call request()
// at once. Errors are waddle::Error: invalid_argument (bad URL or header), unavailable (DNS,
// connect, TLS), timeout, payload_too_large (response body over max_response_body).
// Non-2xx statuses are not errors: they come back in ClientResponse::status.
class HttpClient {
 public:
  // Throws Error(invalid_argument) when ca_file cannot be loaded.
  explicit HttpClient(boost::asio::any_io_executor executor, ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  boost::asio::awaitable<ClientResponse> request(ClientRequest request);

  // GET with Accept: application/json.
  boost::asio::awaitable<ClientResponse> get_json(std::string url, HeaderList headers = {});
  // POST of body.dump() with Content-Type: application/json (not retried).
  boost::asio::awaitable<ClientResponse> post_json(std::string url, nlohmann::json body,
                                                   HeaderList headers = {});

  // Idle pooled connections right now, over all hosts (for tests and the stats command).
  std::size_t idle_connections() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace waddle::net
