// tests/bench/bench_bare_mhd.cpp: a bare libmicrohttpd server answering 202 to every POST, the
// baseline of the relay benchmark (tests/bench/relay_vs_nginx.sh, docs/perf/relay.md).
//
// Same server setup as ilert-sumo-relay's HTTP layer (examples/ilert-sumo-relay/server.cpp):
// MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, a pool of --threads event loops on one
// listening socket, the same connection limits. It reads each request body completely (into a
// per-request buffer, as the relay does) and answers a small JSON body of the relay's size and
// shape. By default it does nothing with the body: no parsing, no line, no sender, what is left is
// libmicrohttpd.
//
// --work adds the library's own per-webhook work, on the HTTP worker thread, before the answer:
//   parse  parse_event() of the body (the relay's parse, received_at set);
//   line   parse, then the Sumo line appended (append_sumo_line) to this thread's batch buffer;
//   gzip   parse and line, and each time the thread's batch reaches 1 MiB (the sender's default
//          batch cap) it is compressed with the library's Compressor at the default gzip level,
//          as the relay's sender does, and emptied.
// With --work gzip the server does what every relay built on this library must do per webhook,
// on the same HTTP layer, and nothing else: no queue, no sender thread, no delivery, no metrics,
// no emulator. Measured in the same run as the relay and nginx it shows what that work alone costs
// there, and so what the relay's own machinery adds (docs/perf/relay.md, "the ceiling"). It is a
// yardstick, not a proven bound. A body that does not parse is answered 400.
//
// usage: bench_bare_mhd [--port N (0)] [--threads N (4)] [--max-body BYTES (4194304)]
//                       [--work none|parse|line|gzip (none)]
// Prints `listening on 127.0.0.1:PORT` on stdout, then serves until SIGTERM/SIGINT, and prints
// `requests N` on stderr at exit.
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "delivery/compress.hpp"
#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_line.hpp"

namespace {

constexpr char kAccepted[] = "{\"status\":\"accepted\",\"eventType\":\"alert-created\",\"alertId\":\"8532156\"}";

std::atomic<unsigned long long> g_requests{0};
std::size_t g_max_body = 4u * 1024u * 1024u;

enum class Work { none, parse, line, gzip };
Work g_work = Work::none;
constexpr std::size_t kBatchBytes = 1024u * 1024u;  // SenderConfig's default batch.max_bytes
std::atomic<unsigned long long> g_compressed_bytes{0};
std::atomic<unsigned long long> g_batches{0};

// The library's work on one body, on this (worker) thread. False: the body did not parse.
bool do_work(const std::string& body) {
  ilert_sumo::ParseOptions options;
  options.received_at = std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  const auto parsed = ilert_sumo::parse_event(body, options);
  if (!parsed) return false;
  if (g_work == Work::parse) return true;
  thread_local std::string batch;
  ilert_sumo::append_sumo_line(batch, *parsed);
  batch += '\n';
  if (batch.size() < kBatchBytes) return true;
  if (g_work == Work::gzip) {
    thread_local std::optional<ilert_sumo::detail::Compressor> compressor;
    thread_local std::string compressed;
    if (!compressor) {
      auto made = ilert_sumo::detail::Compressor::create(ilert_sumo::Compression::gzip);
      if (!made) {
        std::fprintf(stderr, "bench_bare_mhd: %s\n", made.error().message.c_str());
        std::abort();
      }
      compressor.emplace(std::move(*made));
    }
    if (!compressor->compress(batch, compressed)) std::abort();
    g_compressed_bytes.fetch_add(compressed.size(), std::memory_order_relaxed);
    g_batches.fetch_add(1, std::memory_order_relaxed);
  }
  batch.clear();
  return true;
}

struct RequestState {
  std::string body;
};

MHD_Result answer(MHD_Connection* connection, unsigned status, const char* body) {
  MHD_Response* response =
      MHD_create_response_from_buffer(std::strlen(body), const_cast<char*>(body), MHD_RESPMEM_PERSISTENT);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, "Content-Type", "application/json");
  const MHD_Result r = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return r;
}

MHD_Result on_request(void*, MHD_Connection* connection, const char*, const char* method, const char*,
                      const char* upload_data, size_t* upload_data_size, void** context) {
  if (*context == nullptr) {  // first call: headers only
    *context = new RequestState;
    return MHD_YES;
  }
  auto* state = static_cast<RequestState*>(*context);
  if (*upload_data_size != 0) {
    if (state->body.size() + *upload_data_size > g_max_body) return MHD_NO;  // drop the connection
    state->body.append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  g_requests.fetch_add(1, std::memory_order_relaxed);
  if (std::strcmp(method, "POST") != 0)
    return answer(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"method\"}");
  if (g_work != Work::none && !do_work(state->body))
    return answer(connection, MHD_HTTP_BAD_REQUEST, "{\"error\":\"invalid\"}");
  return answer(connection, MHD_HTTP_ACCEPTED, kAccepted);
}

void on_completed(void*, MHD_Connection*, void** context, MHD_RequestTerminationCode) {
  delete static_cast<RequestState*>(*context);
  *context = nullptr;
}

unsigned long parse_number(const char* flag, const char* text) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0') {
    std::fprintf(stderr, "bench_bare_mhd: %s needs a number, got '%s'\n", flag, text);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned long port = 0;
  unsigned long threads = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr,
                   "usage: bench_bare_mhd [--port N] [--threads N] [--max-body BYTES] [--work none|parse|line|gzip]\n");
      return 2;
    }
    if (a == "--port") {
      port = parse_number("--port", argv[++i]);
    } else if (a == "--threads") {
      threads = parse_number("--threads", argv[++i]);
    } else if (a == "--max-body") {
      g_max_body = parse_number("--max-body", argv[++i]);
    } else if (a == "--work") {
      const std::string w = argv[++i];
      if (w == "none") {
        g_work = Work::none;
      } else if (w == "parse") {
        g_work = Work::parse;
      } else if (w == "line") {
        g_work = Work::line;
      } else if (w == "gzip") {
        g_work = Work::gzip;
      } else {
        std::fprintf(stderr, "bench_bare_mhd: --work must be none, parse, line or gzip, got '%s'\n", w.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "bench_bare_mhd: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (port > 65535 || threads == 0 || threads > 256) {
    std::fprintf(stderr, "bench_bare_mhd: bad --port or --threads\n");
    return 2;
  }

  // Block the stop signals in every thread (MHD's inherit the mask); main waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Our own listening socket, like the relay (SO_REUSEADDR, no SO_REUSEPORT), non-blocking for the pool.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    std::perror("socket");
    return 1;
  }
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1024) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);

  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, nullptr, nullptr,
      &on_request, nullptr, MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(fd), MHD_OPTION_THREAD_POOL_SIZE,
      static_cast<unsigned int>(threads), MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_PER_IP_CONNECTION_LIMIT, 256u,
      MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(32 * 1024),
      MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_NOTIFY_COMPLETED, &on_completed,
      nullptr, MHD_OPTION_END);
  if (daemon == nullptr) {
    std::fprintf(stderr, "bench_bare_mhd: libmicrohttpd could not start\n");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(ntohs(addr.sin_port)));
  std::fflush(stdout);

  int signo = 0;
  sigwait(&stop, &signo);
  MHD_stop_daemon(daemon);
  ::close(fd);
  std::fprintf(stderr, "requests %llu\n", g_requests.load());
  if (g_work == Work::gzip) {
    std::fprintf(stderr, "batches %llu compressed_bytes %llu\n", g_batches.load(), g_compressed_bytes.load());
  }
  return 0;
}
