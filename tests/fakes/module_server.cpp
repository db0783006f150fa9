#include "fakes/module_server.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/http.hpp"
#include "net/http_server.hpp"
#include "net/router.hpp"

// GCC 12 reports Asio's awaitable-frame operator new/delete pair as mismatched once it inlines
// aligned_alloc into a coroutine ramp; the pair is Asio's own and matches.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace waddle::fakes {
namespace {

namespace asio = boost::asio;
using nlohmann::json;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string> RecordedModuleRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

struct ModuleServer::State {
  std::chrono::milliseconds hang_bound;
  mutable std::mutex mutex;
  std::map<std::string, ModuleBehaviour, std::less<>> behaviours;
  std::vector<RecordedModuleRequest> records;
  std::uint64_t next_mark = 0;
  std::size_t rendezvous_arrivals = 0;
  std::vector<std::shared_ptr<asio::steady_timer>> rendezvous_waiters;
  std::unique_ptr<net::HttpServer> server;
  std::uint16_t port = 0;

  asio::awaitable<net::Response> handle(net::Request& request, std::string key);
};

asio::awaitable<net::Response> ModuleServer::State::handle(net::Request& request, std::string key) {
  ModuleBehaviour behaviour;
  std::size_t index = 0;
  {
    std::lock_guard lock(mutex);
    if (auto it = behaviours.find(key); it != behaviours.end()) behaviour = it->second;
    RecordedModuleRequest record;
    record.key = key;
    record.method = request.method;
    record.target = request.target;
    record.path = request.path;
    record.headers = request.headers;
    record.body = request.body;
    record.start_mark = ++next_mark;
    index = records.size();
    records.push_back(std::move(record));
  }
  if (behaviour.actions.is_null()) {
    behaviour.actions = json::array({{{"type", "chat"}, {"text", "hello from " + key}}});
  }
  auto executor = co_await asio::this_coro::executor;
  auto sleep = [&](std::chrono::milliseconds how_long) -> asio::awaitable<void> {
    asio::steady_timer timer(executor, how_long);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  };
  if (behaviour.delay.count() > 0) co_await sleep(behaviour.delay);

  net::Response response;
  switch (behaviour.scenario) {
    case ModuleScenario::actions:
      response = net::json_response(200, json{{"actions", behaviour.actions}});
      break;
    case ModuleScenario::accepted:
      response = net::json_response(202, json{{"status", "accepted"}});
      break;
    case ModuleScenario::server_error:
      response = net::json_response(500, json{{"error", "module exploded"}});
      break;
    case ModuleScenario::invalid_json:
      response = net::text_response(200, "{\"actions\": [", "application/json");
      break;
    case ModuleScenario::invalid_actions:
      response = net::json_response(200, json{{"actions", json::array({{{"type", "chat"}}})}});
      break;
    case ModuleScenario::lambda_function_error:
      response = net::json_response(
          200, json{{"errorMessage", "greeter crashed"}, {"errorType", "TypeError"}});
      response.headers.emplace_back("X-Amz-Function-Error", "Unhandled");
      break;
    case ModuleScenario::hang:
      co_await sleep(hang_bound);
      response = net::json_response(200, json{{"actions", behaviour.actions}});
      break;
    case ModuleScenario::rendezvous: {
      auto timer = std::make_shared<asio::steady_timer>(executor, hang_bound);
      bool wait = false;
      {
        std::lock_guard lock(mutex);
        if (++rendezvous_arrivals >= behaviour.rendezvous_count) {
          for (auto& waiter : rendezvous_waiters) waiter->cancel();
          rendezvous_waiters.clear();
        } else {
          rendezvous_waiters.push_back(timer);
          wait = true;
        }
      }
      if (wait) co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
      bool met = false;
      {
        std::lock_guard lock(mutex);
        met = rendezvous_arrivals >= behaviour.rendezvous_count;
      }
      response = met ? net::json_response(200, json{{"actions", behaviour.actions}})
                     : net::json_response(504, json{{"error", "rendezvous not reached"}});
      break;
    }
  }
  {
    std::lock_guard lock(mutex);
    records[index].end_mark = ++next_mark;
  }
  co_return response;
}

ModuleServer::ModuleServer(asio::io_context& io, std::chrono::milliseconds hang_bound)
    : state_(std::make_shared<State>()) {
  state_->hang_bound = hang_bound;
  net::Router router;
  // The handlers hold the state weakly: the server's connections may outlive this object.
  std::weak_ptr<State> weak = state_;
  auto route = [weak](std::string param) -> net::Handler {
    return [weak, param](net::Request& request) -> asio::awaitable<net::Response> {
      auto state = weak.lock();
      if (!state) co_return net::json_response(503, json{{"error", "fake is gone"}});
      co_return co_await state->handle(request, std::string(request.param(param)));
    };
  };
  router.add("POST", "/modules/{key}", route("key"));
  router.add("POST", "/2015-03-31/functions/{key}/invocations", route("key"));
  router.add("POST", "/api/v1/namespaces/{ns}/actions/{key}", route("key"));
  net::ServerOptions options;
  options.address = "127.0.0.1";
  state_->server = std::make_unique<net::HttpServer>(io, std::move(router), options);
  state_->port = state_->server->start();
}

ModuleServer::~ModuleServer() {
  std::lock_guard lock(state_->mutex);
  for (auto& waiter : state_->rendezvous_waiters) waiter->cancel();
  state_->rendezvous_waiters.clear();
}

void ModuleServer::set(std::string key, ModuleBehaviour behaviour) {
  std::lock_guard lock(state_->mutex);
  state_->behaviours[std::move(key)] = std::move(behaviour);
}

std::uint16_t ModuleServer::port() const {
  return state_->port;
}

std::string ModuleServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(state_->port);
}

std::string ModuleServer::module_url(std::string_view key) const {
  return base_url() + "/modules/" + std::string(key);
}

std::vector<RecordedModuleRequest> ModuleServer::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->records;
}

std::optional<RecordedModuleRequest> ModuleServer::request_for(std::string_view key) const {
  std::lock_guard lock(state_->mutex);
  for (const auto& record : state_->records) {
    if (record.key == key) return record;
  }
  return std::nullopt;
}

}  // namespace waddle::fakes
