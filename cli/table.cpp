// Aligned text tables for listings.
#include "cli/context.hpp"

#include <algorithm>
#include <cctype>
#include <ostream>

namespace dcos::cli {

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {
  for (auto& h : headers_) std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::toupper(c); });
}

void Table::add(std::vector<std::string> row) {
  row.resize(headers_.size());
  rows_.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  };
  measure(headers_);
  for (const auto& row : rows_) measure(row);
  auto printRow = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    // Empty cells at the end of a row would leave padding behind.
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  printRow(headers_);
  for (const auto& row : rows_) printRow(row);
}

}  // namespace dcos::cli
