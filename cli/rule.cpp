// waddle rule list COMMUNITY | show ID | add COMMUNITY PATTERN … | set ID … | remove ID |
// enable ID | disable ID. String rules (moderation and auto-responses) per community.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "checks.hpp"
#include "error/error.hpp"
#include "nouns.hpp"

namespace waddle::cli {
namespace {

using checks::refuse;

constexpr const char* kColumns =
    "r.id, c.name as community, r.string as pattern, r.match_type, r.case_sensitive, r.action, "
    "r.warning_message, r.block_message, r.command_to_execute, r.command_parameters, "
    "r.webhook_url, r.priority, r.enabled_entity_ids, r.is_active, r.match_count, "
    "r.last_matched, r.created_by, r.created_at, r.updated_at";

// The regex must compile the way the router compiles it (UTF); reports PCRE2's message and the
// offset of the problem.
void check_regex(const std::string& pattern, bool case_sensitive) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  uint32_t options = PCRE2_UTF | (case_sensitive ? 0 : PCRE2_CASELESS);
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 options, &code, &offset, nullptr);
  if (re) {
    pcre2_code_free(re);
    return;
  }
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  refuse("PATTERN: invalid regex '" + pattern + "': " + reinterpret_cast<const char*>(buffer) +
         " at offset " + std::to_string(offset));
}

struct Spec {
  std::string pattern;
  std::string match = "contains";
  bool case_sensitive = false;
  std::string action;
  std::string message;  // warning_message or block_message, by action
  std::string command;
  std::vector<std::string> parameters;
  std::string webhook;
  int priority = 100;
  std::vector<std::string> entities;
};

struct SpecOptions {
  CLI::Option* match;
  CLI::Option* case_sensitive;
  CLI::Option* case_insensitive;
  CLI::Option* action;
  CLI::Option* message;
  CLI::Option* command;
  CLI::Option* parameters;
  CLI::Option* webhook;
  CLI::Option* priority;
  CLI::Option* entities;
};

SpecOptions add_spec_options(CLI::App* sub, const std::shared_ptr<Spec>& spec, bool for_set) {
  SpecOptions o{};
  o.match = sub->add_option("--match", spec->match,
                            "how PATTERN matches: exact, contains, word, regex, or * (every "
                            "message)")
                ->check(CLI::IsMember({"exact", "contains", "word", "regex", "*"}));
  o.case_sensitive =
      sub->add_flag("--case-sensitive", spec->case_sensitive, "match case (default: ignore case)");
  o.case_insensitive = nullptr;
  if (for_set) {
    o.case_insensitive = sub->add_flag("--case-insensitive")
                             ->description("ignore case again")
                             ->excludes(o.case_sensitive);
  }
  o.action = sub->add_option("--action", spec->action,
                             "what a match does: warn, block, command (run --command) or "
                             "webhook (POST to --webhook)")
                 ->check(CLI::IsMember({"warn", "block", "command", "webhook"}));
  o.message =
      sub->add_option("--message", spec->message, "text shown to the user (warn and block only)");
  o.command = sub->add_option("--command", spec->command,
                              "command to run for --action command, e.g. !timeout");
  o.parameters = sub->add_option("--parameters", spec->parameters,
                                 "arguments passed to --command (several values)");
  o.webhook =
      sub->add_option("--webhook", spec->webhook, "http(s) URL called for --action webhook");
  o.priority =
      sub->add_option("--priority", spec->priority, "lower is checked first (default: 100)");
  o.entities = sub->add_option("--entity", spec->entities,
                               "limit the rule to these entities of the community (repeatable or "
                               "comma list; default: all; \"\" on set: all again)")
                   ->allow_extra_args(false);
  return o;
}

// Checks the merged rule; `entities` are looked up in the community.
void validate(pqxx::work& tx, long long community_id, const std::string& community, Spec& s) {
  if (s.pattern.empty()) refuse("PATTERN: must not be empty");
  if (s.match == "regex") check_regex(s.pattern, s.case_sensitive);
  if (s.action == "command") {
    if (s.command.empty()) refuse("--command: required with --action command");
    auto cmd = checks::parse_command_name("--command", s.command);
    bool known = !tx.exec_params("select 1 from commands where prefix = $1 and command = $2",
                                 cmd.prefix, cmd.word)
                      .empty() ||
                 (cmd.prefix == "!" &&
                  !tx.exec_params("select 1 from aliases where community_id = $1 and alias = $2",
                                  community_id, cmd.word)
                       .empty());
    if (!known) {
      refuse("--command: no command or alias " + cmd.full() + " (see waddle command list)");
    }
  } else {
    if (!s.command.empty()) refuse("--command: only used with --action command");
    if (!s.parameters.empty()) refuse("--parameters: only used with --action command");
  }
  if (s.action == "webhook") {
    if (s.webhook.empty()) refuse("--webhook: required with --action webhook");
    checks::require_http_url("--webhook", s.webhook);
  } else if (!s.webhook.empty()) {
    refuse("--webhook: only used with --action webhook");
  }
  if (!s.message.empty() && s.action != "warn" && s.action != "block") {
    refuse("--message: only used with --action warn or block");
  }
  for (const auto& e : s.entities) {
    checks::require_entity_id("--entity", e);
    if (tx.exec_params("select 1 from entities where entity_id = $1 and community_id = $2", e,
                       community_id)
            .empty()) {
      refuse("--entity: " + e + " is not an entity of community '" + community +
             "' (see waddle entity list)");
    }
  }
}

