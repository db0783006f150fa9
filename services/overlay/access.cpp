#include "overlay/access.hpp"

#include <algorithm>
#include <sstream>

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include "crypto/hash.hpp"

namespace waddle::overlay {
namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string join_ids(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

}  // namespace

bool plausible_token(std::string_view token) noexcept {
  if (token.size() < 8 || token.size() > 128) return false;
  return std::all_of(token.begin(), token.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::vector<Source> sources_from_token(const std::vector<std::string>& names) {
  std::vector<Source> out;
  auto add = [&](Source s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const auto& name : names) {
    if (auto s = parse_source(name)) add(*s);
    if (name == "general") add(Source::form);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Source> sources_for_page(std::string_view page, const std::vector<Source>& allowed) {
  std::vector<Source> wanted;
  if (page == "all") {
    wanted.assign(std::begin(kAllSources), std::end(kAllSources));
  } else if (page == "general") {
    wanted = {Source::general, Source::form};
  } else if (page == "ticker" || page == "media") {
    wanted = {*parse_source(page)};
  }
  std::vector<Source> out;
  for (Source s : wanted) {
    if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) out.push_back(s);
  }
  return out;
}

boost::asio::awaitable<std::optional<TokenGrant>> AccessStore::find_token(std::string token) {
  if (!plausible_token(token)) co_return std::nullopt;
  const std::string digest = crypto::sha256_hex(token);
  auto query = [digest](pqxx::connection& c) -> std::optional<std::pair<TokenGrant, std::string>> {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(
        "select id, community_id, array_to_string(sources, ','), token_hash "
        "from overlay_tokens where token_hash = $1 and revoked_at is null "
        "and (expires_at is null or expires_at > now())",
        digest);
    if (r.empty()) return std::nullopt;
    TokenGrant grant;
    grant.token_id = r[0][0].as<std::int64_t>();
    grant.community_id = r[0][1].as<std::int64_t>();
    grant.sources = sources_from_token(split_commas(r[0][2].as<std::string>()));
    return std::make_pair(grant, r[0][3].as<std::string>());
  };
  auto found = co_await pool_.run(query, pg::Target::replica, {.retry_on_broken = true});
  // The index found it by digest; the digest is compared once more without an early exit.
  if (!found || !crypto::constant_time_equal(found->second, digest)) co_return std::nullopt;
  co_return found->first;
}

boost::asio::awaitable<void> AccessStore::touch_token(std::int64_t token_id) {
  auto update = [token_id](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params("update overlay_tokens set last_used_at = now() where id = $1", token_id);
  };
  try {
    co_await pool_.run(update);
  } catch (const std::exception& e) {
    spdlog::warn("overlay token {}: recording its use failed: {}", token_id, e.what());
  }
}

boost::asio::awaitable<std::set<std::int64_t>> AccessStore::inactive_tokens(
    std::vector<std::int64_t> token_ids) {
  std::set<std::int64_t> inactive(token_ids.begin(), token_ids.end());
  if (token_ids.empty()) co_return inactive;
  auto query = [ids = join_ids(token_ids)](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(
        "select id from overlay_tokens where id = any($1::bigint[]) and revoked_at is null "
        "and (expires_at is null or expires_at > now())",
        ids);
    std::vector<std::int64_t> active;
    for (const auto& row : r) active.push_back(row[0].as<std::int64_t>());
    return active;
  };
  auto active = co_await pool_.run(query, pg::Target::primary, {.retry_on_broken = true});
  for (auto id : active) inactive.erase(id);
  co_return inactive;
}

boost::asio::awaitable<bool> AccessStore::may_publish(std::string key, std::int64_t community_id) {
  if (key.empty() || key.size() > 256) co_return false;
  const std::string digest = crypto::sha256_hex(key);
  auto query = [digest, community_id](pqxx::connection& c) -> std::optional<std::string> {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(
        "select key_hash from api_keys where key_hash = $1 and revoked_at is null "
        "and (expires_at is null or expires_at > now()) "
        "and roles && array['module', 'admin']::text[] "
        "and (community_id is null or community_id = $2)",
        digest, community_id);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
  };
  auto found = co_await pool_.run(query, pg::Target::primary, {.retry_on_broken = true});
  co_return found&& crypto::constant_time_equal(*found, digest);
}

}  // namespace waddle::overlay
