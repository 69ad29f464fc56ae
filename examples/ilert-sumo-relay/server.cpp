// examples/ilert-sumo-relay/server.cpp: see server.hpp. libmicrohttpd 0.9.75 specifics are noted
// where the code relies on them (docs/DESIGN.md, "The relay's HTTP server", has the reasons).
#include "server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>

#include "json_text.hpp"

namespace relay {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kDisarmed = std::numeric_limits<std::int64_t>::max();

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 413: return "Content Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::string address_text(const sockaddr* sa) {
  if (sa == nullptr) return "-";
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  } else {
    return "-";
  }
  return buf;
}

Reply plain_error(int status, const char* code, const char* message) {
  Reply r;
  r.status = status;
  r.error = code;
  r.body = std::string("{\"error\":\"") + code + "\",\"message\":" + json_string(message) + "}";
  return r;
}

// What the header section says about framing and size; filled by an MHD_KeyValueIterator.
struct HeaderScan {
  std::size_t count = 0;
  std::size_t bytes = 0;
  std::size_t content_length_headers = 0;
  bool content_length_bad = false;       // not only digits, or too many digits
  bool content_length_conflict = false;  // two different values
  std::uint64_t content_length = 0;
  std::string first_content_length;
  std::size_t transfer_encoding_headers = 0;
  bool transfer_encoding_chunked = false;
  // Credentials: `Authorization` and the --auth-header header (name empty = none), with counts.
  std::string_view auth_header_name;
  const char* authorization = nullptr;
  std::size_t authorization_headers = 0;
  const char* auth_header = nullptr;
  std::size_t auth_header_headers = 0;
};

MHD_Result scan_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto& s = *static_cast<HeaderScan*>(cls);
  const std::size_t vlen = value == nullptr ? 0 : std::strlen(value);
  ++s.count;
  s.bytes += std::strlen(key) + vlen + 4;  // "K: V\r\n"
  if (equal_ignoring_case(key, "Content-Length")) {
    ++s.content_length_headers;
    // MHD itself checks only the first Content-Length header; the relay checks every one: digits
    // only (no sign, no spaces, no list), at most 19 of them, and all equal.
    const std::string v = value == nullptr ? "" : value;
    if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) {
      s.content_length_bad = true;
    } else if (s.content_length_headers == 1) {
      s.first_content_length = v;
      s.content_length = std::strtoull(v.c_str(), nullptr, 10);
    } else if (v != s.first_content_length) {
      s.content_length_conflict = true;
    }
  } else if (equal_ignoring_case(key, "Transfer-Encoding")) {
    ++s.transfer_encoding_headers;
    s.transfer_encoding_chunked = value != nullptr && equal_ignoring_case(value, "chunked");
  }
  // Not `else`: --auth-header may name `Authorization` itself.
  if (equal_ignoring_case(key, "Authorization")) {
    ++s.authorization_headers;
    s.authorization = value;
  }
  if (!s.auth_header_name.empty() && equal_ignoring_case(key, s.auth_header_name)) {
    ++s.auth_header_headers;
    s.auth_header = value;
  }
  return MHD_YES;
}

}  // namespace

// The state of one HTTP request, from its first access-handler call to NOTIFY_COMPLETED.
struct HttpServer::Request {
  enum class Route { webhook, webhook_other_method, healthz, metrics, not_found };
  Clock::time_point start;
  std::string method;
  std::string path;
  std::string remote;
  Route route = Route::not_found;
  bool discard_body = false;  // refused (401) body on a keep-alive connection: read, not kept
  bool unauthorized = false;
  std::string body;
  std::size_t reserved = 0;  // bytes counted against --max-body-memory
  int status = 0;            // the answer, 0 = none yet
  bool webhook_timed = false;
  std::string event_type;
  std::string alert_id;
  std::string error;
};

