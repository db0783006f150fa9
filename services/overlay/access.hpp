#pragma once
// Who may look and who may publish: overlay tokens (the secret in the OBS URLs) and the API keys
// that feed actions in over HTTP. Both are stored as SHA-256 hex; the digest found by the index
// is compared again in constant time.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "overlay/state.hpp"
#include "pg/pool.hpp"

namespace waddle::overlay {

struct TokenGrant {
  std::int64_t token_id = 0;
  std::int64_t community_id = 0;
  std::vector<Source> sources;  // the overlay sources the token may show
};

// True when `token` has the shape `waddle overlay token create` prints (URL-safe base64, 8..128
// characters); anything else is refused without a database query.
bool plausible_token(std::string_view token) noexcept;

// The sources an overlay_tokens.sources list allows. "general" also allows "form": a form card is
// shown where general content is.
std::vector<Source> sources_from_token(const std::vector<std::string>& names);

// The sources a page asks for ("ticker", "media", "general", "all"), limited to what the token
// allows; empty when the page is unknown or shows nothing the token allows.
std::vector<Source> sources_for_page(std::string_view page, const std::vector<Source>& allowed);

class AccessStore {
 public:
  explicit AccessStore(pg::Pool& pool) : pool_(pool) {}

  // The grant of an active token (not revoked, not past expires_at, which a rotation sets to the
  // end of the grace period); nullopt for anything else, never saying why.
  boost::asio::awaitable<std::optional<TokenGrant>> find_token(std::string token);

  // Records that the token was used (last_used_at); failures are only logged.
  boost::asio::awaitable<void> touch_token(std::int64_t token_id);

  // Of `token_ids`, the ones that are no longer active.
  boost::asio::awaitable<std::set<std::int64_t>> inactive_tokens(
      std::vector<std::int64_t> token_ids);

  // True when `key` is an active API key with the role module or admin that may act for
  // `community_id` (keys bound to another community may not).
  boost::asio::awaitable<bool> may_publish(std::string key, std::int64_t community_id);

 private:
  pg::Pool& pool_;
};

}  // namespace waddle::overlay
