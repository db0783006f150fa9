#include "twitch/claims.hpp"

#include <future>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "error/error.hpp"
#include "error/peer_status.hpp"
#include "model/event.hpp"
#include "twitch/normalize.hpp"

namespace waddle::twitch {
namespace asio = boost::asio;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string text_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "twitch:channel:<login>" -> login; nullopt for anything else.
std::optional<std::string> channel_of(std::string_view entity_id) {
  const std::string prefix = std::string(kPlatform) + ":" + std::string(kServerId) + ":";
  if (entity_id.substr(0, prefix.size()) != prefix) return std::nullopt;
  return normalize_login(entity_id.substr(prefix.size()));
}

}  // namespace

struct ChannelClaims::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, net::HttpClient& client, ClaimOptions opts,
        ChannelHandler on_join, ChannelHandler on_part)
      : executor(std::move(ex)),
        http(client),
        options(std::move(opts)),
        join(std::move(on_join)),
        part(std::move(on_part)),
        timer(executor) {}

  asio::any_io_executor executor;
  net::HttpClient& http;
  ClaimOptions options;
  ChannelHandler join;
  ChannelHandler part;
  asio::steady_timer timer;

  // On the strand.
  bool started = false;
  bool stopped = false;
  bool finished = false;
  std::map<std::string, HeldChannel> held;  // by channel login
  std::optional<Clock::time_point> last_ok;
  std::chrono::seconds ttl{0};
  std::promise<void> done;

  mutable std::mutex mutex;
  json published = json::object();
  std::string last_checkin;
  std::string last_error;

  asio::awaitable<json> call(const std::string& path, json body) {
    net::ClientRequest request;
    request.method = "POST";
    request.url = options.router_url + "/router/coordination/" + path;
    request.headers = {{"Content-Type", "application/json"}, {"X-API-Key", options.api_key}};
    request.body = body.dump();
    request.timeout = options.timeout;
    // checkin, heartbeat and release may be repeated harmlessly; a repeated claim could take
    // more than once, which the next checkin shows anyway, but it is not retried.
    request.retry_safe = path != "claim";
    auto response = co_await http.request(std::move(request));
    json reply = json::parse(response.body, nullptr, false);
    if (response.status != 200) {
      std::string detail;
      if (reply.is_object() && reply.contains("error") && reply["error"].is_object()) {
        detail = reply["error"].value("message", "");
      }
      if (detail.empty()) detail = response.body.substr(0, 200);
      throw Error(errc_for_http_status(response.status),
                  "POST /router/coordination/" + path + ": router answered HTTP " +
                      std::to_string(response.status) + (detail.empty() ? "" : ": " + detail));
    }
    if (!reply.is_object()) {
      throw Error(Errc::unavailable, "POST /router/coordination/" + path + ": not a JSON object");
    }
    co_return reply;
  }

  // The router's list of what this instance holds replaces ours: join the new, part the lost.
  void apply(const json& reply) {
    std::map<std::string, HeldChannel> now;
    if (auto it = reply.find("entities"); it != reply.end() && it->is_array()) {
      for (const json& row : *it) {
        if (!row.is_object()) continue;
        const std::string entity_id = text_of(row, "entity_id");
        auto channel = channel_of(entity_id);
        if (!channel) {
          spdlog::warn("twitch claims: ignoring claimed entity '{}': not twitch:channel:<login>",
                       entity_id);
          continue;
        }
        HeldChannel h;
        h.channel = *channel;
        h.entity_id = entity_id;
        h.claim_expires = text_of(row, "claim_expires");
        h.status = text_of(row, "status");
        h.is_live = row.value("is_live", false);
        now[*channel] = std::move(h);
      }
    }
    if (auto it = reply.find("claim_ttl_seconds"); it != reply.end() && it->is_number_integer()) {
      ttl = std::chrono::seconds(it->get<std::int64_t>());
    }
    for (const auto& [channel, h] : now) {
      if (!held.count(channel)) {
        spdlog::info("twitch claims: {} claimed #{} (until {})", options.instance, channel,
                     h.claim_expires);
        join(channel);
      }
    }
    for (const auto& [channel, h] : held) {
      if (!now.count(channel)) {
        spdlog::info("twitch claims: {} no longer holds #{}; leaving it", options.instance,
                     channel);
        part(channel);
      }
    }
    held = std::move(now);
    last_ok = Clock::now();
    publish(model::now_rfc3339(), "");
  }

  void drop_all(const std::string& why) {
    for (const auto& [channel, h] : held) part(channel);
    if (!held.empty()) {
      spdlog::warn("twitch claims: left {} channels: {}", held.size(), why);
    }
    held.clear();
    publish({}, why);
  }

  void publish(std::string checkin, std::string error) {
    json claims = json::array();
    for (const auto& [channel, h] : held) {
      claims.push_back({{"channel", channel},
                        {"entity_id", h.entity_id},
                        {"claim_expires", h.claim_expires},
                        {"status", h.status},
                        {"is_live", h.is_live}});
    }
    std::lock_guard lock(mutex);
    published = std::move(claims);
    if (!checkin.empty()) last_checkin = std::move(checkin);
    last_error = std::move(error);
  }

  asio::awaitable<void> loop() {
    auto self = shared_from_this();
    bool warned = false;
    while (!stopped) {
      bool ok = false;
      try {
        // Bodies are named: g++ 12 miscompiles a braced list inside a co_await expression.
        json checkin_body = {{"instance", options.instance}};
        json reply = co_await call("checkin", std::move(checkin_body));
        if (stopped) break;
        apply(reply);
        if (held.size() < options.capacity) {
          json claim_body = {{"instance", options.instance},
                             {"platform", std::string(kPlatform)},
                             {"capacity", options.capacity}};
          reply = co_await call("claim", std::move(claim_body));
          if (stopped) break;
          apply(reply);
        }
        ok = true;
        if (warned) spdlog::info("twitch claims: the router answers again");
        warned = false;
      } catch (const std::exception& e) {
        if (!warned) spdlog::warn("twitch claims: {}", e.what());
        warned = true;
        // Claims that could not be renewed run out at the router; past the TTL another instance
        // may hold them, and two instances in one channel would answer every command twice.
        if (last_ok && ttl.count() > 0 && Clock::now() - *last_ok >= ttl) {
          drop_all(std::string("claims expired without a checkin: ") + e.what());
        } else {
          std::lock_guard lock(mutex);
          last_error = e.what();
        }
      }
      if (stopped) break;
      timer.expires_after(ok ? options.checkin_interval
                             : std::min<std::chrono::milliseconds>(options.checkin_interval,
                                                                   std::chrono::seconds(5)));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_await release_all();
    finish();
  }

  asio::awaitable<void> release_all() {
    try {
      // Always asked, even holding nothing known: a claim may have succeeded at the router after
      // our call timed out.
      json body = {{"instance", options.instance}};
      json reply = co_await call("release", std::move(body));
      const std::size_t count = reply.value("released", json::array()).size();
      spdlog::info("twitch claims: {} released {} channels", options.instance, count);
      held.clear();
      publish({}, "");
    } catch (const std::exception& e) {
      spdlog::warn(
          "twitch claims: releasing at shutdown failed ({}); the claims run out after the "
          "router's claim_ttl",
          e.what());
    }
  }

  void finish() {
    if (finished) return;
    finished = true;
    done.set_value();
  }

  asio::awaitable<void> report(std::string channel, bool live, std::int64_t viewers) {
    auto self = shared_from_this();
    auto it = held.find(channel);
    if (it == held.end()) co_return;
    const std::string entity_id = it->second.entity_id;
    try {
      json body = {{"instance", options.instance},
                   {"entity_id", entity_id},
                   {"is_live", live},
                   {"viewer_count", viewers}};
      json row = co_await call("status", std::move(body));
      if (auto h = held.find(channel); h != held.end()) {
        h->second.is_live = row.value("is_live", live);
        h->second.status = text_of(row, "status");
        publish({}, "");
      }
    } catch (const Error& e) {
      if (e.code() == Errc::conflict || e.code() == Errc::not_found) {
        // The router says the claim is someone else's now: stop serving the channel.
        if (held.erase(channel) > 0) {
          spdlog::warn("twitch claims: #{} is not ours any more ({}); leaving it", channel,
                       e.what());
          part(channel);
          publish({}, "");
        }
      } else {
        spdlog::warn("twitch claims: live state of #{} not reported: {}", channel, e.what());
      }
    } catch (const std::exception& e) {
      spdlog::warn("twitch claims: live state of #{} not reported: {}", channel, e.what());
    }
  }
};

