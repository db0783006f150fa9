// waddle module list COMMUNITY | enable/disable COMMUNITY TARGET | set COMMUNITY TARGET … |
// install NAME --url URL --version V [--command #name…] | install NAME|--all [--url BASE]
// (built-in) | list-builtin | uninstall NAME | secret NAME [--rotate]. TARGET is a module name
// (every command with that module_name) or one command (`!so`). A community's view of a command:
// the command's own row in command_permissions wins, then its module's row, then the default: local
// (!) modules on, marketplace (#) modules off.
#include <unistd.h>

#include "actions/registration.hpp"
#include "actions/service.hpp"
#include "checks.hpp"
#include "config/config.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"
#include "nouns.hpp"

namespace waddle::cli {
namespace {

using checks::refuse;

// Every module and every command with its state in community $1; $2 = '' or one row's name.
constexpr const char* kStateQuery = R"(
select * from (
  select 'module' as kind, m.module_name as name, m.module_name,
         coalesce(mp.is_enabled, m.local_default) as enabled,
         case when mp.id is null then 'default' else 'module' end as source,
         coalesce(mp.min_role::text, 'member') as min_role,
         coalesce(mp.config, '{}'::jsonb) as config, m.version, m.commands
  from (select module_name, bool_or(prefix = '!') as local_default, max(version) as version,
               count(*) as commands
        from commands group by module_name) m
  left join command_permissions mp on mp.community_id = $1 and mp.module_name = m.module_name
  union all
  select 'command', c.prefix || c.command, c.module_name,
         c.is_active and coalesce(cp.is_enabled, mp.is_enabled, c.prefix = '!'),
         case when not c.is_active then 'inactive' when cp.id is not null then 'command'
              when mp.id is not null then 'module' else 'default' end,
         coalesce(cp.min_role::text, mp.min_role::text, 'member'),
         coalesce(mp.config, '{}'::jsonb) || coalesce(cp.config, '{}'::jsonb), c.version, 1
  from commands c
  left join command_permissions cp on cp.community_id = $1 and cp.command_id = c.id
  left join command_permissions mp on mp.community_id = $1 and mp.module_name = c.module_name
) s where $2 = '' or s.name = $2
order by s.module_name, s.kind desc, s.name)";

const std::vector<std::string> kColumns = {"kind",   "name",     "module_name", "enabled",
                                           "source", "min_role", "version",     "config"};

// A resolved TARGET: a command (id set) or a module.
struct Target {
  std::string name;  // `!so` or the module name, as shown by `module list`
  long long command_id = 0;
};

Target resolve(pqxx::work& tx, const std::string& text) {
  if (!text.empty() && (text[0] == '!' || text[0] == '#')) {
    auto cmd = checks::parse_command_name("TARGET", text);
    auto r = tx.exec_params("select id from commands where prefix = $1 and command = $2",
                            cmd.prefix, cmd.word);
    if (r.empty()) throw Error(Errc::not_found, "command " + cmd.full() + " not found");
    return {cmd.full(), r[0][0].as<long long>()};
  }
  if (!checks::is_command_word(text)) {
    refuse("TARGET: '" + text + "' is neither a module name nor a !/# command");
  }
  if (tx.exec_params("select 1 from commands where module_name = $1 limit 1", text).empty()) {
    throw Error(Errc::not_found, "no module '" + text + "' (see waddle command list)");
  }
  return {text, 0};
}

// Makes sure the community has its own row for the target, starting from the current state.
void ensure_row(pqxx::work& tx, long long community_id, const Target& t) {
  if (t.command_id) {
    tx.exec_params(
        "insert into command_permissions (community_id, command_id, is_enabled) "
        "select $1, c.id, coalesce((select mp.is_enabled from command_permissions mp "
        "where mp.community_id = $1 and mp.module_name = c.module_name), c.prefix = '!') "
        "from commands c where c.id = $2 "
        "on conflict (community_id, command_id) where command_id is not null do nothing",
        community_id, t.command_id);
  } else {
    tx.exec_params(
        "insert into command_permissions (community_id, module_name, is_enabled) "
        "select $1, $2, bool_or(prefix = '!') from commands where module_name = $2 "
        "on conflict (community_id, module_name) where module_name is not null do nothing",
        community_id, t.name);
  }
}

// Updates `column` (a fixed name from this file) of the community's row for the target.
template <typename T>
void update_row(pqxx::work& tx, long long community_id, const Target& t, const char* column,
                const T& value) {
  std::string sql = std::string("update command_permissions set ") + column +
                    " = $3 where community_id = $1 and " +
                    (t.command_id ? "command_id = $2::bigint" : "module_name = $2");
  if (t.command_id) {
    tx.exec_params(sql, community_id, std::to_string(t.command_id), value);
  } else {
    tx.exec_params(sql, community_id, t.name, value);
  }
}

// Where waddle-actiond serves its modules: --url, else actions.public_url, else
// http://<actions.listen>:<actions.port> from the config file (the daemon's defaults without one).
std::string actiond_base_url(Context& ctx, const std::string& url_option) {
  std::string base = url_option;
  std::string what = "--url";
  if (base.empty()) {
    const auto& path = ctx.options.config_path;
    std::string listen = "127.0.0.1";
    std::int64_t port = 8010;
    if (ctx.options.config_given || access(path.c_str(), R_OK) == 0) {
      auto loaded = config::load(actions::actions_schema(actions::daemon_info()), path);
      if (!loaded.errors.empty()) refuse(loaded.errors.front().to_string());
      base = loaded.config->get_string("actions", "public_url");
      listen = loaded.config->get_string("actions", "listen");
      port = loaded.config->get_int("actions", "port");
      what = "actions.public_url in " + path;
    }
    if (base.empty()) {
      if (listen.find(':') != std::string::npos && listen.front() != '[') {
        listen = "[" + listen + "]";
      }
      base = "http://" + listen + ":" + std::to_string(port);
      what = "actions.listen/actions.port";
    }
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  checks::require_http_url(what, base);
  return base;
}

std::string builtin_list() {
  std::string out;
  for (const auto& name : actions::known_modules()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// `module install NAME|--all` for waddle-actiond's own modules: the same `commands` rows and
// secret the daemon creates on start, so that a fresh database routes before it first starts.
void install_builtin(Context& ctx, const std::vector<std::string>& names, const std::string& url) {
  const std::string base = actiond_base_url(ctx, url);
  std::vector<std::pair<std::string, std::vector<actions::CommandSpec>>> modules;
  for (const auto& name : names) modules.emplace_back(name, *actions::builtin_commands(name));
  std::string target;
  for (const auto& name : names) target += (target.empty() ? "" : ",") + name;
  // Drawn before the transaction so that nothing random depends on its retries.
  std::vector<std::string> secrets;
  for (std::size_t i = 0; i < names.size(); ++i) {
    secrets.push_back(crypto::hex_encode(crypto::random_bytes(32)));
  }
  auto rows = ctx.write(
      "module.install", target,
      [&](pqxx::work& tx) {
        nlohmann::json out = nlohmann::json::array();
        for (std::size_t i = 0; i < modules.size(); ++i) {
          const auto& [name, commands] = modules[i];
          actions::register_commands(tx, name, base + "/modules/" + name, commands);
          tx.exec_params(
              "insert into module_secrets (module_name, secret, created_by) values ($1, $2, $3) "
              "on conflict (module_name) do nothing",
              name, secrets[i], Context::actor());
          for (auto& row : rows_to_json(tx.exec_params(
                   "select id, prefix || command as name, module_name, version, type, "
                   "location_url from commands where module_name = $1 and prefix = '!' order by "
                   "command",
                   name))) {
            out.push_back(std::move(row));
          }
        }
        return out;
      },
      nlohmann::json{{"builtin", true}, {"url", base}});
  print_rows(ctx.out(), ctx.format(), rows,
             {"name", "module_name", "version", "type", "location_url"}, "name");
}

nlohmann::json state(pqxx::work& tx, long long community_id, const std::string& name) {
  return rows_to_json(tx.exec_params(kStateQuery, community_id, name));
}

void add_toggle(CLI::App* noun, Context& ctx, const char* verb, bool enabled) {
  auto* sub = noun->add_subcommand(
      verb, std::string(enabled ? "enable" : "disable") +
                " a module or one command for a community (overrides the default)");
  auto community = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  sub->add_option("community", *community, "community name or id")->required();
  sub->add_option("target", *target, "a module name, or one command such as !so or #weather")
      ->required();
  sub->callback([&ctx, community, target, enabled, verb] {
    auto rows =
        ctx.write(std::string("module.") + verb, *community + ":" + *target, [&](pqxx::work& tx) {
          auto id = find_community(tx, *community)["id"].get<long long>();
          auto t = resolve(tx, *target);
          ensure_row(tx, id, t);
          update_row(tx, id, t, "is_enabled", enabled);
          return state(tx, id, t.name);
        });
    print_rows(ctx.out(), ctx.format(), rows, kColumns, "name");
  });
}

}  // namespace

void add_module_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand(
      "module",
      "modules per community (list, enable, disable, set) and marketplace modules (install, "
      "uninstall)");
  noun->require_subcommand(1);

  {
    auto* list = noun->add_subcommand(
        "list", "every module and command with its enabled state in a community");
    auto community = std::make_shared<std::string>();
    list->add_option("community", *community, "community name or id")->required();
    list->callback([&ctx, community] {
      auto rows = ctx.read([&](pqxx::work& tx) {
        return state(tx, find_community(tx, *community)["id"].get<long long>(), "");
      });
      print_rows(ctx.out(), ctx.format(), rows, kColumns, "name");
    });
  }

  add_toggle(noun, ctx, "enable", true);
  add_toggle(noun, ctx, "disable", false);

  {
    auto* set = noun->add_subcommand(
        "set", "set a community's configuration or minimum role for a module or command");
    auto community = std::make_shared<std::string>();
    auto target = std::make_shared<std::string>();
    auto config = std::make_shared<std::string>();
    auto min_role = std::make_shared<std::string>();
    set->add_option("community", *community, "community name or id")->required();
    set->add_option("target", *target, "a module name, or one command such as !so or #weather")
        ->required();
    auto* config_opt = set->add_option(
        "--config", *config, "settings passed to the module, as a JSON object (replaces them)");
    auto* role_opt =
        set->add_option("--min-role", *min_role, "lowest community role allowed to run it")
            ->check(CLI::IsMember({"member", "moderator", "admin", "owner"}));
    set->callback([&ctx, community, target, config, min_role, config_opt, role_opt] {
      if (!config_opt->count() && !role_opt->count()) {
        refuse("nothing to change: give --config and/or --min-role");
      }
      nlohmann::json parsed;
      if (config_opt->count()) {
        try {
          parsed = nlohmann::json::parse(*config);
        } catch (const nlohmann::json::parse_error& e) {
          refuse(std::string("--config: invalid JSON: ") + e.what());
        }
        if (!parsed.is_object()) refuse("--config: must be a JSON object, got " + parsed.dump());
      }
      nlohmann::json details = nlohmann::json::object();
      if (config_opt->count()) details["config"] = parsed;
      if (role_opt->count()) details["min_role"] = *min_role;
      auto rows = ctx.write(
          "module.set", *community + ":" + *target,
          [&](pqxx::work& tx) {
            auto id = find_community(tx, *community)["id"].get<long long>();
            auto t = resolve(tx, *target);
            ensure_row(tx, id, t);
            if (config_opt->count()) update_row(tx, id, t, "config", parsed.dump());
            if (role_opt->count()) update_row(tx, id, t, "min_role", *min_role);
            return state(tx, id, t.name);
          },
          details);
      print_rows(ctx.out(), ctx.format(), rows, kColumns, "name");
    });
  }

  {
    auto* install = noun->add_subcommand(
        "install",
        "register a built-in module's ! commands (NAME or --all), or install a marketplace "
        "module (with --version): its # commands, off in every community until enabled");
    auto name = std::make_shared<std::string>();
    auto url = std::make_shared<std::string>();
    auto version = std::make_shared<std::string>();
    auto commands = std::make_shared<std::vector<std::string>>();
    auto type = std::make_shared<std::string>("webhook");
    auto description = std::make_shared<std::string>();
    auto timeout = std::make_shared<int>(30);
    auto all = std::make_shared<bool>(false);
    install->add_option("name", *name,
                        "a built-in module (see module list-builtin) or a marketplace module name");
    install->add_flag("--all", *all, "every built-in module");
    install->add_option("--url", *url,
                        "marketplace: the module's http(s) endpoint; built-in: waddle-actiond's "
                        "base URL (default actions.public_url, else http://LISTEN:PORT)");
    install->add_option("--version", *version,
                        "the marketplace module version being installed (required for one)");
    install
        ->add_option("--command", *commands,
                     "a # command the module provides (repeatable or comma list; default "
                     "#NAME)")
        ->allow_extra_args(false);
    install->add_option("--type", *type, "execution type (default: webhook)")
        ->check(CLI::IsMember({"webhook", "lambda", "openwhisk"}));
    install->add_option("--description", *description, "description for its commands");
    install->add_option("--timeout", *timeout, "seconds to wait for the module (1-300)")
        ->check(CLI::Range(1, 300));
    install->callback([&ctx, name, url, version, commands, type, description, timeout, all,
                       install] {
      const bool known = actions::builtin_commands(*name).has_value();
      const bool builtin = *all || known;
      if (*all && !name->empty()) refuse("give NAME or --all, not both");
      if (!*all && name->empty()) refuse("NAME: required (or --all for every built-in module)");
      if (builtin) {
        for (const char* option :
             {"--version", "--command", "--type", "--description", "--timeout"}) {
          if (install->count(option) > 0) {
            refuse(std::string(option) + ": only for marketplace modules; " +
                   (*all ? std::string("--all installs") : "'" + *name + "' is") + " built-in (" +
                   builtin_list() + ")");
          }
        }
        install_builtin(ctx, *all ? actions::known_modules() : std::vector<std::string>{*name},
                        *url);
        return;
      }
      if (version->empty() && install->count("--version") == 0) {
        refuse("--version: required for a marketplace module ('" + *name +
               "' is not a built-in module: " + builtin_list() + ")");
      }
      if (url->empty()) refuse("--url: required for a marketplace module");
      if (!checks::is_command_word(*name)) {
        refuse("NAME: '" + *name +
               "' is not a valid module name (lower-case letters, digits, '_' and '-', at most "
               "64)");
      }
      checks::require_http_url("--url", *url);
      if (version->empty() || version->find_first_of(" \t\n") != std::string::npos) {
        refuse("--version: must be a non-empty word, got '" + *version + "'");
      }
      auto items = checks::split_list(*commands);
      if (items.empty()) items.push_back("#" + *name);
      std::vector<checks::CommandName> cmds;
      for (const auto& item : items) {
        auto cmd = checks::parse_command_name("--command", item);
        if (cmd.prefix != "#") {
          refuse("--command: '" + item +
                 "': marketplace modules provide # commands (! is for local modules)");
        }
        cmds.push_back(cmd);
      }
      nlohmann::json names = nlohmann::json::array();
      for (const auto& c : cmds) names.push_back(c.full());
      auto rows = ctx.write(
          "module.install", *name,
          [&](pqxx::work& tx) {
            auto installed =
                tx.exec_params("select max(version) from commands where module_name = $1", *name);
            if (!installed[0][0].is_null()) {
              refuse("module '" + *name + "' is already installed (version " +
                     installed[0][0].as<std::string>() + "); uninstall it first");
            }
            for (const auto& c : cmds) {
              auto other = tx.exec_params(
                  "select module_name from commands where prefix = $1 and "
                  "command = $2",
                  c.prefix, c.word);
              if (!other.empty()) {
                refuse("--command: " + c.full() + " already exists (module " +
                       other[0][0].as<std::string>() + ")");
              }
              tx.exec_params(
                  "insert into commands (prefix, command, description, location_url, location, "
                  "type, timeout, module_name, version) values "
                  "($1, $2, $3, $4, 'community', $5, $6, $7, $8)",
                  c.prefix, c.word, *description, *url, *type, *timeout, *name, *version);
            }
            return rows_to_json(tx.exec_params(
                "select id, prefix || command as name, module_name, version, type, location_url "
                "from commands where module_name = $1 order by command",
                *name));
          },
          nlohmann::json{{"version", *version}, {"url", *url}, {"commands", names}});
      print_rows(ctx.out(), ctx.format(), rows,
                 {"name", "module_name", "version", "type", "location_url"}, "name");
    });
  }

  {
    auto* builtins = noun->add_subcommand(
        "list-builtin", "the built-in modules of waddle-actiond and the ! commands each registers");
    builtins->callback([&ctx] {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& name : actions::known_modules()) {
        std::string names;
        const auto commands =
            actions::builtin_commands(name).value_or(std::vector<actions::CommandSpec>{});
        for (const auto& c : commands) {
          names += (names.empty() ? "!" : ", !") + c.name;
        }
        rows.push_back({{"module", name}, {"commands", names}});
      }
      print_rows(ctx.out(), ctx.format(), rows, {"module", "commands"}, "module");
    });
  }

  {
    auto* uninstall = noun->add_subcommand(
        "uninstall", "remove a marketplace module: its # commands and every community's settings");
    auto name = std::make_shared<std::string>();
    uninstall->add_option("name", *name, "module name")->required();
    uninstall->callback([&ctx, name] {
      auto rows = ctx.write("module.uninstall", *name, [&](pqxx::work& tx) {
        auto r = tx.exec_params(
            "select count(*) filter (where prefix = '#'), count(*) filter (where prefix = '!') "
            "from commands where module_name = $1",
            *name);
        auto marketplace = r[0][0].as<long long>();
        auto local = r[0][1].as<long long>();
        if (marketplace == 0 && local == 0) {
          throw Error(Errc::not_found, "module '" + *name + "' is not installed");
        }
        if (local > 0) {
          refuse("module '" + *name +
                 "' has local (!) commands; it is not a marketplace module (use waddle command "
                 "remove)");
        }
        auto removed = rows_to_json(
            tx.exec_params("delete from commands where module_name = $1 "
                           "returning id, prefix || command as name, module_name, version",
                           *name));
        tx.exec_params("delete from command_permissions where module_name = $1", *name);
        return removed;
      });
      if (ctx.format() == Format::table) {
        ctx.out() << "uninstalled module " << *name << " (" << rows.size() << " command(s))\n";
      } else {
        print_rows(ctx.out(), ctx.format(), rows, {"name"}, "name");
      }
    });
  }

  {
    auto* secret = noun->add_subcommand(
        "secret", "print the key the router signs a module's requests with (created on first use)");
    auto name = std::make_shared<std::string>();
    auto rotate = std::make_shared<bool>(false);
    secret->add_option("name", *name, "module name (the module_name of its commands)")->required();
    secret->add_flag("--rotate", *rotate,
                     "replace the secret with a new one (the module must be given the new one)");
    secret->callback([&ctx, name, rotate] {
      if (name->empty()) refuse("NAME: must not be empty");
      // Generated before the transaction so that nothing random depends on its retries.
      auto fresh = crypto::hex_encode(crypto::random_bytes(32));
      auto row = ctx.write(
          *rotate ? "module.secret.rotate" : "module.secret", *name,
          [&](pqxx::work& tx) {
            auto known = tx.exec_params(
                "select exists (select 1 from commands where module_name = $1) or "
                "exists (select 1 from module_secrets where module_name = $1)",
                *name);
            if (!known[0][0].as<bool>()) {
              throw Error(Errc::not_found, "module '" + *name +
                                               "' not found: no command has that module_name "
                                               "(see waddle command list)");
            }
            bool created = !tx.exec_params(
                                  "insert into module_secrets (module_name, secret, "
                                  "created_by) values ($1, $2, $3) "
                                  "on conflict (module_name) do nothing returning 1",
                                  *name, fresh, Context::actor())
                                .empty();
            if (*rotate && !created) {
              tx.exec_params(
                  "update module_secrets set secret = $2, rotated_at = now() "
                  "where module_name = $1",
                  *name, fresh);
            }
            return row_to_json(
                tx.exec_params("select module_name as module, secret, created_at, rotated_at "
                               "from module_secrets where module_name = $1",
                               *name)[0]);
          },
          nlohmann::json{{"rotate", *rotate}});
      print_object(ctx.out(), ctx.format(), row, "secret");
    });
  }
}

}  // namespace waddle::cli
