// What one component's logger writes while a CapturedLog lives, for tests
// that assert on a log line.
#pragma once

#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>

#include "core/logging.hpp"

namespace dirproxy::testing {

class CapturedLog {
 public:
  explicit CapturedLog(std::string component) : component_(std::move(component)) {
    logging::logger(component_)->sinks().push_back(sink_);
  }
  ~CapturedLog() {
    auto& sinks = logging::logger(component_)->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::string text() const {
    sink_->flush();
    return stream_.str();
  }

 private:
  std::string component_;
  std::ostringstream stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
};

}  // namespace dirproxy::testing
