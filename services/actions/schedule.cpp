#include "actions/schedule.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace waddle::actions {
namespace {

std::string rfc3339(SystemTime t) {
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(t);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - seconds).count();
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06}Z", seconds, micros);
}

}  // namespace

std::int64_t schedule_item(pqxx::work& tx, const NewScheduledItem& item) {
  const std::string actions = model::to_json(item.actions).dump();
  pqxx::row row = tx.exec_params1(
      "insert into scheduled_messages (community_id, entity_id, module_name, kind, ref_id, due_at, "
      "actions, created_by_id, created_by_name) "
      "values ($1, $2, $3, $4, $5, $6::timestamptz, $7::jsonb, nullif($8, ''), nullif($9, '')) "
      "returning id",
      item.community_id, item.entity_id, item.module_name, item.kind, item.ref_id,
      rfc3339(item.due_at), actions, item.created_by_id, item.created_by_name);
  return row[0].as<std::int64_t>();
}

std::size_t cancel_scheduled(pqxx::work& tx, std::string_view module_name, std::string_view kind,
                             std::int64_t ref_id) {
  pqxx::result r = tx.exec_params(
      "update scheduled_messages set state = 'cancelled', finished_at = now(), "
      "claimed_by = null, claimed_until = null "
      "where module_name = $1 and kind = $2 and ref_id = $3 and state = 'pending'",
      std::string(module_name), std::string(kind), ref_id);
  return static_cast<std::size_t>(r.affected_rows());
}

}  // namespace waddle::actions
