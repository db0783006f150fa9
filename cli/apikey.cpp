// waddle apikey create NAME --role R… | list | revoke NAME | rotate NAME.
// A key is `wdl_<8 random chars>_<43 random chars>`; only its SHA-256 (hex) and its first 12
// characters (`wdl_<8>`, the prefix shown in listings) are stored, so it is printed once, by
// create or rotate, and never again.
#include <regex>

#include "checks.hpp"
#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"
#include "nouns.hpp"

namespace waddle::cli {
namespace {

using checks::refuse;

constexpr const char* kColumns =
    "k.id, k.name, k.key_prefix as prefix, k.roles, c.name as community, k.created_by, "
    "k.created_at, k.expires_at, k.last_used_at, k.revoked_at, "
    "case when k.revoked_at is not null then 'revoked' "
    "when k.expires_at <= now() then 'expired' else 'active' end as state";

// `~` is left out so that renamed revoked keys (`NAME~revoked-ID`) never clash with a real name.
void check_name(const std::string& name) {
  static const std::regex shape("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
  if (!std::regex_match(name, shape)) {
    refuse("NAME: '" + name +
           "' is not a valid key name (letters, digits, '_', '.' and '-', starting with a letter "
           "or digit, at most 64 characters)");
  }
}

struct NewKey {
  std::string key;
  std::string prefix;
  std::string hash;
};

NewKey generate() {
  NewKey k;
  k.prefix = "wdl_" + crypto::random_token(6);  // 6 bytes -> 8 URL-safe characters
  k.key = k.prefix + "_" + crypto::random_token(32);
  k.hash = crypto::sha256_hex(k.key);
  return k;
}

nlohmann::json load(pqxx::work& tx, const std::string& name) {
  auto r = tx.exec_params(std::string("select ") + kColumns +
                              " from api_keys k left join communities c on c.id = k.community_id "
                              "where k.name = $1",
                          name);
  if (r.empty()) throw Error(Errc::not_found, "api key '" + name + "' not found");
  return row_to_json(r[0]);
}

// Frees `name` held by a revoked key by renaming that row; refuses when the key is still active.
void free_name(pqxx::work& tx, const std::string& name) {
  auto r = tx.exec_params(
      "select id, key_prefix, revoked_at is not null from api_keys "
      "where name = $1",
      name);
  if (r.empty()) return;
  if (!r[0][2].as<bool>()) {
    refuse("api key '" + name + "' already exists (prefix " + r[0][1].as<std::string>() +
           "); rotate or revoke it");
  }
  tx.exec_params("update api_keys set name = name || '~revoked-' || id where id = $1",
                 r[0][0].as<long long>());
}

void print_key(Context& ctx, const NewKey& k, const nlohmann::json& row, const char* verb) {
  nlohmann::json out{{"name", row["name"]},
                     {"prefix", k.prefix},
                     {"key", k.key},
                     {"roles", row["roles"]},
                     {"community", row["community"]},
                     {"created_at", row["created_at"]},
                     {"expires_at", row["expires_at"]}};
  switch (ctx.format()) {
    case Format::json: ctx.out() << out.dump(2) << '\n'; break;
    case Format::quiet: ctx.out() << k.key << '\n'; break;
    case Format::table:
      ctx.out() << "api key " << row["name"].get<std::string>() << ' ' << verb << " (prefix "
                << k.prefix << ", roles " << cell(row["roles"]) << ")\n"
                << "key: " << k.key << '\n'
                << "Store it now: only its hash is kept, it cannot be shown again.\n";
      break;
  }
}

}  // namespace

void add_apikey_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand("apikey",
                                  "API keys for collectors, modules and tools "
                                  "(create, list, revoke, rotate)");
  noun->require_subcommand(1);

