// Reading a metrics scrape (Prometheus' text format) in tests.
#pragma once

#include <string>
#include <vector>

namespace dirproxy::testing {

// The lines of `text` that start with `prefix` (a metric's name, with "{"
// to take only its labelled series), in order.
inline std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.starts_with(prefix)) lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

}  // namespace dirproxy::testing
