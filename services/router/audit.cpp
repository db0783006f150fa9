#include "router/audit.hpp"

#include <algorithm>
#include <ctime>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pqxx/pqxx>

#include "error/error.hpp"

namespace waddle::router {
namespace {

using namespace std::chrono_literals;

nlohmann::json text_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

// One statement per chunk of `size` rows: jsonb_to_recordset turns the array into rows.
void exec_chunks(pqxx::work& tx, const std::string& sql, const nlohmann::json& rows,
                 std::size_t size) {
  for (std::size_t start = 0; start < rows.size(); start += size) {
    nlohmann::json chunk = nlohmann::json::array();
    for (std::size_t i = start; i < std::min(rows.size(), start + size); ++i) {
      chunk.push_back(rows[i]);
    }
    tx.exec_params(sql, chunk.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

const char* kInsertExecutions = R"sql(
insert into command_executions
  (execution_id, session_id, community_id, command_id, entity_id, trigger, user_id, user_name,
   message_content, parameters, location_url, response_status, response_data, execution_time_ms,
   error_message, status, created_at, completed_at)
select x.execution_id, x.session_id, x.community_id, c.id, x.entity_id, x.trigger, x.user_id,
       x.user_name, x.message_content, coalesce(x.parameters, '[]'), x.location_url,
       x.response_status, x.response_data, x.execution_time_ms, x.error_message, x.status,
       x.created_at, x.completed_at
  from jsonb_to_recordset($1::jsonb) as x(execution_id text, session_id text, community_id bigint,
         command_id bigint, entity_id text, trigger text, user_id text, user_name text,
         message_content text, parameters jsonb, location_url text, response_status integer,
         response_data jsonb, execution_time_ms integer, error_message text, status text,
         created_at timestamptz, completed_at timestamptz)
  left join commands c on c.id = x.command_id
 where exists (select 1 from communities m where m.id = x.community_id)
on conflict (execution_id) do nothing
)sql";

const char* kInsertResponses = R"sql(
insert into module_responses
  (execution_id, community_id, session_id, module_name, success, response_action, response_data,
   media_type, media_url, ticker_text, ticker_duration, chat_message, error_message,
   processing_time_ms, created_at)
select x.execution_id, x.community_id, x.session_id, x.module_name, x.success, x.response_data->>'type',
       x.response_data, x.response_data->>'media_type', nullif(x.response_data->>'media_url', ''),
       case when x.response_data->>'type' = 'ticker' then x.response_data->>'text' end,
       case when x.response_data->>'type' = 'ticker'
            then nullif((x.response_data->>'duration')::integer, 0) end,
       case when x.response_data->>'type' = 'chat' then x.response_data->>'text' end,
       x.error_message, x.processing_time_ms, x.created_at
  from jsonb_to_recordset($1::jsonb) as x(execution_id text, community_id bigint, session_id text,
         module_name text, success boolean, response_data jsonb, error_message text,
         processing_time_ms integer, created_at timestamptz)
 where exists (select 1 from command_executions e where e.execution_id = x.execution_id)
)sql";

const char* kUpdateExecutions = R"sql(
update command_executions e
   set status = x.status, response_status = coalesce(x.response_status, e.response_status),
       error_message = coalesce(x.error_message, e.error_message), completed_at = x.completed_at
  from jsonb_to_recordset($1::jsonb) as x(execution_id text, status text, response_status integer,
         error_message text, completed_at timestamptz)
 where e.execution_id = x.execution_id
)sql";

const char* kUpdateRules = R"sql(
update string_rules s
   set match_count = s.match_count + x.n,
       last_matched = greatest(coalesce(s.last_matched, x.at), x.at)
  from jsonb_to_recordset($1::jsonb) as x(id bigint, n bigint, at timestamptz)
 where s.id = x.id
)sql";

const char* kInsertReputation = R"sql(
insert into reputation_events (community_id, user_id, event_type, points, reason)
select x.community_id, x.user_id, x.event_type, x.points, x.reason
  from jsonb_to_recordset($1::jsonb) as x(community_id bigint, user_id bigint, event_type text,
         points integer, reason text)
 where exists (select 1 from communities c where c.id = x.community_id)
)sql";

