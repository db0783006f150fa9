#include "redis/subscriber.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "redis/multiplexer.hpp"

namespace waddle::redis {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// Only touched on the connection's strand.
struct Subscriber::Subscriptions {
  std::set<std::string> channels;
  std::set<std::string> patterns;
  Handler handler;
};

namespace {

using Subscriptions = Subscriber::Subscriptions;

bool deliver(Subscriptions& subs, const Reply& reply) {
  if (!reply.is_array() || reply.elements.empty() || !reply.elements[0].is_string()) return false;
  const auto& e = reply.elements;
  const auto& kind = e[0].str;
  const Reply* channel = nullptr;
  const Reply* message = nullptr;
  if (kind == "message" && e.size() == 3) {
    channel = &e[1];
    message = &e[2];
  } else if (kind == "pmessage" && e.size() == 4) {
    channel = &e[2];
    message = &e[3];
  } else {
    return false;  // a (p)(un)subscribe confirmation: it answers a request
  }
  if (subs.handler && channel->is_string() && message->is_string()) {
    try {
      subs.handler(channel->str, message->str);
    } catch (...) {  // NOLINT(bugprone-empty-catch): see on_message()
    }
  }
  return true;
}

std::shared_ptr<detail::Request> make_request(const detail::Strand& strand, const char* verb,
                                              const std::vector<std::string>& names) {
  auto request = std::make_shared<detail::Request>(strand);
  std::vector<std::string> args{verb};
  args.insert(args.end(), names.begin(), names.end());
  detail::append_command(request->payload, args);
  request->expected = names.size();  // Redis confirms each name separately
  request->error_ends = true;
  request->what = verb;
  return request;
}

// Everything subscribed so far, sent ahead of queued requests on each new connection.
std::shared_ptr<detail::Request> resubscribe(const detail::Strand& strand,
                                             const Subscriptions& subs) {
  if (subs.channels.empty() && subs.patterns.empty()) return nullptr;
  auto request = std::make_shared<detail::Request>(strand);
  request->what = "resubscribe";
  request->error_ends = true;
  for (auto [verb, set] :
       {std::pair{"SUBSCRIBE", &subs.channels}, std::pair{"PSUBSCRIBE", &subs.patterns}}) {
    if (set->empty()) continue;
    std::vector<std::string> args{verb};
    args.insert(args.end(), set->begin(), set->end());
    detail::append_command(request->payload, args);
    request->expected += set->size();
  }
  return request;
}

awaitable<void> change(std::shared_ptr<detail::Multiplexer> mux,
                       std::shared_ptr<Subscriptions> subs, const char* verb, bool add,
                       bool pattern, std::vector<std::string> names) {
  auto& set = pattern ? subs->patterns : subs->channels;
  for (const auto& n : names) {
    if (add) {
      set.insert(n);
    } else {
      set.erase(n);
    }
  }
  auto request = make_request(mux->strand(), verb, names);
  auto replies = co_await detail::Multiplexer::execute(mux, request);
  for (const auto& reply : replies) reply.throw_if_error(verb);
}

void require_names(const std::vector<std::string>& names, const char* verb) {
  if (names.empty()) {
    throw Error(Errc::invalid_argument,
                std::string("redis ") + verb + " needs at least one channel or pattern");
  }
}

}  // namespace

Subscriber::Subscriber(asio::any_io_executor executor, Options options)
    : subscriptions_(std::make_shared<Subscriptions>()) {
  detail::Multiplexer::Hooks hooks;
  hooks.on_push = [subs = subscriptions_](const Reply& reply) { return deliver(*subs, reply); };
  hooks.first_request = [subs = subscriptions_](const detail::Strand& strand) {
    return resubscribe(strand, *subs);
  };
  mux_ = std::make_shared<detail::Multiplexer>(std::move(executor), std::move(options),
                                               std::move(hooks));
}

Subscriber::~Subscriber() {
  mux_->close();
}

awaitable<void> Subscriber::connect() {
  co_await asio::co_spawn(mux_->strand(), detail::Multiplexer::connect(mux_), use_awaitable);
}

awaitable<void> Subscriber::subscribe(std::vector<std::string> channels) {
  require_names(channels, "SUBSCRIBE");
  co_await asio::co_spawn(
      mux_->strand(), change(mux_, subscriptions_, "SUBSCRIBE", true, false, std::move(channels)),
      use_awaitable);
}

awaitable<void> Subscriber::psubscribe(std::vector<std::string> patterns) {
  require_names(patterns, "PSUBSCRIBE");
  co_await asio::co_spawn(
      mux_->strand(), change(mux_, subscriptions_, "PSUBSCRIBE", true, true, std::move(patterns)),
      use_awaitable);
}

awaitable<void> Subscriber::unsubscribe(std::vector<std::string> channels) {
  require_names(channels, "UNSUBSCRIBE");
  co_await asio::co_spawn(
      mux_->strand(),
      change(mux_, subscriptions_, "UNSUBSCRIBE", false, false, std::move(channels)),
      use_awaitable);
}

awaitable<void> Subscriber::punsubscribe(std::vector<std::string> patterns) {
  require_names(patterns, "PUNSUBSCRIBE");
  co_await asio::co_spawn(
      mux_->strand(),
      change(mux_, subscriptions_, "PUNSUBSCRIBE", false, true, std::move(patterns)),
      use_awaitable);
}

void Subscriber::on_message(Handler handler) {
  asio::dispatch(mux_->strand(), [subs = subscriptions_, h = std::move(handler)]() mutable {
    subs->handler = std::move(h);
  });
}

void Subscriber::close() {
  mux_->close();
}

bool Subscriber::connected() const noexcept {
  return mux_->connected();
}

}  // namespace waddle::redis
