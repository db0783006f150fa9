// waddle command list | show NAME | add NAME --url URL … | set NAME … | remove NAME |
// enable NAME | disable NAME. NAME is the prefix and the word: `!so` (a local module, location
// internal) or `#weather` (a community module, location community).
#include <algorithm>

#include "checks.hpp"
#include "error/error.hpp"
#include "model/event.hpp"
#include "nouns.hpp"

namespace waddle::cli {
namespace {

using checks::CommandName;
using checks::refuse;

constexpr const char* kColumns =
    "c.id, c.prefix || c.command as name, c.prefix, c.command, c.description, c.module_name, "
    "c.type, c.location, c.location_url, c.method, c.timeout, c.trigger_type, c.event_types, "
    "c.priority, c.execution_mode, c.rate_limit, c.version, c.module_type, c.is_active, "
    "c.created_at, c.updated_at";

const std::vector<std::string> kListColumns = {
    "name", "module_name", "type", "trigger_type", "priority", "is_active", "location_url"};

// Everything `add` and `set` can change. For `set`, the row's values are loaded first and only
// the options given on the command line replace them, so the merged result is checked as a whole.
struct Spec {
  std::string url;
  std::string type;
  std::string description;
  std::string module;
  int timeout = 30;
  std::string trigger = "command";
  std::vector<std::string> event_types;
  int priority = 100;
  std::string mode = "sequential";
  int rate_limit = 0;
  std::string method = "POST";
  std::string version = "1.0.0";
  std::string module_type = "action";
};

// The CLI11 options of a Spec, kept so that `set` can ask which were given.
struct SpecOptions {
  CLI::Option* url;
  CLI::Option* type;
  CLI::Option* description;
  CLI::Option* module;
  CLI::Option* timeout;
  CLI::Option* trigger;
  CLI::Option* event_types;
  CLI::Option* priority;
  CLI::Option* mode;
  CLI::Option* rate_limit;
  CLI::Option* method;
  CLI::Option* version;
  CLI::Option* module_type;
};

SpecOptions add_spec_options(CLI::App* sub, const std::shared_ptr<Spec>& spec,
                             const std::shared_ptr<std::vector<std::string>>& events) {
  SpecOptions o{};
  o.url = sub->add_option("--url", spec->url,
                          "the module's location: an http(s) URL (for lambda the function's "
                          "Invoke or function URL, for openwhisk the action's URL)");
  o.type = sub->add_option("--type", spec->type,
                           "execution type (default: container for !, webhook for #)")
               ->check(CLI::IsMember({"container", "webhook", "lambda", "openwhisk"}));
  o.description = sub->add_option("--description", spec->description, "one-line description");
  o.module = sub->add_option("--module", spec->module,
                             "module the command belongs to (default: the command's word); "
                             "communities enable/disable whole modules");
  o.timeout = sub->add_option("--timeout", spec->timeout, "seconds to wait for the module (1-300)")
                  ->check(CLI::Range(1, 300));
  o.trigger = sub->add_option("--trigger", spec->trigger,
                              "what runs it: a chat command, events, or both (default: command)")
                  ->check(CLI::IsMember({"command", "event", "both"}));
  o.event_types = sub->add_option("--event-types", *events,
                                  "message types that trigger it (comma list or repeated, e.g. "
                                  "follow,raid); needs --trigger event or both; \"\" clears")
                      ->allow_extra_args(false);
  o.priority = sub->add_option("--priority", spec->priority,
                               "order among event handlers, lower runs first (default: 100)");
  o.mode = sub->add_option("--mode", spec->mode,
                           "event handlers: run after (sequential) or beside (parallel) others")
               ->check(CLI::IsMember({"sequential", "parallel"}));
  o.rate_limit = sub->add_option("--rate-limit", spec->rate_limit,
                                 "calls per user per minute, 0 = unlimited (default: 0)")
                     ->check(CLI::Range(0, 1000000));
  o.method = sub->add_option("--method", spec->method, "HTTP method (default: POST)")
                 ->check(CLI::IsMember({"GET", "POST", "PUT", "PATCH", "DELETE"}));
  o.version = sub->add_option("--version", spec->version, "module version (default: 1.0.0)");
  o.module_type = sub->add_option("--module-type", spec->module_type,
                                  "kind of module: trigger, action or core (default: action)")
                      ->check(CLI::IsMember({"trigger", "action", "core"}));
  return o;
}

void validate(const CommandName& name, Spec& spec) {
  if (spec.type.rfind("lambda", 0) == 0 && spec.url.rfind("arn:", 0) == 0) {
    refuse(
        "--url: a lambda command takes the function's Invoke URL "
        "(https://lambda.<region>.amazonaws.com/2015-03-31/functions/<name>/invocations) or "
        "its function URL, not an ARN");
  }
  checks::require_http_url("--url", spec.url);
  if (name.prefix == "#" && spec.type == "container") {
    refuse("--type: " + name.full() +
           " is a community (#) command; those run as webhook, lambda or openwhisk, never as "
           "container");
  }
  if (!checks::is_command_word(spec.module)) {
    refuse("--module: '" + spec.module +
           "' is not a valid module name (lower-case letters, digits, '_' and '-', at most 64)");
  }
  if (spec.version.empty() || spec.version.find_first_of(" \t\n") != std::string::npos) {
    refuse("--version: must be a non-empty word, got '" + spec.version + "'");
  }
  for (const auto& type : spec.event_types) {
    if (!model::is_message_type(type)) {
      std::string known;
      for (auto t : model::kMessageTypes) known += (known.empty() ? "" : ", ") + std::string(t);
      refuse("--event-types: unknown message type '" + type + "' (known: " + known + ")");
    }
  }
  if (spec.trigger == "command" && !spec.event_types.empty()) {
    refuse("--event-types: only used with --trigger event or both");
  }
  if (spec.trigger != "command" && spec.event_types.empty()) {
    refuse("--event-types: required with --trigger " + spec.trigger);
  }
}

nlohmann::json load(pqxx::work& tx, const CommandName& name) {
  auto r = tx.exec_params(
      std::string("select ") + kColumns + " from commands c where c.prefix = $1 and c.command = $2",
      name.prefix, name.word);
  if (r.empty()) throw Error(Errc::not_found, "command " + name.full() + " not found");
  return row_to_json(r[0]);
}

Spec spec_from_row(const nlohmann::json& row) {
  Spec s;
  s.url = row["location_url"];
  s.type = row["type"];
  s.description = row["description"];
  s.module = row["module_name"];
  s.timeout = row["timeout"];
  s.trigger = row["trigger_type"];
  s.event_types = row["event_types"].get<std::vector<std::string>>();
  s.priority = row["priority"];
  s.mode = row["execution_mode"];
  s.rate_limit = row["rate_limit"];
  s.method = row["method"];
  s.version = row["version"];
  s.module_type = row["module_type"];
  return s;
}

void add_toggle(CLI::App* noun, Context& ctx, const char* verb, bool active) {
  auto* sub = noun->add_subcommand(
      verb, active ? "let the router run a command again (is_active)"
                   : "stop the router from running a command anywhere (is_active)");
  auto name = std::make_shared<std::string>();
  sub->add_option("name", *name, "the command, e.g. !so or #weather")->required();
  sub->callback([&ctx, name, active, verb] {
    auto cmd = checks::parse_command_name("NAME", *name);
    auto row = ctx.write(std::string("command.") + verb, cmd.full(), [&](pqxx::work& tx) {
      load(tx, cmd);
      tx.exec_params("update commands set is_active = $3 where prefix = $1 and command = $2",
                     cmd.prefix, cmd.word, active);
      return load(tx, cmd);
    });
    print_object(ctx.out(), ctx.format(), row, "name");
  });
}

}  // namespace

void add_command_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand(
      "command", "register module commands (list, show, add, set, remove, enable, disable)");
  noun->require_subcommand(1);

