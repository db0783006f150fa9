#include "router/catalog.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <map>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <utility>

namespace waddle::router {

namespace asio = boost::asio;

// std::unordered_map keyed by std::string but searchable with a string_view, so that lookups
// on the hot path do not allocate.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct Catalog::CommandIndex {
  StringMap<std::shared_ptr<const CommandInfo>> by_key;  // prefix + name
  StringMap<std::vector<std::shared_ptr<const CommandInfo>>> by_event;
};

struct Catalog::EntityIndex {
  StringMap<std::shared_ptr<const EntityInfo>> by_id;
};

struct Catalog::CommunityData {
  CommunityRef ref;
  std::shared_ptr<const AliasTable> aliases;
  std::shared_ptr<const RuleSet> rules;
  std::vector<RuleError> rule_errors;
  std::unordered_map<std::int64_t, Permission> by_command;
  StringMap<Permission> by_module;
};

struct Catalog::CommunityIndex {
  std::unordered_map<std::int64_t, std::shared_ptr<const CommunityData>> by_id;
  StringMap<std::int64_t> id_by_name;
  std::uint64_t skipped_rules = 0;
};

struct Catalog::Snapshot {
  std::shared_ptr<const CommandIndex> commands;
  std::shared_ptr<const EntityIndex> entities;
  std::shared_ptr<const CommunityIndex> communities;
};

struct Catalog::Plan {
  bool all_commands = false;
  bool all_communities = false;
  std::set<std::string> command_keys;
  std::set<std::string> entity_keys;
  std::set<std::int64_t> community_ids;
  std::uint64_t payloads = 0;  // targeted payloads in this plan
  std::string problem;         // why a payload forced a full reload
};

