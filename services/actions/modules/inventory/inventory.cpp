#include "actions/modules/inventory/inventory.hpp"

#include <pqxx/pqxx>

#include "actions/modules/platform_users/platform_users.hpp"
#include "actions/text.hpp"
#include "model/event.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

using Actions = std::vector<model::Action>;

constexpr std::string_view kUsage =
    "Usage: !inv list | !inv search <words> | !inv add <item> [qty] | !inv remove <item> [qty] | "
    "!inv checkout <item> [@user] | !inv return <item> [@user] | !inv log [item]";
constexpr std::string_view kAddUsage = "Usage: !inv add <item> [qty]";
constexpr std::string_view kRemoveUsage = "Usage: !inv remove <item> [qty]";
constexpr std::string_view kCheckoutUsage = "Usage: !inv checkout <item> [@user]";
constexpr std::string_view kReturnUsage = "Usage: !inv return <item> [@user]";
constexpr std::string_view kSearchUsage = "Usage: !inv search <words>";
constexpr std::string_view kLogUsage = "Usage: !inv log [item]";

// An item locked for a change, with the units that are out now.
struct LockedItem {
  std::int64_t id = 0;
  std::string name;
  int quantity = 0;
  int out = 0;
};

std::optional<LockedItem> lock_item(pqxx::work& tx, std::int64_t community_id,
                                    const std::string& name) {
  auto rows = tx.exec_params(
      "select id, name, quantity from inventory_items where community_id = $1 and lower(name) = "
      "lower($2) for update",
      community_id, name);
  if (rows.empty()) return std::nullopt;
  LockedItem item{rows[0][0].as<std::int64_t>(), rows[0][1].as<std::string>(), rows[0][2].as<int>(),
                  0};
  item.out = tx.exec_params1(
                   "select count(*) from inventory_checkouts where item_id = $1 and returned_at "
                   "is null",
                   item.id)[0]
                 .as<int>();
  return item;
}

struct Change {
  std::int64_t item_id = 0;
  std::string item;
  std::string_view action;
  int quantity = 1;
  int quantity_after = 0;
  std::optional<std::int64_t> holder_id;
  std::optional<std::string> holder_name;
};

void record(pqxx::work& tx, const ModuleRequest& request, const Change& change) {
  tx.exec_params(
      "insert into inventory_activity (community_id, item_id, item_name, action, quantity, "
      "quantity_after, holder_id, holder_name, actor_id, actor_name, platform) values ($1, $2, "
      "$3, $4, $5, $6, $7, $8, $9, $10, nullif($11, ''))",
      request.community_id, change.item_id, change.item, std::string(change.action),
      change.quantity, change.quantity_after, change.holder_id, change.holder_name, request.user_id,
      request.user_display_name,
      model::is_platform(request.platform) ? request.platform : std::string());
}

std::string missing_item(const std::string& name) {
  return "There is no " + trim_chat(name, kMaxItemCharacters) + " in the inventory.";
}

std::string count_of(int n, const std::string& item) {
  return std::to_string(n) + " × " + item;
}

Role checkout_role(const ModuleRequest& request) {
  if (auto it = request.config.find("checkout_role");
      it != request.config.end() && it->is_string()) {
    if (auto role = parse_role(it->get<std::string>())) return *role;
  }
  return Role::member;
}

std::string_view last_word(std::string_view text) {
  const auto space = text.find_last_of(" \t\n\r\f\v");
  return space == std::string_view::npos ? text : text.substr(space + 1);
}

}  // namespace