// One open connection: its socket and the deadline by which the current request must be in.
struct HttpServer::ConnectionEntry {
  int fd = -1;
  std::atomic<std::int64_t> deadline_ns{kDisarmed};
  bool shut = false;
};

// C callbacks for libmicrohttpd; each forwards to the HttpServer in `cls`.
struct ServerCallbacks {
  static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                               const char* /*version*/, const char* upload_data, std::size_t* upload_data_size,
                               void** request_context) {
    auto* self = static_cast<HttpServer*>(cls);
    auto*& request = reinterpret_cast<HttpServer::Request*&>(*request_context);
    return self->handle(connection, url, method, upload_data, upload_data_size, request) != 0 ? MHD_YES : MHD_NO;
  }
  static void on_completed(void* cls, MHD_Connection* connection, void** request_context,
                           MHD_RequestTerminationCode /*toe*/) {
    auto* self = static_cast<HttpServer*>(cls);
    // The next request on this connection must arrive within --read-timeout from now.
    const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (info != nullptr && info->socket_context != nullptr) {
      static_cast<HttpServer::ConnectionEntry*>(info->socket_context)
          ->deadline_ns.store(
              now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(self->options_.read_timeout).count(),
              std::memory_order_relaxed);
    }
    self->completed(static_cast<HttpServer::Request*>(*request_context));
    *request_context = nullptr;
  }
  static void on_connection(void* cls, MHD_Connection* connection, void** socket_context,
                            MHD_ConnectionNotificationCode toe) {
    auto* self = static_cast<HttpServer*>(cls);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
      self->connection_started(connection, socket_context);
    } else {
      self->connection_closed(socket_context);
    }
  }
  static void on_mhd_log(void* cls, const char* fmt, va_list ap) {
    // MHD reports the errors it answers itself (414, 431, 400, 413 for a Content-Length past
    // 2^64) as "Error processing request (HTTP response code is %u ('%s'))...".
    unsigned code = 0;
    if (std::strstr(fmt, "HTTP response code is %u") != nullptr) {
      va_list copy;
      va_copy(copy, ap);
      code = va_arg(copy, unsigned);
      va_end(copy);
    }
    static_cast<HttpServer*>(cls)->mhd_message(fmt, code);
  }
};

HttpServer::HttpServer(const RelayOptions& options, Relay& relay, Metrics& metrics, LineLog& log)
    : options_(options), relay_(relay), metrics_(metrics), log_(log) {}

HttpServer::~HttpServer() { stop(); }

std::string HttpServer::start(int listen_fd) {
  listen_fd_ = listen_fd;
  // Non-blocking: with a thread pool every worker polls the listening socket, and a worker that
  // loses the race for a connection must not block in accept().
  const int fl = ::fcntl(listen_fd, F_GETFL, 0);
  if (fl >= 0) ::fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK);
  // The per-connection memory pool holds the request line, the header section and the read
  // buffer (MHD_OPTION_CONNECTION_MEMORY_LIMIT): twice the header budget, at least MHD's default.
  const std::size_t pool = std::max<std::size_t>(32 * 1024, 2 * options_.max_header_bytes);
  const unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &ServerCallbacks::on_request, this, MHD_OPTION_LISTEN_SOCKET,
      static_cast<MHD_socket>(listen_fd), MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned int>(options_.threads),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned int>(options_.max_connections),
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<unsigned int>(options_.max_connections_per_ip),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned int>(options_.keep_alive_timeout_s),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
      MHD_OPTION_NOTIFY_COMPLETED, &ServerCallbacks::on_completed, this, MHD_OPTION_NOTIFY_CONNECTION,
      &ServerCallbacks::on_connection, this, MHD_OPTION_EXTERNAL_LOGGER, &ServerCallbacks::on_mhd_log, this,
      MHD_OPTION_END);
  if (daemon_ == nullptr) {
    ::close(listen_fd);
    listen_fd_ = -1;
    return "libmicrohttpd could not start (threads, epoll or options refused)";
  }
  reaper_thread_ = std::thread([this] { reaper(); });
  return "";
}