const char* kAddChatLines = R"sql(
insert into entity_activity (entity_id, chat_lines, last_chat_at)
select x.entity_id, x.n, x.at
  from jsonb_to_recordset($1::jsonb) as x(entity_id text, n bigint, at timestamptz)
on conflict (entity_id) do update
   set chat_lines = entity_activity.chat_lines + excluded.chat_lines,
       last_chat_at = greatest(entity_activity.last_chat_at, excluded.last_chat_at)
)sql";

std::string identity_key(const std::string& platform, const std::string& user_id) {
  return platform + '\x1f' + user_id;
}

// users.id of a platform identity, created (user + identity) when it is new.
std::int64_t resolve_user(pqxx::work& tx, const ReputationCredit& c) {
  auto found = tx.exec_params(
      "select user_id from platform_identities where platform = $1 and platform_user_id = $2",
      c.platform, c.user_id);
  if (!found.empty()) return found[0][0].as<std::int64_t>();
  const std::string& name = c.user_name.empty() ? c.user_id : c.user_name;
  const std::string& display = c.display_name.empty() ? name : c.display_name;
  auto user = tx.exec_params1(
      "insert into users (display_name, primary_platform) values ($1, $2) returning id", display,
      c.platform);
  const auto user_id = user[0].as<std::int64_t>();
  auto identity = tx.exec_params(
      "insert into platform_identities (user_id, platform, platform_user_id, username, "
      "display_name) values ($1, $2, $3, $4, $5) on conflict (platform, platform_user_id) do "
      "nothing returning user_id",
      user_id, c.platform, c.user_id, name, display);
  if (!identity.empty()) return user_id;
  // Another router created it meanwhile: use theirs and drop our empty user.
  tx.exec_params("delete from users where id = $1", user_id);
  return tx
      .exec_params1(
          "select user_id from platform_identities where platform = $1 and platform_user_id = $2",
          c.platform, c.user_id)[0]
      .as<std::int64_t>();
}

}  // namespace

struct AuditWriter::Batch {
  std::vector<ExecutionRow> executions;
  std::vector<ResponseRow> responses;
  std::vector<ExecutionUpdate> updates;
  std::map<std::int64_t, std::pair<std::int64_t, std::string>> rule_matches;
  std::vector<std::pair<ReputationCredit, std::int64_t>> credits;
  std::map<std::string, std::pair<std::int64_t, std::chrono::system_clock::time_point>, std::less<>>
      chat_lines;
  std::size_t rows() const {
    return executions.size() + responses.size() + updates.size() + rule_matches.size() +
           credits.size() + chat_lines.size();
  }
};

AuditWriter::AuditWriter(pg::Pool& pool, boost::asio::any_io_executor executor,
                         AuditOptions options)
    : pool_(pool), executor_(std::move(executor)), options_(options) {}

AuditWriter::~AuditWriter() {
  if (timer_) timer_->cancel();
}

std::string AuditWriter::now_text() {
  return time_text(std::chrono::system_clock::now());
}

std::string AuditWriter::time_text(std::chrono::system_clock::time_point now) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buffer;
}

void AuditWriter::start() {
  std::lock_guard lock(mutex_);
  if (timer_) return;
  timer_ = std::make_shared<boost::asio::steady_timer>(executor_);
  boost::asio::co_spawn(executor_, loop(timer_), boost::asio::detached);
}

