// waddle overlay token create|rotate|list|revoke COMMUNITY … | overlay url --token TOKEN.
// Overlay tokens are the secret part of the OBS browser-source URLs. Only their SHA-256 (hex)
// and first 8 characters are stored, so a token is printed once, by create or rotate.
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
    "t.id, c.name as community, t.name, t.token_prefix as prefix, t.sources, t.created_by, "
    "t.created_at, t.expires_at, t.last_used_at, t.revoked_at, "
    "case when t.revoked_at is not null then 'revoked' "
    "when t.expires_at <= now() then 'expired' else 'active' end as state";

constexpr const char* kDefaultBase = "http://127.0.0.1:8080";
constexpr const char* kPages[] = {"ticker", "media", "general", "all"};

void check_name(const std::string& name) {
  static const std::regex shape("^[a-z0-9][a-z0-9_-]{0,62}$");
  if (!std::regex_match(name, shape)) {
    refuse("--name: '" + name +
           "' is not a valid token name (lower-case letters, digits, '_' and '-', at most 63)");
  }
}

std::string base_url(const std::string& given) {
  checks::require_http_url("--base-url", given);
  std::string base = given;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base;
}

nlohmann::json urls(const std::string& base, const std::string& token) {
  nlohmann::json out = nlohmann::json::object();
  for (const char* page : kPages) out[page] = base + "/overlay/" + token + "/" + page;
  return out;
}

struct NewToken {
  std::string token;
  std::string prefix;
  std::string hash;
};

NewToken generate() {
  NewToken t;
  t.token = crypto::random_token(32);
  t.prefix = t.token.substr(0, 8);
  t.hash = crypto::sha256_hex(t.token);
  return t;
}

// The community's current token called `name` (not revoked), or an empty result.
pqxx::result current(pqxx::work& tx, long long community_id, const std::string& name) {
  return tx.exec_params(std::string("select ") + kColumns +
                            " from overlay_tokens t join communities c on c.id = t.community_id "
                            "where t.community_id = $1 and t.name = $2 and t.revoked_at is null",
                        community_id, name);
}

nlohmann::json load_by_hash(pqxx::work& tx, const std::string& hash) {
  auto r = tx.exec_params(std::string("select ") + kColumns +
                              " from overlay_tokens t join communities c on c.id = t.community_id "
                              "where t.token_hash = $1",
                          hash);
  return r.empty() ? nlohmann::json() : row_to_json(r[0]);
}

void print_token(Context& ctx, const NewToken& t, nlohmann::json row, const std::string& base,
                 const char* verb) {
  row.erase("id");
  row.erase("state");
  row["token"] = t.token;
  row["urls"] = urls(base, t.token);
  switch (ctx.format()) {
    case Format::json: ctx.out() << row.dump(2) << '\n'; break;
    case Format::quiet: ctx.out() << t.token << '\n'; break;
    case Format::table: {
      ctx.out() << "overlay token " << row["name"].get<std::string>() << ' ' << verb << " for "
                << row["community"].get<std::string>() << " (prefix " << t.prefix << ", sources "
                << cell(row["sources"]) << ")\n"
                << "token:   " << t.token << '\n';
      for (const char* page : kPages) {
        std::string label = std::string(page) + ":";
        ctx.out() << label << std::string(9 - label.size(), ' ')
                  << row["urls"][page].get<std::string>() << '\n';
      }
      if (row.contains("previous")) {
        ctx.out() << "previous token " << row["previous"]["prefix"].get<std::string>()
                  << " works until " << cell(row["previous"]["expires_at"]) << '\n';
      }
      ctx.out() << "Store it now: only its hash is kept, it cannot be shown again.\n";
      break;
    }
  }
}

}  // namespace

