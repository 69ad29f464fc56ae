// examples/ilert-sumo-relay/log.hpp: a buffered, non-blocking line logger for stderr.
//
// Request threads append a formatted line to an in-memory buffer (a mutex held for a memcpy);
// a background thread writes the buffer to the file descriptor. The request path therefore never
// waits on a slow terminal or pipe. The buffer is bounded: lines beyond it are dropped and counted
// (ilert_sumo_relay_log_lines_dropped_total and the shutdown line), never queued without limit.
// stop(deadline) writes what is left but never waits past its deadline: when stderr is a pipe
// nobody reads, the writer thread is left blocked (it owns its state, so the process can exit
// around it) and what it still held is counted as dropped. Callers must never pass a secret.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace relay {

class LineLog {
 public:
  /// Writes to `fd` (2 = stderr); holds at most `max_buffer` unwritten bytes.
  explicit LineLog(int fd = 2, std::size_t max_buffer = 4 * 1024 * 1024);
  /// stop() with a 1-second deadline.
  ~LineLog();
  LineLog(const LineLog&) = delete;
  LineLog& operator=(const LineLog&) = delete;

  /// Appends one line (a '\n' is added). Thread-safe, never blocks on I/O.
  void write(std::string_view line);
  /// "<ISO time> ilert-sumo-relay: <message>".
  void info(std::string_view message);
  /// Writes what is buffered and stops the writer thread, waiting at most until `deadline`.
  /// Returns true when everything was written; false when the writer was still blocked at the
  /// deadline (it is then detached; the unwritten lines count as dropped). Idempotent.
  bool stop(std::chrono::steady_clock::time_point deadline);
  bool stop() { return stop(std::chrono::steady_clock::now() + std::chrono::seconds(1)); }
  /// Lines dropped: the buffer was full, or they were still unwritten at stop's deadline.
  std::uint64_t dropped() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

/// Current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
std::string now_iso8601();

}  // namespace relay
