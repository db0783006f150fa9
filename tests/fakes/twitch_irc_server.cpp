#include "fakes/twitch_irc_server.hpp"

#include <deque>
#include <list>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace waddle::fakes {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("self-signed certificate: ") + what + " failed");
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

TlsIdentity make_self_signed_identity() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  check(key != nullptr, "EVP_PKEY_Q_keygen");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1, "serial");
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  check(X509_set_pubkey(cert.get(), key.get()) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                   0) == 1,
        "subject");
  check(X509_set_issuer_name(cert.get(), name) == 1, "issuer");
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    check(ext != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");

  TlsIdentity identity;
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  check(PEM_write_bio_X509(cert_bio.get(), cert.get()) == 1, "PEM_write_bio_X509");
  identity.certificate_pem = bio_text(cert_bio.get());
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  check(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
            1,
        "PEM_write_bio_PrivateKey");
  identity.private_key_pem = bio_text(key_bio.get());
  return identity;
}

struct ServerConnection {
  ServerConnection(tcp::socket socket, asio::ssl::context& ssl, std::size_t n)
      : stream(std::move(socket), ssl), wake(stream.get_executor()), number(n) {}

  void close() {
    if (!open) return;
    open = false;
    boost::system::error_code ignored;
    stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream.next_layer().close(ignored);
    wake.cancel();
  }
  void send(std::string line) {
    if (!open) return;
    outbox.push_back(std::move(line) + "\r\n");
    wake.cancel();
  }

  asio::ssl::stream<tcp::socket> stream;
  asio::steady_timer wake;
  std::deque<std::string> outbox;
  std::size_t number;
  bool open = true;
  bool logged_in = false;
  bool close_after_flush = false;
  std::string token;
  std::string nick;
};

