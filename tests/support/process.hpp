// tests/support/process.hpp: run a program as a child process in a test (posix_spawn + pipes).
//
// ChildProcess starts a built program (see bin_path() in fixtures.hpp) with extra environment
// variables, reads its stdout line by line with a deadline (e.g. the `listening on HOST:PORT` line
// servers print first), sends it signals and waits for its exit with a deadline. Its stderr goes
// to a file (so a chatty child never blocks on a full pipe) that tests can read. The destructor
// kills (SIGKILL) and reaps a child that is still running, so a failed REQUIRE never leaks one.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ilert_sumo::test {

/// How a child ended.
struct ExitStatus {
  /// True when it called exit(); false when a signal killed it.
  bool exited = false;
  /// exit() status, or the signal number.
  int code = 0;
  /// True for a normal exit with status 0.
  bool ok() const { return exited && code == 0; }
  std::string to_string() const;
};

class ChildProcess {
 public:
  /// Starts `program` with `args` (argv[1..]); `env` is added to (and overrides) the current
  /// environment; a value of std::nullopt removes the variable. stderr goes to `stderr_path`
  /// (truncated; empty: inherited). Throws std::runtime_error when it cannot be started.
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::map<std::string, std::optional<std::string>>& env = {}, const std::string& stderr_path = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  /// The next line of stdout (without '\n'), or nullopt on timeout or EOF.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Sends a signal (no-op once reaped).
  void signal(int signo);
  /// Waits for the exit; nullopt when it is still running at the timeout.
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  /// True while it has not been reaped and has not exited.
  bool running();
  /// SIGKILL and reap (no-op when already reaped).
  void kill();

  /// The stderr file (empty when inherited).
  const std::string& stderr_path() const { return stderr_path_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::string stderr_path_;
  std::optional<ExitStatus> status_;
};

/// Parses `listening on HOST:PORT` (IPv6 hosts in brackets); nullopt when the line is not one.
std::optional<int> parse_listening_port(const std::string& line);

}  // namespace ilert_sumo::test