nlohmann::json load(pqxx::work& tx, long long id) {
  auto r = tx.exec_params(std::string("select ") + kColumns +
                              " from string_rules r join communities c on c.id = r.community_id "
                              "where r.id = $1",
                          id);
  if (r.empty()) throw Error(Errc::not_found, "rule " + std::to_string(id) + " not found");
  return row_to_json(r[0]);
}

// Writes the rule's columns; fields that do not belong to the action are cleared.
void store(pqxx::work& tx, long long id, const Spec& s) {
  auto opt = [](bool keep, const std::string& v) -> const char* {
    return keep && !v.empty() ? v.c_str() : nullptr;
  };
  tx.exec_params(
      "update string_rules set string = $2, match_type = $3, case_sensitive = $4, action = $5, "
      "warning_message = $6, block_message = $7, command_to_execute = $8, "
      "command_parameters = $9::jsonb, webhook_url = $10, priority = $11, "
      "enabled_entity_ids = $12::jsonb where id = $1",
      id, s.pattern, s.match, s.case_sensitive, s.action, opt(s.action == "warn", s.message),
      opt(s.action == "block", s.message), opt(s.action == "command", s.command),
      checks::to_json_array(s.action == "command" ? s.parameters : std::vector<std::string>{})
          .dump(),
      opt(s.action == "webhook", s.webhook), s.priority, checks::to_json_array(s.entities).dump());
}

void add_toggle(CLI::App* noun, Context& ctx, const char* verb, bool active) {
  auto* sub = noun->add_subcommand(
      verb, active ? "turn a rule back on" : "turn a rule off without deleting it");
  auto id = std::make_shared<std::string>();
  sub->add_option("id", *id, "rule id (see rule list)")->required();
  sub->callback([&ctx, id, active, verb] {
    auto rule = checks::parse_id("ID", *id);
    auto row = ctx.write(std::string("rule.") + verb, "rule:" + *id, [&](pqxx::work& tx) {
      load(tx, rule);
      tx.exec_params("update string_rules set is_active = $2 where id = $1", rule, active);
      return load(tx, rule);
    });
    print_object(ctx.out(), ctx.format(), row);
  });
}

const std::vector<std::string> kListColumns = {
    "id",       "pattern",   "match_type",         "case_sensitive", "action",
    "priority", "is_active", "enabled_entity_ids", "match_count"};

}  // namespace

