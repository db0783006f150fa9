#include "fakes/collector_server.hpp"

#include <condition_variable>
#include <mutex>
#include <random>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "net/http.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/router.hpp"

// GCC 12 reports Asio's awaitable-frame operator new/delete pair as mismatched once it inlines
// aligned_alloc into a coroutine ramp; the pair is Asio's own and matches.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace waddle::fakes {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

std::string random_token() {
  std::random_device device;
  std::string token = "fake-collector-";
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) token += kHex[device() % 16];
  return token;
}

}  // namespace

struct CollectorServer::State {
  std::string token;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  Calls calls;
  std::size_t refused = 0;
  std::size_t failed = 0;
  bool failing = false;
  std::unique_ptr<net::HttpServer> server;
  std::uint16_t port = 0;

  net::Response handle(const net::Request& request) {
    const auto auth = request.header("Authorization");
    std::lock_guard lock(mutex);
    if (!auth || *auth != "Bearer " + token) {
      ++refused;
      return net::error_response(Errc::unauthenticated, "wrong or missing bearer token");
    }
    json body;
    try {
      body = json::parse(request.body);
    } catch (const std::exception& e) {
      return net::error_response(Errc::invalid_argument, e.what());
    }
    if (failing) {
      ++failed;
      return net::json_response(500, {{"error", "the fake collector is set to fail"}});
    }
    calls.push_back(std::move(body));
    changed.notify_all();
    return net::json_response(200, {{"ok", true}});
  }
};

CollectorServer::CollectorServer(asio::io_context& io, std::string platform, std::string name)
    : platform_(std::move(platform)),
      name_(std::move(name)),
      token_(random_token()),
      state_(std::make_shared<State>()) {
  state_->token = token_;
  net::Router router;
  // Held weakly: the server's connections may outlive this object.
  std::weak_ptr<State> weak = state_;
  router.add("POST", "/callback", [weak](net::Request& request) -> asio::awaitable<net::Response> {
    auto state = weak.lock();
    if (!state) co_return net::json_response(503, {{"error", "fake is gone"}});
    co_return state->handle(request);
  });
  net::ServerOptions options;
  options.address = "127.0.0.1";
  state_->server = std::make_unique<net::HttpServer>(io, std::move(router), options);
  state_->port = state_->server->start();
}

CollectorServer::~CollectorServer() {
  state_->server->stop(std::chrono::milliseconds(0));
}

void CollectorServer::register_with(const std::string& router_base_url,
                                    const std::string& api_key) const {
  asio::io_context io;
  net::HttpClient client(io.get_executor());
  const json body = {{"name", name_},
                     {"kind", "collector"},
                     {"platform", platform_},
                     {"version", "0.0.0-test"},
                     {"callback_url", callback_url()},
                     {"callback_token", token_}};
  net::HeaderList headers;
  headers.emplace_back("X-API-Key", api_key);
  auto call = [&]() -> asio::awaitable<net::ClientResponse> {
    co_return co_await client.post_json(router_base_url + "/router/modules/register", body,
                                        std::move(headers));
  };
  auto future = asio::co_spawn(io, call(), asio::use_future);
  io.run_for(std::chrono::seconds(20));
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    throw std::runtime_error("registering the fake collector: no answer within 20 s");
  }
  const net::ClientResponse response = future.get();
  if (response.status != 200) {
    throw std::runtime_error("registering the fake collector: HTTP " +
                             std::to_string(response.status) + " " + response.body);
  }
}

void CollectorServer::set_failing(bool failing) {
  std::lock_guard lock(state_->mutex);
  state_->failing = failing;
}

std::string CollectorServer::callback_url() const {
  return "http://127.0.0.1:" + std::to_string(state_->port) + "/callback";
}

CollectorServer::Calls CollectorServer::calls() const {
  std::lock_guard lock(state_->mutex);
  return state_->calls;
}

std::vector<std::string> CollectorServer::chat_texts() const {
  std::vector<std::string> texts;
  for (const auto& call : calls()) {
    if (!call.contains("actions") || !call["actions"].is_array()) continue;
    for (const auto& action : call["actions"]) {
      if (action.value("type", "") == "chat" && action.contains("text") &&
          action["text"].is_string()) {
        texts.push_back(action["text"].get<std::string>());
      }
    }
  }
  return texts;
}

std::size_t CollectorServer::refused() const {
  std::lock_guard lock(state_->mutex);
  return state_->refused;
}

std::size_t CollectorServer::failed_calls() const {
  std::lock_guard lock(state_->mutex);
  return state_->failed;
}

bool CollectorServer::wait_for(const std::function<bool(const Calls&)>& predicate,
                               std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return predicate(state_->calls); });
}

}  // namespace waddle::fakes