ItemArgs parse_item_args(std::string_view rest, bool with_quantity, bool with_user) {
  ItemArgs out;
  rest = trim(rest);
  if (with_user && !rest.empty()) {
    const std::string_view word = last_word(rest);
    if (word.front() == '@' && word.size() != rest.size()) {
      auto mention = parse_mention(word, false);
      if (!mention) {
        out.error = "'" + trim_chat(word, 40) + "' is not a user name.";
        return out;
      }
      out.mention = *mention;
      rest = trim(rest.substr(0, rest.size() - word.size()));
    }
  }
  if (with_quantity && !rest.empty()) {
    const std::string_view word = last_word(rest);
    const bool digits = word.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits && word.size() != rest.size()) {
      const int n = word.size() <= 7 ? parse_positive(word) : 0;
      if (n <= 0 || n > kMaxItemQuantity) {
        out.error = "The quantity must be a whole number from 1 to " +
                    std::to_string(kMaxItemQuantity) + ", not " + trim_chat(word, 20) + ".";
        return out;
      }
      out.quantity = n;
      rest = trim(rest.substr(0, rest.size() - word.size()));
    }
  }
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"') {
    rest = trim(rest.substr(1, rest.size() - 2));
  }
  if (rest.empty()) return out;  // no item: the caller answers with its usage line
  bool clean = rest.front() != '@' && rest.front() != '"';
  for (char c : rest) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) clean = false;
  }
  if (!clean || utf8_length(rest) > kMaxItemCharacters) {
    out.error = "An item name is 1 to " + std::to_string(kMaxItemCharacters) +
                " characters, not starting with @ or \", without control characters.";
    return out;
  }
  out.item = std::string(rest);
  return out;
}

std::vector<CommandSpec> Inventory::commands() const {
  return {{"inv", "the community's inventory: !inv list|search|add|remove|checkout|return|log"}};
}

boost::asio::awaitable<Actions> Inventory::handle(const ModuleRequest& request) {
  if (request.trigger != "command" || request.command != "inv") co_return Actions{};
  const std::string sub = request.args.empty() ? std::string() : lower_ascii(request.args[0]);
  if (sub == "list") co_return co_await list(request);
  if (sub == "search" || sub == "find") co_return co_await search(request);
  if (sub == "log") co_return co_await log(request);
  if (sub == "checkout") co_return co_await checkout(request);
  if (sub == "return") co_return co_await give_back(request);
  if (sub == "add" || sub == "remove") {
    if (request.role() < Role::moderator) {
      co_return say(role_refusal(request, Role::moderator, "change the inventory"));
    }
    // Two co_awaits, not one on a ?: of awaitables, which g++ 12 miscompiles (a double free).
    if (sub == "add") co_return co_await add(request);
    co_return co_await remove(request);
  }
  co_return say(std::string(kUsage));
}

