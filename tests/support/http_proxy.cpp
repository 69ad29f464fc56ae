// tests/support/http_proxy.cpp: HttpProxy (see http_proxy.hpp).
#include "support/http_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace ilert_sumo::test {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPollMs = 50;
constexpr std::size_t kMaxHead = 64 * 1024;
constexpr auto kIoTimeout = std::chrono::seconds(10);

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// Writes all of `data` to a non-blocking socket; false on error, stop or timeout.
bool write_all(int fd, std::string_view data, const std::atomic<bool>& stopping) {
  const auto deadline = Clock::now() + kIoTimeout;
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (stopping.load() || Clock::now() >= deadline) return false;
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, kPollMs);
  }
  return true;
}

/// Reads up to the end of the request head ("\r\n\r\n"); `buffer` gets everything read, including
/// bytes after the head. False on EOF, error, stop, timeout or an oversized head.
bool read_head(int fd, std::string& buffer, std::size_t& head_end, const std::atomic<bool>& stopping) {
  const auto deadline = Clock::now() + kIoTimeout;
  char chunk[4096];
  while (true) {
    const std::size_t pos = buffer.find("\r\n\r\n");
    if (pos != std::string::npos) {
      head_end = pos + 4;
      return true;
    }
    if (buffer.size() > kMaxHead || stopping.load() || Clock::now() >= deadline) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return false;
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

/// `host:port` of a loopback target -> port; nullopt when not loopback or malformed.
std::optional<int> loopback_port(std::string_view hostport) {
  const std::size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string host(hostport.substr(0, colon));
  const std::string port(hostport.substr(colon + 1));
  if (host != "localhost" && host.rfind("127.", 0) != 0) return std::nullopt;
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int p = std::stoi(port);
  if (p <= 0 || p > 65535) return std::nullopt;
  return p;
}

/// A connected socket to 127.0.0.1:port (non-blocking), or -1.
int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  set_nonblocking(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (::poll(&p, 1, 5000) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Copies bytes both ways until either side closes or the proxy stops.
void pump(int a, int b, const std::atomic<bool>& stopping) {
  char chunk[16384];
  while (!stopping.load()) {
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    const int ready = ::poll(p, 2, kPollMs);
    if (ready < 0 && errno != EINTR) return;
    if (ready <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::recv(p[i].fd, chunk, sizeof chunk, 0);
      if (n == 0) return;
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        return;
      }
      if (!write_all(p[1 - i].fd, std::string_view(chunk, static_cast<std::size_t>(n)), stopping)) return;
    }
  }
}

}  // namespace

HttpProxy::HttpProxy(std::string required_auth) : required_auth_(std::move(required_auth)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("HttpProxy: socket failed");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error(std::string("HttpProxy: cannot listen: ") + std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  set_nonblocking(listen_fd_);
  acceptor_ = std::thread([this] { accept_loop(); });
}

HttpProxy::~HttpProxy() { stop(); }

std::string HttpProxy::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpProxy::stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers.swap(workers_);
  }
  for (std::thread& t : workers) t.join();
}

std::vector<ProxyRequest> HttpProxy::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

std::size_t HttpProxy::count(const std::string& method) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t n = 0;
  for (const ProxyRequest& r : requests_) n += method.empty() || r.method == method ? 1 : 0;
  return n;
}

std::size_t HttpProxy::served() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t n = 0;
  for (const ProxyRequest& r : requests_) n += (r.method == "CONNECT" ? r.status == 200 : r.status == 0) ? 1 : 0;
  return n;
}

std::size_t HttpProxy::auth_failures() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t n = 0;
  for (const ProxyRequest& r : requests_) n += r.status == 407 ? 1 : 0;
  return n;
}

void HttpProxy::record(ProxyRequest r) {
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.push_back(std::move(r));
}

void HttpProxy::accept_loop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    workers_.emplace_back([this, client] {
      serve(client);
      ::close(client);
    });
  }
}

void HttpProxy::serve(int client) {
  std::string buffer;
  std::size_t head_end = 0;
  if (!read_head(client, buffer, head_end, stopping_)) return;
  const std::string_view head(buffer.data(), head_end);
  const std::size_t line_end = head.find("\r\n");
  const std::string_view request_line = head.substr(0, line_end);
  const std::size_t sp1 = request_line.find(' ');
  const std::size_t sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) {
    write_all(client, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", stopping_);
    return;
  }
  ProxyRequest r;
  r.method = std::string(request_line.substr(0, sp1));
  r.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  const std::string_view version = request_line.substr(sp2 + 1);

  // Headers: keep all but the hop-by-hop and proxy ones for forwarding.
  std::string forwarded_headers;
  std::size_t pos = line_end + 2;
  while (pos < head_end - 2) {
    const std::size_t end = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lower(trim(line.substr(0, colon)));
    if (name == "proxy-authorization") r.proxy_authorization = std::string(trim(line.substr(colon + 1)));
    if (name == "proxy-authorization" || name == "proxy-connection" || name == "connection" || name == "keep-alive") {
      continue;
    }
    forwarded_headers.append(line);
    forwarded_headers += "\r\n";
  }

  if (!required_auth_.empty() && r.proxy_authorization != required_auth_) {
    r.status = 407;
    record(r);
    write_all(client,
              "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test-proxy\"\r\n"
              "Content-Length: 0\r\nConnection: close\r\n\r\n",
              stopping_);
    return;
  }

  std::optional<int> port;
  std::string origin_target;
  if (r.method == "CONNECT") {
    port = loopback_port(r.target);
  } else if (r.target.rfind("http://", 0) == 0) {
    const std::size_t slash = r.target.find('/', 7);
    port =
        loopback_port(std::string_view(r.target).substr(7, slash == std::string::npos ? std::string::npos : slash - 7));
    origin_target = slash == std::string::npos ? "/" : r.target.substr(slash);
  }
  if (!port) {
    r.status = 403;
    record(r);
    write_all(client, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", stopping_);
    return;
  }
  const int upstream = connect_loopback(*port);
  if (upstream < 0) {
    r.status = 502;
    record(r);
    write_all(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", stopping_);
    return;
  }
  const std::string_view rest = std::string_view(buffer).substr(head_end);
  bool ok = true;
  if (r.method == "CONNECT") {
    r.status = 200;
    record(r);
    ok = write_all(client, "HTTP/1.1 200 Connection established\r\n\r\n", stopping_) &&
         write_all(upstream, rest, stopping_);
  } else {
    r.status = 0;
    record(r);
    std::string out = r.method + " " + origin_target + " " + std::string(version) + "\r\n" + forwarded_headers +
                      "Connection: close\r\n\r\n";
    out.append(rest);
    ok = write_all(upstream, out, stopping_);
  }
  if (ok) pump(client, upstream, stopping_);
  ::close(upstream);
}

}  // namespace ilert_sumo::test
