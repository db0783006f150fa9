#include "actions/server.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <pqxx/except>

#include "actions/outbox.hpp"
#include "actions/registration.hpp"
#include "actions/text.hpp"
#include "crypto/module_signature.hpp"
#include "error/error.hpp"
#include "model/field_reader.hpp"
#include "net/http_server.hpp"
#include "net/router.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

// A request's body holds the event twice (at most ~20 KB of text); anything near this is abuse.
constexpr std::size_t kBodyLimit = 256 * 1024;
// A mis-signed request may mean the secret was rotated: re-read it, but not on every bad request.
constexpr std::chrono::seconds kSecretRefreshInterval{5};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string url_host(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

}  // namespace

ActionServer::ActionServer(boost::asio::io_context& io, Settings settings)
    : io_(io), settings_(std::move(settings)) {
  const auto known = known_modules();
  if (settings_.modules.empty()) settings_.modules = known;
  for (const auto& name : settings_.modules) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw Error(Errc::invalid_argument,
                  "actions.modules: unknown module '" + name + "' (known: " + join(known) + ")");
    }
  }
  if (!settings_.public_url.empty()) {
    while (!settings_.public_url.empty() && settings_.public_url.back() == '/') {
      settings_.public_url.pop_back();
    }
    if (!is_http_url(settings_.public_url)) {
      throw Error(Errc::invalid_argument,
                  "actions.public_url: '" + settings_.public_url + "' is not an http(s) URL");
    }
  }
  if (settings_.database_url.empty()) {
    throw Error(Errc::invalid_argument, "database.url: waddle-actiond needs the database");
  }
  pool_ = std::make_unique<pg::Pool>(pg::PoolOptions{.primary_url = settings_.database_url,
                                                     .size = settings_.pool_size,
                                                     .worker_threads = settings_.pool_size,
                                                     .application_name = "waddle-actiond"});
  if (!settings_.router_api_key.empty()) {
    outbox_ = std::make_unique<RouterOutbox>(
        io_.get_executor(), RouterOutboxSettings{.router_url = settings_.router_url,
                                                 .api_key = settings_.router_api_key});
  }
  if (settings_.scheduler.database_url.empty()) {
    settings_.scheduler.database_url = settings_.database_url;
  }
}

ActionServer::~ActionServer() = default;

std::uint16_t ActionServer::start() {
  for (const auto& name : settings_.modules) {
    std::string secret = ensure_module_secret(*pool_, name);
    std::lock_guard lock(mutex_);
    secrets_[name] = {std::move(secret), std::chrono::steady_clock::now()};
  }

  net::Router router;
  router.add("POST", "/modules/{name}", [this](net::Request& request) { return handle(request); },
             {.body_limit = kBodyLimit});
  http_ = std::make_unique<net::HttpServer>(io_, std::move(router),
                                            net::ServerOptions{.address = settings_.listen_address,
                                                               .port = settings_.port,
                                                               .server_name = "waddle-actiond"});
  const std::uint16_t port = http_->start();
  base_url_ = settings_.public_url.empty()
                  ? "http://" + url_host(settings_.listen_address) + ":" + std::to_string(port)
                  : settings_.public_url;

  for (const auto& name : settings_.modules) {
    const std::string location = base_url_ + "/modules/" + name;
    auto module = make_module(name, ModuleEnv{*pool_, location, outbox_.get()});
    register_commands(*pool_, name, location, module->commands());
    module->on_start();
    modules_.emplace(name, std::move(module));
  }
  ready_.store(true, std::memory_order_release);
  spdlog::info("waddle-actiond serving {} at {}/modules/<name>", join(settings_.modules),
               base_url_);
  if (outbox_) {
    Scheduler::ModuleMap served;
    for (const auto& [name, module] : modules_) served.emplace(name, module.get());
    scheduler_ =
        std::make_unique<Scheduler>(io_, *pool_, *outbox_, std::move(served), settings_.scheduler);
    scheduler_->start();
  } else {
    spdlog::warn(
        "actions.router_api_key is empty: no scheduler, so reminders, timers and other messages "
        "outside a request are not delivered");
  }
  return port;
}

void ActionServer::stop(std::chrono::milliseconds drain, std::function<void()> on_stopped) {
  if (scheduler_) scheduler_->stop(std::chrono::steady_clock::now() + drain);
  if (http_) {
    http_->stop(drain, std::move(on_stopped));
  } else if (on_stopped) {
    on_stopped();
  }
}

std::string ActionServer::base_url() const {
  return base_url_;
}

nlohmann::json ActionServer::stats() const {
  std::lock_guard lock(mutex_);
  nlohmann::json modules = nlohmann::json::object();
  for (const auto& [name, count] : module_requests_) modules[name] = count;
  return {{"requests", requests_},
          {"refused", refused_},
          {"bad_requests", bad_requests_},
          {"modules", modules},
          {"scheduler", scheduler_ ? scheduler_->stats() : nlohmann::json(nullptr)}};
}

