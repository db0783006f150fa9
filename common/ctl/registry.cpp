#include "ctl/registry.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace waddle::ctl {

namespace {

bool valid_name(std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  return !name.empty() && name.front() != '-' && std::all_of(name.begin(), name.end(), allowed);
}

// Command names come from the caller and can be anything up to the line limit; error texts show
// a bounded, printable form.
std::string shown(std::string_view name) {
  constexpr std::size_t kMaxShown = 64;
  std::string out;
  for (char c : name.substr(0, kMaxShown)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (name.size() > kMaxShown) out += "...";
  return out;
}

Reply unsupported(std::string_view name) {
  return Reply::error(Errc::unsupported,
                      "unsupported command '" + shown(name) + "'; try list-commands");
}

boost::asio::awaitable<Reply> run_sync(const SyncHandler& handler, const Call& call) {
  co_return handler(call);
}

}  // namespace

std::string_view access_name(Access access) noexcept {
  return access == Access::write ? "write" : "read";
}

Registry::Registry() {
  add("list-commands", "list every command this daemon answers, with its access", Access::read,
      SyncHandler([this](const Call&) { return list_commands(); }));
  add("help", "show a command's summary (arguments: {\"command\": NAME}), or every command's",
      Access::read, SyncHandler([this](const Call& call) { return help(call); }));
}

void Registry::add(std::string name, std::string summary, Access access, Handler handler) {
  if (!valid_name(name)) {
    throw Error(Errc::invalid_argument,
                "invalid admin command name '" + shown(name) +
                    "': use lowercase letters, digits and '-', starting with a letter or digit");
  }
  if (!handler) {
    throw Error(Errc::invalid_argument, "admin command '" + name + "' has no handler");
  }
  if (commands_.contains(name)) {
    throw Error(Errc::conflict, "admin command '" + name + "' is already registered");
  }
  Entry entry{CommandInfo{name, std::move(summary), access}, std::move(handler)};
  commands_.emplace(std::move(name), std::move(entry));
}

void Registry::add(std::string name, std::string summary, Access access, SyncHandler handler) {
  if (!handler) {
    throw Error(Errc::invalid_argument, "admin command '" + shown(name) + "' has no handler");
  }
  add(std::move(name), std::move(summary), access,
      Handler(
          [handler = std::move(handler)](const Call& call) { return run_sync(handler, call); }));
}

bool Registry::contains(std::string_view name) const {
  return commands_.contains(name);
}

std::vector<CommandInfo> Registry::commands() const {
  std::vector<CommandInfo> out;
  out.reserve(commands_.size());
  for (const auto& [name, entry] : commands_) out.push_back(entry.info);
  return out;
}

void Registry::set_internal_error_hook(
    std::function<void(const Call&, std::string_view what)> hook) {
  internal_error_hook_ = std::move(hook);
}

Reply Registry::internal_error(const Call& call, std::string_view what) const {
  if (internal_error_hook_) {
    try {
      internal_error_hook_(call, what);
    } catch (...) {
      // The hook only reports; its failure must not change the reply.
    }
  }
  return Reply::error(Errc::internal, "internal error in command '" + shown(call.command) + "'");
}

boost::asio::awaitable<Reply> Registry::dispatch(const Call& call) const {
  auto it = commands_.find(call.command);
  if (it == commands_.end()) co_return unsupported(call.command);

  Reply reply;
  std::string failure;  // set when the handler broke an invariant
  bool failed = false;
  try {
    reply = co_await it->second.handler(call);
  } catch (const Error& e) {
    reply = Reply::error(e.code(), e.what());
  } catch (const std::exception& e) {
    failed = true;
    failure = e.what();
  } catch (...) {
    failed = true;
    failure = "unknown exception";
  }
  if (!failed && !reply.arguments.is_null() && !reply.arguments.is_object()) {
    failed = true;
    failure = std::string("handler returned arguments that are not an object but ") +
              reply.arguments.type_name();
  }
  if (failed) co_return internal_error(call, failure);
  co_return reply;
}

Reply Registry::list_commands() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, entry] : commands_) {
    list.push_back({{"name", name}, {"access", access_name(entry.info.access)}});
  }
  auto count = list.size();
  return Reply::ok(std::to_string(count) + " commands", {{"commands", std::move(list)}});
}

Reply Registry::help(const Call& call) const {
  if (auto wanted = call.arguments.find("command"); wanted != call.arguments.end()) {
    if (!wanted->is_string()) {
      return Reply::error(
          Errc::invalid_argument,
          std::string("help: argument \"command\" must be a string, got ") + wanted->type_name());
    }
    const auto& name = wanted->get_ref<const std::string&>();
    auto it = commands_.find(name);
    if (it == commands_.end()) return unsupported(name);
    const CommandInfo& info = it->second.info;
    return Reply::ok(
        info.summary,
        {{"command", info.name}, {"summary", info.summary}, {"access", access_name(info.access)}});
  }
  std::size_t width = 0;
  for (const auto& [name, entry] : commands_) width = std::max(width, name.size());
  std::string text;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, entry] : commands_) {
    if (!text.empty()) text += '\n';
    text += name + std::string(width - name.size() + 2, ' ') + entry.info.summary;
    list.push_back({{"name", name},
                    {"summary", entry.info.summary},
                    {"access", access_name(entry.info.access)}});
  }
  return Reply::ok(std::move(text), {{"commands", std::move(list)}});
}

}  // namespace waddle::ctl
