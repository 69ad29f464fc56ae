// tests/support/raw_http.cpp: see raw_http.hpp.
#include "support/raw_http.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace ilert_sumo::test {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1000));
}

// Reads what is available into `buffer`; 1 = got data, 0 = EOF/reset, -1 = nothing yet.
int read_some(int fd, std::string& buffer) {
  char tmp[16384];
  const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
  if (n > 0) {
    buffer.append(tmp, static_cast<std::size_t>(n));
    return 1;
  }
  if (n == 0) return 0;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return -1;
  return 0;
}

}  // namespace

int raw_connect(int port, int* error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error != nullptr) *error = errno;
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (error != nullptr) *error = errno;
    ::close(fd);
    return -1;
  }
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
  return fd;
}

bool raw_send(int fd, const std::string& data, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (Clock::now() >= deadline) return false;
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, remaining_ms(deadline));
  }
  return true;
}

std::optional<RawResponse> raw_read_response(int fd, std::string& buffer, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  bool eof = false;
  for (;;) {
    const auto head_end = buffer.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      RawResponse r;
      const std::string head = buffer.substr(0, head_end);
      std::size_t line_end = head.find("\r\n");
      const std::string status_line = head.substr(0, line_end);
      if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
      r.status = std::atoi(status_line.c_str() + 9);
      while (line_end != std::string::npos) {
        const std::size_t start = line_end + 2;
        line_end = head.find("\r\n", start);
        const std::string line =
            head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers[name] = value;
      }
      const std::string cl = r.header("content-length");
      const std::size_t body_start = head_end + 4;
      if (!cl.empty()) {
        const std::size_t n = static_cast<std::size_t>(std::strtoull(cl.c_str(), nullptr, 10));
        if (buffer.size() >= body_start + n) {
          r.body = buffer.substr(body_start, n);
          buffer.erase(0, body_start + n);
          return r;
        }
      } else if (eof) {
        r.body = buffer.substr(body_start);
        buffer.clear();
        return r;
      }
    }
    if (eof || Clock::now() >= deadline) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, remaining_ms(deadline));
    if (read_some(fd, buffer) == 0) eof = true;
  }
}

bool raw_wait_closed(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string sink;
  for (;;) {
    sink.clear();
    const int r = read_some(fd, sink);
    if (r == 0) return true;
    if (r == 1) continue;
    if (Clock::now() >= deadline) return false;
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, remaining_ms(deadline));
  }
}

bool raw_peer_closed(int fd) {
  std::string sink;
  for (int i = 0; i < 64; ++i) {
    sink.clear();
    const int r = read_some(fd, sink);
    if (r == 0) return true;
    if (r == -1) return false;
  }
  return false;
}

std::size_t raise_open_file_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<std::size_t>(lim.rlim_cur);
}

}  // namespace ilert_sumo::test