boost::asio::awaitable<void> AuditWriter::loop(std::shared_ptr<boost::asio::steady_timer> timer) {
  for (;;) {
    timer->expires_after(options_.flush_interval);
    boost::system::error_code ec;
    co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    {
      std::lock_guard lock(mutex_);
      if (stopped_) co_return;
    }
    const bool reputation_due =
        std::chrono::steady_clock::now() - last_reputation_flush_ >= options_.reputation_interval;
    bool ok = co_await flush(reputation_due);
    if (!ok) {
      // PostgreSQL is away: do not hammer it every 50 ms.
      timer->expires_after(std::max<std::chrono::milliseconds>(options_.flush_interval, 500ms));
      co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
  }
}

boost::asio::awaitable<void> AuditWriter::stop(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    if (timer_) timer_->cancel();
  }
  boost::asio::steady_timer wait(executor_);
  while (std::chrono::steady_clock::now() < deadline) {
    if (co_await flush(true)) break;
    wait.expires_after(200ms);
    co_await wait.async_wait(boost::asio::use_awaitable);
  }
  std::lock_guard lock(mutex_);
  if (pending_locked() > 0) {
    spdlog::error("audit: {} rows could not be written before shutdown", pending_locked());
  }
}

std::size_t AuditWriter::pending_locked() const {
  return executions_.size() + responses_.size() + updates_.size() + rule_matches_.size() +
         credits_.size() + chat_lines_.size();
}

void AuditWriter::trim_locked() {
  // Oldest first, in the order that loses the least: status updates and answers before the
  // executions they belong to. Reputation and rule counters are aggregated and stay small.
  auto drop_front = [&](auto& rows) {
    while (pending_locked() > options_.buffer_limit && !rows.empty()) {
      const std::size_t n = std::min(rows.size(), pending_locked() - options_.buffer_limit);
      rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n));
      stats_.dropped += n;
    }
  };
  if (pending_locked() <= options_.buffer_limit) return;
  drop_front(updates_);
  drop_front(responses_);
  drop_front(executions_);
}

void AuditWriter::add(ExecutionRow row) {
  std::lock_guard lock(mutex_);
  executions_.push_back(std::move(row));
  ++stats_.queued;
  trim_locked();
}

void AuditWriter::add(ResponseRow row) {
  std::lock_guard lock(mutex_);
  responses_.push_back(std::move(row));
  ++stats_.queued;
  trim_locked();
}

void AuditWriter::add(ExecutionUpdate update) {
  std::lock_guard lock(mutex_);
  updates_.push_back(std::move(update));
  ++stats_.queued;
  trim_locked();
}

void AuditWriter::add(const ReputationCredit& credit) {
  if (credit.user_id.empty() || credit.points == 0) return;
  std::lock_guard lock(mutex_);
  auto key =
      std::make_tuple(credit.community_id, credit.platform, credit.user_id, credit.event_type);
  auto [it, inserted] = credits_.try_emplace(key, credit, 0);
  if (!inserted) it->second.first.points += credit.points;
  ++it->second.second;
  ++stats_.reputation_credits;
}

void AuditWriter::count_rule_match(std::int64_t rule_id) {
  std::lock_guard lock(mutex_);
  auto& entry = rule_matches_[rule_id];
  ++entry.first;
  entry.second = now_text();
}

void AuditWriter::forget_users() {
  std::lock_guard lock(mutex_);
  user_ids_.clear();
}

void AuditWriter::count_chat(const std::string& entity_id) {
  const auto now = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  auto it = chat_lines_.find(entity_id);
  if (it == chat_lines_.end()) it = chat_lines_.try_emplace(entity_id, 0, now).first;
  ++it->second.first;
  it->second.second = now;
}

