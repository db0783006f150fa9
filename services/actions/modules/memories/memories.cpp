#include "actions/modules/memories/memories.hpp"

#include <pqxx/pqxx>

#include "actions/text.hpp"
#include "model/event.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

using Actions = std::vector<model::Action>;

constexpr std::string_view kQuoteUsage =
    "Usage: !quote [n] | !quote random | !quote add <text> | !quote search <words> | "
    "!quote remove <n> | !quote react <n> <emoji or word>";
constexpr std::string_view kQuoteReactUsage = "Usage: !quote react <n> <emoji or word>";
constexpr std::size_t kMaxReactionCharacters = 16;
constexpr std::string_view kQuoteAddUsage = "Usage: !quote add [-c=category] <text>";
constexpr std::string_view kQuoteSearchUsage = "Usage: !quote search <words>";
constexpr std::string_view kQuoteRemoveUsage = "Usage: !quote remove <n>";
constexpr std::string_view kLinkUsage =
    "Usage: !link <name> | !link list | !link add <name> <url> | !link remove <name>";
constexpr std::string_view kLinkAddUsage = "Usage: !link add <name> <url>";
constexpr std::string_view kLinkRemoveUsage = "Usage: !link remove <name>";

// One quote as chat shows it: #3 [funny]: "text" (Alice, 2026-01-01) [😂×3 👍×1]. The table is
// aliased m; the last column is its three most given reactions (memory_reactions, 0015).
constexpr const char* kQuoteColumns =
    "m.number, m.content, m.category, coalesce(m.created_by_name, ''), to_char(m.created_at at "
    "time zone 'UTC', 'YYYY-MM-DD'), coalesce((select string_agg(t.reaction || '×' || t.n, ' ' "
    "order by t.n desc, t.first) from (select r.reaction, count(*) as n, min(r.id) as first from "
    "memory_reactions r where r.memory_id = m.id group by r.reaction order by n desc, first limit "
    "3) t), '')";

std::string format_quote(const pqxx::row& row) {
  std::string text = "#" + row[0].as<std::string>();
  const auto category = row[2].as<std::string>();
  if (category != "general") text += " [" + category + "]";
  text += ": \"" + row[1].as<std::string>() + "\"";
  const auto who = row[3].as<std::string>();
  text += " (" + (who.empty() ? std::string() : who + ", ") + row[4].as<std::string>() + ")";
  if (const auto reactions = row[5].as<std::string>(); !reactions.empty()) {
    text += " [" + reactions + "]";
  }
  return text;
}

// The platform column takes only known platforms; anything else is stored as null.
std::string model_platform_or_empty(const std::string& platform) {
  return model::is_platform(platform) ? platform : std::string();
}

Role quote_add_role(const ModuleRequest& request) {
  if (auto it = request.config.find("quote_add_role");
      it != request.config.end() && it->is_string()) {
    if (auto role = parse_role(it->get<std::string>())) return *role;
  }
  return Role::member;
}

}  // namespace

std::vector<CommandSpec> Memories::commands() const {
  return {{"quote", "the community's quotes: !quote [n|random|add|search|remove]"},
          {"link", "the community's links: !link <name>|list|add|remove"},
          Reminders::command()};
}

boost::asio::awaitable<Actions> Memories::handle(const ModuleRequest& request) {
  if (request.trigger != "command") co_return Actions{};
  if (request.command == "quote") co_return co_await quote(request);
  if (request.command == "link") co_return co_await link(request);
  if (request.command == "remind") co_return co_await reminders_.handle(request);
  co_return Actions{};
}

