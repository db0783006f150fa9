#include "redis/multiplexer.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

// GCC 12 reports Asio's awaitable-frame operator new/delete pair as mismatched once it inlines
// aligned_alloc into a coroutine ramp; the pair is Asio's own and matches
// (boost/asio/impl/awaitable.hpp).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace waddle::redis::detail {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// Enough to batch many small commands into one write without holding megabytes.
constexpr std::size_t kMaxBatchBytes = 1 << 20;

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
struct ReaderDeleter {
  void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
};

Reply convert(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING: return Reply::string(std::string(r->str, r->len));
    case REDIS_REPLY_STATUS: return Reply::status(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR: return Reply::error(std::string(r->str, r->len));
    case REDIS_REPLY_INTEGER: return Reply::integer_value(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) elements.push_back(convert(r->element[i]));
      return Reply::array(std::move(elements));
    }
    default: return Reply::nil();
  }
}

std::string ms_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

std::string io_reason(const boost::system::error_code& ec) {
  if (ec == asio::error::eof) return "connection closed by the server";
  return ec.message();
}

}  // namespace

void append_command(std::string& out, const std::vector<std::string>& args) {
  if (args.empty()) throw Error(Errc::invalid_argument, "empty redis command");
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  char* formatted = nullptr;
  int n = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), argv.data(),
                                 lengths.data());
  if (n < 0 || formatted == nullptr) throw std::bad_alloc();
  out.append(formatted, static_cast<std::size_t>(n));
  redisFreeCommand(formatted);
}

// One TCP or Unix connection with its hiredis reader and its FIFO of requests awaiting replies.
class Session {
 public:
  explicit Session(const Strand& strand)
      : socket(strand), wake(strand), reader_(redisReaderCreate()) {
    if (!reader_) throw std::bad_alloc();
  }

  void close(const std::string& reason) {
    if (!open) return;
    open = false;
    close_reason = reason;
    boost::system::error_code ignored;
    socket.close(ignored);
    wake.cancel();
  }

  // The next complete reply, reading from the socket as needed. Throws on I/O and protocol errors.
  awaitable<Reply> next_reply() {
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
        throw Error(Errc::unavailable, std::string("protocol error: ") + reader_->errstr);
      }
      if (raw != nullptr) {
        std::unique_ptr<redisReply, ReplyDeleter> owned(static_cast<redisReply*>(raw));
        co_return convert(owned.get());
      }
      std::size_t n = co_await socket.async_read_some(asio::buffer(buffer_), use_awaitable);
      if (redisReaderFeed(reader_.get(), buffer_.data(), n) != REDIS_OK) {
        throw Error(Errc::unavailable, std::string("protocol error: ") + reader_->errstr);
      }
    }
  }

  asio::generic::stream_protocol::socket socket;
  asio::steady_timer wake;  // the writer sleeps on it while nothing is pending
  std::deque<std::shared_ptr<Request>> inflight;
  bool open = true;
  std::string close_reason;

 private:
  std::unique_ptr<redisReader, ReaderDeleter> reader_;
  std::array<char, 16 * 1024> buffer_;
};

Multiplexer::Multiplexer(asio::any_io_executor executor, Options options, Hooks hooks)
    : strand_(asio::make_strand(std::move(executor))),
      options_(std::move(options)),
      endpoint_(parse_url(options_.url)),
      hooks_(std::move(hooks)),
      backoff_(strand_) {
  validate(options_);
}

Multiplexer::~Multiplexer() = default;

void Multiplexer::close() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->close_on_strand(); });
}

void Multiplexer::close_on_strand() {
  ++generation_;
  phase_ = Phase::closed;
  connected_ = false;
  if (session_) session_->close("the client was closed");
  session_.reset();
  backoff_.cancel();
  fail_pending("the client was closed");
}

void Multiplexer::fail(Request& request, Error error) {
  if (request.done) return;
  request.done = true;
  request.error = std::move(error);
  request.wake.cancel();
}

void Multiplexer::fail_pending(const std::string& reason) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& r : pending) fail(*r, Error(Errc::unavailable, "redis " + r->what + ": " + reason));
}

awaitable<void> Multiplexer::connect(std::shared_ptr<Multiplexer> self) {
  if (self->phase_ == Phase::connected || self->phase_ == Phase::reconnecting) co_return;
  if (self->phase_ == Phase::connecting) {
    throw Error(Errc::conflict,
                "redis connect() to " + self->endpoint_.describe() + " is already in progress");
  }
  self->phase_ = Phase::connecting;
  auto generation = ++self->generation_;
  std::shared_ptr<Session> session;
  std::optional<Error> failure;
  try {
    session = co_await self->open_session();
  } catch (const Error& e) {
    failure = e;
  }
  if (self->generation_ != generation) {
    if (session) session->close("the client was closed");
    throw Error(Errc::unavailable,
                "redis connect() to " + self->endpoint_.describe() + " was cut short by close()");
  }
  if (failure) {
    self->phase_ = Phase::idle;
    self->last_error_ = failure->what();
    self->fail_pending(failure->what());
    throw *failure;
  }
  self->install(session);
  asio::co_spawn(self->strand_, supervise(self, session, generation), asio::detached);
}

