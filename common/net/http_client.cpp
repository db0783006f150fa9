#include "net/http_client.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <tuple>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "error/error.hpp"

namespace waddle::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
using std::chrono::milliseconds;

constexpr std::size_t kMaxResponseHeader = 64 * 1024;
constexpr milliseconds kFirstBackoff{50};
constexpr milliseconds kMaxBackoff{1000};

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// RFC 9110 token characters: what a method or a header name may consist of.
bool is_token(std::string_view s) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kExtra.find(c) != std::string_view::npos;
  });
}

bool is_header_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// A failed attempt. `retryable`: a second attempt could succeed (network trouble, not a broken
// certificate). `stale`: the connection died before a single byte of the answer came back, which
// on a pooled connection means the server had closed it while it sat idle.
class AttemptError : public Error {
 public:
  AttemptError(Errc code, const std::string& message, bool retryable, bool stale = false)
      : Error(code, message), retryable_(retryable), stale_(stale) {}
  bool retryable() const noexcept { return retryable_; }
  bool stale() const noexcept { return stale_; }

 private:
  bool retryable_;
  bool stale_;
};

struct Target {
  bool tls = false;
  std::string host;  // for DNS, SNI and the certificate check; IPv6 without brackets
  bool host_is_ip = false;
  std::uint16_t port = 0;
  std::string authority;    // host:port, for messages
  std::string host_header;  // what the Host header carries (port only when not the default)
  std::string path;         // origin-form request target: /path?query
};

Target parse_target(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    throw Error(Errc::invalid_argument,
                "invalid URL '" + url + "': expected http://host[:port]/path or https://…");
  }
  const boost::urls::url_view& u = *parsed;
  Target t;
  if (u.scheme_id() == boost::urls::scheme::https) {
    t.tls = true;
  } else if (u.scheme_id() != boost::urls::scheme::http) {
    throw Error(Errc::invalid_argument, "unsupported scheme '" + std::string(u.scheme()) +
                                            "' in URL '" + url + "' (want http or https)");
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    throw Error(Errc::invalid_argument, "URL '" + url + "' has no host");
  }
  if (!u.encoded_path().empty() && !u.encoded_path().starts_with('/')) {
    // Boost.URL 1.81 reads "http://h:8x/" as port 8 and path "x/".
    throw Error(Errc::invalid_argument, "invalid authority in URL '" + url + "'");
  }
  if (u.has_userinfo()) {
    throw Error(Errc::invalid_argument,
                "URL '" + url + "' carries credentials; send them in a header instead");
  }
  switch (u.host_type()) {
    case boost::urls::host_type::name: {
      t.host = u.host_name();
      bool ok = std::all_of(t.host.begin(), t.host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
      });
      if (!ok) {
        throw Error(Errc::invalid_argument, "invalid host name in URL '" + url + "'");
      }
      break;
    }
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      t.host = u.host_address();
      t.host_is_ip = true;
      break;
    default: throw Error(Errc::invalid_argument, "unsupported host in URL '" + url + "'");
  }
  const std::uint16_t default_port = t.tls ? 443 : 80;
  t.port = default_port;
  if (u.has_port() && !u.port().empty()) {
    std::string_view p = u.port();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc() || end != p.data() + p.size() || value == 0 || value > 65535) {
      throw Error(Errc::invalid_argument,
                  "invalid port '" + std::string(p) + "' in URL '" + url + "'");
    }
    t.port = static_cast<std::uint16_t>(value);
  }
  const std::string bracketed =
      u.host_type() == boost::urls::host_type::ipv6 ? "[" + t.host + "]" : t.host;
  t.authority = bracketed + ":" + std::to_string(t.port);
  t.host_header = t.port == default_port ? bracketed : t.authority;
  t.path = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  if (u.has_query()) t.path += "?" + std::string(u.encoded_query());
  return t;
}

using Results = tcp::resolver::results_type;

// Resolver and timer racing on one strand; whichever finishes first completes the operation.
// getaddrinfo cannot be interrupted, so on a timeout the lookup finishes unobserved in the
// background, keeping this state alive until then.
template <class Handler>
struct ResolveRace {
  ResolveRace(asio::strand<asio::any_io_executor> strand, Handler h)
      : resolver(strand), timer(strand), handler(std::move(h)) {}

