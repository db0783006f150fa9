#include "pg/json.hpp"

#include <cstdint>

#include <pqxx/row>

namespace waddle::pg {
namespace {

// PostgreSQL's built-in type oids (pg_type.h).
constexpr pqxx::oid kBool = 16;
constexpr pqxx::oid kInt8 = 20;
constexpr pqxx::oid kInt2 = 21;
constexpr pqxx::oid kInt4 = 23;
constexpr pqxx::oid kJson = 114;
constexpr pqxx::oid kJsonb = 3802;

}  // namespace

nlohmann::json rows_json(const pqxx::result& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : rows) {
    nlohmann::json object = nlohmann::json::object();
    for (const auto& field : row) {
      if (field.is_null()) {
        object[field.name()] = nullptr;
        continue;
      }
      const auto type = field.type();
      if (type == kBool) {
        object[field.name()] = field.as<bool>();
      } else if (type == kInt8 || type == kInt2 || type == kInt4) {
        object[field.name()] = field.as<std::int64_t>();
      } else if (type == kJson || type == kJsonb) {
        object[field.name()] = nlohmann::json::parse(field.c_str(), nullptr, false);
      } else {
        object[field.name()] = field.c_str();
      }
    }
    out.push_back(std::move(object));
  }
  return out;
}

}  // namespace waddle::pg