boost::asio::awaitable<Actions> Inventory::list(const ModuleRequest& request) {
  const std::vector<std::string> items = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);
        std::vector<std::string> out;
        for (const auto& row : tx.exec_params(
                 "select i.name, i.quantity - (select count(*) from inventory_checkouts c where "
                 "c.item_id = i.id and c.returned_at is null), i.quantity from inventory_items i "
                 "where i.community_id = $1 order by lower(i.name), i.id",
                 request.community_id)) {
          out.push_back(row[0].as<std::string>() + " " + row[1].as<std::string>() + "/" +
                        row[2].as<std::string>());
        }
        return out;
      },
      pg::Target::replica);
  if (items.empty()) {
    co_return say("The inventory is empty. Moderators add items with !inv add <item> [qty].");
  }
  std::string text = "Inventory (in/total):";
  for (std::size_t i = 0; i < items.size(); ++i) text += (i == 0 ? " " : ", ") + items[i];
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> Inventory::search(const ModuleRequest& request) {
  std::string words;
  for (std::size_t i = 1; i < request.args.size(); ++i) {
    std::string word = request.args[i];
    std::erase(word, '\x1f');
    if (word.empty()) continue;
    words += (words.empty() ? "" : "\x1f") + word;
  }
  if (words.empty()) co_return say(std::string(kSearchUsage));
  const std::vector<std::string> found = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);
        std::vector<std::string> out;
        // strpos, not LIKE: a word holding % or _ is matched as typed.
        for (const auto& row : tx.exec_params(
                 "select i.name, i.quantity - count(c.id), i.quantity, string_agg(c.holder_name, "
                 "', ' order by c.checked_out_at) from inventory_items i left join "
                 "inventory_checkouts c on c.item_id = i.id and c.returned_at is null where "
                 "i.community_id = $1 and not exists (select 1 from unnest(string_to_array($2, "
                 "chr(31))) w where strpos(lower(i.name), lower(w)) = 0) group by i.id order by "
                 "lower(i.name) limit 10",
                 request.community_id, words)) {
          std::string entry = row[0].as<std::string>() + " " + row[1].as<std::string>() + "/" +
                              row[2].as<std::string>();
          if (!row[3].is_null()) entry += " (out: " + row[3].as<std::string>() + ")";
          out.push_back(std::move(entry));
        }
        return out;
      },
      pg::Target::replica);
  if (found.empty()) co_return say("No item matches that.");
  std::string text;
  for (const auto& entry : found) text += (text.empty() ? "" : "; ") + entry;
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> Inventory::add(const ModuleRequest& request) {
  const ItemArgs args = parse_item_args(skip_words(request.raw_args, 1), true, false);
  if (!args.error.empty()) co_return say(args.error + " " + std::string(kAddUsage));
  if (args.item.empty()) co_return say(std::string(kAddUsage));
  const int quantity = args.quantity.value_or(1);
  struct Result {
    std::string name;
    int total = 0;  // 0: the limit would be passed
  };
  Result result = co_await env_.pool.transaction([&](pqxx::work& tx) {
    Result r;
    auto rows = tx.exec_params(
        "insert into inventory_items (community_id, name, quantity, created_by) values ($1, $2, "
        "$3, $4) on conflict (community_id, lower(name)) do update set quantity = "
        "inventory_items.quantity + excluded.quantity where inventory_items.quantity + "
        "excluded.quantity <= $5 returning id, name, quantity",
        request.community_id, args.item, quantity, request.user_name, kMaxItemQuantity);
    if (rows.empty()) return r;
    r.name = rows[0][1].as<std::string>();
    r.total = rows[0][2].as<int>();
    record(tx, request,
           {.item_id = rows[0][0].as<std::int64_t>(),
            .item = r.name,
            .action = "add",
            .quantity = quantity,
            .quantity_after = r.total});
    return r;
  });
  if (result.total == 0) {
    co_return say("That would make more than " + std::to_string(kMaxItemQuantity) + " of " +
                  args.item + ".");
  }
  co_return say("Added " + count_of(quantity, result.name) + " (now " +
                std::to_string(result.total) + ").");
}

boost::asio::awaitable<Actions> Inventory::remove(const ModuleRequest& request) {
  const ItemArgs args = parse_item_args(skip_words(request.raw_args, 1), true, false);
  if (!args.error.empty()) co_return say(args.error + " " + std::string(kRemoveUsage));
  if (args.item.empty()) co_return say(std::string(kRemoveUsage));
  enum class Outcome { missing, busy, removed };
  struct Result {
    Outcome outcome = Outcome::missing;
    LockedItem item;
    int removed = 0;
  };
  Result result = co_await env_.pool.transaction([&](pqxx::work& tx) {
    Result r;
    auto item = lock_item(tx, request.community_id, args.item);
    if (!item) return r;
    r.item = *item;
    r.removed = args.quantity.value_or(item->quantity);
    if (r.removed > item->quantity - item->out) {
      r.outcome = Outcome::busy;
      return r;
    }
    const int after = item->quantity - r.removed;
    if (after == 0) {
      tx.exec_params("delete from inventory_items where id = $1", item->id);
    } else {
      tx.exec_params("update inventory_items set quantity = $2 where id = $1", item->id, after);
    }
    record(tx, request,
           {.item_id = item->id,
            .item = item->name,
            .action = "remove",
            .quantity = r.removed,
            .quantity_after = after});
    r.item.quantity = after;
    r.outcome = Outcome::removed;
    return r;
  });
  switch (result.outcome) {
    case Outcome::missing: co_return say(missing_item(args.item));
    case Outcome::busy:
      co_return say("Only " + std::to_string(result.item.quantity - result.item.out) + " of " +
                    std::to_string(result.item.quantity) + " × " + result.item.name + " are in; " +
                    std::to_string(result.item.out) + " must be returned before " +
                    std::to_string(result.removed) + " can be removed.");
    case Outcome::removed: break;
  }
  if (result.item.quantity == 0) co_return say("Removed " + result.item.name + " (all of it).");
  co_return say("Removed " + count_of(result.removed, result.item.name) + " (" +
                std::to_string(result.item.quantity) + " left).");
}