boost::asio::awaitable<Actions> Memories::quote(const ModuleRequest& request) {
  if (request.args.empty()) co_return co_await quote_show(request, 0);
  const std::string sub = lower_ascii(request.args[0]);
  if (sub == "random") co_return co_await quote_show(request, 0);
  if (sub == "add") co_return co_await quote_add(request);
  if (sub == "search" || sub == "find") co_return co_await quote_search(request);
  if (sub == "remove" || sub == "delete") co_return co_await quote_remove(request);
  if (sub == "react") co_return co_await quote_react(request);
  if (const int number = parse_positive(request.args[0]); number > 0) {
    co_return co_await quote_show(request, number);
  }
  co_return say(std::string(kQuoteUsage));
}

boost::asio::awaitable<Actions> Memories::quote_add(const ModuleRequest& request) {
  const Role needed = quote_add_role(request);
  if (request.role() < needed) co_return say(role_refusal(request, needed, "add quotes"));
  std::string_view text = skip_words(request.raw_args, 1);
  std::string category = "general";
  if (text.substr(0, 3) == "-c=") {
    const std::string_view word = text.substr(0, text.find_first_of(" \t\n"));
    category = lower_ascii(word.substr(3));
    if (!is_short_name(category)) {
      co_return say("'" + std::string(word.substr(3)) +
                    "' is not a category (letters, digits, - and _, up to 32).");
    }
    text = skip_words(text, 1);
  }
  if (text.empty()) co_return say(std::string(kQuoteAddUsage));
  if (const std::size_t length = utf8_length(text); length > kMaxQuoteCharacters) {
    co_return say("That quote is too long (" + std::to_string(length) + " characters; at most " +
                  std::to_string(kMaxQuoteCharacters) + ").");
  }
  const std::string content(text);
  const int number = co_await env_.pool.transaction([&](pqxx::work& tx) {
    const int n = tx.exec_params1(
                        "insert into memory_counters (community_id, memory_type, last_number) "
                        "values ($1, 'quote', 1) on conflict (community_id, memory_type) do "
                        "update set last_number = memory_counters.last_number + 1 returning "
                        "last_number",
                        request.community_id)[0]
                      .as<int>();
    tx.exec_params(
        "insert into memories (community_id, memory_type, number, content, category, platform, "
        "created_by_id, created_by_name) values ($1, 'quote', $2, $3, $4, nullif($5, ''), $6, "
        "$7)",
        request.community_id, n, content, category, model_platform_or_empty(request.platform),
        request.user_id, request.user_display_name);
    return n;
  });
  co_return say("Added quote #" + std::to_string(number) + ".");
}

boost::asio::awaitable<Actions> Memories::quote_show(const ModuleRequest& request, int number) {
  const std::optional<std::string> text = co_await env_.pool.run(
      [&](pqxx::connection& conn) -> std::optional<std::string> {
        pqxx::nontransaction tx(conn);
        const std::string sql =
            std::string("select ") + kQuoteColumns +
            " from memories m where community_id = $1 and memory_type = 'quote' " +
            (number > 0 ? "and number = $2" : "and $2 = 0 order by random() limit 1");
        auto rows = tx.exec_params(sql, request.community_id, number);
        if (rows.empty()) return std::nullopt;
        return format_quote(rows[0]);
      },
      pg::Target::replica);
  if (text) co_return say(*text);
  if (number > 0) co_return say("There is no quote #" + std::to_string(number) + ".");
  co_return say("No quotes yet. Add one with !quote add <text>.");
}

