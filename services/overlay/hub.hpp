#pragma once
// The connected pages of every community and the state they show. An action updates the
// community's state and goes out, serialised once, to the clients of its source; a client that
// joins late gets the current views at once; a timer per community moves expired items along.
// Thread-safe; create it with std::make_shared (timers and close handlers hold weak references).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "model/action.hpp"
#include "net/websocket.hpp"
#include "overlay/state.hpp"

namespace waddle::overlay {

// WebSocket close codes the pages understand (4000-4999 are the application's).
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseTokenInvalid = 4401;  // revoked, or past its grace period
inline constexpr std::uint16_t kCloseTooMany = 4429;

struct HubOptions {
  std::size_t max_connections_per_token = 20;
};

// Who a connection is: the community its token belongs to, the token, what the page shows.
struct Viewer {
  std::int64_t community_id = 0;
  std::int64_t token_id = 0;
  std::vector<Source> sources;
};

class Hub : public std::enable_shared_from_this<Hub> {
 public:
  Hub(boost::asio::any_io_executor executor, HubOptions options);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  enum class Join { joined, too_many, closed };
  // Registers `socket` (and its on_close), then queues a hello and the current view of each of
  // its sources. too_many: the token has max_connections_per_token already; closed: the hub is
  // shutting down. Either way the socket is left alone.
  Join join(const Viewer& viewer, const std::shared_ptr<net::WebSocket>& socket);

  // Applies an overlay action and sends the changed view to the community's clients of that
  // source. False when the action is not an overlay action (chat, block).
  bool publish(std::int64_t community_id, const model::Action& action);

  // Tokens with connections, for the periodic validity check.
  std::vector<std::int64_t> connected_tokens() const;
  // Closes (kCloseTokenInvalid) every connection whose token is in `tokens`; returns how many.
  std::size_t close_tokens(const std::set<std::int64_t>& tokens);
  // Closes every connection (going away) and refuses further joins.
  void close_all();

  std::size_t connections() const;
  nlohmann::json stats() const;

 private:
  struct Client {
    std::shared_ptr<net::WebSocket> socket;
    std::int64_t token_id = 0;
    std::vector<Source> sources;
    bool wants(Source s) const;
  };
  struct Community {
    CommunityState state;
    std::map<std::uint64_t, Client> clients;  // by socket id
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::optional<Clock::time_point> armed_for;
  };
  using Outbox =
      std::vector<std::pair<std::shared_ptr<net::WebSocket>, std::shared_ptr<const std::string>>>;

  void leave(std::int64_t community_id, std::uint64_t socket_id);
  void on_deadline(std::int64_t community_id);
  // With mutex_ held: queues the views of `changed` for the community's clients into `out`.
  void fan_out(Community& community, const std::vector<Source>& changed, Clock::time_point now,
               Outbox& out);
  // With mutex_ held: arms the community's timer for its next deadline.
  void arm(std::int64_t community_id, Community& community);
  void deliver(Outbox& out);

  boost::asio::any_io_executor executor_;
  const HubOptions options_;
  mutable std::mutex mutex_;
  std::map<std::int64_t, Community> communities_;
  std::map<std::int64_t, std::size_t> per_token_;
  bool closed_ = false;
  std::uint64_t published_ = 0;
  std::uint64_t refused_too_many_ = 0;
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> dropped_{0};  // sends refused: a slow client cut off, or closing
};

}  // namespace waddle::overlay
