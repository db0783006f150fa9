#include "fakes/twitch_helix_server.hpp"

#include <algorithm>
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "fakes/twitch_irc_server.hpp"  // make_self_signed_identity
#include "net/http.hpp"

namespace waddle::fakes {

namespace asio = boost::asio;
using asio::ip::tcp;
using json = nlohmann::json;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxRequest = 1024 * 1024;

constexpr const char* kScopes[] = {"chat:read",
                                   "chat:edit",
                                   "user:read:chat",
                                   "user:write:chat",
                                   "user:bot",
                                   "user:manage:whispers",
                                   "moderator:manage:chat_messages",
                                   "moderator:manage:banned_users",
                                   "channel:manage:vips",
                                   "channel:manage:moderators",
                                   "moderator:read:followers",
                                   "channel:read:subscriptions",
                                   "bits:read"};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339_now() {
  std::time_t t = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return text;
}

void parse_params(std::string_view text, std::multimap<std::string, std::string>& out) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('&', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view pair = text.substr(start, end - start);
    std::size_t eq = pair.find('=');
    auto name = net::percent_decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>("")
                                              : net::percent_decode(pair.substr(eq + 1), true);
    if (name && value && !name->empty()) out.emplace(*name, *value);
    start = end + 1;
  }
}

struct Answer {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

Answer json_answer(int status, const json& body) {
  return {status, body.dump(), {}};
}

// Twitch's error shape.
Answer twitch_error(int status, const std::string& error, const std::string& message) {
  return json_answer(status, {{"error", error}, {"status", status}, {"message", message}});
}

const char* reason_of(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    default: return "Status";
  }
}

struct TokenRecord {
  std::string login;  // empty: an app token
  bool valid = true;
};

struct Subscription {
  std::string id;
  json body;
};

}  // namespace

std::string HelixRequest::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

json HelixRequest::json() const {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(nullptr) : parsed;
}

struct FakeTwitchHelixServer::State : std::enable_shared_from_this<FakeTwitchHelixServer::State> {
  State(asio::io_context& io_context, TwitchHelixConfig c)
      : io(io_context), acceptor(io_context), ssl(asio::ssl::context::tls_server), config(c) {}

  // ---- protocol (called with mutex held) --------------------------------------------------

  std::string new_access(const std::string& login) {
    std::string token = (login.empty() ? "app-" : "user-") + std::to_string(++serial) + "-access";
    tokens[token] = {login, true};
    return token;
  }
  std::pair<std::string, std::string> new_pair(const std::string& login) {
    if (!users.count(login)) users[login] = std::to_string(90000 + users.size());
    std::string access = new_access(login);
    std::string refresh = "refresh-" + std::to_string(++serial);
    refresh_tokens[refresh] = login;
    latest_refresh[login] = refresh;
    latest_access[login] = access;
    return {access, refresh};
  }
  json scopes_json() const {
    json out = json::array();
    for (const char* scope : kScopes) out.push_back(scope);
    return out;
  }

  Answer token(const HelixRequest& r) {
    if (r.param("client_id") != config.client_id) {
      return json_answer(400, {{"status", 400}, {"message", "invalid client"}});
    }
    if (r.param("client_secret") != config.client_secret) {
      return json_answer(403, {{"status", 403}, {"message", "invalid client secret"}});
    }
    const std::string grant = r.param("grant_type");
    if (grant == "client_credentials") {
      return json_answer(
          200,
          {{"access_token", new_access("")}, {"expires_in", 5011271}, {"token_type", "bearer"}});
    }
    std::string login;
    if (grant == "refresh_token") {
      auto it = refresh_tokens.find(r.param("refresh_token"));
      if (it == refresh_tokens.end()) {
        return twitch_error(400, "Bad Request", "Invalid refresh token");
      }
      login = it->second;
      refresh_tokens.erase(it);  // rotating, like a refresh token that changed
    } else if (grant == "authorization_code") {
      auto it = codes.find(r.param("code"));
      if (it == codes.end())
        return json_answer(400, {{"status", 400}, {"message", "Invalid authorization code"}});
      if (r.param("redirect_uri").empty()) {
        return json_answer(
            400,
            {{"status", 400}, {"message", "Parameter redirect_uri does not match registered URI"}});
      }
      login = it->second;
      codes.erase(it);
    } else {
      return json_answer(400, {{"status", 400}, {"message", "unsupported grant type"}});
    }
    auto [access, refresh] = new_pair(login);
    return json_answer(200, {{"access_token", access},
                             {"expires_in", 14400},
                             {"refresh_token", refresh},
                             {"scope", scopes_json()},
                             {"token_type", "bearer"}});
  }

