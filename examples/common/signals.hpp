// examples/common/signals.hpp: stop signals as a flag and a self-pipe, for the programs under
// examples/ (header-only; include it as "../common/signals.hpp").
//
// The handler does only async-signal-safe work: it stores the signal number in a lock-free
// std::atomic<int> and writes one byte to a non-blocking pipe. Any thread can poll() the pipe's
// read end (wake_fd()) beside its input, so a read blocked on stdin or a FIFO ends at once whatever
// thread the kernel delivered the signal to; nothing is done inside the handler.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <initializer_list>

namespace ilert_sumo_cli {

class StopSignals {
 public:
  /// Installs the handler for `signals` (sigaction, no SA_RESTART, SA_RESETHAND off: a second
  /// signal is counted too). Call once, before starting threads. False when a system call failed.
  static bool install(std::initializer_list<int> signals) {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    for (const int fd : fds) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    read_fd() = fds[0];
    write_fd() = fds[1];
    struct sigaction sa {};
    sa.sa_handler = &StopSignals::handle;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    for (const int s : signals) {
      if (::sigaction(s, &sa, nullptr) != 0) return false;
    }
    return true;
  }

  /// The first stop signal received, 0 when none.
  static int received() noexcept { return first().load(std::memory_order_acquire); }
  /// True once a stop signal was received.
  static bool requested() noexcept { return received() != 0; }
  /// Readable (POLLIN) once a stop signal was received; -1 before install().
  static int wake_fd() noexcept { return read_fd(); }

  /// Waits until `fd` is readable or a stop signal arrives (at most timeout_ms; -1: no limit).
  /// True when `fd` is readable (or in error: the read will say), false on a stop signal/timeout.
  static bool wait_readable(int fd, int timeout_ms = -1) {
    for (;;) {
      if (requested()) return false;
      pollfd p[2] = {{fd, POLLIN, 0}, {read_fd(), POLLIN, 0}};
      const int n = ::poll(p, read_fd() >= 0 ? 2 : 1, timeout_ms);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return n < 0;  // poll failed: let the read report it
      if (p[0].revents != 0) return !requested();
      if (requested()) return false;
    }
  }

 private:
  static void handle(int signo) {
    const int saved = errno;
    int expected = 0;
    first().compare_exchange_strong(expected, signo);
    const char byte = 1;
    if (write_fd() >= 0) (void)!::write(write_fd(), &byte, 1);
    errno = saved;
  }
  static std::atomic<int>& first() {
    static std::atomic<int> value{0};
    static_assert(std::atomic<int>::is_always_lock_free, "the signal flag must be lock-free");
    return value;
  }
  static int& read_fd() {
    static int fd = -1;
    return fd;
  }
  static int& write_fd() {
    static int fd = -1;
    return fd;
  }
};

}  // namespace ilert_sumo_cli
