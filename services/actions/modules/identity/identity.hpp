#pragma once
// Identity linking (seeds 003): one WaddleBot user across platforms.
//   !identity link <platform> <username>  said on platform A: a 6-character code goes to
//                                         <username> on <platform> (B) as a whisper, sent
//                                         through one of the community's B channels
//   !verify <CODE>                        said on B by that username: links the B account to the
//                                         A user (merging the B user row the router made)
//   !identity                             the caller's linked accounts
//   !identity unlink <platform>           the account on <platform> becomes a user of its own
// Codes (verification_codes, migrations/0001 + 0015) are valid 10 minutes, used once, dead after
// 5 wrong tries; a user may ask for at most 3 codes per 10 minutes.

#include <cstdint>
#include <string>
#include <string_view>

#include <pqxx/pqxx>

#include "actions/module.hpp"

namespace waddle::actions {

inline constexpr std::string_view kIdentityModule = "identity";
// No 0/O, 1/I/L: a code read off a whisper is typed back without guessing.
inline constexpr std::string_view kCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
inline constexpr std::size_t kCodeLength = 6;
inline constexpr int kMaxCodeAttempts = 5;
inline constexpr int kMaxLinkRequests = 3;  // per user per 10 minutes

// kCodeLength characters of kCodeAlphabet from the crypto DRBG (rejection sampling, no bias).
std::string make_verification_code();

// `text` as a code (case-insensitive, upper-cased): nullopt unless it is kCodeLength characters
// A-Z0-9.
std::optional<std::string> parse_verification_code(std::string_view text);

// What a merge moved from the absorbed user row to the surviving one.
struct MergeReport {
  std::int64_t reputation_events = 0;
  std::int64_t memberships = 0;
  std::int64_t labels = 0;
  std::int64_t labels_dropped = 0;  // over the 5-per-user limit where the survivor had labels
  std::int64_t checkouts = 0;
};

// Moves everything of user `from` onto user `into`, inside `tx`: platform identities, the
// reputation ledger (copied as new rows with their original times, since the ledger refuses
// updates; totals follow through its trigger), community memberships (the higher role wins),
// label assignments (up to the limit), inventory checkouts and activity. `from` is then emptied
// and kept as a tombstone with users.merged_into = `into` (migrations/0015): the router may still
// credit it from its identity cache, and the ledger redirects such rows to `into`.
MergeReport merge_users(pqxx::transaction_base& tx, std::int64_t from, std::int64_t into);

class Identity final : public Module {
 public:
  explicit Identity(ModuleEnv env) : env_(std::move(env)) {}
  std::string_view name() const override { return kIdentityModule; }
  std::vector<CommandSpec> commands() const override;
  boost::asio::awaitable<std::vector<model::Action>> handle(const ModuleRequest& request) override;

 private:
  boost::asio::awaitable<std::vector<model::Action>> link(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> verify(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> show(const ModuleRequest& request);
  boost::asio::awaitable<std::vector<model::Action>> unlink(const ModuleRequest& request);

  ModuleEnv env_;
};

}  // namespace waddle::actions