  Answer validate(const HelixRequest& r) {
    std::string auth = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    std::string token;
    if (auth.rfind("OAuth ", 0) == 0) token = auth.substr(6);
    if (auth.rfind("Bearer ", 0) == 0) token = auth.substr(7);
    auto it = tokens.find(token);
    if (it == tokens.end() || !it->second.valid) {
      return json_answer(401, {{"status", 401}, {"message", "invalid access token"}});
    }
    if (it->second.login.empty()) {
      return json_answer(
          200,
          {{"client_id", config.client_id}, {"scopes", json::array()}, {"expires_in", 5011271}});
    }
    return json_answer(200, {{"client_id", config.client_id},
                             {"login", it->second.login},
                             {"scopes", scopes_json()},
                             {"user_id", users[it->second.login]},
                             {"expires_in", 14000}});
  }

  Answer helix(const HelixRequest& r) {
    if (rate_limited > 0) {
      --rate_limited;
      Answer a = twitch_error(429, "Too Many Requests", "");
      a.headers = {{"Ratelimit-Limit", "800"},
                   {"Ratelimit-Remaining", "0"},
                   {"Ratelimit-Reset", std::to_string(unix_now() + 1)}};
      return a;
    }
    Answer a = helix_call(r);
    a.headers.emplace_back("Ratelimit-Limit", "800");
    a.headers.emplace_back("Ratelimit-Remaining", "799");
    a.headers.emplace_back("Ratelimit-Reset", std::to_string(unix_now() + 1));
    return a;
  }