nlohmann::json ActionServer::scheduler_status() const {
  if (scheduler_) return scheduler_->status();
  if (!outbox_) return {{"state", "disabled"}, {"reason", "actions.router_api_key is empty"}};
  return {{"state", "starting"}};
}

namespace {

crypto::SignatureCheck check_signature(std::string_view secret, const net::Request& request,
                                       std::int64_t now_unix_seconds) {
  const auto timestamp = request.header(crypto::kModuleTimestampHeader).value_or("");
  const auto signature = request.header(crypto::kModuleSignatureHeader).value_or("");
  const auto check =
      crypto::verify_module_signature(secret, timestamp, signature, request.body, now_unix_seconds);
  // A module whose secret row was deleted accepts nothing, not requests signed with "".
  if (check == crypto::SignatureCheck::ok && secret.empty())
    return crypto::SignatureCheck::mismatch;
  return check;
}

std::optional<std::string> refusal_reason(crypto::SignatureCheck check) {
  switch (check) {
    case crypto::SignatureCheck::ok: return std::nullopt;
    case crypto::SignatureCheck::missing:
      return "the request is not signed (X-Waddle-Timestamp and X-Waddle-Signature are required)";
    case crypto::SignatureCheck::malformed:
      return "X-Waddle-Timestamp or X-Waddle-Signature is malformed";
    case crypto::SignatureCheck::stale:
      return "X-Waddle-Timestamp is more than 300 seconds away from this server's clock";
    case crypto::SignatureCheck::mismatch: break;
  }
  return "X-Waddle-Signature does not match the module's secret";
}

}  // namespace

std::optional<std::string> signature_refusal(std::string_view secret, const net::Request& request,
                                             std::int64_t now_unix_seconds) {
  return refusal_reason(check_signature(secret, request, now_unix_seconds));
}

boost::asio::awaitable<std::optional<std::string>> ActionServer::verify(
    const std::string& module, const net::Request& request) {
  std::string secret;
  bool may_refresh = false;
  {
    std::lock_guard lock(mutex_);
    const auto& entry = secrets_[module];
    secret = entry.secret;
    may_refresh = std::chrono::steady_clock::now() - entry.refreshed >= kSecretRefreshInterval;
  }
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto check = check_signature(secret, request, now);
  // Only a well-formed, fresh signature made with another key suggests a rotated secret.
  if (check == crypto::SignatureCheck::mismatch && may_refresh) {
    auto fresh = co_await load_module_secret(*pool_, module);
    {
      std::lock_guard lock(mutex_);
      secrets_[module] = {fresh.value_or(std::string()), std::chrono::steady_clock::now()};
    }
    if (fresh) check = check_signature(*fresh, request, now);
  }
  co_return refusal_reason(check);
}

boost::asio::awaitable<net::Response> ActionServer::handle(net::Request& request) {
  const std::string name(request.param("name"));
  if (!ready_.load(std::memory_order_acquire)) {
    throw Error(Errc::unavailable, "waddle-actiond is starting");
  }
  auto found = modules_.find(name);
  if (found == modules_.end()) {
    throw Error(Errc::not_found, "no module '" + model::quote_for_error(name) + "' here (serving " +
                                     join(settings_.modules) + ")");
  }
  {
    std::lock_guard lock(mutex_);
    ++requests_;
    ++module_requests_[name];
  }
  const std::optional<std::string> why = co_await verify(name, request);
  if (why) {
    {
      std::lock_guard lock(mutex_);
      ++refused_;
    }
    spdlog::warn("refused a request for module {} from {}: {}", name, request.remote_address, *why);
    co_return net::error_response(Errc::unauthenticated, *why);
  }
  ModuleRequest parsed;
  try {
    parsed = parse_module_request(net::parse_json_body(request));
  } catch (const model::FieldError& e) {
    std::lock_guard lock(mutex_);
    ++bad_requests_;
    co_return net::error_response(Errc::invalid_argument, e.what(), e.field());
  } catch (const Error& e) {
    std::lock_guard lock(mutex_);
    ++bad_requests_;
    co_return net::error_response(e.code(), e.what());
  }
  std::vector<model::Action> actions;
  try {
    actions = co_await found->second->handle(parsed);
  } catch (const pqxx::foreign_key_violation&) {
    throw Error(Errc::not_found,
                "community.id " + std::to_string(parsed.community_id) + " is not a community");
  }
  co_return net::json_response(200,
                               {{"actions", model::to_json(fit_for_chat(std::move(actions)))}});
}

}  // namespace waddle::actions