void add_rule_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand(
      "rule", "string rules per community (list, show, add, set, remove, enable, disable)");
  noun->require_subcommand(1);

  {
    auto* list = noun->add_subcommand("list", "list a community's rules in priority order");
    auto community = std::make_shared<std::string>();
    list->add_option("community", *community, "community name or id")->required();
    list->callback([&ctx, community] {
      auto rows = ctx.read([&](pqxx::work& tx) {
        auto id = find_community(tx, *community)["id"].get<long long>();
        return rows_to_json(
            tx.exec_params(std::string("select ") + kColumns +
                               " from string_rules r join communities c on c.id = r.community_id "
                               "where r.community_id = $1 order by r.priority, r.id",
                           id));
      });
      print_rows(ctx.out(), ctx.format(), rows, kListColumns);
    });
  }

  {
    auto* show = noun->add_subcommand("show", "show one rule");
    auto id = std::make_shared<std::string>();
    show->add_option("id", *id, "rule id (see rule list)")->required();
    show->callback([&ctx, id] {
      auto rule = checks::parse_id("ID", *id);
      auto row = ctx.read([&](pqxx::work& tx) { return load(tx, rule); });
      print_object(ctx.out(), ctx.format(), row);
    });
  }

  {
    auto* add = noun->add_subcommand("add", "add a string rule to a community");
    auto community = std::make_shared<std::string>();
    auto spec = std::make_shared<Spec>();
    add->add_option("community", *community, "community name or id")->required();
    add->add_option("pattern", spec->pattern, "the text or regex to look for (* = everything)")
        ->required();
    auto opts = add_spec_options(add, spec, false);
    opts.match->required();
    opts.action->required();
    add->callback([&ctx, community, spec] {
      Spec s = *spec;
      s.entities = checks::split_list(s.entities);
      if (s.match == "regex") check_regex(s.pattern, s.case_sensitive);
      auto row = ctx.write(
          "rule.add", *community,
          [&](pqxx::work& tx) {
            auto id = find_community(tx, *community)["id"].get<long long>();
            validate(tx, id, *community, s);
            auto rule = tx.exec_params1(
                              // Inserted as a plain warning, then given its real action.
                              "insert into string_rules (community_id, string, action, "
                              "created_by) values ($1, $2, 'warn', $3) returning id",
                              id, s.pattern, Context::actor())[0]
                            .as<long long>();
            store(tx, rule, s);
            return load(tx, rule);
          },
          nlohmann::json{{"pattern", s.pattern}, {"match_type", s.match}, {"action", s.action}});
      print_object(ctx.out(), ctx.format(), row);
    });
  }

  {
    auto* set = noun->add_subcommand("set", "change a rule (only the options given)");
    auto id = std::make_shared<std::string>();
    auto spec = std::make_shared<Spec>();
    set->add_option("id", *id, "rule id (see rule list)")->required();
    auto* pattern_opt = set->add_option("--pattern", spec->pattern, "new text or regex");
    auto opts = add_spec_options(set, spec, true);
    set->callback([&ctx, set, id, spec, pattern_opt, opts] {
      auto rule = checks::parse_id("ID", *id);
      std::vector<std::string> given;
      for (const auto* o : set->get_options()) {
        if (o->count() > 0 && !o->get_lnames().empty() && o->get_lnames()[0] != "help") {
          given.push_back(o->get_lnames()[0]);
        }
      }
      if (given.empty()) refuse("nothing to change: give at least one option (see --help)");
      auto row = ctx.write(
          "rule.set", "rule:" + *id,
          [&](pqxx::work& tx) {
            auto cur = load(tx, rule);
            Spec s;
            s.pattern = cur["pattern"];
            s.match = cur["match_type"];
            s.case_sensitive = cur["case_sensitive"];
            s.action = cur["action"];
            s.message = cur[s.action == "block" ? "block_message" : "warning_message"].is_string()
                            ? cur[s.action == "block" ? "block_message" : "warning_message"]
                            : "";
            s.command = cur["command_to_execute"].is_string() ? cur["command_to_execute"] : "";
            s.parameters = cur["command_parameters"].get<std::vector<std::string>>();
            s.webhook = cur["webhook_url"].is_string() ? cur["webhook_url"] : "";
            s.priority = cur["priority"];
            s.entities = cur["enabled_entity_ids"].get<std::vector<std::string>>();
            const Spec& in = *spec;
            if (pattern_opt->count()) s.pattern = in.pattern;
            if (opts.match->count()) s.match = in.match;
            if (opts.case_sensitive->count()) s.case_sensitive = true;
            if (opts.case_insensitive->count()) s.case_sensitive = false;
            if (opts.action->count() && in.action != s.action) {
              // A new action starts without the old action's companions.
              s.action = in.action;
              s.message.clear();
              s.command.clear();
              s.parameters.clear();
              s.webhook.clear();
            }
            if (opts.message->count()) s.message = in.message;
            if (opts.command->count()) s.command = in.command;
            if (opts.parameters->count()) s.parameters = in.parameters;
            if (opts.webhook->count()) s.webhook = in.webhook;
            if (opts.priority->count()) s.priority = in.priority;
            if (opts.entities->count()) s.entities = checks::split_list(in.entities);
            auto community_id =
                tx.exec_params1("select community_id from string_rules where id = $1", rule)[0]
                    .as<long long>();
            validate(tx, community_id, cur["community"].get<std::string>(), s);
            store(tx, rule, s);
            return load(tx, rule);
          },
          nlohmann::json{{"changed", given}});
      print_object(ctx.out(), ctx.format(), row);
    });
  }

  {
    auto* remove = noun->add_subcommand("remove", "delete a rule");
    auto id = std::make_shared<std::string>();
    remove->add_option("id", *id, "rule id (see rule list)")->required();
    remove->callback([&ctx, id] {
      auto rule = checks::parse_id("ID", *id);
      auto row = ctx.write("rule.remove", "rule:" + *id, [&](pqxx::work& tx) {
        auto row = load(tx, rule);
        tx.exec_params("delete from string_rules where id = $1", rule);
        return row;
      });
      if (ctx.format() == Format::table) {
        ctx.out() << "removed rule " << rule << '\n';
      } else {
        print_object(ctx.out(), ctx.format(), row);
      }
    });
  }

  add_toggle(noun, ctx, "enable", true);
  add_toggle(noun, ctx, "disable", false);
}

}  // namespace waddle::cli
