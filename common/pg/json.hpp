#pragma once
// Query results as JSON, for HTTP answers that list rows.

#include <nlohmann/json.hpp>
#include <pqxx/result>

namespace waddle::pg {

// Rows as JSON objects keyed by column name: booleans, integers and json/jsonb keep their type,
// everything else is text, NULL is null.
nlohmann::json rows_json(const pqxx::result& rows);

}  // namespace waddle::pg