// MHD's event-loop threads may still hold the listening socket after MHD_quiesce_daemon returns
// (each drops it from its epoll set on its next turn), so the socket is closed only after
// MHD_stop_daemon has joined them, as microhttpd.h asks for MHD_quiesce_daemon. Closing it here
// raced with a worker's epoll_ctl (found by TSan) and could hand a reused descriptor number to a
// worker. shutdown(SHUT_RD) stops the kernel listening now (Linux's inet_shutdown disconnects a
// socket in LISTEN): new connections are refused at once and queued ones reset, while the
// descriptor stays valid for the threads; MHD skips accept on the EPOLLHUP that follows.
void HttpServer::quiesce() {
  quiescing_.store(true, std::memory_order_relaxed);
  if (daemon_ != nullptr && listen_fd_ >= 0) {
    const MHD_socket fd = MHD_quiesce_daemon(daemon_);
    if (fd != MHD_INVALID_SOCKET) {
      ::shutdown(fd, SHUT_RD);
      quiesced_fd_ = fd;
    }
    listen_fd_ = -1;
  }
}

void HttpServer::stop() {
  if (daemon_ != nullptr) {
    MHD_stop_daemon(daemon_);  // closes every connection (NOTIFY_CLOSED for each), joins its threads
    daemon_ = nullptr;
    listen_fd_ = -1;
  }
  if (quiesced_fd_ >= 0) {
    ::close(quiesced_fd_);  // MHD leaves a quiesced socket to us, and its threads are gone now
    quiesced_fd_ = -1;
  }
  {
    std::lock_guard<std::mutex> lock(connections_mutex_);
    reaper_stop_ = true;
  }
  reaper_cv_.notify_all();
  if (reaper_thread_.joinable()) reaper_thread_.join();
}

ServerStats HttpServer::stats() const {
  ServerStats s;
  s.read_timeouts = read_timeouts_.load(std::memory_order_relaxed);
  s.header_limit = header_limit_.load(std::memory_order_relaxed);
  s.bad_framing = bad_framing_.load(std::memory_order_relaxed);
  s.body_memory_full = body_memory_full_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(connections_mutex_);
  s.open_connections = connections_.size();
  return s;
}

void HttpServer::connection_started(MHD_Connection* connection, void** socket_context) {
  auto* entry = new ConnectionEntry;
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  entry->fd = info != nullptr ? info->connect_fd : -1;
  entry->deadline_ns.store(
      now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(options_.read_timeout).count(),
      std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(connections_mutex_);
    connections_.insert(entry);
  }
  *socket_context = entry;
}

void HttpServer::connection_closed(void** socket_context) {
  auto* entry = static_cast<ConnectionEntry*>(*socket_context);
  if (entry == nullptr) return;
  {
    // MHD closes the socket only after this notification: while the entry is in the set (and the
    // mutex held) the reaper may shut the socket down, never afterwards.
    std::lock_guard<std::mutex> lock(connections_mutex_);
    connections_.erase(entry);
  }
  delete entry;
  *socket_context = nullptr;
}