boost::asio::awaitable<Actions> Memories::quote_search(const ModuleRequest& request) {
  std::string words;
  for (std::size_t i = 1; i < request.args.size(); ++i) {
    std::string word = request.args[i];
    std::erase(word, '\x1f');
    if (word.empty()) continue;
    words += (words.empty() ? "" : "\x1f") + word;
  }
  if (words.empty()) co_return say(std::string(kQuoteSearchUsage));
  struct Found {
    std::optional<std::string> first;
    std::vector<std::string> more;
  };
  Found found = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);
        Found f;
        // strpos, not LIKE: a word holding % or _ is matched as typed.
        auto rows = tx.exec_params(
            std::string("select ") + kQuoteColumns +
                " from memories m where community_id = $1 and memory_type = 'quote' and not "
                "exists (select 1 from unnest(string_to_array($2, chr(31))) w where "
                "strpos(lower(m.content), lower(w)) = 0) order by number limit 6",
            request.community_id, words);
        for (std::size_t i = 0; i < rows.size(); ++i) {
          if (i == 0) {
            f.first = format_quote(rows[i]);
          } else {
            f.more.push_back("#" + rows[i][0].as<std::string>());
          }
        }
        return f;
      },
      pg::Target::replica);
  if (!found.first) co_return say("No quote matches that.");
  std::string text = *found.first;
  if (!found.more.empty()) {
    text += " (also";
    for (std::size_t i = 0; i < found.more.size(); ++i)
      text += (i == 0 ? " " : ", ") + found.more[i];
    text += found.more.size() == 5 ? ", …)" : ")";
  }
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> Memories::quote_remove(const ModuleRequest& request) {
  if (request.role() < Role::moderator) {
    co_return say(role_refusal(request, Role::moderator, "remove quotes"));
  }
  const int number = request.args.size() >= 2 ? parse_positive(request.args[1]) : 0;
  if (number <= 0) co_return say(std::string(kQuoteRemoveUsage));
  const bool removed = co_await env_.pool.transaction([&](pqxx::work& tx) {
    return !tx.exec_params(
                  "delete from memories where community_id = $1 and memory_type = 'quote' and "
                  "number = $2 returning id",
                  request.community_id, number)
                .empty();
  });
  if (!removed) co_return say("There is no quote #" + std::to_string(number) + ".");
  co_return say("Removed quote #" + std::to_string(number) + ".");
}