namespace {

using Clock = std::chrono::steady_clock;

// ---- reading rows -------------------------------------------------------------------------

template <class T>
T column_or(const pqxx::row& row, const char* name, T fallback) {
  return row[name].is_null() ? fallback : row[name].as<T>();
}

nlohmann::json json_column(const pqxx::row& row, const char* name, nlohmann::json fallback) {
  if (row[name].is_null()) return fallback;
  return nlohmann::json::parse(row[name].c_str());
}

constexpr const char* kCommandColumns =
    "select id, prefix, command, location_url, type, method, timeout, trigger_type, "
    "event_types::text as event_types, priority, execution_mode, rate_limit, module_name, "
    "is_active from commands";

CommandInfo read_command(const pqxx::row& row) {
  CommandInfo c;
  c.id = row["id"].as<std::int64_t>();
  c.prefix = row["prefix"].as<std::string>();
  c.name = row["command"].as<std::string>();
  c.location_url = row["location_url"].as<std::string>();
  c.type = row["type"].as<std::string>();
  c.method = row["method"].as<std::string>();
  c.timeout = row["timeout"].as<int>();
  c.trigger_type = row["trigger_type"].as<std::string>();
  for (const auto& item : json_column(row, "event_types", nlohmann::json::array())) {
    if (item.is_string()) c.event_types.push_back(item.get<std::string>());
  }
  c.priority = row["priority"].as<int>();
  c.execution_mode = row["execution_mode"].as<std::string>();
  c.rate_limit = row["rate_limit"].as<int>();
  c.module_name = row["module_name"].as<std::string>();
  c.is_active = row["is_active"].as<bool>();
  return c;
}

constexpr const char* kEntityColumns =
    "select e.entity_id, e.community_id, e.is_active, c.name as community_name, "
    "c.is_active as community_is_active from entities e join communities c on c.id = "
    "e.community_id";

EntityInfo read_entity(const pqxx::row& row) {
  EntityInfo e;
  e.entity_id = row["entity_id"].as<std::string>();
  e.community_id = row["community_id"].as<std::int64_t>();
  e.is_active = row["is_active"].as<bool>();
  e.community_name = row["community_name"].as<std::string>();
  e.community_is_active = row["community_is_active"].as<bool>();
  return e;
}

constexpr const char* kCommunityColumns =
    "select id, name, is_active, coalesce(config->>'command_prefixes', '') as prefixes "
    "from communities";

CommunityRef read_community(const pqxx::row& row) {
  return {row["id"].as<std::int64_t>(), row["name"].as<std::string>(), row["is_active"].as<bool>(),
          row["prefixes"].as<std::string>()};
}
constexpr const char* kAliasColumns =
    "select community_id, alias, expansion, is_active from aliases";
constexpr const char* kPermissionColumns =
    "select community_id, command_id, module_name, is_enabled, min_role, config::text as config "
    "from command_permissions";
constexpr const char* kRuleColumns =
    "select id, community_id, string, match_type, case_sensitive, "
    "enabled_entity_ids::text as enabled_entity_ids, action, command_to_execute, "
    "command_parameters::text as command_parameters, webhook_url, warning_message, "
    "block_message, priority, is_active from string_rules";

// The rows of one community, as read; built into a CommunityData by build_community.
struct CommunityRows {
  CommunityRef ref;
  std::vector<Alias> aliases;
  std::vector<Rule> rules;
  std::vector<RuleError> bad_rows;  // rows that are not even a Rule (unknown enum spelling)
  std::vector<std::tuple<std::optional<std::int64_t>, std::string, Permission>> permissions;
};

void add_rule_row(CommunityRows& rows, const pqxx::row& row) {
  Rule rule;
  rule.id = row["id"].as<std::int64_t>();
  rule.pattern = row["string"].as<std::string>();
  const auto match_type = row["match_type"].as<std::string>();
  const auto action = row["action"].as<std::string>();
  auto parsed_type = parse_match_type(match_type);
  auto parsed_action = parse_rule_action(action);
  if (!parsed_type || !parsed_action) {
    rows.bad_rows.push_back(
        {rule.id,
         "string rule " + std::to_string(rule.id) + ": unknown " +
             (parsed_type ? "action \"" + action + "\"" : "match_type \"" + match_type + "\""),
         std::nullopt});
    return;
  }
  rule.match_type = *parsed_type;
  rule.action = *parsed_action;
  rule.case_sensitive = row["case_sensitive"].as<bool>();
  for (const auto& item : json_column(row, "enabled_entity_ids", nlohmann::json::array())) {
    rule.enabled_entity_ids.push_back(item.is_string() ? item.get<std::string>() : item.dump());
  }
  rule.command_to_execute = column_or<std::string>(row, "command_to_execute", "");
  for (const auto& item : json_column(row, "command_parameters", nlohmann::json::array())) {
    rule.command_parameters.push_back(item.is_string() ? item.get<std::string>() : item.dump());
  }
  rule.webhook_url = column_or<std::string>(row, "webhook_url", "");
  rule.warning_message = column_or<std::string>(row, "warning_message", "");
  rule.block_message = column_or<std::string>(row, "block_message", "");
  rule.priority = row["priority"].as<int>();
  rule.is_active = row["is_active"].as<bool>();
  rows.rules.push_back(std::move(rule));
}

void add_permission_row(CommunityRows& rows, const pqxx::row& row) {
  Permission p;
  p.is_enabled = row["is_enabled"].as<bool>();
  p.min_role = row["min_role"].as<std::string>();
  p.config = json_column(row, "config", nlohmann::json::object());
  std::optional<std::int64_t> command_id;
  if (!row["command_id"].is_null()) command_id = row["command_id"].as<std::int64_t>();
  rows.permissions.emplace_back(command_id, column_or<std::string>(row, "module_name", ""),
                                std::move(p));
}

void add_alias_row(CommunityRows& rows, const pqxx::row& row) {
  rows.aliases.push_back({row["alias"].as<std::string>(), row["expansion"].as<std::string>(),
                          row["is_active"].as<bool>()});
}

// Compiles the rules a row at a time would let through: a bad row is skipped and reported,
// never the reason a whole community loses its rules.
std::shared_ptr<Catalog::CommunityData> build_community(CommunityRows rows) {
  auto data = std::make_shared<Catalog::CommunityData>();
  data->ref = std::move(rows.ref);
  auto aliases = std::make_shared<AliasTable>();
  aliases->set(std::move(rows.aliases));
  data->aliases = std::move(aliases);
  data->rule_errors = std::move(rows.bad_rows);
  std::vector<Rule> good;
  for (auto& rule : rows.rules) {
    if (rule.is_active) {
      if (auto error = check_rule(rule)) {
        data->rule_errors.push_back(std::move(*error));
        continue;
      }
    }
    good.push_back(std::move(rule));
  }
  for (;;) {
    auto compiled = RuleSet::compile(good);
    if (auto* set = std::get_if<RuleSet>(&compiled)) {
      data->rules = std::make_shared<const RuleSet>(std::move(*set));
      break;
    }
    // check_rule should have caught it; drop the row compile named and try again.
    auto error = std::get<RuleError>(std::move(compiled));
    auto it = std::find_if(good.begin(), good.end(),
                           [&](const Rule& r) { return r.id == error.rule_id; });
    data->rule_errors.push_back(std::move(error));
    if (it == good.end()) {
      data->rules = std::make_shared<const RuleSet>();
      break;
    }
    good.erase(it);
  }
  for (auto& [command_id, module_name, permission] : rows.permissions) {
    if (command_id) {
      data->by_command[*command_id] = std::move(permission);
    } else {
      data->by_module[module_name] = std::move(permission);
    }
  }
  return data;
}

// One community's rows, nullptr when the community no longer exists.
std::shared_ptr<Catalog::CommunityData> load_community(pqxx::transaction_base& tx,
                                                       std::int64_t id) {
  auto found = tx.exec_params(std::string(kCommunityColumns) + " where id = $1", id);
  if (found.empty()) return nullptr;
  CommunityRows rows;
  rows.ref = read_community(found[0]);
  for (const auto& row :
       tx.exec_params(std::string(kAliasColumns) + " where community_id = $1 order by id", id)) {
    add_alias_row(rows, row);
  }
  for (const auto& row :
       tx.exec_params(std::string(kRuleColumns) + " where community_id = $1 order by id", id)) {
    add_rule_row(rows, row);
  }
  for (const auto& row : tx.exec_params(
           std::string(kPermissionColumns) + " where community_id = $1 order by id", id)) {
    add_permission_row(rows, row);
  }
  return build_community(std::move(rows));
}

void index_events(Catalog::CommandIndex& index) {
  index.by_event.clear();
  for (const auto& [key, command] : index.by_key) {
    if (!command->is_active || command->trigger_type == "command") continue;
    std::set<std::string_view> seen;  // a type listed twice still runs the command once
    for (const auto& type : command->event_types) {
      if (seen.insert(type).second) index.by_event[type].push_back(command);
    }
  }
  for (auto& [type, list] : index.by_event) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a->priority != b->priority ? a->priority < b->priority : a->id < b->id;
    });
  }
}

