#pragma once
// Reading what the CLI prints, for the CLI tests: line counts and aligned tables.
#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace dcos::test {

inline int lineCount(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// An aligned table as rows of {header: cell}. Cells are cut at the columns' header offsets, so a
// cell with spaces (CMD, DESCRIPTION) stays whole.
inline std::vector<std::map<std::string, std::string>> parseTable(const std::string& text) {
  std::istringstream in(text);
  std::string header;
  std::getline(in, header);
  std::vector<std::pair<std::string, size_t>> columns;
  for (size_t i = 0; i < header.size();) {
    size_t end = header.find("  ", i);
    if (end == std::string::npos) end = header.size();
    columns.push_back({header.substr(i, end - i), i});
    i = header.find_first_not_of(' ', end);
    if (i == std::string::npos) break;
  }
  std::vector<std::map<std::string, std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < columns.size(); ++c) {
      size_t from = columns[c].second;
      size_t to = c + 1 < columns.size() ? columns[c + 1].second : line.size();
      std::string cell = from < line.size() ? line.substr(from, to - from) : "";
      while (!cell.empty() && cell.back() == ' ') cell.pop_back();
      row[columns[c].first] = cell;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace dcos::test