boost::asio::awaitable<Actions> Inventory::checkout(const ModuleRequest& request) {
  const ItemArgs args = parse_item_args(skip_words(request.raw_args, 1), false, true);
  if (!args.error.empty()) co_return say(args.error + " " + std::string(kCheckoutUsage));
  if (args.item.empty()) co_return say(std::string(kCheckoutUsage));
  const Role self_role = checkout_role(request);
  if (request.role() < self_role) {
    co_return say(role_refusal(request, self_role, "check items out"));
  }
  if (!tracks_users(request)) co_return say(unknown_person(request, args.mention));
  enum class Outcome { missing, unknown_user, refused, none_left, already, done };
  struct Result {
    Outcome outcome = Outcome::missing;
    LockedItem item;
    Person person;
  };
  const bool is_moderator = request.role() >= Role::moderator;
  Result result = co_await env_.pool.transaction([&](pqxx::work& tx) {
    Result r;
    r.person = find_person(tx, request, args.mention, false);
    if (!r.person.is_caller && !is_moderator) {
      r.outcome = Outcome::refused;
      return r;
    }
    if (r.person.is_caller) r.person.id = resolve_caller(tx, request);
    if (r.person.id == 0) {
      r.outcome = Outcome::unknown_user;
      return r;
    }
    auto item = lock_item(tx, request.community_id, args.item);
    if (!item) return r;
    r.item = *item;
    if (!tx.exec_params("select 1 from inventory_checkouts where item_id = $1 and user_id = $2 and "
                        "returned_at is null",
                        item->id, r.person.id)
             .empty()) {
      r.outcome = Outcome::already;
      return r;
    }
    if (item->out >= item->quantity) {
      r.outcome = Outcome::none_left;
      return r;
    }
    tx.exec_params(
        "insert into inventory_checkouts (community_id, item_id, user_id, holder_name, "
        "checked_out_by) values ($1, $2, $3, $4, $5)",
        request.community_id, item->id, r.person.id, r.person.name, request.user_name);
    ++r.item.out;
    record(tx, request,
           {.item_id = item->id,
            .item = item->name,
            .action = "checkout",
            .quantity = 1,
            .quantity_after = item->quantity,
            .holder_id = r.person.id,
            .holder_name = r.person.name});
    r.outcome = Outcome::done;
    return r;
  });
  switch (result.outcome) {
    case Outcome::missing: co_return say(missing_item(args.item));
    case Outcome::refused:
      co_return say(role_refusal(request, Role::moderator, "check items out to others"));
    case Outcome::unknown_user: co_return say(unknown_person(request, result.person.name));
    case Outcome::already:
      co_return say(result.person.name + " already has " + result.item.name +
                    " checked out; return it first.");
    case Outcome::none_left:
      co_return say("All " + count_of(result.item.quantity, result.item.name) +
                    " are checked out.");
    case Outcome::done: break;
  }
  co_return say(result.person.name + " checked out " + result.item.name + " (" +
                std::to_string(result.item.quantity - result.item.out) + " of " +
                std::to_string(result.item.quantity) + " left).");
}