void finish_index(Catalog::CommunityIndex& index) {
  index.id_by_name.clear();
  index.skipped_rules = 0;
  for (const auto& [id, data] : index.by_id) {
    index.id_by_name[data->ref.name] = id;
    index.skipped_rules += data->rule_errors.size();
  }
}

template <class Map>
Map copy_or_empty(const std::shared_ptr<const typename Map::element_type>& from) {
  return from ? Map(*from) : Map();
}

std::string error_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

// Adds one payload to the plan (see migrations/README.md, "Change notifications").
void add_to_plan(Catalog::Plan& plan, const nlohmann::json& payload) {
  auto full = [&](std::string why) {
    plan.all_commands = plan.all_communities = true;
    plan.problem = std::move(why);
  };
  if (!payload.is_object() || !payload.contains("table") || !payload["table"].is_string()) {
    return full("change payload without a table: " + payload.dump().substr(0, 200));
  }
  const auto table = payload["table"].get<std::string>();
  const auto op = payload.value("op", std::string());
  const bool commands = table == "commands";
  const bool entities = table == "entities";
  const bool community_row = table == "communities";  // its own id is the community
  const bool community_scoped = community_row || table == "aliases" || table == "string_rules" ||
                                table == "command_permissions";
  if (!commands && !entities && !community_scoped) return;  // not a table we cache
  if (op == "TRUNCATE") {
    (commands ? plan.all_commands : plan.all_communities) = true;
    return;
  }
  bool understood = false;
  for (const char* field : {"key", "old_key"}) {
    if (!(commands || entities) || !payload.contains(field)) continue;
    const auto& value = payload[field];
    if (!value.is_string()) continue;
    const auto key = value.get<std::string>();
    if (commands) {
      if (key.size() < 2 || (key[0] != '!' && key[0] != '#')) continue;
      plan.command_keys.insert(key);
    } else {
      plan.entity_keys.insert(key);
    }
    understood = true;
  }
  for (const char* field : {"community_id", "old_community_id", "id"}) {
    if (!community_scoped || !payload.contains(field)) continue;
    if ((std::string_view(field) == "id") != community_row) continue;
    const auto& value = payload[field];
    if (!value.is_number_integer()) continue;
    plan.community_ids.insert(value.get<std::int64_t>());
    understood = true;
  }
  if (!understood) {
    return full("change payload for " + table +
                " without a usable key: " + payload.dump().substr(0, 200));
  }
  ++plan.payloads;
}

}  // namespace