void add_overlay_commands(CLI::App& app, Context& ctx) {
  auto* noun = app.add_subcommand("overlay",
                                  "OBS overlay access (token create, rotate, list, "
                                  "revoke; url)");
  noun->require_subcommand(1);
  auto* token = noun->add_subcommand("token", "overlay tokens of a community");
  token->require_subcommand(1);

  {
    auto* create = token->add_subcommand("create", "create a token and print it with its URLs");
    auto community = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>("default");
    auto sources = std::make_shared<std::vector<std::string>>();
    auto base = std::make_shared<std::string>(kDefaultBase);
    create->add_option("community", *community, "community name or id")->required();
    create->add_option("--name", *name, "token name, one per overlay setup")->capture_default_str();
    create
        ->add_option("--sources", *sources,
                     "what the overlay shows: chat, media, ticker, general, form, alerts "
                     "(comma list; default: chat,media,ticker,general)")
        ->allow_extra_args(false);
    create->add_option("--base-url", *base, "where waddle-overlayd is reachable from OBS")
        ->capture_default_str();
    create->callback([&ctx, community, name, sources, base] {
      check_name(*name);
      auto base_url_text = base_url(*base);
      auto list = checks::split_list(*sources);
      if (list.empty()) list = {"chat", "media", "ticker", "general"};
      checks::require_each_in("--sources", list,
                              {"chat", "media", "ticker", "general", "form", "alerts"});
      auto t = generate();
      auto row = ctx.write(
          "overlay.token.create", *community + ":" + *name,
          [&](pqxx::work& tx) {
            auto id = find_community(tx, *community)["id"].get<long long>();
            auto existing = tx.exec_params(
                "select id, revoked_at is null and (expires_at is null or expires_at > now()) "
                "from overlay_tokens where community_id = $1 and name = $2",
                id, *name);
            if (!existing.empty()) {
              if (existing[0][1].as<bool>()) {
                refuse("overlay token '" + *name + "' already exists for " + *community +
                       "; rotate or revoke it");
              }
              // A revoked or expired token gives its name up, keeping its row for history.
              tx.exec_params(
                  "update overlay_tokens set name = name || '~revoked-' || id where id = $1",
                  existing[0][0].as<long long>());
            }
            tx.exec_params(
                "insert into overlay_tokens (community_id, name, token_prefix, token_hash, "
                "sources, created_by) values ($1, $2, $3, $4, $5::text[], $6)",
                id, *name, t.prefix, t.hash, checks::to_pg_array(list), Context::actor());
            return row_to_json(current(tx, id, *name)[0]);
          },
          nlohmann::json{{"prefix", t.prefix}, {"sources", list}});
      print_token(ctx, t, row, base_url_text, "created");
    });
  }

  {
    auto* rotate = token->add_subcommand(
        "rotate", "replace a token; the old one keeps working for the grace period");
    auto community = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>("default");
    auto grace = std::make_shared<std::string>("5m");
    auto base = std::make_shared<std::string>(kDefaultBase);
    rotate->add_option("community", *community, "community name or id")->required();
    rotate->add_option("--name", *name, "token name")->capture_default_str();
    rotate
        ->add_option("--grace", *grace,
                     "how long the old token keeps working (e.g. 0, 90s, 5m, 1h)")
        ->capture_default_str();
    rotate->add_option("--base-url", *base, "where waddle-overlayd is reachable from OBS")
        ->capture_default_str();
    rotate->callback([&ctx, community, name, grace, base] {
      check_name(*name);
      auto base_url_text = base_url(*base);
      auto grace_seconds = checks::parse_duration("--grace", *grace);
      auto t = generate();
      auto row = ctx.write(
          "overlay.token.rotate", *community + ":" + *name,
          [&](pqxx::work& tx) {
            auto id = find_community(tx, *community)["id"].get<long long>();
            auto old = current(tx, id, *name);
            if (old.empty()) {
              throw Error(Errc::not_found, "no overlay token '" + *name + "' for " + *community +
                                               " (create one first)");
            }
            auto old_id = old[0]["id"].as<long long>();
            // The old row steps aside under a new name and expires after the grace period.
            auto prev = tx.exec_params1(
                "update overlay_tokens set name = name || '~rotated-' || id, "
                "expires_at = least(coalesce(expires_at, 'infinity'), "
                "now() + make_interval(secs => $2)) where id = $1 "
                "returning token_prefix, expires_at",
                old_id, grace_seconds);
            tx.exec_params(
                "insert into overlay_tokens (community_id, name, token_prefix, token_hash, "
                "sources, created_by) select community_id, $2, $3, $4, sources, $5 "
                "from overlay_tokens where id = $1",
                old_id, *name, t.prefix, t.hash, Context::actor());
            auto row = row_to_json(current(tx, id, *name)[0]);
            row["previous"] = {{"prefix", prev[0].as<std::string>()},
                               {"expires_at", prev[1].as<std::string>()}};
            return row;
          },
          nlohmann::json{{"prefix", t.prefix}, {"grace_seconds", grace_seconds}});
      print_token(ctx, t, row, base_url_text, "rotated");
    });
  }

  {
    auto* list = token->add_subcommand("list", "list a community's tokens (prefixes only)");
    auto community = std::make_shared<std::string>();
    list->add_option("community", *community, "community name or id")->required();
    list->callback([&ctx, community] {
      auto rows = ctx.read([&](pqxx::work& tx) {
        auto id = find_community(tx, *community)["id"].get<long long>();
        return rows_to_json(
            tx.exec_params(std::string("select ") + kColumns +
                               " from overlay_tokens t join communities c on c.id = t.community_id "
                               "where t.community_id = $1 order by t.name",
                           id));
      });
      print_rows(ctx.out(), ctx.format(), rows,
                 {"name", "prefix", "sources", "state", "created_at", "expires_at", "last_used_at",
                  "revoked_at"},
                 "prefix");
    });
  }

  {
    auto* revoke = token->add_subcommand(
        "revoke", "revoke a token now, with any rotated-out predecessors still in grace");
    auto community = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>("default");
    revoke->add_option("community", *community, "community name or id")->required();
    revoke->add_option("--name", *name, "token name")->capture_default_str();
    revoke->callback([&ctx, community, name] {
      check_name(*name);
      auto rows = ctx.write("overlay.token.revoke", *community + ":" + *name, [&](pqxx::work& tx) {
        auto id = find_community(tx, *community)["id"].get<long long>();
        if (current(tx, id, *name).empty()) {
          throw Error(Errc::not_found, "no overlay token '" + *name + "' for " + *community);
        }
        return rows_to_json(tx.exec_params(
            "update overlay_tokens set revoked_at = now() where community_id = $1 and "
            "revoked_at is null and (name = $2 or (left(name, length($2) + 9) = $2 || "
            "'~rotated-' and (expires_at is null or expires_at > now()))) "
            "returning name, token_prefix as prefix, revoked_at",
            id, *name));
      });
      if (ctx.format() == Format::table) {
        for (const auto& r : rows) {
          ctx.out() << "revoked overlay token " << r["name"].get<std::string>() << " (prefix "
                    << r["prefix"].get<std::string>() << ")\n";
        }
      } else {
        print_rows(ctx.out(), ctx.format(), rows, {"name", "prefix", "revoked_at"}, "prefix");
      }
    });
  }

  {
    auto* url = noun->add_subcommand(
        "url", "print the OBS URLs for a token you have (tokens cannot be shown again)");
    auto token_text = std::make_shared<std::string>();
    auto base = std::make_shared<std::string>(kDefaultBase);
    url->add_option("--token", *token_text, "the token printed by token create/rotate")->required();
    url->add_option("--base-url", *base, "where waddle-overlayd is reachable from OBS")
        ->capture_default_str();
    url->callback([&ctx, token_text, base] {
      static const std::regex shape("^[A-Za-z0-9_-]{8,128}$");
      if (!std::regex_match(*token_text, shape)) {
        refuse("--token: not an overlay token (URL-safe characters, as printed by token create)");
      }
      auto base_url_text = base_url(*base);
      auto row = ctx.read(
          [&](pqxx::work& tx) { return load_by_hash(tx, crypto::sha256_hex(*token_text)); });
      if (row.is_null()) throw Error(Errc::not_found, "--token: no overlay token matches");
      if (row["state"] != "active") {
        refuse("--token: overlay token " + row["prefix"].get<std::string>() + " of " +
               row["community"].get<std::string>() + " is " + row["state"].get<std::string>());
      }
      nlohmann::json out{
          {"community", row["community"]},   {"name", row["name"]},
          {"prefix", row["prefix"]},         {"sources", row["sources"]},
          {"expires_at", row["expires_at"]}, {"urls", urls(base_url_text, *token_text)}};
      switch (ctx.format()) {
        case Format::json: ctx.out() << out.dump(2) << '\n'; break;
        case Format::quiet: ctx.out() << out["urls"]["all"].get<std::string>() << '\n'; break;
        case Format::table:
          for (const char* page : kPages) {
            std::string label = std::string(page) + ":";
            ctx.out() << label << std::string(9 - label.size(), ' ')
                      << out["urls"][page].get<std::string>() << '\n';
          }
          break;
      }
    });
  }
}

}  // namespace waddle::cli