  Answer helix_call(const HelixRequest& r) {
    auto header = [&](const char* name) {
      auto it = r.headers.find(name);
      return it == r.headers.end() ? std::string() : it->second;
    };
    const std::string auth = header("authorization");
    if (auth.rfind("Bearer ", 0) != 0) {
      return twitch_error(401, "Unauthorized", "OAuth token is missing");
    }
    auto token = tokens.find(auth.substr(7));
    if (token == tokens.end() || !token->second.valid) {
      Answer a = twitch_error(401, "Unauthorized", "Invalid OAuth token");
      a.headers.emplace_back("WWW-Authenticate",
                             "OAuth realm=\"TwitchTV\", error=\"invalid_token\"");
      return a;
    }
    if (header("client-id") != config.client_id) {
      return twitch_error(401, "Unauthorized", "Client ID and OAuth token do not match");
    }
    const std::string login = token->second.login;
    const std::string user_id = login.empty() ? std::string() : users[login];
    const std::string path = r.path.substr(6);  // without "/helix"
    const std::string& m = r.method;
    auto needs_user = [&]() -> std::optional<Answer> {
      if (login.empty()) return twitch_error(401, "Unauthorized", "Missing user token");
      return std::nullopt;
    };
    auto missing = [&](std::initializer_list<const char*> names) -> std::optional<Answer> {
      for (const char* name : names) {
        if (r.param(name).empty()) {
          return twitch_error(400, "Bad Request",
                              std::string("Missing required parameter \"") + name + "\"");
        }
      }
      return std::nullopt;
    };

    if (path == "/users" && m == "GET") {
      json data = json::array();
      for (const auto& [name, value] : r.params) {
        for (const auto& [user, id] : users) {
          if ((name == "login" && value == user) || (name == "id" && value == id)) {
            data.push_back({{"id", id},
                            {"login", user},
                            {"display_name", user},
                            {"type", ""},
                            {"broadcaster_type", ""},
                            {"description", ""},
                            {"profile_image_url", ""},
                            {"offline_image_url", ""},
                            {"view_count", 0},
                            {"created_at", "2020-01-01T00:00:00Z"}});
          }
        }
      }
      return json_answer(200, {{"data", data}});
    }
    if (path == "/moderation/chat" && m == "DELETE") {
      if (auto e = needs_user()) return *e;
      if (auto e = missing({"broadcaster_id", "moderator_id"})) return *e;
      if (r.param("moderator_id") != user_id) {
        return twitch_error(403, "Forbidden",
                            "The user in moderator_id is not one of the broadcaster's moderators");
      }
      return {204, "", {}};
    }
    if (path == "/moderation/bans" && m == "POST") {
      if (auto e = needs_user()) return *e;
      if (auto e = missing({"broadcaster_id", "moderator_id"})) return *e;
      json body = r.json();
      if (!body.is_object() || !body.contains("data") || !body["data"].is_object() ||
          !body["data"].value("user_id", json()).is_string()) {
        return twitch_error(400, "Bad Request", "Missing required field data.user_id");
      }
      const json& data = body["data"];
      json end_time = nullptr;
      if (data.contains("duration")) {
        if (!data["duration"].is_number_integer() || data["duration"].get<int>() < 1 ||
            data["duration"].get<int>() > 1209600) {
          return twitch_error(400, "Bad Request", "The value in the duration field is not valid");
        }
        end_time = rfc3339_now();
      }
      return json_answer(200, {{"data",
                                {{{"broadcaster_id", r.param("broadcaster_id")},
                                  {"moderator_id", r.param("moderator_id")},
                                  {"user_id", data["user_id"]},
                                  {"created_at", rfc3339_now()},
                                  {"end_time", end_time}}}}});
    }
    if (path == "/whispers" && m == "POST") {
      if (auto e = needs_user()) return *e;
      if (auto e = missing({"from_user_id", "to_user_id"})) return *e;
      if (r.param("from_user_id") != user_id) {
        return twitch_error(401, "Unauthorized",
                            "The ID in from_user_id must match the user ID in the access token");
      }
      json body = r.json();
      if (!body.is_object() || !body.value("message", json()).is_string() ||
          body["message"].get<std::string>().empty()) {
        return twitch_error(400, "Bad Request", "The message field must not be empty");
      }
      return {204, "", {}};
    }
    if (path == "/chat/messages" && m == "POST") {
      if (auto e = needs_user()) return *e;
      json body = r.json();
      for (const char* field : {"broadcaster_id", "sender_id", "message"}) {
        if (!body.is_object() || !body.value(field, json()).is_string()) {
          return twitch_error(400, "Bad Request",
                              std::string("Missing required parameter \"") + field + "\"");
        }
      }
      if (body["message"].get<std::string>().size() > 500) {
        return twitch_error(422, "Unprocessable Entity", "message is too large");
      }
      json drop = nullptr;
      if (!drop_code.empty()) {
        drop = {{"code", drop_code}, {"message", "Your message was not sent (" + drop_code + ")"}};
      }
      return json_answer(
          200, {{"data",
                 {{{"message_id", drop_code.empty() ? "msg-" + std::to_string(++serial) : ""},
                   {"is_sent", drop_code.empty()},
                   {"drop_reason", drop}}}}});
    }
    if ((path == "/channels/vips" || path == "/moderation/moderators") &&
        (m == "POST" || m == "DELETE")) {
      if (auto e = needs_user()) return *e;
      if (auto e = missing({"broadcaster_id", "user_id"})) return *e;
      return {204, "", {}};
    }
    if (path == "/eventsub/subscriptions") {
      if (!login.empty()) {
        return twitch_error(400, "Bad Request", "invalid transport and auth combination");
      }
      if (m == "POST") {
        json body = r.json();
        if (!body.is_object() || !body.value("type", json()).is_string() ||
            !body.value("version", json()).is_string() ||
            !body.value("condition", json()).is_object() ||
            !body.value("transport", json()).is_object()) {
          return twitch_error(400, "Bad Request",
                              "type, version, condition and transport are required");
        }
        if (auto e = check_condition(body)) return *e;
        const json& transport = body["transport"];
        const std::string secret = transport.value("secret", "");
        if (transport.value("method", "") != "webhook" ||
            transport.value("callback", "").rfind("https://", 0) != 0 || secret.size() < 10 ||
            secret.size() > 100) {
          return twitch_error(400, "Bad Request", "invalid transport");
        }
        for (const auto& existing : subscriptions) {
          if (existing.body["type"] == body["type"] &&
              existing.body["condition"] == body["condition"]) {
            return twitch_error(409, "Conflict", "subscription already exists");
          }
        }
        Subscription s;
        s.id = "sub-" + std::to_string(++serial);
        s.body = {{"id", s.id},
                  {"status", "webhook_callback_verification_pending"},
                  {"type", body["type"]},
                  {"version", body["version"]},
                  {"condition", body["condition"]},
                  {"created_at", rfc3339_now()},
                  {"transport", {{"method", "webhook"}, {"callback", transport["callback"]}}},
                  {"cost", 1}};
        subscriptions.push_back(s);
        return json_answer(202, {{"data", {s.body}},
                                 {"total", subscriptions.size()},
                                 {"total_cost", subscriptions.size()},
                                 {"max_total_cost", 10000}});
      }
      if (m == "GET") {
        json data = json::array();
        for (const auto& s : subscriptions) data.push_back(s.body);
        return json_answer(200, {{"data", data},
                                 {"total", subscriptions.size()},
                                 {"total_cost", subscriptions.size()},
                                 {"max_total_cost", 10000},
                                 {"pagination", json::object()}});
      }
      if (m == "DELETE") {
        if (auto e = missing({"id"})) return *e;
        auto it = std::find_if(subscriptions.begin(), subscriptions.end(),
                               [&](const Subscription& s) { return s.id == r.param("id"); });
        if (it == subscriptions.end())
          return twitch_error(404, "Not Found", "subscription not found");
        subscriptions.erase(it);
        return {204, "", {}};
      }
    }
    return twitch_error(404, "Not Found", "");
  }