// ---- Catalog ------------------------------------------------------------------------------

Catalog::Catalog(pg::Pool& pool, asio::any_io_executor executor, CatalogOptions options)
    : pool_(pool), executor_(std::move(executor)), options_(options) {
  commands_.store(std::make_shared<const CommandIndex>());
  entities_.store(std::make_shared<const EntityIndex>());
  communities_.store(std::make_shared<const CommunityIndex>());
}

Catalog::~Catalog() {
  stop();
}

namespace {

Catalog::Snapshot read_everything(pqxx::connection& conn) {
  // One snapshot of the database, so that entities, commands and permissions agree.
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
  auto commands = std::make_shared<Catalog::CommandIndex>();
  for (const auto& row : tx.exec(std::string(kCommandColumns) + " order by id")) {
    auto command = std::make_shared<const CommandInfo>(read_command(row));
    commands->by_key[command->key()] = command;
  }
  index_events(*commands);

  auto entities = std::make_shared<Catalog::EntityIndex>();
  for (const auto& row : tx.exec(std::string(kEntityColumns) + " order by e.id")) {
    auto entity = std::make_shared<const EntityInfo>(read_entity(row));
    entities->by_id[entity->entity_id] = entity;
  }

  std::map<std::int64_t, CommunityRows> rows;
  for (const auto& row : tx.exec(std::string(kCommunityColumns) + " order by id")) {
    auto id = row["id"].as<std::int64_t>();
    rows[id].ref = read_community(row);
  }
  // A row of a community created after the communities query cannot appear: same snapshot.
  for (const auto& row : tx.exec(std::string(kAliasColumns) + " order by id")) {
    add_alias_row(rows[row["community_id"].as<std::int64_t>()], row);
  }
  for (const auto& row : tx.exec(std::string(kRuleColumns) + " order by id")) {
    add_rule_row(rows[row["community_id"].as<std::int64_t>()], row);
  }
  for (const auto& row : tx.exec(std::string(kPermissionColumns) + " order by id")) {
    add_permission_row(rows[row["community_id"].as<std::int64_t>()], row);
  }
  tx.commit();

  auto communities = std::make_shared<Catalog::CommunityIndex>();
  for (auto& [id, parts] : rows) communities->by_id[id] = build_community(std::move(parts));
  finish_index(*communities);
  return {std::move(commands), std::move(entities), std::move(communities)};
}

}  // namespace

asio::awaitable<void> Catalog::load_all() {
  const pg::RunOptions retry{.retry_on_broken = true};
  auto job = [](pqxx::connection& conn) { return read_everything(conn); };
  auto snapshot = co_await pool_.run(job, pg::Target::primary, retry);
  install(std::move(snapshot), FullReload{});
}

void Catalog::load_all_sync() {
  const pg::RunOptions retry{.retry_on_broken = true};
  auto job = [](pqxx::connection& conn) { return read_everything(conn); };
  install(pool_.run_sync(job, pg::Target::primary, retry), FullReload{});
}

void Catalog::install(Snapshot snapshot, FullReload what) {
  const auto now = Clock::now();
  if (what.commands) commands_.store(std::move(snapshot.commands));
  if (what.communities) {
    entities_.store(std::move(snapshot.entities));
    communities_.store(std::move(snapshot.communities));
  }
  std::lock_guard lock(mutex_);
  if (what.commands) commands_loaded_at_ = now;
  if (what.communities) communities_loaded_at_ = now;
  ++loads_;
  last_error_.clear();
  retry_pending_ = false;
}