void AuditWriter::requeue(Batch batch, const std::string& error) {
  std::lock_guard lock(mutex_);
  ++stats_.failures;
  stats_.last_error = error;
  // Back in front of whatever arrived meanwhile, so rows keep their order.
  batch.executions.insert(batch.executions.end(), std::make_move_iterator(executions_.begin()),
                          std::make_move_iterator(executions_.end()));
  executions_ = std::move(batch.executions);
  batch.responses.insert(batch.responses.end(), std::make_move_iterator(responses_.begin()),
                         std::make_move_iterator(responses_.end()));
  responses_ = std::move(batch.responses);
  batch.updates.insert(batch.updates.end(), std::make_move_iterator(updates_.begin()),
                       std::make_move_iterator(updates_.end()));
  updates_ = std::move(batch.updates);
  for (auto& [id, entry] : batch.rule_matches) {
    auto& mine = rule_matches_[id];
    mine.first += entry.first;
    if (mine.second.empty()) mine.second = entry.second;
  }
  for (auto& [entity, entry] : batch.chat_lines) {
    auto [it, inserted] = chat_lines_.try_emplace(entity, entry);
    if (!inserted) {
      it->second.first += entry.first;
      it->second.second = std::max(it->second.second, entry.second);
    }
  }
  for (auto& [credit, count] : batch.credits) {
    auto key =
        std::make_tuple(credit.community_id, credit.platform, credit.user_id, credit.event_type);
    auto [it, inserted] = credits_.try_emplace(key, credit, count);
    if (!inserted) {
      it->second.first.points += credit.points;
      it->second.second += count;
    }
  }
  trim_locked();
}