ChannelClaims::ChannelClaims(asio::any_io_executor executor, net::HttpClient& http,
                             ClaimOptions options, ChannelHandler join, ChannelHandler part)
    : state_(std::make_shared<State>(std::move(executor), http, std::move(options), std::move(join),
                                     std::move(part))) {}

ChannelClaims::~ChannelClaims() = default;

void ChannelClaims::start() {
  asio::post(state_->executor, [s = state_] {
    if (s->started || s->stopped) return;
    s->started = true;
    asio::co_spawn(s->executor, s->loop(), asio::detached);
  });
}

void ChannelClaims::observe(const model::Event& event) {
  const bool online = event.message_type == "stream_online";
  if (!online && event.message_type != "stream_offline") return;
  auto channel = normalize_login(event.channel_id);
  if (!channel || !state_->held.count(*channel)) return;
  std::int64_t viewers = 0;
  if (auto it = event.metadata.find("viewer_count");
      it != event.metadata.end() && it->is_number_integer() && it->get<std::int64_t>() >= 0) {
    viewers = it->get<std::int64_t>();
  }
  asio::co_spawn(state_->executor, state_->report(*channel, online, online ? viewers : 0),
                 asio::detached);
}

void ChannelClaims::stop(std::chrono::steady_clock::time_point deadline) {
  auto finished = state_->done.get_future();
  asio::post(state_->executor, [s = state_] {
    if (s->stopped) return;
    s->stopped = true;
    s->timer.cancel();
    if (!s->started) s->finish();  // the loop (which releases) never ran
  });
  finished.wait_until(deadline);
}

