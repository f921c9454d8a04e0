// The log lines an actor writes during a test: the default spdlog logger is
// replaced by one that keeps each line's text, until the capture ends.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace netpol::test {

/// Keeps every line's text (its message, without time or level).
class line_sink : public spdlog::sinks::base_sink<std::mutex> {
public:
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> guard{mutex_};
    return std::exchange(lines_, {});
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }

  void flush_() override {
  }

private:
  std::vector<std::string> lines_;
};

class log_capture {
public:
  log_capture()
    : previous_(spdlog::default_logger()),
      sink_(std::make_shared<line_sink>()) {
    auto logger = std::make_shared<spdlog::logger>("captured", sink_);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(std::move(logger));
  }

  ~log_capture() {
    spdlog::set_default_logger(previous_);
  }

  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  /// The lines logged since the last call that start with `prefix`; every
  /// line is taken, so the next call sees only what came after.
  std::vector<std::string> take(const std::string& prefix) {
    std::vector<std::string> result;
    for (auto& line : sink_->take())
      if (line.rfind(prefix, 0) == 0)
        result.push_back(std::move(line));
    return result;
  }

private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<line_sink> sink_;
};

} // namespace netpol::test