boost::asio::awaitable<bool> AuditWriter::flush(bool include_reputation) {
  // One writer at a time; a second caller waits for the first and then writes what is left.
  boost::asio::steady_timer wait(executor_);
  while (flushing_.exchange(true)) {
    wait.expires_after(2ms);
    co_await wait.async_wait(boost::asio::use_awaitable);
  }
  struct Release {
    std::atomic<bool>& flag;
    ~Release() { flag = false; }
  } release{flushing_};

  Batch batch;
  std::unordered_map<std::string, std::int64_t> known_users;
  {
    std::lock_guard lock(mutex_);
    batch.executions.swap(executions_);
    batch.responses.swap(responses_);
    batch.updates.swap(updates_);
    batch.rule_matches.swap(rule_matches_);
    if (include_reputation) {
      for (auto& [key, value] : credits_) batch.credits.push_back(std::move(value));
      credits_.clear();
      batch.chat_lines.swap(chat_lines_);
      last_reputation_flush_ = std::chrono::steady_clock::now();
      known_users = user_ids_;
    }
  }
  if (batch.rows() == 0) co_return true;

  nlohmann::json executions = nlohmann::json::array();
  for (const ExecutionRow& r : batch.executions) {
    executions.push_back({{"execution_id", r.execution_id},
                          {"session_id", text_or_null(r.session_id)},
                          {"community_id", r.community_id},
                          {"command_id", r.command_id ? nlohmann::json(r.command_id) : nullptr},
                          {"entity_id", r.entity_id},
                          {"trigger", r.trigger},
                          {"user_id", text_or_null(r.user_id)},
                          {"user_name", text_or_null(r.user_name)},
                          {"message_content", r.message},
                          {"parameters", r.parameters},
                          {"location_url", text_or_null(r.location_url)},
                          {"response_status", r.response_status ? nlohmann::json(r.response_status)
                                                                : nlohmann::json(nullptr)},
                          {"response_data", r.response_data},
                          {"execution_time_ms", r.execution_time_ms},
                          {"error_message", text_or_null(r.error)},
                          {"status", r.status},
                          {"created_at", r.created_at},
                          {"completed_at", text_or_null(r.completed_at)}});
  }
  nlohmann::json responses = nlohmann::json::array();
  for (const ResponseRow& r : batch.responses) {
    responses.push_back({{"execution_id", r.execution_id},
                         {"community_id", r.community_id},
                         {"session_id", text_or_null(r.session_id)},
                         {"module_name", r.module_name},
                         {"success", r.success},
                         {"response_data", r.action},
                         {"error_message", text_or_null(r.error)},
                         {"processing_time_ms", r.processing_time_ms},
                         {"created_at", r.created_at}});
  }
  nlohmann::json updates = nlohmann::json::array();
  for (const ExecutionUpdate& u : batch.updates) {
    updates.push_back({{"execution_id", u.execution_id},
                       {"status", u.status},
                       {"response_status", u.response_status ? nlohmann::json(u.response_status)
                                                             : nlohmann::json(nullptr)},
                       {"error_message", text_or_null(u.error)},
                       {"completed_at", u.completed_at}});
  }
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& [id, entry] : batch.rule_matches) {
    rules.push_back({{"id", id}, {"n", entry.first}, {"at", entry.second}});
  }
  nlohmann::json chat_lines = nlohmann::json::array();
  for (const auto& [entity, entry] : batch.chat_lines) {
    chat_lines.push_back(
        {{"entity_id", entity}, {"n", entry.first}, {"at", time_text(entry.second)}});
  }
  const std::size_t chunk = options_.batch_size;
  const auto credits = batch.credits;
  try {
    // Named: g++ 12 destroys a capturing lambda temporary in a co_await twice.
    auto job = [&, credits, known_users](pqxx::work& tx) mutable {
      exec_chunks(tx, kInsertExecutions, executions, chunk);
      exec_chunks(tx, kUpdateExecutions, updates, chunk);
      exec_chunks(tx, kInsertResponses, responses, chunk);
      exec_chunks(tx, kUpdateRules, rules, chunk);
      exec_chunks(tx, kAddChatLines, chat_lines, chunk);
      std::unordered_map<std::string, std::int64_t> resolved;
      nlohmann::json ledger = nlohmann::json::array();
      for (const auto& [credit, count] : credits) {
        const std::string key = identity_key(credit.platform, credit.user_id);
        std::int64_t user_id = 0;
        if (auto it = known_users.find(key); it != known_users.end()) {
          user_id = it->second;
        } else if (auto r = resolved.find(key); r != resolved.end()) {
          user_id = r->second;
        } else {
          user_id = resolve_user(tx, credit);
          resolved[key] = user_id;
        }
        const std::int64_t points =
            std::clamp<std::int64_t>(credit.points, -2000000000, 2000000000);
        ledger.push_back({{"community_id", credit.community_id},
                          {"user_id", user_id},
                          {"event_type", credit.event_type},
                          {"points", points},
                          {"reason", std::to_string(count) + " × " + credit.event_type}});
      }
      exec_chunks(tx, kInsertReputation, ledger, chunk);
      return resolved;
    };
    auto new_users = co_await pool_.transaction(std::move(job));
    std::lock_guard lock(mutex_);
    for (auto& [key, id] : new_users) user_ids_[key] = id;
    ++stats_.flushes;
    stats_.written += batch.executions.size() + batch.responses.size() + batch.updates.size();
    stats_.reputation_rows += batch.credits.size();
    stats_.last_error.clear();
    co_return true;
  } catch (const Error& e) {
    if (e.code() == Errc::unavailable || e.code() == Errc::timeout) {
      spdlog::warn("audit: writing {} rows failed, kept for the next attempt: {}", batch.rows(),
                   e.what());
      requeue(std::move(batch), e.what());
      co_return false;
    }
    drop(batch, e.what());
  } catch (const std::exception& e) {
    // The database refused the data itself: retrying the same rows would block every later batch.
    drop(batch, e.what());
  }
  co_return false;
}

void AuditWriter::drop(const Batch& batch, const std::string& error) {
  spdlog::error("audit: PostgreSQL refused a batch of {} rows, dropped: {}", batch.rows(), error);
  std::lock_guard lock(mutex_);
  ++stats_.failures;
  stats_.dropped += batch.rows();
  stats_.last_error = error;
}

AuditWriter::Stats AuditWriter::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.pending = pending_locked();
  return s;
}

}  // namespace waddle::router