  {
    auto* create = noun->add_subcommand("create", "create a key and print it (once)");
    auto name = std::make_shared<std::string>();
    auto roles = std::make_shared<std::vector<std::string>>();
    auto community = std::make_shared<std::string>();
    auto expires = std::make_shared<std::string>();
    create->add_option("name", *name, "a unique name saying who uses the key")->required();
    create
        ->add_option("--role", *roles,
                     "collector, module, admin or readonly (repeatable or comma list)")
        ->required()
        ->allow_extra_args(false);
    create->add_option("--community", *community, "limit the key to one community (default: all)");
    create->add_option("--expires", *expires,
                       "ISO 8601 expiry, e.g. 2026-12-31 or 2026-12-31T12:00:00Z (UTC when no "
                       "offset); default: never");
    create->callback([&ctx, name, roles, community, expires] {
      check_name(*name);
      auto role_list = checks::split_list(*roles);
      if (role_list.empty()) refuse("--role: give at least one role");
      checks::require_each_in("--role", role_list, {"collector", "module", "admin", "readonly"});
      auto key = generate();
      auto row = ctx.write(
          "apikey.create", *name,
          [&](pqxx::work& tx) {
            std::string community_id;
            if (!community->empty()) {
              community_id = std::to_string(find_community(tx, *community)["id"].get<long long>());
            }
            std::string expiry;
            if (!expires->empty())
              expiry = checks::parse_timestamp(tx, "--expires", *expires, true);
            free_name(tx, *name);
            tx.exec_params(
                "insert into api_keys (name, key_prefix, key_hash, roles, community_id, "
                "created_by, expires_at) values ($1, $2, $3, $4::text[], $5::bigint, $6, "
                "$7::timestamptz)",
                *name, key.prefix, key.hash, checks::to_pg_array(role_list),
                community_id.empty() ? nullptr : community_id.c_str(), Context::actor(),
                expiry.empty() ? nullptr : expiry.c_str());
            return load(tx, *name);
          },
          nlohmann::json{{"prefix", key.prefix}, {"roles", role_list}});
      print_key(ctx, key, row, "created");
    });
  }

  {
    auto* list = noun->add_subcommand(
        "list", "list keys by prefix with roles and use (never the key or its hash)");
    list->callback([&ctx] {
      auto rows = ctx.read([](pqxx::work& tx) {
        return rows_to_json(tx.exec(std::string("select ") + kColumns +
                                    " from api_keys k left join communities c on "
                                    "c.id = k.community_id order by k.name"));
      });
      print_rows(ctx.out(), ctx.format(), rows,
                 {"name", "prefix", "roles", "community", "state", "created_at", "expires_at",
                  "last_used_at", "revoked_at"},
                 "name");
    });
  }

  {
    auto* revoke = noun->add_subcommand("revoke", "revoke a key now");
    auto name = std::make_shared<std::string>();
    revoke->add_option("name", *name, "the key's name")->required();
    revoke->callback([&ctx, name] {
      auto row = ctx.write("apikey.revoke", *name, [&](pqxx::work& tx) {
        auto row = load(tx, *name);
        if (!row["revoked_at"].is_null()) {
          refuse("api key '" + *name + "' is already revoked (" +
                 row["revoked_at"].get<std::string>() + ")");
        }
        tx.exec_params("update api_keys set revoked_at = now() where name = $1", *name);
        return load(tx, *name);
      });
      if (ctx.format() == Format::table) {
        ctx.out() << "revoked api key " << *name << " (prefix " << row["prefix"].get<std::string>()
                  << ")\n";
      } else {
        print_object(ctx.out(), ctx.format(), row, "name");
      }
    });
  }

  {
    auto* rotate = noun->add_subcommand(
        "rotate", "replace a key: revoke it and print a new one with the same name and roles");
    auto name = std::make_shared<std::string>();
    auto expires = std::make_shared<std::string>();
    rotate->add_option("name", *name, "the key's name")->required();
    rotate->add_option("--expires", *expires,
                       "ISO 8601 expiry of the new key (default: the old key's, if still ahead)");
    rotate->callback([&ctx, name, expires] {
      auto key = generate();
      auto row = ctx.write(
          "apikey.rotate", *name,
          [&](pqxx::work& tx) {
            auto old = load(tx, *name);
            if (!old["revoked_at"].is_null()) {
              refuse("api key '" + *name + "' is revoked; create a new one instead");
            }
            std::string expiry;
            if (!expires->empty())
              expiry = checks::parse_timestamp(tx, "--expires", *expires, true);
            auto id = old["id"].get<long long>();
            // The old row keeps its history under a new name, so the name stays unique.
            tx.exec_params(
                "update api_keys set revoked_at = now(), name = name || '~revoked-' || id "
                "where id = $1",
                id);
            tx.exec_params(
                "insert into api_keys (name, key_prefix, key_hash, roles, community_id, "
                "created_by, expires_at) select $2, $3, $4, roles, community_id, $5, "
                "coalesce(nullif($6, '')::timestamptz, "
                "case when expires_at > now() then expires_at end) from api_keys where id = $1",
                id, *name, key.prefix, key.hash, Context::actor(), expiry);
            return load(tx, *name);
          },
          nlohmann::json{{"prefix", key.prefix}});
      print_key(ctx, key, row, "rotated");
    });
  }
}

}  // namespace waddle::cli