// Slow clients (a header byte every second, a body trickling in) never trip an idle timeout; the
// reaper shuts down every connection whose request has not arrived in full by its deadline. The
// event loop then sees the end of the stream and closes the connection itself.
void HttpServer::reaper() {
  std::unique_lock<std::mutex> lock(connections_mutex_);
  while (!reaper_stop_) {
    reaper_cv_.wait_for(lock, std::chrono::milliseconds(100));
    const std::int64_t now = now_ns();
    for (ConnectionEntry* e : connections_) {
      if (e->shut || e->fd < 0 || e->deadline_ns.load(std::memory_order_relaxed) > now) continue;
      ::shutdown(e->fd, SHUT_RDWR);
      e->shut = true;
      read_timeouts_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void HttpServer::mhd_message(const char* fmt, unsigned code) {
  if (code >= 100 && code <= 599) {
    metrics_.count_http(static_cast<int>(code));
    if (options_.access_log) {
      // MHD answered before the request reached the relay: no method, path or remote known here.
      log_.write(now_iso8601() + " method=- path=- status=" + std::to_string(code) +
                 " event_type=- alert_id=- error=protocol latency_ms=0.000 remote=-");
    }
    return;
  }
  (void)fmt;  // other MHD messages (connection limits, resets) are not logged: a client controls them
}

bool HttpServer::reserve_body(Request& request, std::size_t bytes) {
  if (bytes <= request.reserved) return true;
  const std::size_t extra = bytes - request.reserved;
  const std::size_t before = body_bytes_.fetch_add(extra, std::memory_order_relaxed);
  if (before + extra > options_.max_body_memory) {
    body_bytes_.fetch_sub(extra, std::memory_order_relaxed);
    body_memory_full_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  request.reserved = bytes;
  request.body.reserve(bytes);
  return true;
}

void HttpServer::release_body(Request& request) {
  if (request.reserved > 0) body_bytes_.fetch_sub(request.reserved, std::memory_order_relaxed);
  request.reserved = 0;
  std::string().swap(request.body);
}

int HttpServer::respond(MHD_Connection* connection, Request& request, const Reply& reply) {
  MHD_Response* response =
      MHD_create_response_from_buffer(reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type.c_str());
  for (const auto& [name, value] : reply.headers) MHD_add_response_header(response, name.c_str(), value.c_str());
  if (reply.close_connection || quiescing_.load(std::memory_order_relaxed)) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
  }
  const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned int>(reply.status), response);
  MHD_destroy_response(response);
  if (queued != MHD_YES) return MHD_NO;
  request.status = reply.status;
  if (!reply.event_type.empty()) request.event_type = reply.event_type;
  if (!reply.alert_id.empty()) request.alert_id = reply.alert_id;
  if (!reply.error.empty()) request.error = reply.error;
  return MHD_YES;
}

// libmicrohttpd 0.9.75 accepts a response only before the body is read (MHD_queue_response
// refuses it in the body-reading state). A body that turns out too large while it is being read
// (chunked) is answered here: the short answer is written to the socket directly and MHD_NO tells
// MHD to close the connection without reading the rest.
int HttpServer::respond_and_close_raw(MHD_Connection* connection, Request& request, const Reply& reply) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info != nullptr && info->connect_fd >= 0) {
    const int fd = info->connect_fd;
    const int off = 0;
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason_phrase(reply.status) + "\r\n";
    out += "Content-Type: " + reply.content_type + "\r\n";
    for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n";
    out += reply.body;
    (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    request.status = reply.status;
    if (!reply.error.empty()) request.error = reply.error;
  }
  release_body(request);
  return MHD_NO;
}

int HttpServer::handle(MHD_Connection* connection, const char* url, const char* method, const char* upload_data,
                       std::size_t* upload_data_size, Request*& request) {
  if (request == nullptr) {
    request = new Request;
    request->start = Clock::now();
    request->method = method != nullptr ? method : "";
    request->path = url != nullptr ? url : "";
    if (options_.access_log) {  // only the access log shows it: not formatted for nothing
      const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
      request->remote = address_text(info != nullptr ? info->client_addr : nullptr);
    }
    return first_call(connection, *request);
  }
  Request& r = *request;
  if (*upload_data_size > 0) {
    const std::size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (r.discard_body) return MHD_YES;  // a refused body within --max-body (Content-Length checked)
    if (r.body.size() + n > options_.max_body) {
      return respond_and_close_raw(connection, r, relay_.too_large(true));
    }
    if (!reserve_body(r, std::max(r.body.size() + n, std::min(options_.max_body, 2 * r.body.size())))) {
      Reply busy = plain_error(503, "busy", "too many request bodies in memory; retry later");
      busy.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_s));
      metrics_.count_outcome(Outcome::unavailable);
      return respond_and_close_raw(connection, r, busy);
    }
    r.body.append(upload_data, n);
    return MHD_YES;
  }

  // The final call: the whole request is in.
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (info != nullptr && info->socket_context != nullptr) {
    static_cast<ConnectionEntry*>(info->socket_context)->deadline_ns.store(kDisarmed, std::memory_order_relaxed);
  }
  if (r.status != 0) return MHD_YES;  // already answered
  switch (r.route) {
    case Request::Route::webhook: {
      if (r.unauthorized) return respond(connection, r, relay_.unauthorized());
      const ilert_sumo::UtcTime received_at =
          std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
      const Reply reply = relay_.handle_webhook(r.body, received_at);
      release_body(r);
      metrics_.observe_webhook_latency(Clock::now() - r.start);
      return respond(connection, r, reply);
    }
    case Request::Route::webhook_other_method: {
      Reply reply = plain_error(405, "method_not_allowed", "POST webhooks here");
      reply.headers.emplace_back("Allow", "POST");
      return respond(connection, r, reply);
    }
    case Request::Route::healthz: return respond(connection, r, relay_.healthz());
    case Request::Route::metrics: {
      Reply reply = relay_.metrics(log_.dropped());
      const ServerStats s = stats();
      reply.body +=
          "# HELP ilert_sumo_relay_http_open_connections Connections open now.\n"
          "# TYPE ilert_sumo_relay_http_open_connections gauge\n"
          "ilert_sumo_relay_http_open_connections " +
          std::to_string(s.open_connections) +
          "\n"
          "# HELP ilert_sumo_relay_http_refused_total Requests or connections the HTTP layer refused, by reason.\n"
          "# TYPE ilert_sumo_relay_http_refused_total counter\n"
          "ilert_sumo_relay_http_refused_total{reason=\"read_timeout\"} " +
          std::to_string(s.read_timeouts) +
          "\n"
          "ilert_sumo_relay_http_refused_total{reason=\"header_limit\"} " +
          std::to_string(s.header_limit) +
          "\n"
          "ilert_sumo_relay_http_refused_total{reason=\"bad_framing\"} " +
          std::to_string(s.bad_framing) +
          "\n"
          "ilert_sumo_relay_http_refused_total{reason=\"body_memory\"} " +
          std::to_string(s.body_memory_full) + "\n";
      return respond(connection, r, reply);
    }
    case Request::Route::not_found: return respond(connection, r, plain_error(404, "not_found", "no such path"));
  }
  return MHD_NO;
}

