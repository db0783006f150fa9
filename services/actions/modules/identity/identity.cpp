#include "actions/modules/identity/identity.hpp"

#include <exception>
#include <optional>

#include "actions/modules/platform_users/platform_users.hpp"
#include "actions/text.hpp"
#include "crypto/random.hpp"
#include "error/error.hpp"
#include "model/event.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

using Actions = std::vector<model::Action>;

constexpr std::string_view kUsage =
    "Usage: !identity | !identity link <platform> <username> | !identity unlink <platform> | "
    "!verify <CODE>";
constexpr std::string_view kLinkUsage = "Usage: !identity link <platform> <username>";
constexpr std::string_view kUnlinkUsage = "Usage: !identity unlink <platform>";
constexpr std::string_view kVerifyUsage =
    "Usage: !verify <CODE> (the 6-character code I whispered to you)";
constexpr std::string_view kPlatforms = "twitch, discord, slack or console";

std::optional<std::string> parse_platform(std::string_view text) {
  std::string platform = lower_ascii(text);
  if (!model::is_platform(platform)) return std::nullopt;
  return platform;
}

std::string not_a_platform(std::string_view text) {
  return "'" + trim_chat(text, 40) + "' is not a platform (" + std::string(kPlatforms) + ").";
}

}  // namespace

std::string make_verification_code() {
  // 248 = 8 × 31: bytes at or above it are dropped so that every character is equally likely.
  constexpr unsigned kUnbiased = 256 - 256 % kCodeAlphabet.size();
  std::string code;
  while (code.size() < kCodeLength) {
    for (const char c : crypto::random_bytes(2 * kCodeLength)) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= kUnbiased) continue;
      code += kCodeAlphabet[byte % kCodeAlphabet.size()];
      if (code.size() == kCodeLength) break;
    }
  }
  return code;
}

std::optional<std::string> parse_verification_code(std::string_view text) {
  text = trim(text);
  if (text.size() != kCodeLength) return std::nullopt;
  std::string code;
  for (const char c : text) {
    if (c >= 'a' && c <= 'z') {
      code += static_cast<char>(c - 'a' + 'A');
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      code += c;
    } else {
      return std::nullopt;
    }
  }
  return code;
}

MergeReport merge_users(pqxx::transaction_base& tx, std::int64_t from, std::int64_t into) {
  MergeReport report;
  // The tombstone first: a ledger insert for `from` running meanwhile (the router's flush) waits
  // on this row lock in its trigger and then lands on `into` (migrations/0015).
  tx.exec_params("update users set merged_into = $2 where id = $1 or merged_into = $1", from, into);
  tx.exec_params("update platform_identities set user_id = $2 where user_id = $1", from, into);
  // The ledger is append-only: its rows are copied with their times, and the originals go with
  // the deleted user. The insert trigger adds them to `into`'s totals and memberships.
  report.reputation_events =
      tx.exec_params(
            "insert into reputation_events (community_id, user_id, event_type, points, reason, "
            "created_at) select community_id, $2, event_type, points, reason, created_at from "
            "reputation_events where user_id = $1 order by id",
            from, into)
          .affected_rows();
  report.memberships =
      tx.exec_params(
            "insert into community_members as m (community_id, user_id, role, joined_at) select "
            "community_id, $2, role, joined_at from community_members where user_id = $1 on "
            "conflict (community_id, user_id) do update set role = case when "
            "array_position(array['member', 'moderator', 'admin', 'owner'], excluded.role::text) "
            "> array_position(array['member', 'moderator', 'admin', 'owner'], m.role::text) then "
            "excluded.role else m.role end, joined_at = least(m.joined_at, excluded.joined_at)",
            from, into)
          .affected_rows();
  for (const auto& row : tx.exec_params(
           "select a.community_id, a.label_id, a.assigned_by, a.created_at from "
           "label_assignments a where a.user_id = $1 and not exists (select 1 from "
           "label_assignments b where b.label_id = a.label_id and b.user_id = $2) order by "
           "a.created_at, a.id",
           from, into)) {
    const auto community = row[0].as<std::int64_t>();
    // The limit trigger would abort the whole merge: labels over 5 are left behind instead.
    const auto held = tx.exec_params1(
                            "select count(*) from label_assignments where community_id = $1 and "
                            "user_id = $2",
                            community, into)[0]
                          .as<std::int64_t>();
    if (held >= 5) {
      ++report.labels_dropped;
      continue;
    }
    tx.exec_params(
        "insert into label_assignments (community_id, label_id, user_id, assigned_by, "
        "created_at) values ($1, $2, $3, $4, $5::timestamptz)",
        community, row[1].as<std::int64_t>(), into,
        row[2].is_null() ? std::optional<std::string>() : row[2].as<std::string>(),
        row[3].as<std::string>());
    ++report.labels;
  }
  report.checkouts =
      tx.exec_params(
            "update inventory_checkouts c set user_id = $2 where c.user_id = $1 and (c.returned_at "
            "is not null or not exists (select 1 from inventory_checkouts o where o.item_id = "
            "c.item_id and o.user_id = $2 and o.returned_at is null))",
            from, into)
          .affected_rows();
  // A second open unit of an item the survivor already holds: one user holds one unit at a time.
  report.checkouts += tx.exec_params(
                            "update inventory_checkouts set user_id = $2, returned_at = now(), "
                            "returned_by = 'identity merge' where user_id = $1",
                            from, into)
                          .affected_rows();
  tx.exec_params("update inventory_activity set holder_id = $2 where holder_id = $1", from, into);
  // What was copied goes; `from` stays as a tombstone because the router may still credit it from
  // its in-memory identity cache, and the ledger trigger redirects those rows.
  // Its membership of the global community stays too: that one cannot be removed.
  tx.exec_params("delete from reputation_events where user_id = $1", from);
  tx.exec_params("delete from reputation_totals where user_id = $1", from);
  tx.exec_params("delete from label_assignments where user_id = $1", from);
  tx.exec_params("delete from verification_codes where user_id = $1", from);
  tx.exec_params(
      "delete from community_members where user_id = $1 and community_id not in (select id from "
      "communities where is_global)",
      from);
  return report;
}