  void finish(error_code ec, Results results, bool timed_out) {
    if (!handler) return;
    Handler h = std::move(*handler);
    handler.reset();
    auto ex = asio::get_associated_executor(h, resolver.get_executor());
    asio::post(ex, asio::append(std::move(h), ec, std::move(results), timed_out));
  }

  tcp::resolver resolver;
  asio::steady_timer timer;
  std::optional<Handler> handler;
};

// Completes with (error, endpoints, timed_out).
asio::awaitable<std::tuple<error_code, Results, bool>> resolve_until(asio::any_io_executor ex,
                                                                     std::string host,
                                                                     std::string port, bool numeric,
                                                                     Clock::time_point deadline) {
  auto token = asio::as_tuple(asio::use_awaitable);
  co_return co_await asio::async_initiate<decltype(token), void(error_code, Results, bool)>(
      [ex, numeric, deadline](auto handler, std::string host, std::string port) {
        using Race = ResolveRace<decltype(handler)>;
        auto strand = asio::make_strand(ex);
        auto race = std::make_shared<Race>(strand, std::move(handler));
        asio::dispatch(strand, [race, host = std::move(host), port = std::move(port), numeric,
                                deadline] {
          race->timer.expires_at(deadline);
          race->timer.async_wait([race](error_code ec) {
            if (ec == asio::error::operation_aborted) return;
            race->resolver.cancel();
            race->finish(asio::error::timed_out, {}, true);
          });
          auto flags = numeric ? tcp::resolver::numeric_host | tcp::resolver::numeric_service
                               : tcp::resolver::numeric_service;
          race->resolver.async_resolve(host, port, flags, [race](error_code ec, Results results) {
            race->timer.cancel();
            race->finish(ec, std::move(results), false);
          });
        });
      },
      token, std::move(host), std::move(port));
}

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // An idle keep-alive connection must have nothing to read: EOF means the server closed it,
  // and bytes (a TLS close_notify, a stray response) mean it is no longer in a usable state.
  bool still_open() {
    auto& socket = tcp().socket();
    if (!socket.is_open() || buffer.size() != 0) return false;
    if (tls && SSL_pending(tls->native_handle()) > 0) return false;
    char byte;
    ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

struct PoolKey {
  bool tls;
  std::string host;
  std::uint16_t port;
  auto operator<=>(const PoolKey&) const = default;
};

bool is_retry_status(int status) {
  return status == 502 || status == 503 || status == 504;
}

bool is_connection_lost(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

std::string ms_text(milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

class HttpClient::Impl : public std::enable_shared_from_this<HttpClient::Impl> {
 public:
  Impl(asio::any_io_executor executor, ClientOptions options)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        ssl_(ssl::context::tls_client) {
    ssl_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    ssl_.set_default_verify_paths(ec);
    if (ec) {
      throw Error(Errc::internal, "cannot load the system trust store: " + ec.message());
    }
    if (!options_.ca_file.empty()) {
      ssl_.load_verify_file(options_.ca_file, ec);
      if (ec) {
        throw Error(Errc::invalid_argument,
                    "cannot load CA file '" + options_.ca_file + "': " + ec.message());
      }
    }
  }

  static asio::awaitable<ClientResponse> run(std::shared_ptr<Impl> self, ClientRequest req);

  std::size_t idle_count() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [key, list] : idle_) n += list.size();
    return n;
  }

  void drop_idle() {
    std::map<PoolKey, std::deque<std::unique_ptr<Connection>>> doomed;
    std::lock_guard lock(mutex_);
    doomed.swap(idle_);
  }

 private:
  struct Call {
    Target target;
    http::request<http::string_body> message;
    milliseconds budget;
    Clock::time_point deadline;
    bool head;
  };

  http::request<http::string_body> build_message(const ClientRequest& req, const Target& t) const;
  asio::awaitable<ClientResponse> attempt(const Call& call);
  asio::awaitable<std::unique_ptr<Connection>> connect(const Call& call);
  template <class Stream>
  asio::awaitable<ClientResponse> exchange(Stream& stream, Connection& conn, const Call& call,
                                           bool& keep_alive);

  std::unique_ptr<Connection> acquire(const PoolKey& key);
  void release(const PoolKey& key, std::unique_ptr<Connection> conn);

  asio::any_io_executor executor_;
  ClientOptions options_;
  ssl::context ssl_;
  mutable std::mutex mutex_;  // guards idle_; a checked-out connection belongs to one coroutine
  std::map<PoolKey, std::deque<std::unique_ptr<Connection>>> idle_;
};

http::request<http::string_body> HttpClient::Impl::build_message(const ClientRequest& req,
                                                                 const Target& t) const {
  if (!is_token(req.method)) {
    throw Error(Errc::invalid_argument, "invalid HTTP method '" + req.method + "'");
  }
  http::request<http::string_body> msg;
  msg.version(11);
  if (auto verb = http::string_to_verb(req.method); verb != http::verb::unknown) {
    msg.method(verb);
  } else {
    msg.method_string(req.method);
  }
  msg.target(t.path);
  msg.set(http::field::host, t.host_header);
  msg.set(http::field::user_agent, options_.user_agent);
  for (const auto& [name, value] : req.headers) {
    if (!is_token(name) || !is_header_value(value)) {
      throw Error(Errc::invalid_argument, "invalid request header '" + name + "'");
    }
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) {
      throw Error(Errc::invalid_argument,
                  "request header '" + name + "' is set by the client from the body");
    }
    if (iequals(name, "host") || iequals(name, "user-agent")) {
      msg.set(name, value);
    } else {
      msg.insert(name, value);
    }
  }
  msg.body() = req.body;
  msg.prepare_payload();
  return msg;
}