  {
    auto* list = noun->add_subcommand("list", "list registered commands");
    auto prefix = std::make_shared<std::string>();
    auto module = std::make_shared<std::string>();
    auto trigger = std::make_shared<std::string>();
    list->add_option("--prefix", *prefix, "only ! (local) or # (community) commands")
        ->check(CLI::IsMember({"!", "#"}));
    list->add_option("--module", *module, "only the commands of this module");
    list->add_option("--trigger", *trigger, "only commands with this trigger type")
        ->check(CLI::IsMember({"command", "event", "both"}));
    list->callback([&ctx, prefix, module, trigger] {
      auto rows = ctx.read([&](pqxx::work& tx) {
        return rows_to_json(tx.exec_params(
            std::string("select ") + kColumns +
                " from commands c where ($1 = '' or c.prefix = $1) and "
                "($2 = '' or c.module_name = $2) and ($3 = '' or c.trigger_type = $3) "
                "order by c.prefix, c.command",
            *prefix, *module, *trigger));
      });
      print_rows(ctx.out(), ctx.format(), rows, kListColumns, "name");
    });
  }

  {
    auto* show = noun->add_subcommand("show", "show one command with every setting");
    auto name = std::make_shared<std::string>();
    show->add_option("name", *name, "the command, e.g. !so or #weather")->required();
    show->callback([&ctx, name] {
      auto cmd = checks::parse_command_name("NAME", *name);
      auto row = ctx.read([&](pqxx::work& tx) { return load(tx, cmd); });
      print_object(ctx.out(), ctx.format(), row, "name");
    });
  }