std::vector<CommandSpec> Identity::commands() const {
  return {{"identity", "link your accounts across platforms: !identity [link|unlink]"},
          {"verify", "confirm an identity link with the code you were sent: !verify <CODE>"}};
}

boost::asio::awaitable<Actions> Identity::handle(const ModuleRequest& request) {
  if (request.trigger != "command") co_return Actions{};
  if (request.command == "verify") co_return co_await verify(request);
  if (request.command != "identity") co_return Actions{};
  if (request.args.empty()) co_return co_await show(request);
  const std::string sub = lower_ascii(request.args[0]);
  if (sub == "link") co_return co_await link(request);
  if (sub == "unlink") co_return co_await unlink(request);
  if (sub == "list" || sub == "show") co_return co_await show(request);
  co_return say(std::string(kUsage));
}

boost::asio::awaitable<Actions> Identity::link(const ModuleRequest& request) {
  if (request.args.size() != 3) co_return say(std::string(kLinkUsage));
  const auto platform = parse_platform(request.args[1]);
  if (!platform) co_return say(not_a_platform(request.args[1]) + " " + std::string(kLinkUsage));
  const auto username = parse_mention(request.args[2], true);
  if (!username) co_return say(std::string(kLinkUsage));
  if (!tracks_users(request)) co_return say("I cannot keep track of users on this platform.");
  if (*platform == request.platform) {
    co_return say("You are on " + *platform +
                  " already: link an account on another platform, then !verify there.");
  }
  if (!env_.outbox) {
    co_return say(
        "I cannot send codes right now: waddle-actiond has no connection to the router "
        "(actions.router_api_key).");
  }

  enum class Outcome { sent, already_linked, rate_limited, no_channel };
  struct Result {
    Outcome outcome = Outcome::sent;
    std::string linked_name;
    std::string entity_id;
    std::int64_t code_id = 0;
  };
  // Drawn before the transaction: nothing random depends on its retries.
  const std::string code = make_verification_code();
  auto create = [&](pqxx::work& tx) {
    Result r;
    const std::int64_t user = resolve_caller(tx, request);
    // Serialises this user's requests, so that two at once cannot both pass the limit.
    tx.exec_params("select id from users where id = $1 for update", user);
    auto linked = tx.exec_params(
        "select username from platform_identities where user_id = $1 and platform = $2 order by "
        "id limit 1",
        user, *platform);
    if (!linked.empty()) {
      r.outcome = Outcome::already_linked;
      r.linked_name = linked[0][0].as<std::string>();
      return r;
    }
    const auto recent = tx.exec_params1(
                              "select count(*) from verification_codes where user_id = $1 and "
                              "created_at > now() - interval '10 minutes'",
                              user)[0]
                            .as<int>();
    if (recent >= kMaxLinkRequests) {
      r.outcome = Outcome::rate_limited;
      return r;
    }
    auto entity = tx.exec_params(
        "select entity_id from entities where community_id = $1 and platform = $2 and is_active "
        "order by id limit 1",
        request.community_id, *platform);
    if (entity.empty()) {
      r.outcome = Outcome::no_channel;
      return r;
    }
    r.entity_id = entity[0][0].as<std::string>();
    // One live code per user and platform: asking again retires the previous one.
    tx.exec_params(
        "update verification_codes set expires_at = now() where user_id = $1 and platform = $2 "
        "and verified_at is null and expires_at > now()",
        user, *platform);
    r.code_id = tx.exec_params1(
                      "insert into verification_codes (user_id, platform, platform_username, "
                      "code, community_id, requested_platform) values ($1, $2, $3, $4, $5, $6) "
                      "returning id",
                      user, *platform, *username, code, request.community_id, request.platform)[0]
                    .as<std::int64_t>();
    return r;
  };
  const Result result = co_await env_.pool.transaction(std::move(create));
  switch (result.outcome) {
    case Outcome::already_linked:
      co_return say("Your " + *platform + " account " + result.linked_name +
                    " is linked already; !identity unlink " + *platform + " first.");
    case Outcome::rate_limited:
      co_return say("You asked for " + std::to_string(kMaxLinkRequests) +
                    " codes in the last 10 minutes; wait a little before asking again.");
    case Outcome::no_channel:
      co_return say("This community has no " + *platform + " channel to send the code through.");
    case Outcome::sent: break;
  }

  std::vector<model::Action> whisper;
  whisper.push_back(model::WhisperAction{
      .user_id = "",
      .user_name = *username,
      .text = "Your WaddleBot code: " + code + ". " + request.user_display_name + " on " +
              request.platform + " (community " + request.community_name +
              ") asked to link this account. Type !verify " + code +
              " in the community's channel here within 10 minutes. If that was not you, ignore "
              "this."});
  std::exception_ptr failure;
  try {
    co_await env_.outbox->send(result.entity_id, std::move(whisper), std::string(kIdentityModule));
  } catch (const std::exception&) {
    failure = std::current_exception();
  }
  if (failure) {
    std::string reason;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      reason = e.what();
    }
    // A code nobody received must not stay guessable.
    auto retire = [id = result.code_id](pqxx::work& tx) {
      tx.exec_params("update verification_codes set expires_at = now() where id = $1", id);
    };
    co_await env_.pool.transaction(std::move(retire));
    co_return say("I could not send a code to " + *username + " on " + *platform + " (" +
                  trim_chat(reason, 120) + "). Try again later.");
  }
  co_return say("I sent a code to " + *username + " on " + *platform +
                "; type !verify CODE there.");
}

