#include "router/api.hpp"

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include "error/error.hpp"
#include "log/log.hpp"
#include "model/field_reader.hpp"
#include "net/http.hpp"
#include "pg/json.hpp"
#include "router/coordination.hpp"
#include "router/rules.hpp"

namespace waddle::router {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

using Handler = std::function<asio::awaitable<net::Response>(net::Request&, const ApiKey&)>;

net::Response field_error(const model::FieldError& e) {
  return net::error_response(Errc::invalid_argument, e.what(), e.field());
}

json error_json(Errc code, const std::string& message, const std::string& field = {}) {
  json error = {{"code", std::string(errc_name(code))}, {"message", message}};
  if (!field.empty()) error["field"] = field;
  return {{"error", error}};
}

std::size_t query_limit(const net::Request& request, std::size_t fallback, std::size_t max) {
  auto it = request.query.find("limit");
  if (it == request.query.end()) return fallback;
  std::size_t value = 0;
  const std::string& text = it->second;
  if (text.empty() || text.size() > 6 ||
      text.find_first_not_of("0123456789") != std::string::npos || (value = std::stoul(text)) < 1 ||
      value > max) {
    throw model::FieldError("limit", "expected an integer from 1 to " + std::to_string(max));
  }
  return value;
}

std::optional<std::string> query_value(const net::Request& request, const char* name) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::int64_t path_id(const net::Request& request, const char* name) {
  const std::string text(request.param(name));
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    throw model::FieldError(name, "expected a positive integer");
  }
  return std::stoll(text);
}

// The columns of a string rule that the API shows and accepts.
constexpr const char* kRuleColumns =
    "r.id, c.name as community, r.string, r.match_type, r.case_sensitive, r.enabled_entity_ids, "
    "r.action, r.command_to_execute, r.command_parameters, r.webhook_url, r.warning_message, "
    "r.block_message, r.priority, r.is_active, r.match_count, r.last_matched, r.created_by, "
    "r.created_at, r.updated_at";

struct RuleInput {
  std::optional<std::string> community;
  Rule rule;
  json present = json::object();  // which fields the body had (PUT updates only those)
};

std::vector<std::string> string_array(model::FieldReader& r, std::string_view key,
                                      std::size_t max_items) {
  std::vector<std::string> out;
  const json* value = r.get(key);
  if (!value) return out;
  const std::string path = r.path_of(key);
  if (!value->is_array()) throw model::FieldError(path, "expected an array of strings");
  if (value->size() > max_items) {
    throw model::FieldError(path, "more than " + std::to_string(max_items) + " entries");
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    out.push_back(model::string_value((*value)[i], path + "[" + std::to_string(i) + "]",
                                      model::StringRule{512, false, true, false}));
  }
  return out;
}

// Parses a rule body. With `base` (PUT) missing fields keep the base's values.
RuleInput parse_rule(const json& body, const Rule* base) {
  model::FieldReader r(body, "");
  RuleInput in;
  if (base) in.rule = *base;
  const model::StringRule text{2000, false, false, false};
  const model::StringRule optional_text{2000, true, false, false};
  auto has = [&](const char* key) {
    bool here = body.is_object() && body.contains(key);
    if (here) in.present[key] = true;
    return here;
  };
  if (has("community")) in.community = r.required_string("community");
  if (has("string") || !base) in.rule.pattern = r.required_string("string", text);
  if (has("match_type")) {
    const std::string value = r.required_string("match_type");
    auto type = parse_match_type(value);
    if (!type) throw model::FieldError("match_type", "expected exact, contains, word, regex or *");
    in.rule.match_type = *type;
  }
  if (has("case_sensitive")) in.rule.case_sensitive = r.bool_or("case_sensitive", false);
  if (has("enabled_entity_ids"))
    in.rule.enabled_entity_ids = string_array(r, "enabled_entity_ids", 1000);
  if (has("action") || !base) {
    const std::string value = r.required_string("action");
    auto action = parse_rule_action(value);
    if (!action) throw model::FieldError("action", "expected warn, block, command or webhook");
    in.rule.action = *action;
  }
  if (has("command_to_execute")) {
    in.rule.command_to_execute =
        r.string_or("command_to_execute", "", model::StringRule{65, true, true, true});
  }
  if (has("command_parameters"))
    in.rule.command_parameters = string_array(r, "command_parameters", 64);
  if (has("webhook_url")) {
    in.rule.webhook_url = r.string_or("webhook_url", "", model::StringRule{2048, true, true, true});
    if (!in.rule.webhook_url.empty()) model::check_http_url(in.rule.webhook_url, "webhook_url");
  }
  if (has("warning_message"))
    in.rule.warning_message = r.string_or("warning_message", "", optional_text);
  if (has("block_message")) in.rule.block_message = r.string_or("block_message", "", optional_text);
  if (has("priority"))
    in.rule.priority = static_cast<int>(r.int_or("priority", 100, -1000000, 1000000));
  if (has("is_active")) in.rule.is_active = r.bool_or("is_active", true);
  r.finish();
  if (auto error = check_rule(in.rule)) {
    std::string field = "string";
    if (error->message.find("command_to_execute") != std::string::npos)
      field = "command_to_execute";
    if (error->message.find("webhook_url") != std::string::npos) field = "webhook_url";
    throw model::FieldError(field, error->message);
  }
  return in;
}