  // The condition keys each type and version needs (Twitch's 400 otherwise); a type the fake
  // does not know is refused, so a typo in the collector shows up in tests.
  static std::optional<Answer> check_condition(const json& body) {
    static const std::map<std::string, std::vector<std::string>> required = {
        {"channel.follow/2", {"broadcaster_user_id", "moderator_user_id"}},
        {"channel.subscribe/1", {"broadcaster_user_id"}},
        {"channel.subscription.gift/1", {"broadcaster_user_id"}},
        {"channel.subscription.message/1", {"broadcaster_user_id"}},
        {"channel.cheer/1", {"broadcaster_user_id"}},
        {"channel.raid/1", {"to_broadcaster_user_id"}},
        {"stream.online/1", {"broadcaster_user_id"}},
        {"stream.offline/1", {"broadcaster_user_id"}},
        {"channel.chat.message/1", {"broadcaster_user_id", "user_id"}}};
    auto it =
        required.find(body["type"].get<std::string>() + "/" + body["version"].get<std::string>());
    if (it == required.end()) {
      return twitch_error(400, "Bad Request", "unknown subscription type or version");
    }
    const json& condition = body["condition"];
    for (const auto& name : it->second) {
      if (!condition.contains(name) || !condition[name].is_string() ||
          condition[name].get<std::string>().empty()) {
        return twitch_error(400, "Bad Request", "condition." + name + " is required");
      }
    }
    for (const auto& [name, value] : condition.items()) {
      if (std::find(it->second.begin(), it->second.end(), name) == it->second.end()) {
        return twitch_error(400, "Bad Request", "condition." + name + " is not allowed");
      }
    }
    return std::nullopt;
  }

  Answer handle(HelixRequest& r) {
    std::lock_guard lock(mutex);
    parse_params(r.query, r.params);
    if (r.path == "/oauth2/token" && r.method == "POST") {
      parse_params(r.body, r.params);
      requests.push_back(r);
      return token(r);
    }
    requests.push_back(r);
    if (r.path == "/oauth2/validate" && r.method == "GET") return validate(r);
    if (r.path.rfind("/helix/", 0) == 0) return helix(r);
    return twitch_error(404, "Not Found", "");
  }

