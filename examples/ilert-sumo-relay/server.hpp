// examples/ilert-sumo-relay/server.hpp: the relay's HTTP layer on libmicrohttpd (event-driven).
//
// HttpServer serves the relay core (relay.hpp, HTTP-free) with libmicrohttpd 0.9.75 in its
// epoll mode: a small pool of event-loop threads serves every connection, so idle, slow or
// hostile clients hold a connection slot (capped in total and per IP) but never a thread. It
// enforces the limits an internet-facing server needs: request line and header section bounded
// by the per-connection memory pool (MHD answers 414/431), header bytes and count (431), a strict
// Content-Length (400), the body limit while reading (413, connection closed, rest unread), a
// budget for all bodies held in memory at once (503), an idle timeout and a deadline for each
// request to arrive in full (the connection is shut down past it). It owns no listening logic
// beyond a socket it is given (main.cpp binds it: no SO_REUSEPORT). Used by main.cpp only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "log.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "relay.hpp"

struct MHD_Daemon;
struct MHD_Connection;

namespace relay {

/// Counters of the HTTP layer itself (exported in /metrics).
struct ServerStats {
  /// Connections shut down because their request did not arrive within --read-timeout.
  std::uint64_t read_timeouts = 0;
  /// Requests refused by the relay's own framing/limit checks, by kind.
  std::uint64_t header_limit = 0;      ///< 431 (header bytes or count)
  std::uint64_t bad_framing = 0;       ///< 400 (Content-Length / Transfer-Encoding)
  std::uint64_t body_memory_full = 0;  ///< 503 (--max-body-memory reached)
  /// Connections open right now.
  std::uint64_t open_connections = 0;
};

class HttpServer {
 public:
  HttpServer(const RelayOptions& options, Relay& relay, Metrics& metrics, LineLog& log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Starts serving on `listen_fd` (bound and listening; the server takes ownership).
  /// Returns "" or an error message.
  std::string start(int listen_fd);
  /// Stops accepting new connections (the listening socket is shut down: new connections are
  /// refused; stop() closes it); open connections are still served. Every response from now on
  /// carries `Connection: close`.
  void quiesce();
  /// Closes every connection and stops the threads. Idempotent.
  void stop();

  ServerStats stats() const;

 private:
  struct Request;
  struct ConnectionEntry;

  friend struct ServerCallbacks;

  int handle(MHD_Connection* connection, const char* url, const char* method, const char* upload_data,
             std::size_t* upload_data_size, Request*& request);
  int first_call(MHD_Connection* connection, Request& request);
  int respond(MHD_Connection* connection, Request& request, const Reply& reply);
  int respond_and_close_raw(MHD_Connection* connection, Request& request, const Reply& reply);
  void completed(Request* request);
  void connection_started(MHD_Connection* connection, void** socket_context);
  void connection_closed(void** socket_context);
  void mhd_message(const char* fmt, unsigned first_arg);
  bool reserve_body(Request& request, std::size_t bytes);
  void release_body(Request& request);
  void reaper();

  const RelayOptions& options_;
  Relay& relay_;
  Metrics& metrics_;
  LineLog& log_;
  MHD_Daemon* daemon_ = nullptr;
  int listen_fd_ = -1;
  int quiesced_fd_ = -1;  // the listening socket after quiesce(): shut down, closed by stop()
  std::atomic<bool> quiescing_{false};

  std::atomic<std::size_t> body_bytes_{0};
  std::atomic<std::uint64_t> read_timeouts_{0};
  std::atomic<std::uint64_t> header_limit_{0};
  std::atomic<std::uint64_t> bad_framing_{0};
  std::atomic<std::uint64_t> body_memory_full_{0};

  // Open connections and their request deadlines, for the reaper thread.
  mutable std::mutex connections_mutex_;
  std::unordered_set<ConnectionEntry*> connections_;
  std::condition_variable reaper_cv_;
  bool reaper_stop_ = false;
  std::thread reaper_thread_;
};

}  // namespace relay