Rule rule_from_row(const pqxx::row& row) {
  Rule rule;
  rule.id = row["id"].as<std::int64_t>();
  rule.pattern = row["string"].as<std::string>();
  rule.match_type =
      parse_match_type(row["match_type"].as<std::string>()).value_or(MatchType::contains);
  rule.case_sensitive = row["case_sensitive"].as<bool>();
  for (const auto& id : json::parse(row["enabled_entity_ids"].c_str())) {
    if (id.is_string()) rule.enabled_entity_ids.push_back(id.get<std::string>());
  }
  rule.action = parse_rule_action(row["action"].as<std::string>()).value_or(RuleAction::warn);
  rule.command_to_execute =
      row["command_to_execute"].is_null() ? "" : row["command_to_execute"].as<std::string>();
  for (const auto& p : json::parse(row["command_parameters"].c_str())) {
    if (p.is_string()) rule.command_parameters.push_back(p.get<std::string>());
  }
  rule.webhook_url = row["webhook_url"].is_null() ? "" : row["webhook_url"].as<std::string>();
  rule.warning_message =
      row["warning_message"].is_null() ? "" : row["warning_message"].as<std::string>();
  rule.block_message = row["block_message"].is_null() ? "" : row["block_message"].as<std::string>();
  rule.priority = row["priority"].as<int>();
  rule.is_active = row["is_active"].as<bool>();
  return rule;
}

std::optional<std::string> null_if_empty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

class Api {
 public:
  explicit Api(ApiParts parts) : p_(std::move(parts)) {}

  // Authenticates, checks the role, runs the handler; field errors name the field.
  net::Handler guarded(std::string_view role, Handler handler) {
    return [this, role = std::string(role),
            handler = std::move(handler)](net::Request& request) -> asio::awaitable<net::Response> {
      Metrics& metrics = p_.engine.parts().metrics;
      const std::string action = request.method + " " + request.path;
      std::optional<ApiKey> key;
      std::optional<Error> failure;
      try {
        key = co_await p_.keys.authenticate(request.header("X-API-Key"));
      } catch (const Error& e) {
        failure = e;
      }
      if (failure) {
        ++metrics.auth_failures;
        log::audit(spdlog::level::warn, {log::Category::auth, "-", request.remote_address, action,
                                         std::to_string(http_status(failure->code()))});
        co_return net::error_response(failure->code(), failure->what());
      }
      if (!key->allows(role) && !(role == "read" && !key->roles.empty())) {
        ++metrics.authz_failures;
        log::audit(spdlog::level::warn, {log::Category::authz, "-", key->prefix, action, "403"});
        co_return net::error_response(Errc::forbidden,
                                      "API key '" + key->name + "' lacks the role " + role);
      }
      std::optional<net::Response> response;
      try {
        response = co_await handler(request, *key);
      } catch (const model::FieldError& e) {
        ++metrics.invalid;
        response = field_error(e);
      }
      co_return std::move(*response);
    };
  }

  asio::awaitable<net::Response> post_event(net::Request& request, const ApiKey& key) {
    const auto started = std::chrono::steady_clock::now();
    json body = net::parse_json_body(request);
    model::Event event = model::parse_event(body);
    json reply = co_await p_.engine.handle_event(std::move(event), key);
    p_.engine.parts().metrics.observe_event(std::chrono::steady_clock::now() - started);
    co_return net::json_response(200, reply);
  }