boost::asio::awaitable<Actions> Memories::quote_react(const ModuleRequest& request) {
  const int number = request.args.size() == 3 ? parse_positive(request.args[1]) : 0;
  if (number <= 0) co_return say(std::string(kQuoteReactUsage));
  const std::string& reaction = request.args[2];
  bool clean = !reaction.empty() && utf8_length(reaction) <= kMaxReactionCharacters;
  for (const char c : reaction) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) clean = false;
  }
  if (!clean) {
    co_return say("A reaction is one emoji or word of at most " +
                  std::to_string(kMaxReactionCharacters) + " characters. " +
                  std::string(kQuoteReactUsage));
  }
  if (request.user_id.empty()) co_return say("I cannot tell who you are, so you cannot react.");
  const std::string user_key = request.platform + ":" + request.user_id;
  struct Result {
    bool found = false;
    bool added = false;
    std::string summary;
  };
  auto toggle = [&](pqxx::work& tx) {
    Result r;
    auto quote = tx.exec_params(
        "select id from memories where community_id = $1 and memory_type = 'quote' and number = "
        "$2 for update",
        request.community_id, number);
    if (quote.empty()) return r;
    r.found = true;
    const auto id = quote[0][0].as<std::int64_t>();
    // Saying it again takes it back: one reaction per user per quote per emoji.
    r.added = !tx.exec_params(
                     "insert into memory_reactions (community_id, memory_id, reaction, user_key, "
                     "user_name) values ($1, $2, $3, $4, $5) on conflict (memory_id, reaction, "
                     "user_key) do nothing returning id",
                     request.community_id, id, reaction, user_key, request.user_display_name)
                   .empty();
    if (!r.added) {
      tx.exec_params(
          "delete from memory_reactions where memory_id = $1 and reaction = $2 and user_key = $3",
          id, reaction, user_key);
    }
    r.summary =
        tx.exec_params1(std::string("select ") + kQuoteColumns + " from memories m where m.id = $1",
                        id)[5]
            .as<std::string>();
    return r;
  };
  const Result result = co_await env_.pool.transaction(std::move(toggle));
  if (!result.found) co_return say("There is no quote #" + std::to_string(number) + ".");
  std::string text = result.added
                         ? "Reacted " + reaction + " to quote #" + std::to_string(number)
                         : "Took back your " + reaction + " on quote #" + std::to_string(number);
  text += result.summary.empty() ? "." : " [" + result.summary + "].";
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> Memories::link(const ModuleRequest& request) {
  if (request.args.empty()) co_return say(std::string(kLinkUsage));
  const std::string sub = lower_ascii(request.args[0]);
  if (sub == "list") {
    const std::vector<std::string> names = co_await env_.pool.run(
        [&](pqxx::connection& conn) {
          pqxx::nontransaction tx(conn);
          std::vector<std::string> out;
          for (const auto& row : tx.exec_params(
                   "select name from memories where community_id = $1 and memory_type = 'link' "
                   "order by name",
                   request.community_id)) {
            out.push_back(row[0].as<std::string>());
          }
          return out;
        },
        pg::Target::replica);
    if (names.empty())
      co_return say("No links yet. Moderators add them with !link add <name> <url>.");
    std::string text = "Links:";
    for (std::size_t i = 0; i < names.size(); ++i) text += (i == 0 ? " " : ", ") + names[i];
    co_return say(std::move(text));
  }
  if (sub == "add" || sub == "remove" || sub == "delete") {
    if (request.role() < Role::moderator) {
      co_return say(role_refusal(request, Role::moderator, "manage links"));
    }
    const bool adding = sub == "add";
    if (request.args.size() != (adding ? 3u : 2u)) {
      co_return say(std::string(adding ? kLinkAddUsage : kLinkRemoveUsage));
    }
    const std::string name = lower_ascii(request.args[1]);
    if (!is_short_name(name)) {
      co_return say("'" + request.args[1] +
                    "' is not a link name (letters, digits, - and _, up to 32).");
    }
    if (!adding) {
      const bool removed = co_await env_.pool.transaction([&](pqxx::work& tx) {
        return !tx.exec_params(
                      "delete from memories where community_id = $1 and memory_type = 'link' "
                      "and name = $2 returning id",
                      request.community_id, name)
                    .empty();
      });
      co_return say(removed ? "Removed link " + name + "." : "There is no link " + name + ".");
    }
    const std::string url = request.args[2];
    if (!is_http_url(url)) {
      co_return say("'" + trim_chat(url, 100) + "' is not an http(s) URL. " +
                    std::string(kLinkAddUsage));
    }
    const bool added = co_await env_.pool.transaction([&](pqxx::work& tx) {
      return !tx.exec_params(
                    "insert into memories (community_id, memory_type, name, content, url, "
                    "platform, created_by_id, created_by_name) values ($1, 'link', $2, $3::text, "
                    "$3::text, "
                    "nullif($4, ''), $5, $6) on conflict (community_id, name) where memory_type "
                    "= 'link' do nothing returning id",
                    request.community_id, name, url, model_platform_or_empty(request.platform),
                    request.user_id, request.user_display_name)
                  .empty();
    });
    if (!added) co_return say("The link " + name + " already exists; remove it first.");
    co_return say("Added link " + name + ".");
  }
  const std::string name = lower_ascii(request.args[0]);
  std::optional<std::string> url;
  if (is_short_name(name)) {
    url = co_await env_.pool.run(
        [&](pqxx::connection& conn) -> std::optional<std::string> {
          pqxx::nontransaction tx(conn);
          auto rows = tx.exec_params(
              "select url from memories where community_id = $1 and memory_type = 'link' and "
              "name = $2",
              request.community_id, name);
          if (rows.empty()) return std::nullopt;
          return rows[0][0].as<std::string>();
        },
        pg::Target::replica);
  }
  if (!url) co_return say("There is no link " + trim_chat(name, 40) + ". See !link list.");
  co_return say(name + ": " + *url);
}

}  // namespace waddle::actions
