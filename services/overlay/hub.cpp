#include "overlay/hub.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace waddle::overlay {

bool Hub::Client::wants(Source s) const {
  return std::find(sources.begin(), sources.end(), s) != sources.end();
}

Hub::Hub(boost::asio::any_io_executor executor, HubOptions options)
    : executor_(std::move(executor)), options_(options) {}

Hub::~Hub() {
  std::lock_guard lock(mutex_);
  for (auto& [id, community] : communities_) {
    if (community.timer) community.timer->cancel();
  }
}

Hub::Join Hub::join(const Viewer& viewer, const std::shared_ptr<net::WebSocket>& socket) {
  Outbox out;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return Join::closed;
    auto& count = per_token_[viewer.token_id];
    if (count >= options_.max_connections_per_token) {
      ++refused_too_many_;
      return Join::too_many;
    }
    ++count;
    auto& community = communities_[viewer.community_id];
    community.clients[socket->id()] = Client{socket, viewer.token_id, viewer.sources};
    socket->on_close(
        [weak = weak_from_this(), community_id = viewer.community_id, socket_id = socket->id()] {
          if (auto hub = weak.lock()) hub->leave(community_id, socket_id);
        });

    nlohmann::json hello{{"v", kProtocolVersion}, {"type", "hello"}};
    hello["sources"] = nlohmann::json::array();
    for (Source s : viewer.sources) hello["sources"].push_back(source_name(s));
    out.emplace_back(socket, std::make_shared<const std::string>(hello.dump()));
    // The state as of now, so a page opened mid-song or mid-queue shows it at once.
    const auto now = Clock::now();
    community.state.advance(now);
    for (Source s : viewer.sources) {
      out.emplace_back(socket,
                       std::make_shared<const std::string>(community.state.view(s, now).dump(
                           -1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
  }
  deliver(out);
  return Join::joined;
}

void Hub::leave(std::int64_t community_id, std::uint64_t socket_id) {
  std::lock_guard lock(mutex_);
  auto it = communities_.find(community_id);
  if (it == communities_.end()) return;
  auto client = it->second.clients.find(socket_id);
  if (client == it->second.clients.end()) return;
  auto count = per_token_.find(client->second.token_id);
  if (count != per_token_.end() && --count->second == 0) per_token_.erase(count);
  it->second.clients.erase(client);
  if (it->second.clients.empty() && it->second.state.idle()) {
    if (it->second.timer) it->second.timer->cancel();
    communities_.erase(it);
  }
}

bool Hub::publish(std::int64_t community_id, const model::Action& action) {
  Outbox out;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    auto& community = communities_[community_id];
    // Expired items leave first, so a new ticker item does not queue behind a finished one.
    auto changed = community.state.advance(now);
    auto source = community.state.apply(action, now);
    if (!source) {
      if (community.clients.empty() && community.state.idle()) communities_.erase(community_id);
      return false;
    }
    ++published_;
    if (std::find(changed.begin(), changed.end(), *source) == changed.end()) {
      changed.push_back(*source);
    }
    fan_out(community, changed, now, out);
    arm(community_id, community);
  }
  deliver(out);
  return true;
}

void Hub::on_deadline(std::int64_t community_id) {
  Outbox out;
  {
    std::lock_guard lock(mutex_);
    auto it = communities_.find(community_id);
    if (it == communities_.end()) return;
    auto& community = it->second;
    community.armed_for.reset();
    const auto now = Clock::now();
    auto changed = community.state.advance(now);
    fan_out(community, changed, now, out);
    if (community.clients.empty() && community.state.idle()) {
      communities_.erase(it);
    } else {
      arm(community_id, community);
    }
  }
  deliver(out);
}

void Hub::fan_out(Community& community, const std::vector<Source>& changed, Clock::time_point now,
                  Outbox& out) {
  for (Source s : changed) {
    auto text = std::make_shared<const std::string>(community.state.view(s, now).dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace));
    for (auto& [id, client] : community.clients) {
      if (client.wants(s)) out.emplace_back(client.socket, text);
    }
  }
}

void Hub::arm(std::int64_t community_id, Community& community) {
  auto deadline = community.state.next_deadline();
  if (!deadline) {
    if (community.timer && community.armed_for) community.timer->cancel();
    community.armed_for.reset();
    return;
  }
  if (community.armed_for == deadline) return;
  if (!community.timer) community.timer = std::make_unique<boost::asio::steady_timer>(executor_);
  community.armed_for = deadline;
  community.timer->expires_at(*deadline);
  community.timer->async_wait(
      [weak = weak_from_this(), community_id](boost::system::error_code ec) {
        if (ec) return;
        if (auto hub = weak.lock()) hub->on_deadline(community_id);
      });
}

void Hub::deliver(Outbox& out) {
  for (auto& [socket, text] : out) {
    if (socket->send(text)) {
      sent_.fetch_add(1, std::memory_order_relaxed);
    } else {
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

std::vector<std::int64_t> Hub::connected_tokens() const {
  std::lock_guard lock(mutex_);
  std::vector<std::int64_t> tokens;
  for (const auto& [token, count] : per_token_) tokens.push_back(token);
  return tokens;
}

std::size_t Hub::close_tokens(const std::set<std::int64_t>& tokens) {
  std::vector<std::shared_ptr<net::WebSocket>> closing;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, community] : communities_) {
      for (auto& [socket_id, client] : community.clients) {
        if (tokens.count(client.token_id)) closing.push_back(client.socket);
      }
    }
  }
  for (auto& socket : closing) socket->close(kCloseTokenInvalid, "overlay token no longer valid");
  return closing.size();
}

void Hub::close_all() {
  std::vector<std::shared_ptr<net::WebSocket>> closing;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (auto& [id, community] : communities_) {
      for (auto& [socket_id, client] : community.clients) closing.push_back(client.socket);
      if (community.timer) community.timer->cancel();
      community.armed_for.reset();
    }
  }
  for (auto& socket : closing) socket->close(kCloseGoingAway, "overlay daemon stopping");
}

std::size_t Hub::connections() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [id, community] : communities_) n += community.clients.size();
  return n;
}

nlohmann::json Hub::stats() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [id, community] : communities_) n += community.clients.size();
  return {{"connections", n},
          {"communities", communities_.size()},
          {"tokens_connected", per_token_.size()},
          {"actions_published", published_},
          {"messages_sent", sent_.load()},
          {"messages_dropped", dropped_.load()},
          {"refused_too_many", refused_too_many_}};
}

}  // namespace waddle::overlay
