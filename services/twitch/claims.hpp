#pragma once
// Channel claims (twitch.channels_mode: claim): this instance takes its channels from the
// router's coordination API instead of a configured list, so that several waddle-twitchd share
// one set of channels with each channel served by exactly one of them. It claims up to its
// capacity at start, checks in every checkin_interval (claiming more while below capacity),
// joins what it gained and parts what it lost, reports stream.online/offline as the channel's
// live state, and releases everything on shutdown. A crashed instance's claims run out after the
// router's claim_ttl and another instance takes them at its next checkin.
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "ctl/registry.hpp"
#include "model/event.hpp"
#include "net/http_client.hpp"
#include "twitch/settings.hpp"

namespace waddle::twitch {

struct ClaimOptions {
  std::string router_url = "http://127.0.0.1:8000";  // without a trailing '/'
  std::string api_key;                               // role collector
  std::chrono::milliseconds timeout{10000};          // one router call
  std::string instance = "twitch";                   // the registration name
  std::size_t capacity = 50;
  std::chrono::milliseconds checkin_interval{300000};
};

// One claimed channel as the router last described it.
struct HeldChannel {
  std::string channel;  // login
  std::string entity_id;
  std::string claim_expires;  // RFC 3339, as the router wrote it
  std::string status;
  bool is_live = false;
};

class ChannelClaims {
 public:
  using ChannelHandler = std::function<void(const std::string& channel)>;

  // `executor` must be the strand the join/part handlers may run on; every method but stop()
  // and snapshot() is to be called on it.
  ChannelClaims(boost::asio::any_io_executor executor, net::HttpClient& http, ClaimOptions options,
                ChannelHandler join, ChannelHandler part);
  ~ChannelClaims();
  ChannelClaims(const ChannelClaims&) = delete;
  ChannelClaims& operator=(const ChannelClaims&) = delete;

  // Starts the claim/checkin loop.
  void start();
  // A stream.online / stream.offline event of a held channel: reported to the router as its
  // live state. Anything else is ignored.
  void observe(const model::Event& event);
  // From any thread but the strand's: ends the loop and releases every claim, waiting at most
  // until `deadline` for the router.
  void stop(std::chrono::steady_clock::time_point deadline);

  // Thread-safe: {"mode", "instance", "capacity", "held", "claims": [...], "last_checkin",
  // "last_error"} for the admin socket.
  nlohmann::json snapshot() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// The options of an instance in claim mode: router URL and key, registration name, capacity.
ClaimOptions claim_options(const Settings& settings);

// The `claims` admin command: the claims with their expiry, or a note that the instance uses
// the static channel list when `claims` is null.
void add_claims_command(ctl::Registry& commands, const ChannelClaims* claims);

}  // namespace waddle::twitch
