// examples/ilert-sumo-relay/log.cpp: see log.hpp.
#include "log.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "ilert_sumo/events.hpp"

namespace relay {

std::string now_iso8601() {
  return ilert_sumo::format_iso8601_millis(
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
}

LineLog::LineLog(int fd, std::size_t max_buffer) : fd_(fd), max_buffer_(max_buffer) {
  buffer_.reserve(64 * 1024);
  thread_ = std::thread([this] { run(); });
}

LineLog::~LineLog() { stop(); }

void LineLog::write(std::string_view line) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || buffer_.size() + line.size() + 1 > max_buffer_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    buffer_.append(line.data(), line.size());
    buffer_.push_back('\n');
    wake = buffer_.size() >= 64 * 1024;
  }
  if (wake) cv_.notify_one();
}

void LineLog::info(std::string_view message) {
  std::string line = now_iso8601();
  line += " ilert-sumo-relay: ";
  line.append(message.data(), message.size());
  write(line);
}

void LineLog::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void LineLog::run() {
  std::string out;
  out.reserve(64 * 1024);
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stopping_ || buffer_.size() >= 64 * 1024; });
    out.clear();
    out.swap(buffer_);
    const bool last = stopping_;
    lock.unlock();
    if (!out.empty()) write_all(out);
    lock.lock();
    if (last && buffer_.empty()) return;
  }
}

void LineLog::write_all(const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stderr closed: nothing sensible to do
    }
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace relay