  asio::awaitable<net::Response> post_batch(net::Request& request, const ApiKey& key) {
    json body = net::parse_json_body(request);
    const json* events = &body;
    std::string base = "events";
    if (body.is_object()) {
      if (!body.contains("events")) throw model::FieldError("events", "missing");
      events = &body["events"];
    }
    if (!events->is_array()) throw model::FieldError(base, "expected an array of events");
    const std::size_t limit = p_.engine.settings()->batch_limit;
    if (events->size() > limit) {
      throw model::FieldError(base, "a batch holds at most " + std::to_string(limit) +
                                        " events, got " + std::to_string(events->size()));
    }
    json results = json::array();
    std::size_t failed = 0;
    for (std::size_t i = 0; i < events->size(); ++i) {
      const std::string path = base + "[" + std::to_string(i) + "]";
      std::optional<json> error;
      try {
        model::Event event = model::parse_event((*events)[i]);
        json reply = co_await p_.engine.handle_event(std::move(event), key);
        results.push_back(std::move(reply));
        continue;
      } catch (const model::FieldError& e) {
        error = error_json(Errc::invalid_argument, e.what(), path + "." + e.field());
      } catch (const Error& e) {
        error = error_json(e.code(), e.what());
      }
      ++failed;
      results.push_back(std::move(*error));
    }
    co_return net::json_response(200, {{"results", std::move(results)},
                                       {"accepted", events->size() - failed},
                                       {"failed", failed}});
  }

  asio::awaitable<net::Response> post_response(net::Request& request, const ApiKey& key) {
    json body = net::parse_json_body(request);
    if (!body.is_object()) throw model::FieldError("", "expected a JSON object");
    json reply = co_await p_.engine.handle_response(body, key);
    co_return net::json_response(200, reply);
  }

  asio::awaitable<net::Response> post_message(net::Request& request, const ApiKey& key) {
    json body = net::parse_json_body(request);
    if (!body.is_object()) throw model::FieldError("", "expected a JSON object");
    json reply = co_await p_.engine.handle_message(body, key);
    co_return net::json_response(200, reply);
  }

  asio::awaitable<net::Response> get_response(net::Request& request, const ApiKey& key) {
    const std::string execution_id(request.param("execution_id"));
    auto scope = key.community_id;
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [execution_id, scope](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      auto executions = tx.exec_params(
          "select e.execution_id, e.session_id, m.name as community, e.entity_id, e.trigger, "
          "cmd.prefix || cmd.command as command, e.user_name, e.status, e.response_status, "
          "e.error_message, e.execution_time_ms, e.created_at, e.completed_at "
          "from command_executions e join communities m on m.id = e.community_id "
          "left join commands cmd on cmd.id = e.command_id "
          "where e.execution_id = $1 and ($2::bigint is null or e.community_id = $2)",
          execution_id, scope);
      if (executions.empty()) return json(nullptr);
      json out = pg::rows_json(executions)[0];
      out["responses"] = pg::rows_json(tx.exec_params(
          "select module_name, success, response_action, response_data, error_message, "
          "created_at from module_responses where execution_id = $1 order by id",
          execution_id));
      return out;
    };
    json found = co_await p_.pool.run(std::move(job), pg::Target::primary);
    if (found.is_null()) {
      throw Error(Errc::not_found, "no execution '" + execution_id +
                                       "' (answers are written "
                                       "within a moment; unknown or not yet written)");
    }
    co_return net::json_response(200, found);
  }