std::unique_ptr<Connection> HttpClient::Impl::acquire(const PoolKey& key) {
  std::vector<std::unique_ptr<Connection>> doomed;  // closed outside the lock
  std::lock_guard lock(mutex_);
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto now = Clock::now();
  auto& list = it->second;
  std::unique_ptr<Connection> found;
  // Most recently used first: the least likely to have hit the server's idle timeout.
  while (!list.empty() && !found) {
    auto conn = std::move(list.back());
    list.pop_back();
    if (now - conn->idle_since < options_.idle_expiry && conn->still_open()) {
      found = std::move(conn);
    } else {
      doomed.push_back(std::move(conn));
    }
  }
  if (list.empty()) idle_.erase(it);
  return found;
}

void HttpClient::Impl::release(const PoolKey& key, std::unique_ptr<Connection> conn) {
  if (options_.max_idle_per_host == 0) return;
  conn->tcp().expires_never();
  conn->idle_since = Clock::now();
  std::vector<std::unique_ptr<Connection>> doomed;
  std::lock_guard lock(mutex_);
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    while (!list.empty() && conn->idle_since - list.front()->idle_since >= options_.idle_expiry) {
      doomed.push_back(std::move(list.front()));
      list.pop_front();
    }
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
  auto& list = idle_[key];
  list.push_back(std::move(conn));
  while (list.size() > options_.max_idle_per_host) {
    doomed.push_back(std::move(list.front()));
    list.pop_front();
  }
}