asio::awaitable<void> Catalog::full_reload(FullReload what) {
  // Reading everything even when only half is due keeps one consistent snapshot and one code
  // path; a TTL reload is rare.
  const pg::RunOptions retry{.retry_on_broken = true};
  auto job = [](pqxx::connection& conn) { return read_everything(conn); };
  auto snapshot = co_await pool_.run(job, pg::Target::primary, retry);
  install(std::move(snapshot), what);
}

asio::awaitable<void> Catalog::reload_commands(std::vector<std::string> keys) {
  const pg::RunOptions retry{.retry_on_broken = true};
  auto job = [keys](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    std::vector<std::pair<std::string, std::optional<CommandInfo>>> found;
    for (const auto& key : keys) {
      auto result =
          tx.exec_params(std::string(kCommandColumns) + " where prefix = $1 and command = $2",
                         key.substr(0, 1), key.substr(1));
      found.emplace_back(
          key, result.empty() ? std::nullopt : std::optional<CommandInfo>(read_command(result[0])));
    }
    return found;
  };
  auto found = co_await pool_.run(job, pg::Target::primary, retry);
  auto next = std::make_shared<CommandIndex>(*commands_.load());
  for (auto& [key, command] : found) {
    next->by_key.erase(key);
    if (command) next->by_key[key] = std::make_shared<const CommandInfo>(std::move(*command));
  }
  index_events(*next);
  commands_.store(std::move(next));
}

asio::awaitable<void> Catalog::reload_communities(std::vector<std::int64_t> ids) {
  const pg::RunOptions retry{.retry_on_broken = true};
  auto job = [ids](pqxx::connection& conn) {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
    std::vector<std::pair<std::int64_t, std::shared_ptr<CommunityData>>> found;
    for (auto id : ids) found.emplace_back(id, load_community(tx, id));
    tx.commit();
    return found;
  };
  auto found = co_await pool_.run(job, pg::Target::primary, retry);
  auto next = std::make_shared<CommunityIndex>(*communities_.load());
  std::unordered_map<std::int64_t, const CommunityRef*> renamed;
  for (auto& [id, data] : found) {
    auto old = next->by_id.find(id);
    if (data && old != next->by_id.end() &&
        (old->second->ref.name != data->ref.name ||
         old->second->ref.is_active != data->ref.is_active)) {
      renamed[id] = &data->ref;
    }
    if (data) {
      next->by_id[id] = std::move(data);
    } else {
      next->by_id.erase(id);
    }
  }
  finish_index(*next);
  if (!renamed.empty()) {
    // Entities carry their community's name and flag: refresh the ones that changed.
    auto entities = std::make_shared<EntityIndex>(*entities_.load());
    for (auto& [key, entity] : entities->by_id) {
      auto hit = renamed.find(entity->community_id);
      if (hit == renamed.end()) continue;
      auto copy = std::make_shared<EntityInfo>(*entity);
      copy->community_name = hit->second->name;
      copy->community_is_active = hit->second->is_active;
      entity = std::move(copy);
    }
    entities_.store(std::move(entities));
  }
  communities_.store(std::move(next));
}

asio::awaitable<void> Catalog::reload_entities(std::vector<std::string> keys) {
  const pg::RunOptions retry{.retry_on_broken = true};
  auto job = [keys](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    std::vector<std::pair<std::string, std::optional<EntityInfo>>> found;
    for (const auto& key : keys) {
      auto result = tx.exec_params(std::string(kEntityColumns) + " where e.entity_id = $1", key);
      found.emplace_back(
          key, result.empty() ? std::nullopt : std::optional<EntityInfo>(read_entity(result[0])));
    }
    return found;
  };
  auto found = co_await pool_.run(job, pg::Target::primary, retry);
  auto next = std::make_shared<EntityIndex>(*entities_.load());
  std::vector<std::int64_t> unknown_communities;
  const auto communities = communities_.load();
  for (auto& [key, entity] : found) {
    next->by_id.erase(key);
    if (!entity) continue;
    if (!communities->by_id.contains(entity->community_id)) {
      unknown_communities.push_back(entity->community_id);
    }
    next->by_id[key] = std::make_shared<const EntityInfo>(std::move(*entity));
  }
  entities_.store(std::move(next));
  // A community created after the last full load: fetch its aliases, rules and permissions too.
  if (!unknown_communities.empty()) co_await reload_communities(std::move(unknown_communities));
}