  {
    auto* add = noun->add_subcommand("add", "register a command (! = local module, # = community)");
    auto name = std::make_shared<std::string>();
    auto spec = std::make_shared<Spec>();
    auto events = std::make_shared<std::vector<std::string>>();
    add->add_option("name", *name, "the command, e.g. !so or #weather")->required();
    auto opts = add_spec_options(add, spec, events);
    opts.url->required();
    add->callback([&ctx, name, spec, events, opts] {
      auto cmd = checks::parse_command_name("NAME", *name);
      Spec s = *spec;
      if (opts.type->count() == 0) s.type = cmd.prefix == "!" ? "container" : "webhook";
      if (opts.module->count() == 0) s.module = cmd.word;
      s.event_types = checks::split_list(*events);
      validate(cmd, s);
      nlohmann::json details{{"url", s.url}, {"type", s.type}, {"module", s.module}};
      auto row = ctx.write(
          "command.add", cmd.full(),
          [&](pqxx::work& tx) {
            auto existing = tx.exec_params(
                "select 1 from commands where prefix = $1 and command = $2", cmd.prefix, cmd.word);
            if (!existing.empty()) refuse("command " + cmd.full() + " already exists");
            tx.exec_params(
                "insert into commands (prefix, command, description, location_url, location, "
                "type, method, timeout, rate_limit, module_type, module_name, version, "
                "trigger_type, event_types, priority, execution_mode) values "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16)",
                cmd.prefix, cmd.word, s.description, s.url,
                cmd.prefix == "!" ? "internal" : "community", s.type, s.method, s.timeout,
                s.rate_limit, s.module_type, s.module, s.version, s.trigger,
                checks::to_json_array(s.event_types).dump(), s.priority, s.mode);
            return load(tx, cmd);
          },
          details);
      print_object(ctx.out(), ctx.format(), row, "name");
    });
  }

  {
    auto* set = noun->add_subcommand("set", "change settings of a command (only those given)");
    auto name = std::make_shared<std::string>();
    auto spec = std::make_shared<Spec>();
    auto events = std::make_shared<std::vector<std::string>>();
    set->add_option("name", *name, "the command, e.g. !so or #weather")->required();
    auto opts = add_spec_options(set, spec, events);
    set->callback([&ctx, set, name, spec, events, opts] {
      auto cmd = checks::parse_command_name("NAME", *name);
      std::vector<std::string> given;
      for (const auto* o : set->get_options()) {
        if (o->count() > 0 && !o->get_lnames().empty()) given.push_back(o->get_lnames()[0]);
      }
      given.erase(std::remove(given.begin(), given.end(), "help"), given.end());
      if (given.empty()) refuse("nothing to change: give at least one option (see --help)");
      auto row = ctx.write(
          "command.set", cmd.full(),
          [&](pqxx::work& tx) {
            Spec s = spec_from_row(load(tx, cmd));
            const Spec& in = *spec;
            if (opts.url->count()) s.url = in.url;
            if (opts.type->count()) s.type = in.type;
            if (opts.description->count()) s.description = in.description;
            if (opts.module->count()) s.module = in.module;
            if (opts.timeout->count()) s.timeout = in.timeout;
            if (opts.trigger->count()) s.trigger = in.trigger;
            if (opts.event_types->count()) s.event_types = checks::split_list(*events);
            if (opts.priority->count()) s.priority = in.priority;
            if (opts.mode->count()) s.mode = in.mode;
            if (opts.rate_limit->count()) s.rate_limit = in.rate_limit;
            if (opts.method->count()) s.method = in.method;
            if (opts.version->count()) s.version = in.version;
            if (opts.module_type->count()) s.module_type = in.module_type;
            validate(cmd, s);
            tx.exec_params(
                "update commands set description = $3, location_url = $4, type = $5, "
                "method = $6, timeout = $7, rate_limit = $8, module_type = $9, module_name = $10, "
                "version = $11, trigger_type = $12, event_types = $13::jsonb, priority = $14, "
                "execution_mode = $15 where prefix = $1 and command = $2",
                cmd.prefix, cmd.word, s.description, s.url, s.type, s.method, s.timeout,
                s.rate_limit, s.module_type, s.module, s.version, s.trigger,
                checks::to_json_array(s.event_types).dump(), s.priority, s.mode);
            return load(tx, cmd);
          },
          nlohmann::json{{"changed", given}});
      print_object(ctx.out(), ctx.format(), row, "name");
    });
  }

  {
    auto* remove =
        noun->add_subcommand("remove", "delete a command (its per-community settings go with it)");
    auto name = std::make_shared<std::string>();
    remove->add_option("name", *name, "the command, e.g. !so or #weather")->required();
    remove->callback([&ctx, name] {
      auto cmd = checks::parse_command_name("NAME", *name);
      auto row = ctx.write("command.remove", cmd.full(), [&](pqxx::work& tx) {
        auto row = load(tx, cmd);
        tx.exec_params("delete from commands where prefix = $1 and command = $2", cmd.prefix,
                       cmd.word);
        return row;
      });
      if (ctx.format() == Format::table) {
        ctx.out() << "removed command " << cmd.full() << '\n';
      } else {
        print_object(ctx.out(), ctx.format(), row, "name");
      }
    });
  }

  add_toggle(noun, ctx, "enable", true);
  add_toggle(noun, ctx, "disable", false);
}

}  // namespace waddle::cli
