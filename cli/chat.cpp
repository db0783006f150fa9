// waddle send --entity ID --user NAME MESSAGE | waddle chat --community NAME: the console
// platform. Each message becomes one normalised event (DESIGN.md §2.1) posted to the router's
// POST /router/events, and the actions in its reply are printed: chat text as lines, overlay
// actions as one-line notes, failed module executions on stderr.
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "checks.hpp"
#include "crypto/encoding.hpp"
#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"
#include "model/event.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/router.hpp"
#include "nouns.hpp"

namespace waddle::cli {
namespace {

using checks::refuse;

constexpr const char* kDefaultRouter = "http://127.0.0.1:8000";
constexpr const char* kBotName = "waddlebot";
constexpr std::size_t kMaxNoteBytes = 120;
// The router waits for its modules (each with its own timeout) before it answers.
constexpr std::chrono::seconds kReplyTimeout{60};
// `waddle chat` registers as the console platform's collector again after this long, so a router
// restarted meanwhile (it keeps registrations in memory) still knows where to deliver.
constexpr std::chrono::seconds kRegisterInterval{60};

// What send and chat share: where the router is and how to authenticate.
struct Connection {
  std::string router;        // --router
  std::string api_key_file;  // --api-key-file
};

// One event's author and kind, as given on the command line.
struct Author {
  std::string name;                // --user
  std::string id;                  // --user-id (default: the name)
  std::vector<std::string> roles;  // --role
  std::string message_type = "chatMessage";
};

void add_connection_options(CLI::App* sub, Connection& c) {
  sub->add_option("--router", c.router,
                  std::string("the router's base URL (default: $WADDLE_ROUTER_URL, then ") +
                      kDefaultRouter + ")");
  sub->add_option("--api-key-file", c.api_key_file,
                  "file holding a collector API key (default: $WADDLE_API_KEY, then "
                  "$XDG_CONFIG_HOME/waddlebot/api-key, i.e. ~/.config/waddlebot/api-key)");
}

void add_author_options(CLI::App* sub, Author& a) {
  sub->add_option("--user-id", a.id, "the platform user id (default: the user name)");
  sub->add_option("--role", a.roles,
                  "a platform role such as broadcaster, moderator, vip, subscriber (repeatable "
                  "or comma list)")
      ->allow_extra_args(false);
  sub->add_option("--type", a.message_type,
                  "the event's message_type (chatMessage; follow, subscription, "
                  "raid, … for event-triggered modules)")
      ->capture_default_str();
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// --router, else $WADDLE_ROUTER_URL, else the default; without a trailing slash.
std::string router_url(const Connection& c) {
  std::string url = c.router;
  std::string what = "--router";
  if (url.empty() && !env("WADDLE_ROUTER_URL").empty()) {
    url = env("WADDLE_ROUTER_URL");
    what = "WADDLE_ROUTER_URL";
  }
  if (url.empty()) url = kDefaultRouter;
  checks::require_http_url(what, url);
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

// An API key as it may go into a header: one word of printable ASCII.
void require_key_shape(const std::string& where, const std::string& key) {
  if (key.empty()) refuse(where + " is empty (expected an API key such as wdl_…)");
  if (key.size() > 1024) refuse(where + " is too long to be an API key");
  for (unsigned char c : key) {
    if (c <= 0x20 || c >= 0x7f) {
      refuse(where + " does not hold one API key (one line, no spaces; expected wdl_…)");
    }
  }
}

std::string trim(std::string s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// The key in `path`; nullopt when the file does not exist and `must_exist` is false.
std::optional<std::string> read_key_file(const std::string& what, const std::string& path,
                                         bool must_exist) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (!must_exist && err == ENOENT) return std::nullopt;
    refuse(what + ": cannot read " + path + ": " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto key = trim(text.str());
  require_key_shape(what + " " + path, key);
  return key;
}

std::string default_key_path() {
  auto base = env("XDG_CONFIG_HOME");
  if (base.empty()) {
    auto home = env("HOME");
    if (home.empty()) return "";
    base = home + "/.config";
  }
  return base + "/waddlebot/api-key";
}

// --api-key-file, else $WADDLE_API_KEY, else the per-user key file.
std::string api_key(const Connection& c) {
  if (!c.api_key_file.empty()) return *read_key_file("--api-key-file", c.api_key_file, true);
  if (auto key = env("WADDLE_API_KEY"); !key.empty()) {
    require_key_shape("WADDLE_API_KEY", key);
    return key;
  }
  auto path = default_key_path();
  if (!path.empty()) {
    if (auto key = read_key_file("API key file", path, false)) return *key;
  }
  refuse(
      "no API key for the router: pass --api-key-file FILE, set WADDLE_API_KEY, or save one "
      "in " +
      (path.empty() ? std::string("~/.config/waddlebot/api-key") : path) +
      " (make one with: waddle -q apikey create console --role collector)");
}

// The option a FieldError's field came from, for a message the user can act on.
std::string option_for(const std::string& field, bool id_given) {
  if (field == "user.id") return id_given ? "--user-id" : "--user";
  if (field.rfind("user.roles", 0) == 0) return "--role";
  if (field.rfind("user", 0) == 0) return "--user";
  if (field == "message") return "MESSAGE";
  if (field == "message_type") return "--type";
  if (field == "entity_id" || field == "platform" || field == "server_id" ||
      field == "channel_id") {
    return "--entity";
  }
  return field;
}

// The event for `message` from `author` in `entity_id`, checked by the router's own parser so
// that a bad value is refused here, naming the option.
nlohmann::json make_event(const std::string& entity_id, const Author& author,
                          const std::string& message) {
  checks::require_entity_id("--entity", entity_id);
  auto first = entity_id.find(':');
  auto second = entity_id.find(':', first + 1);
  model::Event event;
  event.event_id = "console:" + crypto::hex_encode(crypto::random_bytes(16));
  event.platform = entity_id.substr(0, first);
  event.message_type = author.message_type;
  event.entity_id = entity_id;
  event.server_id = entity_id.substr(first + 1, second - first - 1);
  event.channel_id = entity_id.substr(second + 1);
  event.user.id = author.id.empty() ? author.name : author.id;
  event.user.name = author.name;
  event.user.display_name = author.name;
  event.user.roles = checks::split_list(author.roles);
  event.message = message;
  event.timestamp = model::now_rfc3339();
  if (message.empty() &&
      (author.message_type == "chatMessage" || author.message_type == "slashCommand")) {
    refuse("MESSAGE: a " + author.message_type + " needs a message");
  }
  auto json = model::to_json(event);
  try {
    (void)model::parse_event(json);
  } catch (const model::FieldError& e) {
    refuse(option_for(e.field(), !author.id.empty()) + ": " + e.reason());
  }
  return json;
}

// Text safe for one terminal line: controls (newlines, escape sequences) become spaces.
std::string one_line(const std::string& text, std::size_t max_bytes = 0) {
  std::string out;
  for (unsigned char c : text) out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  if (max_bytes && out.size() > max_bytes) {
    auto cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
    out = out.substr(0, cut) + "…";
  }
  return out;
}

// A field of an action as text whatever its JSON type (the router's newer fields included).
std::string text_of(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return "";
  const auto& v = object[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// HTML reduced to its text for a one-line note.
std::string strip_tags(const std::string& html) {
  std::string out;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') {
      in_tag = true;
    } else if (c == '>' && in_tag) {
      in_tag = false;
      out += ' ';
    } else if (!in_tag) {
      out += c;
    }
  }
  return out;
}

std::string collapse_spaces(const std::string& text) {
  std::string out;
  for (char c : one_line(text)) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// One line for an action that is not chat: `[ticker] text (10 s)`, `[media] title — artist`.
std::string note_for(const nlohmann::json& action) {
  auto type = text_of(action, "type");
  std::string body;
  if (type == "ticker") {
    body = one_line(text_of(action, "text"), kMaxNoteBytes);
    if (auto d = text_of(action, "duration"); !d.empty()) body += " (" + d + " s)";
  } else if (type == "media") {
    body = text_of(action, "title");
    if (body.empty()) body = text_of(action, "media_url");
    if (auto artist = text_of(action, "artist"); !artist.empty()) body += " — " + artist;
    body = one_line(body, kMaxNoteBytes);
  } else if (type == "general") {
    auto content = text_of(action, "content");
    if (text_of(action, "content_type") != "text") content = strip_tags(content);
    body = one_line(collapse_spaces(content), kMaxNoteBytes);
  } else if (type == "form") {
    body = one_line(text_of(action, "title"), kMaxNoteBytes);
  } else {
    body = one_line(action.dump(), kMaxNoteBytes);
  }
  return "[" + one_line(type.empty() ? "action" : type, 32) + "] " + body;
}

// Prints a 200 reply: chat lines (after `chat_prefix`), notes, and failures on stderr.
void print_reply(Context& ctx, const nlohmann::json& reply, const std::string& chat_prefix) {
  if (reply.value("duplicate", false)) {
    ctx.err() << "! duplicate event " << one_line(text_of(reply, "event_id"))
              << ": the router ignored it\n";
  }
  if (reply.contains("actions") && reply["actions"].is_array()) {
    for (const auto& action : reply["actions"]) {
      if (text_of(action, "type") == "chat") {
        ctx.out() << chat_prefix << one_line(text_of(action, "text")) << '\n';
      } else {
        ctx.out() << note_for(action) << '\n';
      }
    }
  }
  if (reply.contains("executions") && reply["executions"].is_array()) {
    for (const auto& ex : reply["executions"]) {
      auto status = text_of(ex, "status");
      if (status != "failed" && status != "timeout") continue;
      auto error = text_of(ex, "error");
      if (error.empty()) error = status == "timeout" ? "timed out" : "no reason given";
      ctx.err() << "! module " << one_line(text_of(ex, "module"), 64)
                << " failed: " << one_line(error, 300) << '\n';
    }
  }
  ctx.out().flush();
}

// The router's answer to one event, or the Error a person should see.
class RouterClient {
 public:
  RouterClient(std::string router, std::string key)
      : router_(std::move(router)),
        key_(std::move(key)),
        client_(io_.get_executor(), net::ClientOptions{.total_timeout = kReplyTimeout}) {}

  const std::string& url() const { return router_; }

  // Posts `event`; the parsed 200 reply, or Error: invalid_argument for 400/401/403/413,
  // not_found for 404 (with `not_found_hint` appended), unavailable otherwise.
  nlohmann::json post(const nlohmann::json& event, const std::string& not_found_hint) {
    return post_to("/router/events", event, not_found_hint);
  }

  // As post(), to another path of the router.
  nlohmann::json post_to(const std::string& path, const nlohmann::json& body,
                         const std::string& not_found_hint) {
    std::optional<net::ClientResponse> response;
    std::exception_ptr failure;
    bool done = false;
    boost::asio::co_spawn(
        io_,
        [&]() -> boost::asio::awaitable<void> {
          // Built outside the co_await: g++ 12 miscompiles braced lists in its operand.
          net::HeaderList headers{{"X-API-Key", key_}};
          response = co_await client_.post_json(router_ + path, body, headers);
        },
        [&](std::exception_ptr e) {
          failure = e;
          done = true;
        });
    // Pooled keep-alive connections leave work behind, so run only until this call is done.
    io_.restart();
    while (!done && io_.run_one()) {
    }
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const Error& e) {
        if (e.code() == Errc::timeout) {
          throw Error(Errc::unavailable, "the router at " + router_ + " did not answer within " +
                                             std::to_string(kReplyTimeout.count()) + " s");
        }
        throw Error(Errc::unavailable,
                    "cannot reach the router at " + router_ + ": " + one_line(e.what()));
      }
    }
    if (response->status == 200) {
      try {
        auto reply = nlohmann::json::parse(response->body);
        if (reply.is_object()) return reply;
      } catch (const nlohmann::json::exception&) {
      }
      throw Error(Errc::unavailable,
                  "the router at " + router_ +
                      " answered 200 without a JSON object: " + one_line(response->body, 200));
    }
    throw status_error(*response, not_found_hint);
  }

 private:
  Error status_error(const net::ClientResponse& r, const std::string& not_found_hint) const {
    std::string message;
    try {
      auto body = nlohmann::json::parse(r.body);
      message = text_of(body.value("error", nlohmann::json::object()), "message");
    } catch (const nlohmann::json::exception&) {
    }
    if (message.empty()) {
      message = "the router at " + router_ + " answered HTTP " + std::to_string(r.status);
      if (!r.body.empty()) message += ": " + r.body;
    }
    message = one_line(message, 500);
    switch (r.status) {
      case 400:
      case 413: return Error(Errc::invalid_argument, message);
      case 401:
      case 403:
        return Error(
            Errc::invalid_argument,
            message +
                " (the router wants a key with role collector or admin: waddle apikey create "
                "console --role collector)");
      case 404:
        return Error(Errc::not_found,
                     not_found_hint.empty() ? message : message + " (" + not_found_hint + ")");
      default: return Error(Errc::unavailable, message);
    }
  }

  std::string router_;
  std::string key_;
  boost::asio::io_context io_;
  net::HttpClient client_;
};

// What `waddle chat` prints, from the input loop and from the inbox's thread, one line at a time.
class Printer {
 public:
  explicit Printer(Context& ctx) : ctx_(ctx) {}
  template <class F>
  void locked(F f) {
    std::lock_guard lock(mutex_);
    f(ctx_);
  }

 private:
  Context& ctx_;
  std::mutex mutex_;
};

// `waddle chat` as the console platform's collector: a loopback HTTP endpoint registered with the
// router (POST /router/modules/register, kind collector) that prints what arrives outside a reply:
// late module answers, reminders, timers, whispers.
class ConsoleInbox {
 public:
  ConsoleInbox(Printer& printer, std::string entity_id)
      : printer_(printer),
        entity_id_(std::move(entity_id)),
        token_(crypto::hex_encode(crypto::random_bytes(24))),
        guard_(io_.get_executor()) {
    net::Router routes;
    routes.add("POST", "/console/callback",
               [this](net::Request& request) -> boost::asio::awaitable<net::Response> {
                 co_return handle(request);
               });
    server_ = std::make_unique<net::HttpServer>(
        io_, std::move(routes),
        net::ServerOptions{.address = "127.0.0.1", .port = 0, .server_name = "waddle-chat"});
    port_ = server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~ConsoleInbox() {
    server_->stop(std::chrono::milliseconds(0));
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  ConsoleInbox(const ConsoleInbox&) = delete;
  ConsoleInbox& operator=(const ConsoleInbox&) = delete;

  // Registers (again, after kRegisterInterval) with the router. A router that refuses says why
  // once; the chat goes on without late answers.
  void keep_registered(RouterClient& router) {
    const auto now = std::chrono::steady_clock::now();
    if (registered_ && now - *registered_ < kRegisterInterval) return;
    registered_ = now;
    nlohmann::json body = {{"name", "waddle-chat"},          {"kind", "collector"},
                           {"platform", "console"},          {"version", "0.1.0"},
                           {"callback_url", callback_url()}, {"callback_token", token_}};
    try {
      router.post_to("/router/modules/register", body, "");
    } catch (const Error& e) {
      // An unreachable router is reported by the message's own post; try again next line.
      if (e.code() == Errc::unavailable) {
        registered_.reset();
        return;
      }
      if (!warned_) {
        printer_.locked([&](Context& ctx) {
          ctx.err() << "! late answers and reminders will not show here: " << e.what() << '\n';
        });
      }
      warned_ = true;
    }
  }

  std::string callback_url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/console/callback";
  }

 private:
  net::Response handle(const net::Request& request) {
    const auto auth = request.header("Authorization").value_or("");
    if (auth.size() < 7 || auth.substr(0, 7) != "Bearer " ||
        !crypto::constant_time_equal(auth.substr(7), token_)) {
      return net::error_response(Errc::unauthenticated, "Authorization: expected Bearer <token>");
    }
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("actions") || !body["actions"].is_array()) {
      return net::error_response(Errc::invalid_argument, "expected {\"actions\": [...]}",
                                 "actions");
    }
    const std::string entity = text_of(body, "entity_id");
    // Said in another console channel than this chat's: show where.
    const std::string where = entity == entity_id_ || entity.empty() ? "" : "(" + entity + ") ";
    printer_.locked([&](Context& ctx) {
      if (ctx.format() == Format::json) {
        ctx.out() << body.dump() << '\n' << std::flush;
        return;
      }
      for (const auto& action : body["actions"]) {
        const std::string type = text_of(action, "type");
        if (type == "chat") {
          ctx.out() << where << kBotName << ": " << one_line(text_of(action, "text")) << '\n';
        } else if (type == "whisper") {
          std::string to = text_of(action, "user_name");
          if (to.empty()) to = text_of(action, "user_id");
          ctx.out() << where << kBotName << " (whisper to " << one_line(to, 64)
                    << "): " << one_line(text_of(action, "text")) << '\n';
        } else {
          ctx.out() << where << note_for(action) << '\n';
        }
      }
      ctx.out().flush();
    });
    return net::json_response(200, {{"accepted", true}});
  }

  Printer& printer_;
  std::string entity_id_;
  std::string token_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<net::HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::optional<std::chrono::steady_clock::time_point> registered_;
  bool warned_ = false;
};

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

void add_send(CLI::App& app, Context& ctx) {
  auto* send = app.add_subcommand(
      "send",
      "post one message (or event) to the router as the console platform and print "
      "the actions it answers with");
  auto conn = std::make_shared<Connection>();
  auto author = std::make_shared<Author>();
  auto entity = std::make_shared<std::string>();
  auto words = std::make_shared<std::vector<std::string>>();
  send->add_option("--entity", *entity,
                   "the channel it is said in, <platform>:<server>:<channel> "
                   "(e.g. console:local:demo)")
      ->required();
  send->add_option("--user", author->name, "who says it (user name)")->required();
  add_author_options(send, *author);
  add_connection_options(send, *conn);
  send->add_option("message", *words, "the message (several words are joined with spaces)");
  send->callback([&ctx, conn, author, entity, words] {
    auto event = make_event(*entity, *author, join_words(*words));
    RouterClient router(router_url(*conn), api_key(*conn));
    auto reply = router.post(
        event, "if the entity is new: waddle entity add " + *entity + " --community COMMUNITY");
    if (ctx.format() == Format::json) {
      ctx.out() << reply.dump(2) << '\n';
    } else {
      print_reply(ctx, reply, "");
    }
  });
}

void add_chat(CLI::App& app, Context& ctx) {
  auto* chat = app.add_subcommand(
      "chat",
      "talk to the bot as the console platform: each line of input is one chat message, the "
      "bot's answers are printed (reads stdin to its end when it is not a terminal)");
  auto conn = std::make_shared<Connection>();
  auto author = std::make_shared<Author>();
  auto community = std::make_shared<std::string>();
  auto entity = std::make_shared<std::string>();
  auto inbox_on = std::make_shared<bool>(true);
  auto wait_seconds = std::make_shared<int>(0);
  chat->add_option("--community", *community,
                   "the community to talk in: entity console:local:COMMUNITY");
  chat->add_option("--entity", *entity,
                   "talk in this entity instead (<platform>:<server>:<channel>)");
  chat->add_option("--user", author->name, "who you are (default: $USER)");
  add_author_options(chat, *author);
  add_connection_options(chat, *conn);
  chat->add_flag("!--no-inbox", *inbox_on,
                 "do not register as the console collector (late answers, reminders, timers and "
                 "whispers then do not show here)");
  chat->add_option("--wait", *wait_seconds,
                   "after the input ends, keep showing late answers and reminders for SECONDS")
      ->check(CLI::Range(0, 3600));
  chat->callback([&ctx, conn, author, community, entity, inbox_on, wait_seconds] {
    if (community->empty() && entity->empty()) refuse("give --community NAME (or --entity ID)");
    if (entity->empty()) {
      for (unsigned char c : *community) {
        if (c == ':' || c <= 0x20 || c == 0x7f) {
          refuse("--community: '" + *community +
                 "' cannot be a console channel name (no ':', spaces or control characters); "
                 "use --entity");
        }
      }
    }
    std::string entity_id = entity->empty() ? "console:local:" + *community : *entity;
    checks::require_entity_id(entity->empty() ? "--community" : "--entity", entity_id);
    if (author->name.empty()) author->name = env("USER");
    if (author->name.empty()) author->name = Context::actor();
    // Refuse a bad --user, --role or --type before reading any input.
    (void)make_event(entity_id, *author, "-");
    std::string hint = "add the entity with: waddle entity add " + entity_id + " --community " +
                       (community->empty() ? std::string("COMMUNITY") : *community);
    RouterClient router(router_url(*conn), api_key(*conn));
    Printer printer(ctx);
    std::unique_ptr<ConsoleInbox> inbox;
    if (*inbox_on) inbox = std::make_unique<ConsoleInbox>(printer, entity_id);

    const bool interactive = isatty(STDIN_FILENO) == 1;
    if (interactive) {
      ctx.err() << "chatting in " << entity_id << " as " << author->name << " through "
                << router.url() << "; /quit or Ctrl-D to leave\n";
    }
    std::string line;
    while (true) {
      if (interactive) {
        printer.locked([&](Context& c) { c.out() << author->name << "> " << std::flush; });
      }
      if (!std::getline(std::cin, line)) break;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (trim(line).empty()) continue;
      if (trim(line) == "/quit") break;
      try {
        if (inbox) inbox->keep_registered(router);
        auto reply = router.post(make_event(entity_id, *author, line), hint);
        printer.locked([&](Context& c) {
          if (c.format() == Format::json) {
            c.out() << reply.dump() << '\n' << std::flush;
          } else {
            print_reply(c, reply, std::string(kBotName) + ": ");
          }
        });
      } catch (const Error& e) {
        // At a prompt a refused line is reported and the chat goes on; a script stops.
        if (!interactive) throw;
        printer.locked([&](Context& c) { c.err() << "waddle: " << e.what() << '\n'; });
      }
    }
    if (inbox && *wait_seconds > 0) {
      inbox->keep_registered(router);
      std::this_thread::sleep_for(std::chrono::seconds(*wait_seconds));
    }
    if (interactive) printer.locked([](Context& c) { c.out() << '\n'; });
  });
}

}  // namespace

void add_chat_commands(CLI::App& app, Context& ctx) {
  add_send(app, ctx);
  add_chat(app, ctx);
}

}  // namespace waddle::cli