asio::awaitable<void> Catalog::execute(const Plan& plan) {
  // Arguments are named before each co_await: g++ 12 mishandles braced temporaries there.
  if (plan.all_commands || plan.all_communities) {
    const FullReload what{plan.all_commands, plan.all_communities};
    co_await full_reload(what);
  }
  if (!plan.all_commands && !plan.command_keys.empty()) {
    std::vector<std::string> keys(plan.command_keys.begin(), plan.command_keys.end());
    co_await reload_commands(std::move(keys));
  }
  if (!plan.all_communities && !plan.entity_keys.empty()) {
    std::vector<std::string> keys(plan.entity_keys.begin(), plan.entity_keys.end());
    co_await reload_entities(std::move(keys));
  }
  if (!plan.all_communities && !plan.community_ids.empty()) {
    std::vector<std::int64_t> ids(plan.community_ids.begin(), plan.community_ids.end());
    co_await reload_communities(std::move(ids));
  }
  std::lock_guard lock(mutex_);
  reloads_ += plan.payloads;
  // A payload that forced a full reload is worth a look, but the reload itself succeeded.
  last_error_ = plan.problem;
}

asio::awaitable<void> Catalog::apply_change(const nlohmann::json& payload) {
  Plan plan;
  add_to_plan(plan, payload);
  {
    std::lock_guard lock(mutex_);
    ++changes_;
  }
  co_await execute(plan);
}

void Catalog::enqueue_change(std::string_view payload) {
  auto parsed = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  // A discarded value goes through add_to_plan's "no table" branch: a full reload.
  enqueue(parsed.is_discarded() ? nlohmann::json(std::string(payload)) : std::move(parsed));
}

void Catalog::enqueue_change(nlohmann::json payload) {
  enqueue(std::move(payload));
}

void Catalog::request_full_reload() {
  enqueue(FullReload{});
}

ChangeListener::Handlers Catalog::change_handlers() {
  return {[this](const std::string& payload) { enqueue_change(std::string_view(payload)); },
          [this] { request_full_reload(); }};
}

void Catalog::enqueue(Change change) {
  bool spawn = false;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    if (std::holds_alternative<nlohmann::json>(change)) ++changes_;
    queue_.push_back(std::move(change));
    if (started_ && !draining_) spawn = draining_ = true;
  }
  if (spawn) asio::co_spawn(executor_, drain(), asio::detached);
}

void Catalog::start() {
  bool spawn_drain = false;
  std::shared_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lock(mutex_);
    if (started_ || stopped_) return;
    started_ = true;
    timer_ = timer = std::make_shared<asio::steady_timer>(executor_);
    if (!queue_.empty() && !draining_) spawn_drain = draining_ = true;
  }
  asio::co_spawn(executor_, ttl_loop(timer), asio::detached);
  if (spawn_drain) asio::co_spawn(executor_, drain(), asio::detached);
}

void Catalog::stop() {
  std::shared_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    queue_.clear();
    timer = std::move(timer_);
  }
  // The timer belongs to the executor's threads: cancel it there.
  if (timer) asio::post(executor_, [timer] { timer->cancel(); });
}

asio::awaitable<void> Catalog::drain() {
  for (;;) {
    Plan plan;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty() || stopped_) {
        draining_ = false;
        co_return;
      }
      for (auto& change : queue_) {
        if (auto* payload = std::get_if<nlohmann::json>(&change)) {
          add_to_plan(plan, *payload);
        } else {
          const auto& full = std::get<FullReload>(change);
          plan.all_commands = plan.all_commands || full.commands;
          plan.all_communities = plan.all_communities || full.communities;
        }
      }
      queue_.clear();
      ttl_reload_queued_ = false;
    }
    std::exception_ptr error;
    try {
      co_await execute(plan);
    } catch (...) {
      error = std::current_exception();
    }
    if (error) record_failure(error_text(error));
  }
}

void Catalog::record_failure(const std::string& what) {
  std::lock_guard lock(mutex_);
  ++failures_;
  last_error_ = "catalog reload failed: " + what;
  // Which changes were lost is unknown now: the next attempt reloads everything.
  retry_pending_ = true;
  retry_at_ = Clock::now() + options_.retry_delay;
}