  asio::awaitable<net::Response> recent_responses(net::Request& request, const ApiKey& key) {
    const std::size_t limit = query_limit(request, 50, 500);
    auto community = query_value(request, "community");
    auto entity = query_value(request, "entity_id");
    auto module = query_value(request, "module");
    auto status = query_value(request, "status");
    if (status && *status != "pending" && *status != "success" && *status != "failed" &&
        *status != "timeout") {
      throw model::FieldError("status", "expected pending, success, failed or timeout");
    }
    auto scope = key.community_id;
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return pg::rows_json(tx.exec_params(
          "select e.execution_id, e.session_id, m.name as community, e.entity_id, e.trigger, "
          "cmd.module_name as module, cmd.prefix || cmd.command as command, e.user_name, "
          "e.status, e.error_message, e.execution_time_ms, e.created_at, "
          "(select coalesce(jsonb_agg(r.response_data order by r.id), '[]') "
          "   from module_responses r where r.execution_id = e.execution_id) as actions "
          "from command_executions e join communities m on m.id = e.community_id "
          "left join commands cmd on cmd.id = e.command_id "
          "where ($1::text is null or m.name = $1) and ($2::text is null or e.entity_id = $2) "
          "and ($3::text is null or cmd.module_name = $3) and ($4::text is null or e.status = $4) "
          "and ($5::bigint is null or e.community_id = $5) "
          "order by e.id desc limit $6",
          community, entity, module, status, scope, limit));
    };
    json rows = co_await p_.pool.run(std::move(job), pg::Target::replica);
    co_return net::json_response(200, {{"responses", std::move(rows)}});
  }

  asio::awaitable<net::Response> list_commands(net::Request& request, const ApiKey&) {
    auto prefix = query_value(request, "prefix");
    auto module = query_value(request, "module");
    auto trigger = query_value(request, "trigger_type");
    auto active = query_value(request, "active");
    if (prefix && *prefix != "!" && *prefix != "#")
      throw model::FieldError("prefix", "expected ! or #");
    if (trigger && *trigger != "command" && *trigger != "event" && *trigger != "both") {
      throw model::FieldError("trigger_type", "expected command, event or both");
    }
    if (active && *active != "true" && *active != "false") {
      throw model::FieldError("active", "expected true or false");
    }
    std::optional<bool> is_active;
    if (active) is_active = *active == "true";
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return pg::rows_json(tx.exec_params(
          "select id, prefix, command, description, module_name, version, type, location, "
          "location_url, method, timeout, trigger_type, event_types, priority, execution_mode, "
          "rate_limit, is_active from commands "
          "where ($1::text is null or prefix = $1) and ($2::text is null or module_name = $2) "
          "and ($3::text is null or trigger_type = $3) and ($4::boolean is null or is_active = $4) "
          "order by prefix, command",
          prefix, module, trigger, is_active));
    };
    json rows = co_await p_.pool.run(std::move(job), pg::Target::replica);
    co_return net::json_response(200, {{"commands", std::move(rows)}});
  }

  asio::awaitable<net::Response> list_entities(net::Request& request, const ApiKey& key) {
    auto community = query_value(request, "community");
    auto platform = query_value(request, "platform");
    if (platform && !model::is_platform(*platform)) {
      throw model::FieldError("platform", "expected twitch, discord, slack or console");
    }
    auto scope = key.community_id;
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return pg::rows_json(tx.exec_params(
          "select e.entity_id, e.platform, e.server_id, e.channel_id, m.name as community, "
          "e.owner, e.is_active, e.created_at from entities e "
          "join communities m on m.id = e.community_id "
          "where ($1::text is null or m.name = $1) and ($2::text is null or e.platform = $2) "
          "and ($3::bigint is null or e.community_id = $3) order by e.entity_id",
          community, platform, scope));
    };
    json rows = co_await p_.pool.run(std::move(job), pg::Target::replica);
    co_return net::json_response(200, {{"entities", std::move(rows)}});
  }

  asio::awaitable<net::Response> list_rules(net::Request& request, const ApiKey& key) {
    auto community = query_value(request, "community");
    auto scope = key.community_id;
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return pg::rows_json(
          tx.exec_params(std::string("select ") + kRuleColumns +
                             " from string_rules r join communities c on c.id = r.community_id "
                             "where ($1::text is null or c.name = $1) and ($2::bigint is null or "
                             "r.community_id = $2) order by c.name, r.priority, r.id",
                         community, scope));
    };
    json rows = co_await p_.pool.run(std::move(job), pg::Target::primary);
    co_return net::json_response(200, {{"rules", std::move(rows)}});
  }

  asio::awaitable<net::Response> get_rule(net::Request& request, const ApiKey& key) {
    const std::int64_t id = path_id(request, "id");
    auto scope = key.community_id;
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return pg::rows_json(tx.exec_params(
          std::string("select ") + kRuleColumns +
              " from string_rules r join communities c on c.id = r.community_id where r.id = $1 "
              "and ($2::bigint is null or r.community_id = $2)",
          id, scope));
    };
    json rows = co_await p_.pool.run(std::move(job), pg::Target::primary);
    if (rows.empty()) throw Error(Errc::not_found, "no string rule " + std::to_string(id));
    co_return net::json_response(200, rows[0]);
  }

  static std::vector<std::optional<std::string>> rule_params(const Rule& r) {
    return {r.pattern,
            std::string(to_string(r.match_type)),
            json(r.enabled_entity_ids).dump(),
            std::string(to_string(r.action)),
            null_if_empty(r.command_to_execute),
            json(r.command_parameters).dump(),
            null_if_empty(r.webhook_url),
            null_if_empty(r.warning_message),
            null_if_empty(r.block_message)};
  }

  asio::awaitable<net::Response> create_rule(net::Request& request, const ApiKey& key) {
    json body = net::parse_json_body(request);
    RuleInput in = parse_rule(body, nullptr);
    if (!in.community) throw model::FieldError("community", "missing");
    const std::string community = *in.community;
    const Rule rule = in.rule;
    const std::string actor = "api:" + key.name;
    auto scope = key.community_id;
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::work& tx) {
      auto found = tx.exec_params("select id from communities where name = $1", community);
      if (found.empty()) throw model::FieldError("community", "no community '" + community + "'");
      const auto community_id = found[0][0].as<std::int64_t>();
      if (scope && *scope != community_id) {
        throw Error(Errc::forbidden, "this API key may not change community '" + community + "'");
      }
      auto p = rule_params(rule);
      auto inserted = tx.exec_params1(
          "insert into string_rules (community_id, string, match_type, case_sensitive, "
          "enabled_entity_ids, action, command_to_execute, command_parameters, webhook_url, "
          "warning_message, block_message, priority, is_active, created_by) values "
          "($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14) returning "
          "id",
          community_id, p[0], p[1], rule.case_sensitive, p[2], p[3], p[4], p[5], p[6], p[7], p[8],
          rule.priority, rule.is_active, actor);
      const auto id = inserted[0].as<std::int64_t>();
      return pg::rows_json(tx.exec_params(std::string("select ") + kRuleColumns +
                                              " from string_rules r join communities c on "
                                              "c.id = r.community_id where r.id = $1",
                                          id))[0];
    };
    json row = co_await p_.pool.transaction(std::move(job));
    log::audit({log::Category::audit, community, key.prefix, "string-rule.create",
                "id=" + row["id"].dump()});
    co_return net::json_response(201, row);
  }

  asio::awaitable<net::Response> update_rule(net::Request& request, const ApiKey& key) {
    const std::int64_t id = path_id(request, "id");
    json body = net::parse_json_body(request);
    if (!body.is_object()) throw model::FieldError("", "expected a JSON object");
    if (body.contains("community")) {
      throw model::FieldError("community", "a rule cannot move to another community");
    }
    auto scope = key.community_id;
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::work& tx) {
      auto current = tx.exec_params(
          "select * from string_rules where id = $1 and ($2::bigint is null or community_id = $2) "
          "for update",
          id, scope);
      if (current.empty()) throw Error(Errc::not_found, "no string rule " + std::to_string(id));
      const Rule base = rule_from_row(current[0]);
      const Rule rule = parse_rule(body, &base).rule;
      auto p = rule_params(rule);
      tx.exec_params(
          "update string_rules set string = $2, match_type = $3, case_sensitive = $4, "
          "enabled_entity_ids = $5::jsonb, action = $6, command_to_execute = $7, "
          "command_parameters = $8::jsonb, webhook_url = $9, warning_message = $10, "
          "block_message = $11, priority = $12, is_active = $13 where id = $1",
          id, p[0], p[1], rule.case_sensitive, p[2], p[3], p[4], p[5], p[6], p[7], p[8],
          rule.priority, rule.is_active);
      return pg::rows_json(tx.exec_params(std::string("select ") + kRuleColumns +
                                              " from string_rules r join communities c on "
                                              "c.id = r.community_id where r.id = $1",
                                          id))[0];
    };
    json row = co_await p_.pool.transaction(std::move(job));
    log::audit({log::Category::audit, row.value("community", "-"), key.prefix, "string-rule.update",
                "id=" + std::to_string(id)});
    co_return net::json_response(200, row);
  }

  asio::awaitable<net::Response> delete_rule(net::Request& request, const ApiKey& key) {
    const std::int64_t id = path_id(request, "id");
    auto scope = key.community_id;
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [=](pqxx::work& tx) {
      auto deleted = tx.exec_params(
          "delete from string_rules r using communities c where r.id = $1 and c.id = "
          "r.community_id and ($2::bigint is null or r.community_id = $2) returning c.name",
          id, scope);
      if (deleted.empty()) throw Error(Errc::not_found, "no string rule " + std::to_string(id));
      return deleted[0][0].as<std::string>();
    };
    std::string community = co_await p_.pool.transaction(std::move(job));
    log::audit({log::Category::audit, community, key.prefix, "string-rule.delete",
                "id=" + std::to_string(id)});
    co_return net::json_response(200, {{"deleted", id}, {"community", community}});
  }

  asio::awaitable<net::Response> register_module(net::Request& request, const ApiKey& key,
                                                 bool heartbeat) {
    json body = net::parse_json_body(request);
    model::FieldReader r(body, "");
    const model::StringRule name_rule{128, false, true, true};
    const std::string name = r.required_string("name", name_rule);
    Registry& registry = p_.engine.parts().registry;
    const std::string now = AuditWriter::now_text();
    if (heartbeat && !body.contains("kind")) {
      r.finish();
      if (!registry.heartbeat(name, now)) {
        throw Error(Errc::not_found,
                    "'" + name + "' is not registered: POST /router/modules/register first");
      }
      co_return net::json_response(200, {{"name", name}, {"heartbeat", now}});
    }
    Registration reg;
    reg.name = name;
    reg.kind = r.required_string("kind", name_rule);
    if (reg.kind != "collector" && reg.kind != "module") {
      throw model::FieldError("kind", "expected collector or module");
    }
    if (!key.allows(reg.kind == "collector" ? kRoleCollector : kRoleModule)) {
      ++p_.engine.parts().metrics.authz_failures;
      throw Error(Errc::forbidden, "API key '" + key.name + "' lacks the role " + reg.kind);
    }
    reg.platform = r.string_or("platform", "", name_rule);
    if (reg.kind == "collector" && !model::is_platform(reg.platform)) {
      throw model::FieldError("platform", "expected twitch, discord, slack or console");
    }
    reg.callback_url = r.string_or("callback_url", "", model::StringRule{2048, true, true, true});
    if (!reg.callback_url.empty()) model::check_http_url(reg.callback_url, "callback_url");
    if (reg.kind == "collector" && reg.callback_url.empty()) {
      throw model::FieldError("callback_url", "a collector must give the URL late answers go to");
    }
    reg.callback_token =
        r.string_or("callback_token", "", model::StringRule{512, true, true, true});
    reg.version = r.string_or("version", "0.0.0", name_rule);
    r.finish();
    reg.registered_at = heartbeat ? std::string() : now;
    reg.last_heartbeat = now;
    const Registration saved = reg;
    registry.upsert(std::move(reg));
    if (saved.kind == "collector") {
      try {
        // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
        auto job = [saved](pqxx::connection& c) {
          pqxx::nontransaction tx(c);
          tx.exec_params(
              "insert into collector_modules (module_name, module_version, platform, endpoint_url, "
              "status, last_heartbeat) values ($1, $2, $3, $4, 'active', now()) "
              "on conflict (module_name) do update set module_version = excluded.module_version, "
              "platform = excluded.platform, endpoint_url = excluded.endpoint_url, "
              "status = 'active', last_heartbeat = now()",
              saved.name, saved.version, saved.platform, saved.callback_url);
          return 0;
        };
        co_await p_.pool.run(std::move(job));
      } catch (const std::exception& e) {
        spdlog::warn("register {}: not recorded in collector_modules: {}", saved.name, e.what());
      }
    }
    log::audit({log::Category::audit, "-", key.prefix,
                heartbeat ? "module.heartbeat" : "module.register", saved.kind + ":" + saved.name});
    co_return net::json_response(200, {{"name", saved.name},
                                       {"kind", saved.kind},
                                       {"platform", saved.platform},
                                       {"callback_url", saved.callback_url},
                                       {"heartbeat_interval_seconds", 30}});
  }

  net::Response metrics_json() {
    json out = p_.engine.parts().metrics.to_json();
    for (const auto& [name, value] : p_.gauges()) out["gauges"][name] = value;
    return net::json_response(200, out);
  }

  net::Response metrics_text() {
    return net::text_response(200, p_.engine.parts().metrics.prometheus(p_.gauges()),
                              "text/plain; version=0.0.4; charset=utf-8");
  }

  asio::awaitable<net::Response> readyz() {
    json ready = co_await p_.readiness();
    co_return net::json_response(ready.value("ready", false) ? 200 : 503, ready);
  }

  ApiParts p_;
};

}  // namespace