json ChannelClaims::snapshot() const {
  std::lock_guard lock(state_->mutex);
  return {{"mode", "claim"},
          {"instance", state_->options.instance},
          {"capacity", state_->options.capacity},
          {"checkin_interval_ms", state_->options.checkin_interval.count()},
          {"held", state_->published.size()},
          {"claims", state_->published},
          {"last_checkin", state_->last_checkin},
          {"last_error", state_->last_error}};
}

ClaimOptions claim_options(const Settings& settings) {
  ClaimOptions options;
  options.router_url = settings.router_url;
  options.api_key = settings.router_api_key;
  options.timeout = settings.router_timeout;
  options.instance = settings.name;
  options.capacity = settings.capacity;
  options.checkin_interval = settings.checkin_interval;
  return options;
}

void add_claims_command(ctl::Registry& commands, const ChannelClaims* claims) {
  commands.add("claims", "the channels this instance has claimed, with their expiry",
               ctl::Access::read, ctl::SyncHandler([claims](const ctl::Call&) {
                 if (!claims) {
                   return ctl::Reply::empty(
                       "twitch.channels_mode is static: channels come from twitch.channels",
                       {{"mode", "static"}});
                 }
                 json out = claims->snapshot();
                 const std::size_t held = out["held"].get<std::size_t>();
                 return ctl::Reply::ok(std::to_string(held) + " channels claimed as '" +
                                           out["instance"].get<std::string>() + "'",
                                       out);
               }));
}

}  // namespace waddle::twitch
