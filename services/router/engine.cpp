#include "router/engine.hpp"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"
#include "model/field_reader.hpp"
#include "net/http.hpp"
#include "net/http_client.hpp"
#include "ratelimit/keys.hpp"
#include "ratelimit/limiter.hpp"
#include "redis/client.hpp"
#include "router/alias.hpp"
#include "router/command_line.hpp"

namespace waddle::router {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

constexpr std::string_view kGlobalCommunity = "waddlebot-global";

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

bool is_overlay(const model::Action& action) {
  return model::is_overlay_action(action);
}

// module_responses keeps chat and overlay answers. Block, whisper and role actions are not rows
// there: a whisper carries an identity verification code, which must not sit in an audit table.
bool audited(const model::Action& action) {
  return is_overlay(action) || std::holds_alternative<model::ChatAction>(action);
}

std::optional<std::string> metadata_string(const model::Event& event, const char* key) {
  auto it = event.metadata.find(key);
  if (it != event.metadata.end() && it->is_string()) return it->get<std::string>();
  return std::nullopt;
}

}  // namespace

bool valid_prefixes(std::string_view prefixes) {
  if (prefixes.empty() || prefixes.size() > 8) return false;
  for (char c : prefixes) {
    if (c == '#' || !std::ispunct(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string make_id(std::string_view prefix) {
  return std::string(prefix) + "_" + crypto::hex_encode(crypto::random_bytes(12));
}

// One event on its way through the pipeline, and the reply being built.
struct Engine::Call {
  model::Event event;
  ApiKey key;
  std::shared_ptr<const EntityInfo> entity;
  std::shared_ptr<const Settings> settings;
  std::string session_id;
  bool checked_shared = false;
  bool duplicate = false;
  std::optional<Membership> membership;
  std::vector<model::Action> actions;
  json executions = json::array();
  json notes = json::array();
  std::string outcome = "ignored";  // command | rule | event | chat | ignored | …

  void chat(std::string text) {
    model::ChatAction action;
    action.text = std::move(text);
    if (auto id = metadata_string(event, "message_id")) action.reply_to = *id;
    actions.emplace_back(std::move(action));
  }
};

// One module to run for the event.
struct Engine::Job {
  std::shared_ptr<const CommandInfo> command;
  std::string trigger = "command";  // command | event | rule
  std::string prefix;
  std::string name;
  std::vector<std::string> args;
  std::string raw_args;
};

Engine::Engine(Parts parts, Settings settings) : parts_(std::move(parts)) {
  settings_.store(std::make_shared<const Settings>(std::move(settings)));
}

void Engine::set_settings(Settings settings) {
  settings_.store(std::make_shared<const Settings>(std::move(settings)));
}

asio::awaitable<json> Engine::handle_event(model::Event event, const ApiKey& key) {
  Metrics& metrics = parts_.metrics;
  Call call;
  call.settings = settings_.load();
  call.key = key;
  call.entity = parts_.catalog.entity(event.entity_id);
  if (!call.entity) {
    ++metrics.unknown_entity;
    throw Error(Errc::not_found, "unknown entity '" + event.entity_id +
                                     "': no community owns it (add it with `waddle entity add "
                                     "COMMUNITY " +
                                     event.entity_id + "`)");
  }
  if (!key.allows_community(call.entity->community_id)) {
    ++metrics.authz_failures;
    throw Error(Errc::forbidden, "this API key may not post events for community '" +
                                     call.entity->community_name + "'");
  }
  call.event = std::move(event);
  const model::Event& ev = call.event;
  json reply = {
      {"event_id", ev.event_id},
      {"community", {{"id", call.entity->community_id}, {"name", call.entity->community_name}}}};
  // The in-process set first: free, and enough for one router. Redis is asked only before
  // something is executed (SessionStore::put_claiming), so plain chat makes no round trip.
  auto duplicate = [&] {
    ++metrics.duplicates;
    reply["duplicate"] = true;
    reply["session_id"] = nullptr;
    reply["actions"] = json::array();
    reply["executions"] = json::array();
    return reply;
  };
  if (!parts_.dedupe.first_local(ev.event_id)) co_return duplicate();
  ++metrics.events;
  metrics.count_type(ev.message_type);
  if (!call.entity->is_active || !call.entity->community_is_active) {
    call.notes.push_back(call.entity->is_active ? "the community is inactive"
                                                : "the entity is inactive");
  } else {
    credit_reputation(call);
    if (ev.message_type == "chatMessage") parts_.audit.count_chat(ev.entity_id);
    if (ev.message_type == "chatMessage" || ev.message_type == "slashCommand") {
      co_await run_command_line(call);
    } else {
      co_await run_event_triggers(call);
    }
  }
  if (call.duplicate) co_return duplicate();  // Redis: another router (or delivery) had it
  reply["duplicate"] = false;
  reply["session_id"] = call.session_id.empty() ? json(nullptr) : json(call.session_id);
  reply["outcome"] = call.outcome;
  reply["actions"] = model::to_json(call.actions);
  reply["executions"] = std::move(call.executions);
  if (!call.notes.empty()) reply["notes"] = std::move(call.notes);
  co_return reply;
}

void Engine::credit_reputation(const Call& call) {
  const model::Event& ev = call.event;
  if (ev.user.id.empty()) return;
  const std::int64_t community_id = call.entity->community_id;
  ReputationCredit credit;
  credit.platform = ev.platform;
  credit.user_id = ev.user.id;
  credit.user_name = ev.user.name;
  credit.display_name = ev.user.display_name;
  credit.event_type = ev.message_type;
  credit.community_id = community_id;
  credit.points = parts_.points.points(community_id, ev.platform, ev.message_type, ev.amount);
  if (credit.points != 0) parts_.audit.add(credit);
  if (auto global = parts_.catalog.community(kGlobalCommunity);
      global && global->id != community_id) {
    credit.community_id = global->id;
    credit.points = parts_.points.points(global->id, ev.platform, ev.message_type, ev.amount);
    if (credit.points != 0) parts_.audit.add(credit);
  }
}

asio::awaitable<void> Engine::run_command_line(Call& call) {
  const Settings& settings = *call.settings;
  // A community may start its local commands with other characters (config.command_prefixes,
  // e.g. "!?"); '#' always starts a marketplace command.
  std::string prefixes = settings.prefixes;
  if (auto community = parts_.catalog.community(call.entity->community_id);
      community && valid_prefixes(community->prefixes)) {
    prefixes = community->prefixes + "#";
  }
  auto line = parse_command_line(call.event.message, prefixes);
  if (line && line->prefix != '#' && settings.prefixes.find(line->prefix) == std::string::npos) {
    line->prefix = '!';  // the community's own local prefix: a `!` command in the registry
  }
  if (!line) {
    co_await run_rules(call);
    if (call.outcome == "ignored") call.outcome = "chat";
    co_return;
  }
  CommandLine command = *line;
  if (auto aliases = parts_.catalog.aliases(call.entity->community_id)) {
    auto expanded = expand(*aliases, *line, call.event.user.name);
    if (auto* error = std::get_if<AliasError>(&expanded)) {
      ++parts_.metrics.alias_errors;
      call.outcome = "alias_error";
      call.chat("@" + call.event.user.name + ", " + error->message);
      co_return;
    }
    command = std::get<Expansion>(expanded).command;
  }
  const std::string prefix(1, command.prefix);
  auto info = parts_.catalog.command(prefix, command.name);
  if (!info || !info->is_active || info->trigger_type == "event") {
    ++parts_.metrics.unknown_commands;
    call.notes.push_back("no command " + prefix + command.name);
    co_await run_rules(call);
    if (call.outcome == "ignored") call.outcome = "unknown_command";
    co_return;
  }
  ++parts_.metrics.commands;
  Job job;
  job.command = info;
  job.prefix = prefix;
  job.name = command.name;
  job.args = command.args;
  job.raw_args = command.raw_args;
  call.outcome = "command";
  co_await run_command(call, job, true);
}

bool Engine::enabled(std::int64_t community_id, const CommandInfo& command,
                     std::optional<Permission>* permission) const {
  if (!command.is_active) return false;
  auto found = parts_.catalog.permission(community_id, command);
  const bool on = found ? found->is_enabled : command.prefix == "!";
  if (permission) *permission = std::move(found);
  return on;
}

asio::awaitable<bool> Engine::run_command(Call& call, const Job& job, bool check_access) {
  const CommandInfo& command = *job.command;
  const std::string shown = command.key();
  const model::Event& ev = call.event;
  std::optional<Permission> permission;
  if (!enabled(call.entity->community_id, command, &permission)) {
    ++parts_.metrics.module_disabled;
    call.outcome = "disabled";
    call.notes.push_back(shown + " (module " + command.module_name +
                         ") is not enabled in community " + call.entity->community_name);
    co_return false;
  }
  if (!call.membership) {
    call.membership =
        co_await parts_.members.get(call.entity->community_id, ev.platform, ev.user.id);
  }
  if (check_access) {
    const std::string min_role = permission ? permission->min_role : "member";
    const std::string role = effective_role(call.membership->role, ev.user.roles);
    if (role_rank(role) < role_rank(min_role)) {
      ++parts_.metrics.permission_denied;
      call.outcome = "denied";
      call.chat("@" + ev.user.name + ", " + shown + " needs the " + min_role + " role.");
      co_return false;
    }
    const Settings& settings = *call.settings;
    const ratelimit::Window window{0, settings.rate_limit_window};
    std::vector<ratelimit::Check> checks;
    if (command.rate_limit > 0) {
      checks.push_back({ratelimit::user_command_key(ev.entity_id, ev.user.id, shown),
                        {static_cast<std::size_t>(command.rate_limit), window.period}});
    }
    if (settings.command_entity_limit > 0) {
      checks.push_back({ratelimit::command_key(ev.entity_id, shown),
                        {settings.command_entity_limit, window.period}});
    }
    if (settings.entity_limit > 0) {
      checks.push_back(
          {ratelimit::entity_key(ev.entity_id), {settings.entity_limit, window.period}});
    }
    if (!checks.empty()) {
      auto decisions = co_await parts_.limiter.check(std::move(checks));
      const ratelimit::Verdict verdict = ratelimit::verdict(decisions);
      if (!verdict.allowed) {
        ++parts_.metrics.rate_limited;
        call.outcome = "rate_limited";
        if (verdict.notify) {
          const auto seconds = std::max<long long>(1, (verdict.retry_after.count() + 999) / 1000);
          std::string text = replace_all(settings.cooldown_message, "{user}", ev.user.name);
          text = replace_all(std::move(text), "{command}", shown);
          call.chat(replace_all(std::move(text), "{seconds}", std::to_string(seconds)));
        }
        co_return false;
      }
    }
  }
  std::vector<Job> jobs{job};
  co_await execute(call, std::move(jobs));
  co_return true;
}

asio::awaitable<void> Engine::run_rules(Call& call) {
  auto rules = parts_.catalog.rules(call.entity->community_id);
  if (!rules) co_return;
  const model::Event& ev = call.event;
  const Rule* rule = rules->first_match(ev.message, ev.entity_id);
  if (!rule) co_return;
  ++parts_.metrics.rule_matches;
  parts_.audit.count_rule_match(rule->id);
  call.outcome = "rule";
  const Settings& settings = *call.settings;
  switch (rule->action) {
    case RuleAction::warn: {
      std::string text = rule->warning_message.empty()
                             ? replace_all(settings.default_warning, "{user}", ev.user.name)
                             : "@" + ev.user.name + ", " +
                                   replace_all(rule->warning_message, "{user}", ev.user.name);
      call.chat(std::move(text));
      break;
    }
    case RuleAction::block: {
      model::BlockAction block;
      block.message_id = metadata_string(ev, "message_id").value_or("");
      block.user_id = ev.user.id;
      block.user_name = ev.user.name;
      block.reason = rule->block_message.empty() ? "matched string rule " + std::to_string(rule->id)
                                                 : rule->block_message;
      call.actions.emplace_back(std::move(block));
      if (!rule->block_message.empty()) {
        model::ChatAction notice;
        notice.text =
            "@" + ev.user.name + ", " + replace_all(rule->block_message, "{user}", ev.user.name);
        call.actions.emplace_back(std::move(notice));
      }
      break;
    }
    case RuleAction::command: {
      std::string target = rule->command_to_execute;
      std::string prefix = "!";
      if (!target.empty() && settings.prefixes.find(target[0]) != std::string::npos) {
        prefix = target.substr(0, 1);
        target.erase(0, 1);
      }
      auto info = parts_.catalog.command(prefix, target);
      if (!info || !info->is_active) {
        call.notes.push_back("rule " + std::to_string(rule->id) + ": no command " + prefix +
                             target);
        break;
      }
      Job job;
      job.command = info;
      job.trigger = "rule";
      job.prefix = prefix;
      job.name = target;
      job.args = rule->command_parameters;
      for (const std::string& arg : job.args) {
        job.raw_args += (job.raw_args.empty() ? "" : " ") + arg;
      }
      co_await run_command(call, job, false);
      call.outcome = "rule";
      break;
    }
    case RuleAction::webhook: send_webhook(call, *rule); break;
  }
}

asio::awaitable<void> Engine::run_event_triggers(Call& call) {
  std::vector<Job> jobs;
  for (const auto& command : parts_.catalog.event_commands(call.event.message_type)) {
    if (!enabled(call.entity->community_id, *command, nullptr)) continue;
    Job job;
    job.command = command;
    job.trigger = "event";
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) co_return;
  parts_.metrics.event_triggers += jobs.size();
  call.outcome = "event";
  const model::Event& ev = call.event;
  if (!call.membership) {
    call.membership =
        co_await parts_.members.get(call.entity->community_id, ev.platform, ev.user.id);
  }
  co_await execute(call, std::move(jobs));
}

ModuleTarget Engine::target_for(const Job& job, const std::optional<Permission>& permission) const {
  const CommandInfo& c = *job.command;
  const auto settings = settings_.load();
  ModuleTarget t;
  t.command_id = c.id;
  t.name = c.module_name;
  t.type = c.type;
  t.url = c.location_url;
  if (c.type == "lambda") {
    // commands.location_url is an http(s) URL; for Lambda it is the Invoke URL
    // https://lambda.<region>.amazonaws.com/2015-03-31/functions/<name or ARN>/invocations.
    const std::string_view url = c.location_url;
    constexpr std::string_view kFunctions = "/2015-03-31/functions/";
    if (auto start = url.find(kFunctions); start != std::string_view::npos) {
      start += kFunctions.size();
      const auto end = url.find('/', start);
      const std::string function(
          url.substr(start, end == std::string_view::npos ? url.npos : end - start));
      t.url = net::percent_decode(function).value_or(function);
    }
    constexpr std::string_view kHost = "://lambda.";
    if (auto host = url.find(kHost); host != std::string_view::npos) {
      const auto region_start = host + kHost.size();
      const auto region_end = url.find(".amazonaws.com", region_start);
      if (region_end != std::string_view::npos) {
        t.aws_region = std::string(url.substr(region_start, region_end - region_start));
      }
    }
  }
  t.method = c.method;
  t.timeout = std::chrono::seconds(c.timeout);
  t.priority = c.priority;
  t.execution_mode = c.execution_mode;
  t.secret = parts_.secrets.secret(c.module_name);
  if (permission) t.config = permission->config;
  if (t.aws_region.empty()) t.aws_region = settings->aws_region;
  t.aws_access_key_id = settings->aws_access_key_id;
  t.aws_secret_access_key = settings->aws_secret_access_key;
  t.aws_session_token = settings->aws_session_token;
  t.openwhisk_auth = settings->openwhisk_auth;
  return t;
}

asio::awaitable<void> Engine::execute(Call& call, std::vector<Job> jobs) {
  const model::Event& ev = call.event;
  if (call.session_id.empty()) call.session_id = make_id("ses");
  std::vector<ModuleTarget> targets;
  std::map<std::int64_t, const Job*> job_of;
  std::map<std::int64_t, std::string> execution_of;
  Session session;
  session.id = call.session_id;
  session.event_id = ev.event_id;
  session.entity_id = ev.entity_id;
  session.platform = ev.platform;
  session.community_id = call.entity->community_id;
  session.community_name = call.entity->community_name;
  session.user_id = ev.user.id;
  session.user_name = ev.user.name;
  for (const Job& job : jobs) {
    std::optional<Permission> permission;
    enabled(call.entity->community_id, *job.command, &permission);
    targets.push_back(target_for(job, permission));
    job_of[job.command->id] = &job;
    execution_of[job.command->id] = make_id("exe");
    session.execution_ids.push_back(execution_of[job.command->id]);
  }
  if (!call.checked_shared && parts_.redis) {
    // The shared duplicate claim and the session in one Redis round trip.
    call.checked_shared = true;
    if (!(co_await parts_.sessions.put_claiming(parts_.dedupe, ev.event_id, session))) {
      call.duplicate = true;
      co_return;
    }
  } else {
    co_await parts_.sessions.put(session);
  }

  const Membership membership = call.membership.value_or(Membership{});
  const std::string role = effective_role(membership.role, ev.user.roles);
  auto build = [&](const ModuleTarget& target) {
    const Job& job = *job_of.at(target.command_id);
    ModuleRequestContext context;
    context.session_id = call.session_id;
    context.execution_id = execution_of.at(target.command_id);
    context.community_id = call.entity->community_id;
    context.community_name = call.entity->community_name;
    context.community_role = role;
    context.reputation =
        static_cast<int>(std::clamp<std::int64_t>(membership.reputation, INT32_MIN, INT32_MAX));
    context.trigger = job.trigger;
    context.prefix = job.trigger == "event" ? "" : job.prefix;
    context.command = job.trigger == "event" ? "" : job.name;
    context.args = job.args;
    context.raw_args = job.raw_args;
    context.event = ev;
    context.config = target.config.is_object() ? target.config : json::object();
    return build_module_request(context);
  };
  const std::string started_at = AuditWriter::now_text();
  // A named std::function: g++ 12 destroys a lambda temporary in a co_await expression twice.
  Executor::RequestBuilder builder = build;
  std::vector<ModuleResult> results =
      co_await parts_.executor_calls.run_all(std::move(targets), std::move(builder));
  const std::string completed_at = AuditWriter::now_text();

  for (ModuleResult& result : results) {
    const Job& job = *job_of.at(result.command_id);
    const CommandInfo& command = *job.command;
    parts_.metrics.count_execution(command.module_name, result.status);
    ExecutionRow row;
    row.execution_id =
        result.execution_id.empty() ? execution_of.at(result.command_id) : result.execution_id;
    row.session_id = call.session_id;
    row.community_id = call.entity->community_id;
    row.command_id = command.id;
    row.entity_id = ev.entity_id;
    row.trigger = job.trigger;
    row.user_id = ev.user.id;
    row.user_name = ev.user.name;
    row.message = ev.message;
    row.parameters = job.args;
    row.location_url = command.location_url;
    row.response_status = result.http_status;
    row.response_data = result.response_json;
    row.execution_time_ms = static_cast<int>(result.elapsed.count());
    row.error = result.error;
    row.status = result.status == "accepted" ? "pending" : result.status;
    row.created_at = started_at;
    if (result.status != "accepted") row.completed_at = completed_at;
    parts_.audit.add(row);
    for (const model::Action& action : result.actions) {
      if (audited(action)) {
        ResponseRow response;
        response.execution_id = row.execution_id;
        response.community_id = row.community_id;
        response.session_id = call.session_id;
        response.module_name = command.module_name;
        response.success = true;
        response.action = model::to_json(action);
        response.processing_time_ms = row.execution_time_ms;
        response.created_at = completed_at;
        parts_.audit.add(std::move(response));
      }
      if (is_overlay(action)) publish_overlay(call, action);
      call.actions.push_back(action);
    }
    json summary = {{"execution_id", row.execution_id},
                    {"module", command.module_name},
                    {"command", job.trigger == "event" ? json(nullptr) : json(command.key())},
                    {"trigger", job.trigger},
                    {"status", result.status},
                    {"elapsed_ms", result.elapsed.count()}};
    if (!result.error.empty()) summary["error"] = result.error;
    call.executions.push_back(std::move(summary));
  }
}

void Engine::publish_overlay(const Call& call, const model::Action& action) {
  publish_overlay(call.entity->community_id, call.entity->community_name, call.event.entity_id,
                  action);
}

void Engine::publish_overlay(std::int64_t community_id, const std::string& community_name,
                             const std::string& entity_id, const model::Action& action) {
  json message = {{"community_id", community_id},
                  {"community", community_name},
                  {"entity_id", entity_id},
                  {"action", model::to_json(action)},
                  {"published_at", model::now_rfc3339()}};
  auto settings = settings_.load();
  auto task = [this, settings, community_id,
               body = message.dump(-1, ' ', false,
                                   json::error_handler_t::replace)]() -> asio::awaitable<void> {
    try {
      if (parts_.redis) {
        const std::string channel = "waddlebot:overlay:" + std::to_string(community_id);
        redis::Reply reply = co_await parts_.redis->command("PUBLISH", channel, body);
        if (reply.is_error()) throw Error(Errc::unavailable, reply.describe());
      } else {
        net::ClientRequest request;
        request.method = "POST";
        request.url = settings->overlay_url + "/internal/overlay/" + std::to_string(community_id);
        request.headers = {{"Content-Type", "application/json"},
                           {"X-API-Key", settings->overlay_api_key}};
        request.body = body;
        request.timeout = std::chrono::seconds(2);
        auto response = co_await parts_.http.request(std::move(request));
        if (response.status / 100 != 2) {
          throw Error(Errc::unavailable,
                      "waddle-overlayd answered " + std::to_string(response.status));
        }
      }
      ++parts_.metrics.overlay_published;
    } catch (const std::exception& e) {
      ++parts_.metrics.overlay_failed;
      spdlog::warn("overlay: could not publish for community {}: {}", community_id, e.what());
    }
  };
  asio::co_spawn(parts_.executor, std::move(task), asio::detached);
}

void Engine::send_webhook(const Call& call, const Rule& rule) {
  json body = {
      {"rule_id", rule.id},
      {"pattern", rule.pattern},
      {"community", {{"id", call.entity->community_id}, {"name", call.entity->community_name}}},
      {"entity_id", call.event.entity_id},
      {"user", {{"id", call.event.user.id}, {"name", call.event.user.name}}},
      {"message", call.event.message},
      {"event", model::to_json(call.event)}};
  auto task = [this, url = rule.webhook_url,
               text = body.dump(-1, ' ', false,
                                json::error_handler_t::replace)]() -> asio::awaitable<void> {
    try {
      net::ClientRequest request;
      request.method = "POST";
      request.url = url;
      request.headers = {{"Content-Type", "application/json"}};
      request.body = text;
      request.timeout = std::chrono::seconds(5);
      auto response = co_await parts_.http.request(std::move(request));
      if (response.status / 100 != 2) {
        throw Error(Errc::unavailable, "answered HTTP " + std::to_string(response.status));
      }
      ++parts_.metrics.webhooks_sent;
    } catch (const std::exception& e) {
      ++parts_.metrics.webhooks_failed;
      spdlog::warn("rule webhook {}: {}", url, e.what());
    }
  };
  asio::co_spawn(parts_.executor, std::move(task), asio::detached);
}

asio::awaitable<json> Engine::handle_response(const json& body, const ApiKey& key) {
  model::FieldReader r(body, "");
  const model::StringRule id_rule{256, false, true, true};
  const std::string session_id = r.required_string("session_id", id_rule);
  const std::string execution_id = r.required_string("execution_id", id_rule);
  const std::string entity_id = r.required_string("entity_id", id_rule);
  const std::string module_name = r.string_or("module_name", "", id_rule);
  const bool success = r.bool_or("success", true);
  const std::string error = r.string_or("error", "", model::StringRule{2000, true, false, false});
  std::vector<model::Action> actions;
  if (const json* list = r.get("actions")) actions = model::parse_actions(*list, "actions");
  r.finish();

  auto session = co_await parts_.sessions.get(session_id);
  if (!session) throw Error(Errc::not_found, "unknown or expired session '" + session_id + "'");
  if (session->entity_id != entity_id) {
    ++parts_.metrics.authz_failures;
    throw Error(Errc::forbidden,
                "session '" + session_id + "' does not belong to entity '" + entity_id + "'");
  }
  if (std::find(session->execution_ids.begin(), session->execution_ids.end(), execution_id) ==
      session->execution_ids.end()) {
    ++parts_.metrics.authz_failures;
    throw Error(Errc::forbidden,
                "execution '" + execution_id + "' is not part of session '" + session_id + "'");
  }
  if (!key.allows_community(session->community_id)) {
    ++parts_.metrics.authz_failures;
    throw Error(Errc::forbidden,
                "this API key may not answer for community '" + session->community_name + "'");
  }
  ++parts_.metrics.late_responses;
  const std::string now = AuditWriter::now_text();
  parts_.audit.add(ExecutionUpdate{execution_id, success ? "success" : "failed", 200, error, now});
  json chat = json::array();
  std::size_t published = 0;
  for (const model::Action& action : actions) {
    if (audited(action)) {
      ResponseRow row;
      row.execution_id = execution_id;
      row.community_id = session->community_id;
      row.session_id = session_id;
      row.module_name = module_name.empty() ? "unknown" : module_name;
      row.success = success;
      row.action = model::to_json(action);
      row.error = error;
      row.created_at = now;
      parts_.audit.add(std::move(row));
    }
    if (is_overlay(action)) {
      publish_overlay(session->community_id, session->community_name, session->entity_id, action);
      ++published;
    } else {
      chat.push_back(model::to_json(action));
    }
  }
  json reply = {{"session_id", session_id},
                {"execution_id", execution_id},
                {"published", published},
                {"delivered", false},
                {"collector", nullptr}};
  if (!chat.empty()) {
    auto collector = parts_.registry.collector_for(session->platform, session->entity_id);
    if (collector) {
      reply["collector"] = collector->name;
      reply["delivered"] =
          co_await deliver_to_collector(*collector, *session, execution_id, std::move(chat));
    } else {
      reply["note"] = "no collector for platform " + session->platform +
                      " has registered a callback; the answer is stored only";
    }
  }
  co_return reply;
}

asio::awaitable<bool> Engine::deliver_to_collector(const Registration& collector,
                                                   const Session& session,
                                                   const std::string& execution_id, json actions) {
  json body = {{"session_id", session.id},
               {"execution_id", execution_id},
               {"event_id", session.event_id},
               {"entity_id", session.entity_id},
               {"community", {{"id", session.community_id}, {"name", session.community_name}}},
               {"user", {{"id", session.user_id}, {"name", session.user_name}}},
               {"actions", std::move(actions)}};
  co_return co_await post_to_collector(collector, body);
}

asio::awaitable<bool> Engine::post_to_collector(const Registration& collector, const json& body) {
  net::ClientRequest request;
  request.method = "POST";
  request.url = collector.callback_url;
  request.headers = {{"Content-Type", "application/json"}};
  if (!collector.callback_token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + collector.callback_token);
  }
  request.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  request.timeout = settings_.load()->callback_timeout;
  try {
    auto response = co_await parts_.http.request(std::move(request));
    if (response.status / 100 == 2) {
      ++parts_.metrics.callbacks_delivered;
      co_return true;
    }
    spdlog::warn("callback to {} ({}) answered HTTP {}", collector.name, collector.callback_url,
                 response.status);
  } catch (const std::exception& e) {
    spdlog::warn("callback to {} ({}) failed: {}", collector.name, collector.callback_url,
                 e.what());
  }
  ++parts_.metrics.callbacks_failed;
  co_return false;
}

asio::awaitable<json> Engine::handle_message(const json& body, const ApiKey& key) {
  model::FieldReader r(body, "");
  const model::StringRule id_rule{256, false, true, true};
  const std::string entity_id = r.required_string("entity_id", id_rule);
  const std::string module_name =
      r.required_string("module_name", model::StringRule{128, false, true, true});
  const json& list = r.require("actions");
  std::vector<model::Action> actions = model::parse_actions(list, "actions");
  if (actions.empty()) throw model::FieldError("actions", "must not be empty");
  r.finish();

  auto entity = parts_.catalog.entity(entity_id);
  if (!entity) {
    throw Error(Errc::not_found, "unknown entity '" + entity_id + "': no community owns it");
  }
  if (!key.allows_community(entity->community_id)) {
    ++parts_.metrics.authz_failures;
    throw Error(Errc::forbidden, "this API key may not send messages for community '" +
                                     entity->community_name + "'");
  }
  ++parts_.metrics.module_messages;
  const std::string platform = entity_id.substr(0, entity_id.find(':'));
  json community = {{"id", entity->community_id}, {"name", entity->community_name}};
  json collector_actions = json::array();
  std::size_t published = 0;
  for (const model::Action& action : actions) {
    if (is_overlay(action)) {
      publish_overlay(entity->community_id, entity->community_name, entity_id, action);
      ++published;
    } else {
      collector_actions.push_back(model::to_json(action));
    }
  }
  json reply = {{"entity_id", entity_id},
                {"community", community},
                {"published", published},
                {"delivered", collector_actions.empty()},
                {"collector", nullptr}};
  if (!collector_actions.empty()) {
    auto collector = parts_.registry.collector_for(platform, entity_id);
    if (!collector) {
      reply["note"] = "no collector for platform " + platform + " has registered a callback";
      co_return reply;
    }
    json delivery = {{"entity_id", entity_id},
                     {"community", community},
                     {"module_name", module_name},
                     {"actions", std::move(collector_actions)}};
    reply["collector"] = collector->name;
    reply["delivered"] = co_await post_to_collector(*collector, delivery);
  }
  spdlog::debug("message from {} for {}: {} published, delivered {}", module_name, entity_id,
                published, reply["delivered"].get<bool>());
  co_return reply;
}

}  // namespace waddle::router