net::Router make_api(ApiParts parts) {
  auto api = std::make_shared<Api>(std::move(parts));
  const auto settings = api->p_.engine.settings();
  net::Router router;
  const net::RouteOptions event_limit{settings->body_limit};
  const net::RouteOptions batch_limit{std::max<std::size_t>(settings->body_limit * 16, 1 << 20)};
  const net::RouteOptions small{64 * 1024};
  using R = net::Request;
  using K = ApiKey;
  router.add(
      "POST", "/router/events",
      api->guarded(kRoleCollector, [api](R& r, const K& k) { return api->post_event(r, k); }),
      event_limit);
  router.add(
      "POST", "/router/events/batch",
      api->guarded(kRoleCollector, [api](R& r, const K& k) { return api->post_batch(r, k); }),
      batch_limit);
  router.add(
      "POST", "/router/responses",
      api->guarded(kRoleModule, [api](R& r, const K& k) { return api->post_response(r, k); }),
      event_limit);
  router.add("POST", "/router/messages",
             api->guarded(kRoleModule, [api](R& r, const K& k) { return api->post_message(r, k); }),
             event_limit);
  router.add("GET", "/router/responses/recent",
             api->guarded("read", [api](R& r, const K& k) { return api->recent_responses(r, k); }));
  router.add("GET", "/router/responses/{execution_id}",
             api->guarded("read", [api](R& r, const K& k) { return api->get_response(r, k); }));
  router.add("GET", "/router/commands",
             api->guarded("read", [api](R& r, const K& k) { return api->list_commands(r, k); }));
  router.add("GET", "/router/entities",
             api->guarded("read", [api](R& r, const K& k) { return api->list_entities(r, k); }));
  router.add("GET", "/router/string-rules",
             api->guarded("read", [api](R& r, const K& k) { return api->list_rules(r, k); }));
  router.add("POST", "/router/string-rules",
             api->guarded(kRoleAdmin, [api](R& r, const K& k) { return api->create_rule(r, k); }),
             small);
  router.add("GET", "/router/string-rules/{id}",
             api->guarded("read", [api](R& r, const K& k) { return api->get_rule(r, k); }));
  router.add("PUT", "/router/string-rules/{id}",
             api->guarded(kRoleAdmin, [api](R& r, const K& k) { return api->update_rule(r, k); }),
             small);
  router.add("DELETE", "/router/string-rules/{id}",
             api->guarded(kRoleAdmin, [api](R& r, const K& k) { return api->delete_rule(r, k); }));
  router.add(
      "POST", "/router/modules/register",
      api->guarded("read", [api](R& r, const K& k) { return api->register_module(r, k, false); }),
      small);
  router.add(
      "POST", "/router/modules/heartbeat",
      api->guarded("read", [api](R& r, const K& k) { return api->register_module(r, k, true); }),
      small);
  router.add("GET", "/router/metrics",
             [api](R&) -> asio::awaitable<net::Response> { co_return api->metrics_json(); });
  router.add("GET", "/metrics",
             [api](R&) -> asio::awaitable<net::Response> { co_return api->metrics_text(); });
  router.add("GET", "/router/health", [api](R&) -> asio::awaitable<net::Response> {
    co_return net::json_response(200, api->p_.health());
  });
  router.add("GET", "/healthz", [](R&) -> asio::awaitable<net::Response> {
    co_return net::json_response(200, {{"status", "ok"}});
  });
  router.add("GET", "/readyz",
             [api](R&) -> asio::awaitable<net::Response> { return api->readyz(); });
  add_coordination_routes(router, api->p_.engine, api->p_.pool,
                          [api](std::string_view role, CoordinationHandler handler) {
                            return api->guarded(role, std::move(handler));
                          });
  return router;
}

}  // namespace waddle::router
