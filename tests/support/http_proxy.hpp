// tests/support/http_proxy.hpp: a small HTTP proxy on 127.0.0.1 for the proxy tests
// (tests/test_proxy.cpp): real libcurl talks to it as to a corporate proxy.
//
// It serves two kinds of requests, one per connection:
// - CONNECT host:port (a tunnel, what libcurl sends for https:// URLs, or for http:// with
//   CURLOPT_HTTPPROXYTUNNEL): answers 200 and then copies bytes both ways until one side closes;
// - absolute-form forwarding (`POST http://host:port/path HTTP/1.1`, what libcurl sends for
//   http:// URLs without a tunnel): rewrites the request line to origin form, drops the Proxy-*
//   headers, adds `Connection: close`, and copies the request and the answer.
// Only loopback targets (127.0.0.0/8, localhost) are served (403 otherwise): a test proxy never
// reaches out. With `required_auth` set, a request whose Proxy-Authorization differs gets 407 with
// `Proxy-Authenticate: Basic` and the connection is closed. Every request is recorded (method,
// target, Proxy-Authorization as received, status answered). stop() (also the destructor) closes
// the listener and every connection and joins all threads; nothing blocks without a deadline.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ilert_sumo::test {

/// One request the proxy saw.
struct ProxyRequest {
  /// "CONNECT", "POST", ...
  std::string method;
  /// `host:port` for CONNECT, the absolute URL for forwarding.
  std::string target;
  /// The Proxy-Authorization header as received (empty when absent).
  std::string proxy_authorization;
  /// What the proxy answered itself: 200 (tunnel established), 0 (forwarded: the origin answered),
  /// 407, 403 or 502 (the target could not be reached).
  int status = 0;
};

class HttpProxy {
 public:
  /// Starts listening on 127.0.0.1 (a free port). `required_auth`: the exact Proxy-Authorization
  /// value to demand, e.g. "Basic dXNlcjpwYXNz" (empty: none demanded). Throws std::runtime_error
  /// when it cannot listen.
  explicit HttpProxy(std::string required_auth = "");
  ~HttpProxy();
  HttpProxy(const HttpProxy&) = delete;
  HttpProxy& operator=(const HttpProxy&) = delete;

  int port() const { return port_; }
  /// `http://127.0.0.1:<port>`.
  std::string url() const;

  /// Every request so far, in arrival order.
  std::vector<ProxyRequest> requests() const;
  /// Requests with this method ("CONNECT") so far; an empty method counts every request.
  std::size_t count(const std::string& method = "") const;
  /// Tunnels established plus requests forwarded.
  std::size_t served() const;
  /// Requests refused with 407.
  std::size_t auth_failures() const;

  /// Stops accepting, closes every connection, joins every thread. Idempotent.
  void stop();

 private:
  void accept_loop();
  void serve(int client);
  void record(ProxyRequest r);

  std::string required_auth_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::vector<ProxyRequest> requests_;
};

}  // namespace ilert_sumo::test
