// tests/support/raw_http.hpp: raw HTTP/1.1 over loopback TCP sockets, for tests that must send
// what no well-behaved client library sends (slow, oversized, pipelined, badly framed requests).
// Every call takes a deadline; nothing blocks without one. Used by tests/test_relay_hostile.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace ilert_sumo::test {

/// A socket connected to 127.0.0.1:`port` (non-blocking), or -1; on -1, `*error` (when given)
/// holds the errno that socket() or connect() failed with (ECONNREFUSED: nothing listens).
int raw_connect(int port, int* error = nullptr);

/// Writes all of `data` before `timeout`; false on error or timeout (e.g. the peer closed).
bool raw_send(int fd, const std::string& data, std::chrono::milliseconds timeout);

/// One parsed response.
struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// Reads one response (Content-Length framed, or up to EOF without one) from `fd`; `buffer` keeps
/// bytes of later (pipelined) responses between calls. nullopt on timeout, reset or EOF first.
std::optional<RawResponse> raw_read_response(int fd, std::string& buffer, std::chrono::milliseconds timeout);

/// True when the peer closes (EOF or reset) before `timeout`; data arriving meanwhile is discarded.
bool raw_wait_closed(int fd, std::chrono::milliseconds timeout);

/// Non-blocking check: true when the peer has closed (EOF or reset); discards pending data.
bool raw_peer_closed(int fd);

/// Raises this process's open-file soft limit to its hard limit; returns the new soft limit.
std::size_t raise_open_file_limit();

}  // namespace ilert_sumo::test