boost::asio::awaitable<Actions> Inventory::give_back(const ModuleRequest& request) {
  const ItemArgs args = parse_item_args(skip_words(request.raw_args, 1), false, true);
  if (!args.error.empty()) co_return say(args.error + " " + std::string(kReturnUsage));
  if (args.item.empty()) co_return say(std::string(kReturnUsage));
  enum class Outcome { missing, unknown_user, refused, not_out, done };
  struct Result {
    Outcome outcome = Outcome::missing;
    LockedItem item;
    Person person;
  };
  const bool is_moderator = request.role() >= Role::moderator;
  Result result = co_await env_.pool.transaction([&](pqxx::work& tx) {
    Result r;
    r.person = find_person(tx, request, args.mention, false);
    if (!r.person.is_caller && !is_moderator) {
      r.outcome = Outcome::refused;
      return r;
    }
    auto item = lock_item(tx, request.community_id, args.item);
    if (!item) return r;
    r.item = *item;
    if (r.person.id == 0) {
      r.outcome = r.person.is_caller ? Outcome::not_out : Outcome::unknown_user;
      return r;
    }
    const bool returned = !tx.exec_params(
                                 "update inventory_checkouts set returned_at = now(), returned_by "
                                 "= $3 where item_id = $1 and user_id = $2 and returned_at is null "
                                 "returning id",
                                 item->id, r.person.id, request.user_name)
                               .empty();
    if (!returned) {
      r.outcome = Outcome::not_out;
      return r;
    }
    --r.item.out;
    record(tx, request,
           {.item_id = item->id,
            .item = item->name,
            .action = "return",
            .quantity = 1,
            .quantity_after = item->quantity,
            .holder_id = r.person.id,
            .holder_name = r.person.name});
    r.outcome = Outcome::done;
    return r;
  });
  switch (result.outcome) {
    case Outcome::missing: co_return say(missing_item(args.item));
    case Outcome::refused:
      co_return say(role_refusal(request, Role::moderator, "return items for others"));
    case Outcome::unknown_user: co_return say(unknown_person(request, result.person.name));
    case Outcome::not_out:
      co_return say(result.person.name + " does not have " + result.item.name + " checked out.");
    case Outcome::done: break;
  }
  co_return say(result.person.name + " returned " + result.item.name + " (" +
                std::to_string(result.item.quantity - result.item.out) + " of " +
                std::to_string(result.item.quantity) + " in).");
}

boost::asio::awaitable<Actions> Inventory::log(const ModuleRequest& request) {
  const ItemArgs args = parse_item_args(skip_words(request.raw_args, 1), false, false);
  if (!args.error.empty()) co_return say(args.error + " " + std::string(kLogUsage));
  const std::vector<std::string> lines = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);
        std::vector<std::string> out;
        for (const auto& row : tx.exec_params(
                 "select to_char(created_at at time zone 'UTC', 'MM-DD HH24:MI'), action, "
                 "item_name, quantity, coalesce(holder_name, ''), coalesce(actor_name, '') from "
                 "inventory_activity where community_id = $1 and ($2 = '' or lower(item_name) = "
                 "lower($2)) order by id desc limit 5",
                 request.community_id, args.item)) {
          const auto action = row[1].as<std::string>();
          const auto item = row[2].as<std::string>();
          const auto holder = row[4].as<std::string>();
          const auto actor = row[5].as<std::string>();
          std::string line = row[0].as<std::string>() + " ";
          if (action == "add" || action == "remove") {
            line += actor + (action == "add" ? " added " : " removed ") +
                    count_of(row[3].as<int>(), item);
          } else {
            line += holder + (action == "checkout" ? " checked out " : " returned ") + item;
            if (actor != holder) line += " (by " + actor + ")";
          }
          out.push_back(std::move(line));
        }
        return out;
      },
      pg::Target::replica);
  if (lines.empty()) {
    co_return say(args.item.empty() ? std::string("Nothing logged yet.")
                                    : "Nothing logged for " + args.item + ".");
  }
  std::string text;
  for (const auto& line : lines) text += (text.empty() ? "" : "; ") + line;
  co_return say(std::move(text));
}

}  // namespace waddle::actions