asio::awaitable<std::unique_ptr<Connection>> HttpClient::Impl::connect(const Call& call) {
  const Target& t = call.target;
  const auto connect_deadline = std::min(Clock::now() + options_.connect_timeout, call.deadline);
  const auto connect_budget = std::min(options_.connect_timeout, call.budget);

  auto [rec, endpoints, resolve_timed_out] = co_await resolve_until(
      executor_, t.host, std::to_string(t.port), t.host_is_ip, connect_deadline);
  if (resolve_timed_out) {
    throw AttemptError(Errc::timeout,
                       "resolving host " + t.host + " timed out after " + ms_text(connect_budget),
                       true);
  }
  if (rec) {
    throw AttemptError(Errc::unavailable, "cannot resolve host " + t.host + ": " + rec.message(),
                       rec == asio::error::host_not_found_try_again);
  }

  auto conn = std::make_unique<Connection>();
  if (t.tls) {
    conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor_, ssl_);
  } else {
    conn->plain = std::make_unique<beast::tcp_stream>(executor_);
  }
  conn->tcp().expires_at(connect_deadline);
  auto [cec, endpoint] =
      co_await conn->tcp().async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
  if (cec == beast::error::timeout) {
    throw AttemptError(
        Errc::timeout,
        "connecting to " + t.authority + " timed out after " + ms_text(connect_budget), true);
  }
  if (cec) {
    throw AttemptError(Errc::unavailable, "connect to " + t.authority + " failed: " + cec.message(),
                       true);
  }
  (void)endpoint;
  conn->tcp().socket().set_option(tcp::no_delay(true));

  if (conn->tls) {
    auto& stream = *conn->tls;
    // SNI carries names only (RFC 6066 §3); an IP literal is matched against the IP SANs.
    if (!t.host_is_ip && SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str()) != 1) {
      throw AttemptError(Errc::invalid_argument, "cannot use '" + t.host + "' as a TLS server name",
                         false);
    }
    auto reason = std::make_shared<std::string>();
    if (options_.verify_peer) {
      stream.set_verify_mode(ssl::verify_peer);
      stream.set_verify_callback([check = ssl::host_name_verification(t.host), host = t.host,
                                  reason](bool preverified, ssl::verify_context& ctx) {
        if (!preverified) {
          if (reason->empty()) {
            *reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.native_handle()));
          }
          return false;
        }
        if (!check(preverified, ctx)) {
          if (reason->empty()) *reason = "certificate does not match host name " + host;
          return false;
        }
        return true;
      });
    } else {
      stream.set_verify_mode(ssl::verify_none);
    }
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client,
                                                 asio::as_tuple(asio::use_awaitable));
    if (hec == beast::error::timeout) {
      throw AttemptError(
          Errc::timeout,
          "TLS handshake with " + t.authority + " timed out after " + ms_text(connect_budget),
          true);
    }
    if (hec) {
      std::string why = hec.message();
      if (!reason->empty()) why = "certificate verify failed: " + *reason;
      // A certificate or protocol problem will not go away by asking again; a reset might.
      bool retryable = reason->empty() && hec.category() != asio::error::get_ssl_category();
      throw AttemptError(Errc::unavailable, "TLS handshake with " + t.authority + " failed: " + why,
                         retryable);
    }
  }
  co_return conn;
}

template <class Stream>
asio::awaitable<ClientResponse> HttpClient::Impl::exchange(Stream& stream, Connection& conn,
                                                           const Call& call, bool& keep_alive) {
  const Target& t = call.target;
  auto timed_out = [&](const char* waiting_for) {
    return AttemptError(Errc::timeout,
                        "request to " + t.authority + " timed out after " + ms_text(call.budget) +
                            " " + waiting_for,
                        true);
  };

  conn.tcp().expires_at(call.deadline);
  auto [wec, written] =
      co_await http::async_write(stream, call.message, asio::as_tuple(asio::use_awaitable));
  (void)written;
  if (wec == beast::error::timeout) throw timed_out("while sending the request");
  if (wec) {
    throw AttemptError(Errc::unavailable,
                       "sending the request to " + t.authority + " failed: " + wec.message(), true,
                       is_connection_lost(wec));
  }

  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHeader);
  parser.body_limit(options_.max_response_body);
  if (call.head) parser.skip(true);
  auto [rec, read] =
      co_await http::async_read(stream, conn.buffer, parser, asio::as_tuple(asio::use_awaitable));
  (void)read;
  if (rec == http::error::body_limit) {
    throw AttemptError(Errc::payload_too_large,
                       "response from " + t.authority + " is larger than the limit of " +
                           std::to_string(options_.max_response_body) + " bytes",
                       false);
  }
  if (rec == http::error::header_limit) {
    throw AttemptError(Errc::headers_too_large,
                       "response headers from " + t.authority + " exceed " +
                           std::to_string(kMaxResponseHeader) + " bytes",
                       false);
  }
  // The call's deadline timer cancels the read: that is a timeout too, not a broken link.
  if (rec == beast::error::timeout ||
      (rec == asio::error::operation_aborted && Clock::now() >= call.deadline)) {
    throw timed_out("waiting for the response");
  }
  if (rec) {
    bool nothing_received = !parser.got_some() && conn.buffer.size() == 0;
    throw AttemptError(Errc::unavailable,
                       "reading the response from " + t.authority + " failed: " + rec.message(),
                       true, nothing_received && is_connection_lost(rec));
  }

  auto res = parser.release();
  // Leftover bytes would be read as the next response: such a connection is not reusable.
  keep_alive = res.keep_alive() && conn.buffer.size() == 0;
  ClientResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(res.body());
  co_return out;
}