struct FakeTwitchIrcServer::State : std::enable_shared_from_this<FakeTwitchIrcServer::State> {
  State(asio::io_context& io_context, TwitchIrcBehaviour b)
      : io(io_context), acceptor(io_context), ssl(asio::ssl::context::tls_server), behaviour(b) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
      if (ec) break;
      auto conn = std::make_shared<ServerConnection>(std::move(socket), ssl, ++accepted);
      connections.push_back(conn);
      asio::co_spawn(io, serve(conn), asio::detached);
    }
  }

  asio::awaitable<void> write_loop(std::shared_ptr<ServerConnection> conn) {
    auto self = shared_from_this();
    while (conn->open) {
      if (conn->outbox.empty()) {
        if (conn->close_after_flush) {
          conn->close();
          break;
        }
        conn->wake.expires_at(asio::steady_timer::time_point::max());
        co_await conn->wake.async_wait(kUseTuple);
        continue;
      }
      std::string line = std::move(conn->outbox.front());
      conn->outbox.pop_front();
      auto [ec, n] = co_await asio::async_write(conn->stream, asio::buffer(line), kUseTuple);
      (void)n;
      if (ec) conn->close();
    }
  }

  void handle(ServerConnection& conn, const std::string& line) {
    lines.push_back({conn.number, line, std::chrono::steady_clock::now()});
    auto param = [&](std::size_t start) { return line.substr(std::min(start, line.size())); };
    if (line.rfind("CAP REQ :", 0) == 0) {
      conn.send(":tmi.twitch.tv CAP * ACK :" + param(9));
    } else if (line.rfind("PASS ", 0) == 0) {
      conn.token = param(5);
    } else if (line.rfind("NICK ", 0) == 0) {
      conn.nick = param(5);
      if (behaviour.refuse_login || conn.token.rfind("oauth:", 0) != 0 ||
          (!behaviour.refused_token.empty() && conn.token == "oauth:" + behaviour.refused_token)) {
        conn.send(":tmi.twitch.tv NOTICE * :Login authentication failed");
        conn.close_after_flush = true;
        return;
      }
      for (std::string_view numeric : {"001", "002", "003", "004", "375", "372"}) {
        conn.send(":tmi.twitch.tv " + std::string(numeric) + " " + conn.nick + " :-");
      }
      conn.send(":tmi.twitch.tv 376 " + conn.nick + " :>");
      conn.logged_in = true;
    } else if (line.rfind("JOIN ", 0) == 0 || line.rfind("PART ", 0) == 0) {
      std::string verb = line.substr(0, 4);
      std::string channels = param(5);
      std::size_t start = 0;
      while (start < channels.size()) {
        std::size_t comma = channels.find(',', start);
        std::string channel = channels.substr(start, comma - start);
        conn.send(":" + conn.nick + "!" + conn.nick + "@" + conn.nick + ".tmi.twitch.tv " + verb +
                  " " + channel);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (line.rfind("PING", 0) == 0 && behaviour.answer_pings) {
      std::string text = line.size() > 6 ? line.substr(6) : "tmi.twitch.tv";
      conn.send(":tmi.twitch.tv PONG tmi.twitch.tv :" + text);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<ServerConnection> conn) {
    auto self = shared_from_this();
    auto [handshake_ec] =
        co_await conn->stream.async_handshake(asio::ssl::stream_base::server, kUseTuple);
    if (handshake_ec) {
      conn->close();
      co_return;
    }
    asio::co_spawn(io, write_loop(conn), asio::detached);
    std::string pending;
    char buffer[4096];
    while (conn->open) {
      auto [ec, n] = co_await conn->stream.async_read_some(asio::buffer(buffer), kUseTuple);
      if (ec) break;
      pending.append(buffer, n);
      std::size_t newline;
      while ((newline = pending.find("\r\n")) != std::string::npos) {
        std::string line = pending.substr(0, newline);
        pending.erase(0, newline + 2);
        handle(*conn, line);
      }
    }
    conn->close();
  }

  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::ssl::context ssl;
  TwitchIrcBehaviour behaviour;
  TlsIdentity identity;
  std::list<std::shared_ptr<ServerConnection>> connections;
  std::vector<Line> lines;
  std::size_t accepted = 0;
};

FakeTwitchIrcServer::FakeTwitchIrcServer(asio::io_context& io, TwitchIrcBehaviour behaviour)
    : state_(std::make_shared<State>(io, behaviour)) {}

FakeTwitchIrcServer::~FakeTwitchIrcServer() {
  stop();
}

std::uint16_t FakeTwitchIrcServer::start() {
  state_->identity = make_self_signed_identity();
  state_->ssl.use_certificate_chain(asio::buffer(state_->identity.certificate_pem));
  state_->ssl.use_private_key(asio::buffer(state_->identity.private_key_pem),
                              asio::ssl::context::pem);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  asio::co_spawn(state_->io, state_->accept_loop(), asio::detached);
  return state_->acceptor.local_endpoint().port();
}

void FakeTwitchIrcServer::stop() {
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  drop_all();
}

const std::string& FakeTwitchIrcServer::certificate_pem() const {
  return state_->identity.certificate_pem;
}

TwitchIrcBehaviour& FakeTwitchIrcServer::behaviour() {
  return state_->behaviour;
}

const std::vector<FakeTwitchIrcServer::Line>& FakeTwitchIrcServer::lines() const {
  return state_->lines;
}

std::vector<std::string> FakeTwitchIrcServer::lines_of(std::size_t connection,
                                                       std::string_view prefix) const {
  std::vector<std::string> out;
  for (const auto& line : state_->lines) {
    if (line.connection == connection && line.text.rfind(prefix, 0) == 0) out.push_back(line.text);
  }
  return out;
}

std::size_t FakeTwitchIrcServer::accepted() const {
  return state_->accepted;
}

std::size_t FakeTwitchIrcServer::open_connections() const {
  std::size_t n = 0;
  for (const auto& conn : state_->connections) n += conn->open ? 1 : 0;
  return n;
}

std::size_t FakeTwitchIrcServer::logged_in() const {
  std::size_t n = 0;
  for (const auto& conn : state_->connections) n += conn->open && conn->logged_in ? 1 : 0;
  return n;
}

void FakeTwitchIrcServer::send_to_all(std::string_view line) {
  for (const auto& conn : state_->connections) {
    if (conn->open && conn->logged_in) conn->send(std::string(line));
  }
}

void FakeTwitchIrcServer::drop_all() {
  for (const auto& conn : state_->connections) conn->close();
}

}  // namespace waddle::fakes