  // ---- I/O ----------------------------------------------------------------------------------

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(kUseTuple);
      if (ec) break;
      auto stream = std::make_shared<asio::ssl::stream<tcp::socket>>(std::move(socket), ssl);
      {
        std::lock_guard lock(mutex);
        ++accepted;
        streams.push_back(stream);
      }
      asio::co_spawn(io, serve(stream), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<asio::ssl::stream<tcp::socket>> stream) {
    auto self = shared_from_this();
    auto [handshake_ec] =
        co_await stream->async_handshake(asio::ssl::stream_base::server, kUseTuple);
    if (handshake_ec) co_return;
    std::string buffer;
    char chunk[8192];
    for (;;) {
      std::size_t head_end;
      while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (buffer.size() > kMaxRequest) co_return;
        auto [ec, n] = co_await stream->async_read_some(asio::buffer(chunk), kUseTuple);
        if (ec) co_return;
        buffer.append(chunk, n);
      }
      HelixRequest request;
      std::string head = buffer.substr(0, head_end);
      std::size_t line_end = head.find("\r\n");
      std::string request_line = head.substr(0, line_end);
      std::size_t sp1 = request_line.find(' ');
      std::size_t sp2 = request_line.find(' ', sp1 + 1);
      if (sp1 == std::string::npos || sp2 == std::string::npos) co_return;
      request.method = request_line.substr(0, sp1);
      std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      std::size_t q = target.find('?');
      request.path = target.substr(0, q);
      if (q != std::string::npos) request.query = target.substr(q + 1);
      std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        std::size_t end = head.find("\r\n", pos);
        if (end == std::string::npos) end = head.size();
        std::string field = head.substr(pos, end - pos);
        std::size_t colon = field.find(':');
        if (colon != std::string::npos) {
          std::string value = field.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          request.headers[lower(field.substr(0, colon))] = value;
        }
        pos = end + 2;
      }
      std::size_t length = 0;
      if (auto it = request.headers.find("content-length"); it != request.headers.end()) {
        length = std::stoul(it->second);
      }
      if (length > kMaxRequest) co_return;
      while (buffer.size() < head_end + 4 + length) {
        auto [ec, n] = co_await stream->async_read_some(asio::buffer(chunk), kUseTuple);
        if (ec) co_return;
        buffer.append(chunk, n);
      }
      request.body = buffer.substr(head_end + 4, length);
      buffer.erase(0, head_end + 4 + length);

      Answer answer = handle(request);
      std::string out = "HTTP/1.1 " + std::to_string(answer.status) + " " +
                        reason_of(answer.status) + "\r\nServer: fake-twitch-helix\r\n";
      if (answer.status != 204) {
        out += "Content-Type: application/json\r\nContent-Length: " +
               std::to_string(answer.body.size()) + "\r\n";
      }
      for (const auto& [name, value] : answer.headers) out += name + ": " + value + "\r\n";
      const bool close = lower(request.headers["connection"]) == "close";
      if (close) out += "Connection: close\r\n";
      out += "\r\n";
      if (answer.status != 204) out += answer.body;
      auto [write_ec, written] = co_await asio::async_write(*stream, asio::buffer(out), kUseTuple);
      (void)written;
      if (write_ec || close) co_return;
    }
  }

  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::ssl::context ssl;
  TwitchHelixConfig config;
  TlsIdentity identity;
  std::uint16_t port = 0;

  mutable std::mutex mutex;
  std::list<std::weak_ptr<asio::ssl::stream<tcp::socket>>> streams;
  std::map<std::string, std::string> users;  // login → id
  std::map<std::string, TokenRecord> tokens;
  std::map<std::string, std::string> refresh_tokens;  // valid refresh → login
  std::map<std::string, std::string> latest_refresh, latest_access;
  std::map<std::string, std::string> codes;
  std::vector<Subscription> subscriptions;
  std::vector<HelixRequest> requests;
  std::size_t rate_limited = 0;
  std::string drop_code;
  std::size_t serial = 0;
  std::size_t accepted = 0;
};

FakeTwitchHelixServer::FakeTwitchHelixServer(asio::io_context& io, TwitchHelixConfig config)
    : state_(std::make_shared<State>(io, std::move(config))) {}

FakeTwitchHelixServer::~FakeTwitchHelixServer() {
  stop();
}