int HttpServer::first_call(MHD_Connection* connection, Request& r) {
  HeaderScan scan;
  scan.auth_header_name = relay_.auth_header_name();
  MHD_get_connection_values(connection, MHD_HEADER_KIND, &scan_header, &scan);

  // Header budget: MHD's memory pool is the hard cap (it answers 431, or 414 while still in the
  // request line); these are the exact, documented limits.
  const std::size_t head_bytes = r.method.size() + r.path.size() + 12 + scan.bytes;
  if (scan.count > options_.max_headers || head_bytes > options_.max_header_bytes) {
    header_limit_.fetch_add(1, std::memory_order_relaxed);
    Reply reply = plain_error(431, "header_too_large", "too many or too large request header fields");
    reply.close_connection = true;
    return respond(connection, r, reply);
  }
  // Framing: one Content-Length of digits only, or Transfer-Encoding: chunked, never both.
  if (scan.content_length_bad || scan.content_length_conflict || scan.transfer_encoding_headers > 1 ||
      (scan.transfer_encoding_headers == 1 && (!scan.transfer_encoding_chunked || scan.content_length_headers > 0))) {
    bad_framing_.fetch_add(1, std::memory_order_relaxed);
    Reply reply = plain_error(400, "bad_request", "invalid Content-Length or Transfer-Encoding");
    reply.close_connection = true;
    return respond(connection, r, reply);
  }
  const bool chunked = scan.transfer_encoding_headers == 1;
  const bool has_body = chunked || scan.content_length > 0;

  if (r.path == options_.path) {
    r.route = r.method == "POST" ? Request::Route::webhook : Request::Route::webhook_other_method;
  } else if (r.path == "/healthz" && (r.method == "GET" || r.method == "HEAD")) {
    r.route = Request::Route::healthz;
  } else if (r.path == "/metrics" && (r.method == "GET" || r.method == "HEAD")) {
    r.route = Request::Route::metrics;
  } else {
    r.route = Request::Route::not_found;
  }

  if (r.route != Request::Route::webhook) {
    if (!has_body) return MHD_YES;  // answered in the final call, on a keep-alive connection
    // A body where none belongs: answered now, unread, and the connection closed (MHD closes
    // every connection whose response is queued before its body).
    Reply reply = r.route == Request::Route::not_found ? plain_error(404, "not_found", "no such path")
                  : r.route == Request::Route::webhook_other_method
                      ? plain_error(405, "method_not_allowed", "POST webhooks here")
                      : plain_error(400, "bad_request", "unexpected request body");
    if (r.route == Request::Route::webhook_other_method) reply.headers.emplace_back("Allow", "POST");
    reply.close_connection = true;
    return respond(connection, r, reply);
  }

  PresentedCredentials credentials;
  if (scan.authorization_headers == 1 && scan.authorization != nullptr) credentials.authorization = scan.authorization;
  if (scan.auth_header_headers == 1 && scan.auth_header != nullptr) credentials.auth_header = scan.auth_header;
  credentials.repeated = scan.authorization_headers > 1 || scan.auth_header_headers > 1;
  if (!relay_.authorized(credentials)) {
    r.unauthorized = true;
    if (!chunked && scan.content_length <= options_.max_body) {
      r.discard_body = true;  // read and thrown away, 401 on a healthy keep-alive connection
      return MHD_YES;
    }
    Reply reply = relay_.unauthorized();
    reply.close_connection = true;
    return respond(connection, r, reply);  // before the body: `Expect: 100-continue` gets no 100
  }
  if (scan.content_length > options_.max_body) {
    return respond(connection, r, relay_.too_large(true));  // unread; MHD closes the connection
  }
  if (scan.content_length > 0 && !reserve_body(r, static_cast<std::size_t>(scan.content_length))) {
    Reply busy = plain_error(503, "busy", "too many request bodies in memory; retry later");
    busy.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_s));
    busy.close_connection = true;
    metrics_.count_outcome(Outcome::unavailable);
    return respond(connection, r, busy);
  }
  return MHD_YES;
}

void HttpServer::completed(Request* request) {
  if (request == nullptr) return;
  Request& r = *request;
  if (r.status != 0) {
    metrics_.count_http(r.status);
    if (options_.access_log) {
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - r.start).count();
      char latency[32];
      std::snprintf(latency, sizeof latency, "%.3f", ms);
      std::string line = now_iso8601();
      line += " method=";
      line += log_safe(r.method, 16);
      line += " path=";
      line += log_safe(r.path, 200);
      line += " status=";
      line += std::to_string(r.status);
      line += " event_type=";
      line += r.event_type.empty() ? "-" : r.event_type;
      line += " alert_id=";
      line += r.alert_id.empty() ? "-" : r.alert_id;
      if (!r.error.empty()) {
        line += " error=";
        line += r.error;
      }
      line += " latency_ms=";
      line += latency;
      line += " remote=";
      line += log_safe(r.remote, 64);
      log_.write(line);
    }
  }
  release_body(r);
  delete request;
}

}  // namespace relay
