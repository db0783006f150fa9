#include "actions/modules/reputation/reputation.hpp"

#include <pqxx/pqxx>

#include "actions/modules/platform_users/platform_users.hpp"
#include "actions/text.hpp"
#include "pg/pool.hpp"

namespace waddle::actions {
namespace {

using Actions = std::vector<model::Action>;

constexpr std::string_view kRepUsage = "Usage: !rep [@user] | !rep give @user <points> [reason]";
constexpr std::string_view kGiveUsage =
    "Usage: !rep give @user <points> [reason] (points from -100000 to 100000, not 0)";
constexpr std::string_view kTopUsage = "Usage: !top [n] (n from 1 to 10)";

struct Standing {
  std::int64_t points = 0;
  std::int64_t rank = 0;  // 0: no totals row yet
  std::int64_t ranked = 0;
};

// The user's points and competition rank among everyone with totals in the community.
Standing standing(pqxx::transaction_base& tx, std::int64_t community_id, std::int64_t user_id) {
  Standing s;
  auto rows = tx.exec_params(
      "select t.points, (select count(*) from reputation_totals o where o.community_id = "
      "t.community_id and o.points > t.points) + 1, (select count(*) from reputation_totals o "
      "where o.community_id = t.community_id) from reputation_totals t where t.community_id = $1 "
      "and t.user_id = $2",
      community_id, user_id);
  if (rows.empty()) return s;
  s.points = rows[0][0].as<std::int64_t>();
  s.rank = rows[0][1].as<std::int64_t>();
  s.ranked = rows[0][2].as<std::int64_t>();
  return s;
}

std::string describe(const std::string& name, const Standing& s) {
  std::string text = name + " has " + std::to_string(s.points) + " reputation";
  if (s.rank == 0) return text + " (not ranked yet).";
  return text + " (rank " + std::to_string(s.rank) + " of " + std::to_string(s.ranked) + ").";
}

}  // namespace

std::optional<int> parse_points(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 6) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value == 0 || value > kMaxGivePoints) return std::nullopt;
  return negative ? -value : value;
}

std::vector<CommandSpec> Reputation::commands() const {
  return {{"rep", "reputation: !rep [@user] | !rep give @user <points> [reason]"},
          {"top", "the reputation leaderboard: !top [n]"}};
}

boost::asio::awaitable<Actions> Reputation::handle(const ModuleRequest& request) {
  if (request.trigger != "command") co_return Actions{};
  if (request.command == "top") co_return co_await top(request);
  if (request.command != "rep") co_return Actions{};
  if (!request.args.empty() && lower_ascii(request.args[0]) == "give") {
    co_return co_await give(request);
  }
  co_return co_await show(request);
}

boost::asio::awaitable<Actions> Reputation::show(const ModuleRequest& request) {
  std::string mention;
  if (!request.args.empty()) {
    auto parsed = request.args.size() == 1 ? parse_mention(request.args[0], true) : std::nullopt;
    if (!parsed) co_return say(std::string(kRepUsage));
    mention = *parsed;
  }
  struct Found {
    Person person;
    Standing standing;
  };
  Found found = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        Found f;
        f.person = find_person(tx, request, mention, false);
        if (f.person.id != 0) f.standing = standing(tx, request.community_id, f.person.id);
        return f;
      },
      pg::Target::replica);
  if (found.person.id == 0 && !found.person.is_caller) {
    co_return say(unknown_person(request, found.person.name));
  }
  co_return say(describe(found.person.name, found.standing));
}

boost::asio::awaitable<Actions> Reputation::give(const ModuleRequest& request) {
  if (request.role() < Role::moderator) {
    co_return say(role_refusal(request, Role::moderator, "give reputation"));
  }
  const auto mention =
      request.args.size() >= 2 ? parse_mention(request.args[1], true) : std::nullopt;
  const auto points = request.args.size() >= 3 ? parse_points(request.args[2]) : std::nullopt;
  if (!mention || !points) co_return say(std::string(kGiveUsage));
  const std::string reason(skip_words(request.raw_args, 3));
  if (const std::size_t length = utf8_length(reason); length > kMaxReasonCharacters) {
    co_return say("That reason is too long (" + std::to_string(length) + " characters; at most " +
                  std::to_string(kMaxReasonCharacters) + ").");
  }
  if (!tracks_users(request)) co_return say(unknown_person(request, *mention));
  struct Result {
    Person person;
    Standing standing;
  };
  Result result = co_await env_.pool.transaction([&](pqxx::work& tx) {
    Result r;
    r.person = find_person(tx, request, *mention, false);
    if (r.person.id == 0 || r.person.is_caller) return r;
    // The ledger has no column for who corrected it: the reason says so.
    std::string ledger_reason = "by " + request.user_display_name;
    if (!reason.empty()) ledger_reason += ": " + reason;
    tx.exec_params(
        "insert into reputation_events (community_id, user_id, event_type, points, reason) values "
        "($1, $2, 'manual', $3, $4)",
        request.community_id, r.person.id, *points, ledger_reason);
    r.standing = standing(tx, request.community_id, r.person.id);
    return r;
  });
  if (result.person.is_caller) co_return say("You cannot give reputation to yourself.");
  if (result.person.id == 0) co_return say(unknown_person(request, result.person.name));
  const std::string now = " (now " + std::to_string(result.standing.points) + ", rank " +
                          std::to_string(result.standing.rank) + ").";
  if (*points > 0) {
    co_return say("Gave " + result.person.name + " " + std::to_string(*points) + " reputation" +
                  now);
  }
  co_return say("Took " + std::to_string(-*points) + " reputation from " + result.person.name +
                now);
}

boost::asio::awaitable<Actions> Reputation::top(const ModuleRequest& request) {
  int count = kDefaultTopCount;
  if (!request.args.empty()) {
    count = request.args.size() == 1 ? parse_positive(request.args[0]) : 0;
    if (count <= 0) co_return say(std::string(kTopUsage));
    count = std::min(count, kMaxTopCount);
  }
  const std::vector<std::string> entries = co_await env_.pool.run(
      [&](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);
        std::vector<std::string> out;
        for (const auto& row : tx.exec_params(
                 "select rank() over (order by t.points desc), " +
                     user_name_sql("t.user_id", "$3") +
                     ", t.points from reputation_totals t where t.community_id = $1 order by "
                     "t.points desc, t.user_id limit $2",
                 request.community_id, count, request.platform)) {
          out.push_back(row[0].as<std::string>() + ". " + row[1].as<std::string>() + " " +
                        row[2].as<std::string>());
        }
        return out;
      },
      pg::Target::replica);
  if (entries.empty()) co_return say("Nobody has reputation here yet.");
  std::string text = "Top " + std::to_string(entries.size()) + ":";
  for (std::size_t i = 0; i < entries.size(); ++i) text += (i == 0 ? " " : ", ") + entries[i];
  co_return say(std::move(text));
}

}  // namespace waddle::actions