asio::awaitable<ClientResponse> HttpClient::Impl::attempt(const Call& call) {
  const PoolKey key{call.target.tls, call.target.host, call.target.port};
  // A pooled connection that dies before any byte of the answer arrives was closed by the server
  // while idle (the peek in acquire() cannot see a close that races with our write), so the
  // request goes out again, on the next pooled or a fresh connection. Nothing was answered, so
  // this is done even for requests that are not retry_safe. A fresh connection is never retried
  // here: that is the caller's retry policy.
  for (;;) {
    auto conn = acquire(key);
    const bool reused = conn != nullptr;
    if (!conn) conn = co_await connect(call);
    bool keep_alive = false;
    std::optional<ClientResponse> response;
    try {
      if (conn->tls) {
        response = co_await exchange(*conn->tls, *conn, call, keep_alive);
      } else {
        response = co_await exchange(*conn->plain, *conn, call, keep_alive);
      }
    } catch (const AttemptError& e) {
      if (reused && e.stale() && Clock::now() < call.deadline) continue;
      throw;
    }
    if (keep_alive) release(key, std::move(conn));
    co_return std::move(*response);
  }
}

asio::awaitable<ClientResponse> HttpClient::Impl::run(std::shared_ptr<Impl> self,
                                                      ClientRequest req) {
  Call call;
  call.target = parse_target(req.url);
  call.message = self->build_message(req, call.target);
  call.head = call.message.method() == http::verb::head;
  call.budget = req.timeout.value_or(self->options_.total_timeout);
  if (call.budget <= milliseconds::zero()) {
    throw Error(Errc::invalid_argument,
                "request timeout must be positive, got " + ms_text(call.budget));
  }
  call.deadline = Clock::now() + call.budget;

  const int max_attempts = req.retry_safe ? std::max(1, self->options_.max_attempts) : 1;
  milliseconds pause = kFirstBackoff;
  for (int attempt = 1;; ++attempt) {
    std::optional<ClientResponse> response;
    std::optional<AttemptError> failure;
    try {
      response = co_await self->attempt(call);
    } catch (const AttemptError& e) {
      if (!e.retryable() || attempt >= max_attempts) throw;
      failure = e;
    }
    if (response && (!is_retry_status(response->status) || attempt >= max_attempts)) {
      co_return std::move(*response);
    }
    // The deadline covers every attempt: with no time left for another one, the last answer or
    // error stands.
    if (Clock::now() + pause >= call.deadline) {
      if (response) co_return std::move(*response);
      throw *failure;
    }
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(pause);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    pause = std::min(pause * 2, kMaxBackoff);
  }
}

std::optional<std::string_view> ClientResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

nlohmann::json ClientResponse::json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(Errc::invalid_argument, "response body (HTTP " + std::to_string(status) +
                                            ") is not valid JSON at byte " +
                                            std::to_string(e.byte) + ": " + e.what());
  }
}

HttpClient::HttpClient(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

HttpClient::~HttpClient() {
  impl_->drop_idle();
}

asio::awaitable<ClientResponse> HttpClient::request(ClientRequest request) {
  return Impl::run(impl_, std::move(request));
}

asio::awaitable<ClientResponse> HttpClient::get_json(std::string url, HeaderList headers) {
  ClientRequest req;
  req.url = std::move(url);
  req.headers = std::move(headers);
  req.headers.emplace_back("Accept", "application/json");
  req.retry_safe = true;  // a GET is idempotent by definition
  return Impl::run(impl_, std::move(req));
}

asio::awaitable<ClientResponse> HttpClient::post_json(std::string url, nlohmann::json body,
                                                      HeaderList headers) {
  ClientRequest req;
  req.method = "POST";
  req.url = std::move(url);
  req.headers = std::move(headers);
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = body.dump();
  return Impl::run(impl_, std::move(req));
}

std::size_t HttpClient::idle_connections() const {
  return impl_->idle_count();
}

}  // namespace waddle::net
