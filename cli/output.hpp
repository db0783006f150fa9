#pragma once
// How every `waddle` command prints: aligned tables for people, `--json` for scripts (a stable
// shape: an array of objects for lists, one object for show/add), `-q` for ids only.

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace waddle::cli {

enum class Format { table, json, quiet };

class Table {
 public:
  explicit Table(std::vector<std::string> columns);
  // Adds a row; cells beyond the columns are ignored, missing ones are empty.
  void add(std::vector<std::string> cells);
  std::size_t size() const { return rows_.size(); }
  // Prints the header and rows with columns padded to their widest cell (UTF-8 aware).
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of a UTF-8 string (code points; control bytes count as one).
std::size_t display_width(const std::string& s);

// A JSON value as one table cell: strings bare, null as "-", arrays joined with ",".
std::string cell(const nlohmann::json& value);

// Prints `rows` (an array of objects) in `format`: a table of `columns` (keys of each object),
// the JSON array itself, or the `id_key` of each row one per line.
void print_rows(std::ostream& out, Format format, const nlohmann::json& rows,
                const std::vector<std::string>& columns, const std::string& id_key = "id");

// Prints one object: "key: value" lines, the JSON object, or its `id_key`.
void print_object(std::ostream& out, Format format, const nlohmann::json& object,
                  const std::string& id_key = "id");

}  // namespace waddle::cli
