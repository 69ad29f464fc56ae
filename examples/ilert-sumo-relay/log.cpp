// examples/ilert-sumo-relay/log.cpp: see log.hpp.
#include "log.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ilert_sumo/events.hpp"

namespace relay {

std::string now_iso8601() {
  return ilert_sumo::format_iso8601_millis(
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
}

// Shared by the LineLog and its writer thread, so a writer left blocked in write() at the
// deadline never touches freed memory.
struct LineLog::State {
  int fd = 2;
  std::size_t max_buffer = 0;
  std::mutex mutex;
  std::condition_variable cv;       // wakes the writer
  std::condition_variable done_cv;  // the writer finished
  std::string buffer;
  std::size_t buffered_lines = 0;
  std::size_t in_flight_lines = 0;  // taken by the writer, not yet written
  bool stopping = false;
  bool finished = false;
  bool stopped = false;
  std::atomic<std::uint64_t> dropped{0};

  void run() {
    std::string out;
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      cv.wait_for(lock, std::chrono::milliseconds(20), [this] { return stopping || buffer.size() >= 64 * 1024; });
      out.clear();
      out.swap(buffer);
      in_flight_lines = buffered_lines;
      buffered_lines = 0;
      const bool last = stopping;
      lock.unlock();
      if (!out.empty()) write_all(out);
      lock.lock();
      in_flight_lines = 0;
      if (last && buffer.empty()) break;
    }
    finished = true;
    done_cv.notify_all();
  }

  // Blocking writes (the descriptor is shared with other processes; it is not made non-blocking).
  // poll() first, so a writer waiting on a full pipe notices stop(); past the deadline the write
  // may still block, and stop() stops waiting for it.
  void write_all(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      pollfd p{fd, POLLOUT, 0};
      const int ready = ::poll(&p, 1, 100);
      if (ready == 0) continue;
      if (ready < 0 && errno != EINTR) return;
      if (ready > 0 && (p.revents & (POLLERR | POLLNVAL)) != 0) return;
      // At most one pipe buffer at a time: a write of <= PIPE_BUF bytes into a pipe poll() called
      // writable does not block.
      const std::size_t n_max = std::min<std::size_t>(data.size() - off, 4096);
      const ssize_t n = ::write(fd, data.data() + off, n_max);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return;  // stderr closed: nothing sensible to do
      }
      off += static_cast<std::size_t>(n);
    }
  }
};

LineLog::LineLog(int fd, std::size_t max_buffer) : state_(std::make_shared<State>()) {
  state_->fd = fd;
  state_->max_buffer = max_buffer;
  state_->buffer.reserve(64 * 1024);
  std::shared_ptr<State> s = state_;
  std::thread([s] { s->run(); }).detach();
}

LineLog::~LineLog() { stop(); }

void LineLog::write(std::string_view line) {
  State& s = *state_;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.stopping || s.buffer.size() + line.size() + 1 > s.max_buffer) {
      s.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    s.buffer.append(line.data(), line.size());
    s.buffer.push_back('\n');
    ++s.buffered_lines;
    wake = s.buffer.size() >= 64 * 1024;
  }
  if (wake) s.cv.notify_one();
}

void LineLog::info(std::string_view message) {
  std::string line = now_iso8601();
  line += " ilert-sumo-relay: ";
  line.append(message.data(), message.size());
  write(line);
}

bool LineLog::stop(std::chrono::steady_clock::time_point deadline) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.stopped) return s.finished;
  s.stopping = true;
  s.cv.notify_one();
  const bool finished = s.done_cv.wait_until(lock, deadline, [&s] { return s.finished; });
  s.stopped = true;
  if (!finished) {
    // The writer is blocked on the descriptor: what it holds and what waits behind it is lost.
    s.dropped.fetch_add(s.in_flight_lines + s.buffered_lines, std::memory_order_relaxed);
    s.buffered_lines = 0;
    s.in_flight_lines = 0;
  }
  return finished;
}

std::uint64_t LineLog::dropped() const noexcept { return state_->dropped.load(std::memory_order_relaxed); }

}  // namespace relay