boost::asio::awaitable<Actions> Identity::verify(const ModuleRequest& request) {
  if (request.args.size() != 1) co_return say(std::string(kVerifyUsage));
  const auto code = parse_verification_code(request.args[0]);
  if (!code) co_return say(std::string(kVerifyUsage));
  if (!tracks_users(request)) co_return say("I cannot keep track of users on this platform.");

  enum class Outcome {
    none,
    used,
    expired,
    dead,
    wrong,
    killed,
    owned_elsewhere,
    already_other,
    linked
  };
  struct Result {
    Outcome outcome = Outcome::none;
    int tries_left = 0;
    std::string owner_name;      // the linked user's name on their requesting platform
    std::string owner_platform;  // that platform
    MergeReport merged;
    bool was_merged = false;
  };
  auto check = [&](pqxx::work& tx) {
    Result r;
    auto rows = tx.exec_params(
        "select id, user_id, code, attempts, expires_at > now(), verified_at is not null, "
        "coalesce(requested_platform, '') from verification_codes where platform = $1 and "
        "lower(platform_username) = lower($2) and created_at > now() - interval '1 day' order by "
        "created_at desc, id desc limit 20 for update",
        request.platform, request.user_name);
    std::optional<pqxx::row> match;
    std::vector<std::int64_t> live;
    for (pqxx::result::size_type i = 0; i < rows.size(); ++i) {
      const pqxx::row row = rows[i];
      const bool usable =
          row[4].as<bool>() && !row[5].as<bool>() && row[3].as<int>() < kMaxCodeAttempts;
      if (usable) live.push_back(row[0].as<std::int64_t>());
      if (!match && row[2].as<std::string>() == *code) match = row;
    }
    if (match) {
      const pqxx::row& row = *match;
      if (row[5].as<bool>()) {
        r.outcome = Outcome::used;
        return r;
      }
      if (row[3].as<int>() >= kMaxCodeAttempts) {
        r.outcome = Outcome::dead;
        return r;
      }
      if (!row[4].as<bool>()) {
        r.outcome = Outcome::expired;
        return r;
      }
    } else {
      if (live.empty()) {
        r.outcome = Outcome::none;
        return r;
      }
      // Every live code for this name counts the miss: guessing one guesses them all.
      int most = 0;
      for (const auto id : live) {
        most = std::max(most, tx.exec_params1("update verification_codes set attempts = attempts "
                                              "+ 1 where id = $1 returning attempts",
                                              id)[0]
                                  .as<int>());
      }
      r.tries_left = kMaxCodeAttempts - most;
      r.outcome = r.tries_left <= 0 ? Outcome::killed : Outcome::wrong;
      return r;
    }

    const auto code_id = (*match)[0].as<std::int64_t>();
    const auto owner = (*match)[1].as<std::int64_t>();
    r.owner_platform = (*match)[6].as<std::string>();
    // The requesting user may have linked another account on this platform meanwhile.
    auto other = tx.exec_params(
        "select 1 from platform_identities where user_id = $1 and platform = $2 and "
        "platform_user_id <> $3",
        owner, request.platform, request.user_id);
    if (!other.empty()) {
      r.outcome = Outcome::already_other;
      return r;
    }
    auto identity = tx.exec_params(
        "select id, user_id from platform_identities where platform = $1 and platform_user_id = "
        "$2 for update",
        request.platform, request.user_id);
    if (identity.empty()) {
      tx.exec_params(
          "insert into platform_identities (user_id, platform, platform_user_id, username, "
          "display_name, verified_at) values ($1, $2, $3, $4, $5, now())",
          owner, request.platform, request.user_id,
          request.user_name.empty() ? request.user_id : request.user_name,
          request.user_display_name);
    } else {
      const auto current = identity[0][1].as<std::int64_t>();
      if (current != owner) {
        // A user row with other accounts belongs to somebody's own links: it is not absorbed.
        const auto others = tx.exec_params1(
                                  "select count(*) from platform_identities where user_id = $1 "
                                  "and id <> $2",
                                  current, identity[0][0].as<std::int64_t>())[0]
                                .as<std::int64_t>();
        if (others > 0) {
          r.outcome = Outcome::owned_elsewhere;
          return r;
        }
        r.merged = merge_users(tx, current, owner);
        r.was_merged = true;
      }
      tx.exec_params(
          "update platform_identities set verified_at = now(), username = $2 where id = $1",
          identity[0][0].as<std::int64_t>(),
          request.user_name.empty() ? request.user_id : request.user_name);
    }
    tx.exec_params("update verification_codes set verified_at = now() where id = $1", code_id);
    // Other live codes for this name are moot now.
    tx.exec_params(
        "update verification_codes set expires_at = now() where platform = $1 and "
        "lower(platform_username) = lower($2) and verified_at is null and expires_at > now()",
        request.platform, request.user_name);
    auto name = tx.exec_params(
        "select coalesce((select username from platform_identities where user_id = $1 and "
        "platform = nullif($2, '') order by updated_at desc, id desc limit 1), display_name) "
        "from users where id = $1",
        owner, r.owner_platform);
    r.owner_name = name.empty() ? std::string() : name[0][0].as<std::string>();
    r.outcome = Outcome::linked;
    return r;
  };
  const Result result = co_await env_.pool.transaction(std::move(check));
  const std::string relink = "; ask for a new one with !identity link " + request.platform + " " +
                             trim_chat(request.user_name, 40) + " on your other platform.";
  switch (result.outcome) {
    case Outcome::none:
      co_return say("You have no code waiting on " + request.platform +
                    ". Ask for one with !identity link " + request.platform + " " +
                    trim_chat(request.user_name, 40) + " on your other platform.");
    case Outcome::used: co_return say("That code was used already" + relink);
    case Outcome::expired: co_return say("That code expired" + relink);
    case Outcome::dead:
      co_return say("That code is no longer valid after " + std::to_string(kMaxCodeAttempts) +
                    " wrong tries" + relink);
    case Outcome::killed:
      co_return say("Wrong code. That was the " + std::to_string(kMaxCodeAttempts) +
                    "th wrong try: your code is no longer valid" + relink);
    case Outcome::wrong:
      co_return say("Wrong code (" + std::to_string(result.tries_left) +
                    (result.tries_left == 1 ? " try" : " tries") + " left).");
    case Outcome::already_other:
      co_return say("That WaddleBot user has another " + request.platform +
                    " account linked already; !identity unlink " + request.platform +
                    " there first.");
    case Outcome::owned_elsewhere:
      co_return say("This " + request.platform +
                    " account is linked to another WaddleBot user with other accounts; unlink it "
                    "there first with !identity unlink " +
                    request.platform + ".");
    case Outcome::linked: break;
  }
  std::string text = "Linked: " + request.user_display_name + " on " + request.platform +
                     " is now the same WaddleBot user as " + result.owner_name +
                     (result.owner_platform.empty() ? "" : " on " + result.owner_platform) + ".";
  if (result.was_merged && result.merged.reputation_events > 0) {
    text += " Moved " + std::to_string(result.merged.reputation_events) + " reputation " +
            (result.merged.reputation_events == 1 ? "event" : "events") + " over.";
  }
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> Identity::show(const ModuleRequest& request) {
  if (request.args.size() > 1) co_return say(std::string(kUsage));
  if (!tracks_users(request)) co_return say("I cannot keep track of users on this platform.");
  auto read = [&](pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    std::vector<std::string> out;
    const auto user = find_caller(tx, request);
    if (!user) return out;
    for (const auto& row : tx.exec_params(
             "select platform, username, verified_at is not null, platform = $2 and "
             "platform_user_id = $3 from platform_identities where user_id = $1 order by "
             "platform, lower(username), id",
             *user, request.platform, request.user_id)) {
      std::string item = row[0].as<std::string>() + " " + row[1].as<std::string>();
      if (row[3].as<bool>()) {
        item += " (here)";
      } else if (row[2].as<bool>()) {
        item += " (verified)";
      }
      out.push_back(std::move(item));
    }
    return out;
  };
  const std::vector<std::string> accounts = co_await env_.pool.run(std::move(read));
  if (accounts.size() <= 1) {
    co_return say(request.user_display_name +
                  ", you have no linked accounts. Link one with !identity link <platform> "
                  "<username>.");
  }
  std::string text = request.user_display_name + "'s accounts:";
  for (std::size_t i = 0; i < accounts.size(); ++i) text += (i ? ", " : " ") + accounts[i];
  co_return say(std::move(text));
}

boost::asio::awaitable<Actions> Identity::unlink(const ModuleRequest& request) {
  if (request.args.size() != 2) co_return say(std::string(kUnlinkUsage));
  const auto platform = parse_platform(request.args[1]);
  if (!platform) co_return say(not_a_platform(request.args[1]) + " " + std::string(kUnlinkUsage));
  if (!tracks_users(request)) co_return say("I cannot keep track of users on this platform.");
  if (*platform == request.platform) {
    co_return say("You cannot unlink the account you are speaking from; say !identity unlink " +
                  *platform + " on one of your other platforms.");
  }
  auto detach = [&](pqxx::work& tx) {
    std::vector<std::string> names;
    const auto user = find_caller(tx, request);
    if (!user) return names;
    for (const auto& row : tx.exec_params(
             "select id, username, coalesce(display_name, username) from platform_identities "
             "where user_id = $1 and platform = $2 order by id for update",
             *user, *platform)) {
      // The account becomes a user of its own again; what was earned stays with the caller.
      const auto fresh = tx.exec_params1(
                               "insert into users (display_name, primary_platform) values ($1, "
                               "$2) returning id",
                               row[2].as<std::string>(), *platform)[0]
                             .as<std::int64_t>();
      tx.exec_params(
          "update platform_identities set user_id = $2, verified_at = null where id = $1",
          row[0].as<std::int64_t>(), fresh);
      names.push_back(row[1].as<std::string>());
    }
    tx.exec_params(
        "update verification_codes set expires_at = now() where user_id = $1 and platform = $2 "
        "and verified_at is null and expires_at > now()",
        *user, *platform);
    return names;
  };
  const std::vector<std::string> names = co_await env_.pool.transaction(std::move(detach));
  if (names.empty()) co_return say("You have no " + *platform + " account linked.");
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  co_return say(
      "Unlinked " + *platform + " " + list +
      ": it is a WaddleBot user of its own again (what it earned so far stays with you).");
}

}  // namespace waddle::actions
