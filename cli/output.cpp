#include "output.hpp"

#include <algorithm>
#include <ostream>

namespace waddle::cli {

std::size_t display_width(const std::string& s) {
  std::size_t width = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++width;  // count lead bytes only
  }
  return width;
}

Table::Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}

void Table::add(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths;
  for (const auto& c : columns_) widths.push_back(display_width(c));
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  auto print_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size()) line.append(widths[i] - display_width(cells[i]) + 2, ' ');
    }
    out << line << '\n';
  };
  std::vector<std::string> header;
  for (const auto& c : columns_) {
    std::string upper = c;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    header.push_back(upper);
  }
  print_line(header);
  for (const auto& row : rows_) print_line(row);
}

std::string cell(const nlohmann::json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_array()) {
    std::string joined;
    for (const auto& v : value) {
      if (!joined.empty()) joined += ',';
      joined += cell(v);
    }
    return joined.empty() ? "-" : joined;
  }
  return value.dump();
}

void print_rows(std::ostream& out, Format format, const nlohmann::json& rows,
                const std::vector<std::string>& columns, const std::string& id_key) {
  switch (format) {
    case Format::json: out << rows.dump(2) << '\n'; return;
    case Format::quiet:
      for (const auto& row : rows) out << cell(row.value(id_key, nlohmann::json())) << '\n';
      return;
    case Format::table: {
      Table table(columns);
      for (const auto& row : rows) {
        std::vector<std::string> cells;
        for (const auto& c : columns) cells.push_back(cell(row.value(c, nlohmann::json())));
        table.add(std::move(cells));
      }
      table.print(out);
      return;
    }
  }
}

void print_object(std::ostream& out, Format format, const nlohmann::json& object,
                  const std::string& id_key) {
  switch (format) {
    case Format::json: out << object.dump(2) << '\n'; return;
    case Format::quiet: out << cell(object.value(id_key, nlohmann::json())) << '\n'; return;
    case Format::table: {
      std::size_t width = 0;
      for (const auto& [k, v] : object.items()) width = std::max(width, k.size());
      for (const auto& [k, v] : object.items()) {
        out << k << ':' << std::string(width - k.size() + 1, ' ') << cell(v) << '\n';
      }
      return;
    }
  }
}

}  // namespace waddle::cli