awaitable<std::shared_ptr<Session>> Multiplexer::open_session() {
  auto session = std::make_shared<Session>(strand_);
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(strand_);
  auto timed_out = std::make_shared<bool>(false);
  const auto where = endpoint_.describe();
  // One deadline over connect and AUTH/SELECT: a server that accepts but never answers must not
  // hang us.
  asio::steady_timer watchdog(strand_);
  watchdog.expires_after(options_.connect_timeout);
  watchdog.async_wait([session, resolver, timed_out](boost::system::error_code ec) {
    if (ec) return;
    *timed_out = true;
    session->close("connect timeout");
    resolver->cancel();
  });
  auto fail_io = [&](const boost::system::error_code& ec) -> Error {
    if (*timed_out) {
      return Error(Errc::unavailable, "cannot connect to redis at " + where +
                                          ": no answer within " +
                                          ms_text(options_.connect_timeout));
    }
    return Error(Errc::unavailable, "cannot connect to redis at " + where + ": " + io_reason(ec));
  };

  try {
    if (endpoint_.kind == Endpoint::Kind::unix_socket) {
      asio::generic::stream_protocol::endpoint target{
          asio::local::stream_protocol::endpoint(endpoint_.path)};
      co_await session->socket.async_connect(target, use_awaitable);
    } else {
      auto results = co_await resolver->async_resolve(
          endpoint_.host, std::to_string(endpoint_.port), use_awaitable);
      boost::system::error_code last = asio::error::host_not_found;
      for (const auto& entry : results) {
        if (*timed_out) break;
        boost::system::error_code ignored;
        session->socket.close(ignored);
        asio::generic::stream_protocol::endpoint target{entry.endpoint()};
        auto [ec] = co_await session->socket.async_connect(target, asio::as_tuple(use_awaitable));
        last = ec;
        if (!ec) break;
      }
      if (*timed_out) last = asio::error::timed_out;
      if (last) throw boost::system::system_error(last);
      boost::system::error_code ignored;
      session->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    boost::system::error_code ignored;
    session->socket.set_option(asio::socket_base::keep_alive(true), ignored);

    std::string handshake;
    std::size_t replies = 0;
    if (endpoint_.password) {
      if (endpoint_.user.empty()) {
        append_command(handshake, {"AUTH", *endpoint_.password});
      } else {
        append_command(handshake, {"AUTH", endpoint_.user, *endpoint_.password});
      }
      ++replies;
    }
    if (endpoint_.db != 0) {
      append_command(handshake, {"SELECT", std::to_string(endpoint_.db)});
      ++replies;
    }
    if (replies > 0) {
      co_await asio::async_write(session->socket, asio::buffer(handshake), use_awaitable);
      if (endpoint_.password) {
        Reply auth = co_await session->next_reply();
        if (auth.is_error()) {
          auto who = endpoint_.user.empty() ? std::string("the default user")
                                            : "user '" + endpoint_.user + "'";
          throw Error(Errc::unauthenticated,
                      "redis at " + where + " refused AUTH as " + who + ": " + auth.str);
        }
      }
      if (endpoint_.db != 0) {
        Reply select = co_await session->next_reply();
        if (select.is_error()) {
          throw Error(Errc::invalid_argument, "redis at " + where + " refused SELECT " +
                                                  std::to_string(endpoint_.db) + ": " + select.str);
        }
      }
    }
  } catch (const Error&) {
    if (*timed_out) throw fail_io({});
    throw;
  } catch (const boost::system::system_error& e) {
    throw fail_io(e.code());
  }
  watchdog.cancel();
  if (*timed_out) throw fail_io({});
  co_return session;
}

void Multiplexer::install(std::shared_ptr<Session> session) {
  session_ = session;
  phase_ = Phase::connected;
  connected_ = true;
  last_error_.clear();
  if (hooks_.first_request) {
    if (auto first = hooks_.first_request(strand_)) pending_.push_front(std::move(first));
  }
  asio::co_spawn(strand_, write_loop(shared_from_this(), std::move(session)), asio::detached);
}

awaitable<void> Multiplexer::write_loop(std::shared_ptr<Multiplexer> self,
                                        std::shared_ptr<Session> session) {
  std::string out;
  while (session->open) {
    out.clear();
    while (!self->pending_.empty() && out.size() < kMaxBatchBytes) {
      auto request = std::move(self->pending_.front());
      self->pending_.pop_front();
      if (request->done) continue;  // its caller gave up before it was sent
      out += request->payload;
      request->written = true;
      session->inflight.push_back(std::move(request));
    }
    if (out.empty()) {
      session->wake.expires_at(asio::steady_timer::time_point::max());
      co_await session->wake.async_wait(asio::as_tuple(use_awaitable));
      continue;
    }
    auto [ec, n] = co_await asio::async_write(session->socket, asio::buffer(out),
                                              asio::as_tuple(use_awaitable));
    if (ec) {
      session->close("write failed: " + io_reason(ec));
      co_return;
    }
  }
}

awaitable<std::string> Multiplexer::read_loop(std::shared_ptr<Session> session) {
  try {
    for (;;) {
      Reply reply = co_await session->next_reply();
      if (hooks_.on_push && hooks_.on_push(reply)) continue;
      if (session->inflight.empty()) {
        co_return "protocol error: a reply arrived that no command asked for (" + reply.describe() +
            ")";
      }
      auto& front = session->inflight.front();
      bool is_error = reply.is_error();
      front->replies.push_back(std::move(reply));
      if (front->replies.size() >= front->expected || (front->error_ends && is_error)) {
        auto request = std::move(front);
        session->inflight.pop_front();
        if (!request->done) {
          request->done = true;
          request->wake.cancel();
        }
      }
    }
  } catch (const boost::system::system_error& e) {
    if (!session->close_reason.empty()) co_return session->close_reason;
    co_return io_reason(e.code());
  } catch (const std::exception& e) {
    co_return e.what();
  }
}

awaitable<void> Multiplexer::supervise(std::shared_ptr<Multiplexer> self,
                                       std::shared_ptr<Session> session, std::uint64_t generation) {
  const auto where = self->endpoint_.describe();
  for (;;) {
    std::string reason = co_await self->read_loop(session);
    session->close(reason);
    if (self->session_ == session) {
      self->session_.reset();
      self->connected_ = false;
    }
    for (auto& request : session->inflight) {
      self->fail(*request, Error(Errc::unavailable, "redis " + request->what + ": connection to " +
                                                        where + " lost (" + reason +
                                                        "); it may or may not have executed"));
    }
    session->inflight.clear();
    if (self->generation_ != generation) co_return;
    self->phase_ = Phase::reconnecting;
    self->last_error_ = reason;

    auto delay = self->options_.reconnect_min;
    for (;;) {
      self->backoff_.expires_after(delay);
      co_await self->backoff_.async_wait(asio::as_tuple(use_awaitable));
      if (self->generation_ != generation) co_return;
      session.reset();
      try {
        session = co_await self->open_session();
      } catch (const std::exception& e) {
        self->last_error_ = e.what();
      }
      if (self->generation_ != generation) {
        if (session) session->close("the client was closed");
        co_return;
      }
      if (session) break;
      delay = std::min(delay * 2, self->options_.reconnect_max);
    }
    self->install(session);
  }
}

awaitable<std::vector<Reply>> Multiplexer::execute(std::shared_ptr<Multiplexer> self,
                                                   std::shared_ptr<Request> request) {
  const auto where = self->endpoint_.describe();
  if (self->phase_ == Phase::idle) {
    throw Error(Errc::unavailable, "redis " + request->what + ": not connected to " + where +
                                       " (call connect() first)");
  }
  if (self->phase_ == Phase::closed) {
    throw Error(Errc::unavailable,
                "redis " + request->what + ": the client for " + where + " is closed");
  }
  self->pending_.push_back(request);
  if (self->session_) self->session_->wake.cancel();
  request->wake.expires_after(self->options_.command_timeout);
  co_await request->wake.async_wait(asio::as_tuple(use_awaitable));
  if (!request->done) {
    request->done = true;
    const auto limit = ms_text(self->options_.command_timeout);
    if (!request->written) {
      std::erase(self->pending_, request);
      auto message = "redis " + request->what + ": no connection to " + where + " within " + limit;
      if (!self->last_error_.empty()) message += " (last error: " + self->last_error_ + ")";
      throw Error(Errc::unavailable, message);
    }
    // Replies come in order, so a missing one leaves the connection unusable (or dead without a
    // FIN, which only a new connection detects).
    if (self->session_) self->session_->close("a command timed out");
    throw Error(Errc::timeout,
                "redis " + request->what + ": no reply from " + where + " within " + limit);
  }
  if (request->error) throw *request->error;
  co_return std::move(request->replies);
}

}  // namespace waddle::redis::detail
