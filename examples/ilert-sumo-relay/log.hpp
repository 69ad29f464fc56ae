// examples/ilert-sumo-relay/log.hpp: a buffered, non-blocking line logger for stderr.
//
// Request threads append a formatted line to an in-memory buffer (a mutex held for a memcpy);
// a background thread writes the buffer to the file descriptor every few milliseconds. The
// request path therefore never waits on a slow terminal or pipe. The buffer is bounded: lines
// beyond it are dropped and counted (ilert_sumo_relay_log_lines_dropped_total), never queued
// without limit. stop() writes what is left. Callers must never pass a secret.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace relay {

class LineLog {
 public:
  /// Writes to `fd` (2 = stderr); holds at most `max_buffer` unwritten bytes.
  explicit LineLog(int fd = 2, std::size_t max_buffer = 8 * 1024 * 1024);
  ~LineLog();
  LineLog(const LineLog&) = delete;
  LineLog& operator=(const LineLog&) = delete;

  /// Appends one line (a '\n' is added). Thread-safe, never blocks on I/O.
  void write(std::string_view line);
  /// "<ISO time> ilert-sumo-relay: <message>".
  void info(std::string_view message);
  /// Writes everything buffered and stops the writer thread. Idempotent.
  void stop();
  /// Lines dropped because the buffer was full.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  void run();
  void write_all(const std::string& data);

  int fd_;
  std::size_t max_buffer_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string buffer_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;
};

/// Current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
std::string now_iso8601();

}  // namespace relay