asio::awaitable<void> Catalog::ttl_loop(std::shared_ptr<asio::steady_timer> timer) {
  for (;;) {
    timer->expires_after(options_.ttl_check_interval);
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    FullReload due{false, false};
    {
      std::lock_guard lock(mutex_);
      if (ec || stopped_) co_return;
      const auto now = Clock::now();
      due.commands = now - commands_loaded_at_ >= options_.command_ttl;
      due.communities = now - communities_loaded_at_ >= options_.community_ttl;
      if (retry_pending_ && now >= retry_at_) {
        due = FullReload{};
        retry_pending_ = false;
      }
      if (ttl_reload_queued_ || (!due.commands && !due.communities)) continue;
      ttl_reload_queued_ = true;
    }
    enqueue(due);
  }
}

// ---- lookups ------------------------------------------------------------------------------

void Catalog::count(bool hit) const {
  (hit ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<const EntityInfo> Catalog::entity(std::string_view entity_id) const {
  const auto index = entities_.load();
  auto it = index->by_id.find(entity_id);
  count(it != index->by_id.end());
  return it == index->by_id.end() ? nullptr : it->second;
}

std::shared_ptr<const CommandInfo> Catalog::command(std::string_view prefix,
                                                    std::string_view name) const {
  const auto index = commands_.load();
  // Keys are short: building one here stays in the small-string buffer.
  std::string key;
  key.reserve(prefix.size() + name.size());
  key.append(prefix).append(name);
  auto it = index->by_key.find(key);
  count(it != index->by_key.end());
  return it == index->by_key.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const CommandInfo>> Catalog::event_commands(
    std::string_view message_type) const {
  const auto index = commands_.load();
  auto it = index->by_event.find(message_type);
  count(it != index->by_event.end());
  if (it == index->by_event.end()) return {};
  return it->second;
}

std::optional<Permission> Catalog::permission(std::int64_t community_id,
                                              const CommandInfo& command) const {
  const auto index = communities_.load();
  auto community = index->by_id.find(community_id);
  if (community != index->by_id.end()) {
    const auto& data = *community->second;
    if (auto it = data.by_command.find(command.id); it != data.by_command.end()) {
      count(true);
      return it->second;
    }
    if (auto it = data.by_module.find(command.module_name); it != data.by_module.end()) {
      count(true);
      return it->second;
    }
  }
  count(false);
  return std::nullopt;
}

std::shared_ptr<const AliasTable> Catalog::aliases(std::int64_t community_id) const {
  const auto index = communities_.load();
  auto it = index->by_id.find(community_id);
  count(it != index->by_id.end());
  return it == index->by_id.end() ? nullptr : it->second->aliases;
}

std::shared_ptr<const RuleSet> Catalog::rules(std::int64_t community_id) const {
  const auto index = communities_.load();
  auto it = index->by_id.find(community_id);
  count(it != index->by_id.end());
  return it == index->by_id.end() ? nullptr : it->second->rules;
}

std::vector<RuleError> Catalog::rule_errors(std::int64_t community_id) const {
  const auto index = communities_.load();
  auto it = index->by_id.find(community_id);
  return it == index->by_id.end() ? std::vector<RuleError>() : it->second->rule_errors;
}

std::optional<CommunityRef> Catalog::community(std::int64_t community_id) const {
  const auto index = communities_.load();
  auto it = index->by_id.find(community_id);
  count(it != index->by_id.end());
  if (it == index->by_id.end()) return std::nullopt;
  return it->second->ref;
}

std::optional<CommunityRef> Catalog::community(std::string_view name) const {
  const auto index = communities_.load();
  auto it = index->id_by_name.find(name);
  if (it == index->id_by_name.end()) {
    count(false);
    return std::nullopt;
  }
  auto data = index->by_id.find(it->second);
  count(true);
  return data->second->ref;
}

Catalog::Stats Catalog::stats() const {
  Stats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.skipped_rules = communities_.load()->skipped_rules;
  std::lock_guard lock(mutex_);
  s.loads = loads_;
  s.reloads = reloads_;
  s.changes = changes_;
  s.failures = failures_;
  s.last_reload_error = last_error_;
  return s;
}

}  // namespace waddle::router