std::uint16_t FakeTwitchHelixServer::start() {
  state_->identity = make_self_signed_identity();
  state_->ssl.use_certificate_chain(asio::buffer(state_->identity.certificate_pem));
  state_->ssl.use_private_key(asio::buffer(state_->identity.private_key_pem),
                              asio::ssl::context::pem);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  state_->port = state_->acceptor.local_endpoint().port();
  asio::co_spawn(state_->io, state_->accept_loop(), asio::detached);
  return state_->port;
}

void FakeTwitchHelixServer::stop() {
  // Runs on the io_context's thread (or after it stopped): the acceptor and sockets are its.
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  std::lock_guard lock(state_->mutex);
  for (auto& weak : state_->streams) {
    if (auto stream = weak.lock()) {
      stream->next_layer().shutdown(tcp::socket::shutdown_both, ignored);
      stream->next_layer().close(ignored);
    }
  }
  state_->streams.clear();
}

std::string FakeTwitchHelixServer::certificate_pem() const {
  return state_->identity.certificate_pem;
}

std::string FakeTwitchHelixServer::helix_url() const {
  return "https://127.0.0.1:" + std::to_string(state_->port) + "/helix";
}

std::string FakeTwitchHelixServer::auth_url() const {
  return "https://127.0.0.1:" + std::to_string(state_->port) + "/oauth2";
}

void FakeTwitchHelixServer::add_user(const std::string& login, const std::string& id) {
  std::lock_guard lock(state_->mutex);
  state_->users[login] = id;
}

std::pair<std::string, std::string> FakeTwitchHelixServer::issue_user_token(
    const std::string& login) {
  std::lock_guard lock(state_->mutex);
  return state_->new_pair(login);
}

void FakeTwitchHelixServer::add_authorization_code(const std::string& code,
                                                   const std::string& login) {
  std::lock_guard lock(state_->mutex);
  if (!state_->users.count(login))
    state_->users[login] = std::to_string(90000 + state_->users.size());
  state_->codes[code] = login;
}

void FakeTwitchHelixServer::expire_access_token(const std::string& access_token) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->tokens.find(access_token);
  if (it != state_->tokens.end()) it->second.valid = false;
}

void FakeTwitchHelixServer::expire_all_access_tokens() {
  std::lock_guard lock(state_->mutex);
  for (auto& [token, record] : state_->tokens) record.valid = false;
}

void FakeTwitchHelixServer::rate_limit_next(std::size_t count) {
  std::lock_guard lock(state_->mutex);
  state_->rate_limited = count;
}

void FakeTwitchHelixServer::drop_chat_messages(const std::string& code) {
  std::lock_guard lock(state_->mutex);
  state_->drop_code = code;
}

json FakeTwitchHelixServer::subscriptions() const {
  std::lock_guard lock(state_->mutex);
  json out = json::array();
  for (const auto& s : state_->subscriptions) out.push_back(s.body);
  return out;
}

bool FakeTwitchHelixServer::set_subscription_status(const std::string& id,
                                                    const std::string& status) {
  std::lock_guard lock(state_->mutex);
  for (auto& s : state_->subscriptions) {
    if (s.id == id) {
      s.body["status"] = status;
      return true;
    }
  }
  return false;
}

std::string FakeTwitchHelixServer::refresh_token_of(const std::string& login) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->latest_refresh.find(login);
  if (it == state_->latest_refresh.end() || !state_->refresh_tokens.count(it->second)) return {};
  return it->second;
}

std::string FakeTwitchHelixServer::access_token_of(const std::string& login) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->latest_access.find(login);
  return it == state_->latest_access.end() ? std::string() : it->second;
}

std::vector<HelixRequest> FakeTwitchHelixServer::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

std::size_t FakeTwitchHelixServer::count(std::string_view method, std::string_view path) const {
  std::lock_guard lock(state_->mutex);
  return static_cast<std::size_t>(
      std::count_if(state_->requests.begin(), state_->requests.end(),
                    [&](const HelixRequest& r) { return r.method == method && r.path == path; }));
}

std::size_t FakeTwitchHelixServer::accepted_connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->accepted;
}

}  // namespace waddle::fakes
