// examples/ilert-sumo-relay/main.cpp: ilert-sumo-relay, a webhook relay from iLert to Sumo Logic.
//
// iLert's webhook alert action POSTs each alert event here; the relay validates it (parse_event),
// answers at once (202, or 400 with the parse error), and hands the Sumo line to a SumoSender that
// batches, compresses and delivers it in the background, with a write-ahead disk spool when
// --spool-dir is given. GET /healthz and GET /metrics (Prometheus) show how delivery goes.
// SIGTERM/SIGINT: stop accepting, flush for at most --shutdown-timeout, spool the rest, exit 0.
// Settings: flags or environment variables (see --help and docs/RELAY.md); secrets only from the
// environment or a file. This program uses only the public API of the ilert_sumo library.
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "ilert_sumo/version.hpp"
#include "json_text.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "relay.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Per-request context carried from the pre-routing hook to the logger. cpp-httplib serves one
// connection on one worker thread and calls both hooks on it, so a thread_local is exact.
struct RequestContext {
  bool active = false;
  Clock::time_point start;
  std::string event_type;
  std::string alert_id;
  std::string error;
};
thread_local RequestContext tl_request;

// cpp-httplib (as packaged) listens with a backlog of 5, which drops SYNs when a burst of webhooks
// arrives on new connections. Linux lets listen() be called again to raise it; the listening
// socket is a protected member, hence this subclass.
class HttpServer : public httplib::Server {
 public:
  void raise_backlog() {
    const auto fd = svr_sock_.load();
    if (fd != INVALID_SOCKET) ::listen(fd, SOMAXCONN);
  }
};

std::string regex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void apply(const relay::Reply& reply, httplib::Response& res) {
  res.status = reply.status;
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  if (reply.close_connection) res.set_header("Connection", "close");
  res.set_content(reply.body, reply.content_type);
  tl_request.event_type = reply.event_type;
  tl_request.alert_id = reply.alert_id;
  tl_request.error = reply.error;
}

// Content-Length of the request, or -1 when absent/invalid.
long long content_length(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return -1;
  const std::string v = req.get_header_value("Content-Length");
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(v);
}

std::string format_access_line(const httplib::Request& req, const httplib::Response& res) {
  const auto now = Clock::now();
  double ms = 0;
  if (tl_request.active) ms = std::chrono::duration<double, std::milli>(now - tl_request.start).count();
  char latency[32];
  std::snprintf(latency, sizeof latency, "%.3f", ms);
  std::string line = relay::now_iso8601();
  line += " method=";
  line += relay::log_safe(req.method, 16);
  line += " path=";
  line += relay::log_safe(req.path, 200);
  line += " status=";
  line += std::to_string(res.status);
  line += " event_type=";
  line += tl_request.event_type.empty() ? "-" : tl_request.event_type;
  line += " alert_id=";
  line += tl_request.alert_id.empty() ? "-" : tl_request.alert_id;
  if (!tl_request.error.empty()) {
    line += " error=";
    line += tl_request.error;
  }
  line += " latency_ms=";
  line += latency;
  line += " remote=";
  line += relay::log_safe(req.remote_addr, 64);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  // Signals are taken synchronously by the main thread (sigtimedwait): block them before any
  // thread starts so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const std::vector<std::string> args(argv + 1, argv + argc);
  relay::ParseResult parsed = relay::parse_options(args, relay::environment_map());
  switch (parsed.action) {
    case relay::ParseResult::Action::help:
      std::cout << relay::usage_text();
      return 0;
    case relay::ParseResult::Action::version:
      std::cout << "ilert-sumo-relay " << ilert_sumo::kVersion << "\n";
      return 0;
    case relay::ParseResult::Action::error:
      std::cerr << "ilert-sumo-relay: " << parsed.error << "\n";
      return 2;
    case relay::ParseResult::Action::run:
      break;
  }
  const relay::RelayOptions& options = parsed.options;

  auto finalized = ilert_sumo::finalize(relay::make_sumo_config(options));
  if (!finalized) {
    std::cerr << "ilert-sumo-relay: invalid Sumo configuration: " << finalized.error().to_string() << "\n";
    return 2;
  }
  const std::string sumo_target = finalized->redacted_url();

  relay::LineLog log(2);
  auto sender_or = ilert_sumo::SumoSender::create(std::move(*finalized), nullptr,
                                                  [&log](const ilert_sumo::DeliveryReport& report) {
                                                    if (report.delivered && report.warning.empty()) return;
                                                    std::string m = report.delivered ? "sumo warning: " : "sumo delivery failed: ";
                                                    m += std::to_string(report.events) + " events, " +
                                                         std::to_string(report.attempts) + " attempts, status " +
                                                         std::to_string(report.final_status);
                                                    if (report.error) m += ": " + report.error->to_string();
                                                    if (!report.warning.empty()) m += ": " + relay::log_safe(report.warning, 300);
                                                    log.info(m);
                                                  });
  if (!sender_or) {
    std::cerr << "ilert-sumo-relay: cannot start the Sumo sender: " << sender_or.error().to_string() << "\n";
    log.stop();
    return 1;
  }
  std::unique_ptr<ilert_sumo::SumoSender> sender = std::move(*sender_or);

  relay::Metrics metrics;
  relay::HealthMonitor health(options.degraded_after);
  relay::Relay relay_core(options, *sender, metrics, health);

  HttpServer server;
  const std::size_t threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_max_count(1000000);
  server.set_keep_alive_timeout(options.keep_alive_timeout_s);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_tcp_nodelay(true);

  // Only POST <path> reads a body. Anything else that carries one is answered before it is read
  // (and the connection closed), so no route can be used to make the relay buffer large bodies.
  const std::string webhook_path = options.path;
  server.set_pre_routing_handler([webhook_path](const httplib::Request& req, httplib::Response& res) {
    tl_request.active = true;
    tl_request.start = Clock::now();
    tl_request.event_type.clear();
    tl_request.alert_id.clear();
    tl_request.error.clear();
    if (req.method == "GET" || req.method == "HEAD") {
      if (!req.has_header("Transfer-Encoding") && content_length(req) <= 0) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 400;
      res.set_header("Connection", "close");
      res.set_content("{\"error\":\"bad_request\",\"message\":\"unexpected request body\"}", "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.path == webhook_path) {
      if (req.method == "POST") return httplib::Server::HandlerResponse::Unhandled;
      res.status = 405;
      res.set_header("Allow", "POST");
      res.set_header("Connection", "close");
      res.set_content("{\"error\":\"method_not_allowed\",\"message\":\"POST webhooks here\"}", "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    res.status = 404;
    res.set_header("Connection", "close");
    res.set_content("{\"error\":\"not_found\"}", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });

  // curl and others send `Expect: 100-continue` for large bodies: refuse before the body is sent.
  server.set_expect_100_continue_handler([&](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "POST" && req.path == options.path) {
      if (!relay_core.authorized(req.get_header_value("Authorization"))) {
        auto reply = relay_core.unauthorized();
        reply.close_connection = true;
        apply(reply, res);
        return 401;
      }
      const long long length = content_length(req);
      if (length > static_cast<long long>(options.max_body)) {
        apply(relay_core.too_large(true), res);
        return 413;
      }
    }
    return 100;
  });

  const std::size_t max_body = options.max_body;
  // A refused body (401, 413) is read and thrown away up to this many bytes in total, so the
  // client receives the answer on a healthy connection instead of a reset; past it the relay
  // answers without reading further and closes the connection. Memory stays bounded either way.
  const std::size_t drain_limit = max_body > (static_cast<std::size_t>(-1) / 4) ? max_body : 4 * max_body;
  server.set_payload_max_length(drain_limit);
  server.Post(regex_escape(options.path),
              [&, max_body, drain_limit](const httplib::Request& req, httplib::Response& res,
                                         const httplib::ContentReader& reader) {
                const long long length = content_length(req);
                auto discard_body = [&]() {
                  std::size_t seen = 0;
                  return reader([&](const char*, std::size_t n) { return (seen += n) <= drain_limit; });
                };
                if (!relay_core.authorized(req.get_header_value("Authorization"))) {
                  const bool drained = length <= static_cast<long long>(drain_limit) && discard_body();
                  auto reply = relay_core.unauthorized();
                  reply.close_connection = !drained;
                  apply(reply, res);
                  return;
                }
                if (length > static_cast<long long>(max_body)) {
                  const bool drained = length <= static_cast<long long>(drain_limit) && discard_body();
                  apply(relay_core.too_large(!drained), res);
                  return;
                }
                std::string body;
                if (length > 0) body.reserve(static_cast<std::size_t>(length));
                bool over = false;
                std::size_t total = 0;
                const bool ok = reader([&](const char* data, std::size_t n) {
                  total += n;
                  if (over || body.size() + n > max_body) {  // chunked or unframed body past the limit
                    if (!over) std::string().swap(body);
                    over = true;
                    return total <= drain_limit;
                  }
                  body.append(data, n);
                  return true;
                });
                if (over) {
                  apply(relay_core.too_large(!ok), res);
                  return;
                }
                if (!ok) {
                  res.status = 400;
                  res.set_header("Connection", "close");
                  res.set_content("{\"error\":\"bad_request\",\"message\":\"the body could not be read\"}",
                                  "application/json");
                  return;
                }
                const relay::Reply reply = relay_core.handle_webhook(body);
                apply(reply, res);
                metrics.observe_webhook_latency(Clock::now() - tl_request.start);
              });
  server.Get(regex_escape(options.path), [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "POST");
    res.set_content("{\"error\":\"method_not_allowed\",\"message\":\"POST webhooks here\"}", "application/json");
  });
  server.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) { apply(relay_core.healthz(), res); });
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    apply(relay_core.metrics(log.dropped()), res);
  });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* code = res.status == 404 ? "not_found" : res.status == 413 ? "too_large" : "bad_request";
    res.set_content(std::string("{\"error\":\"") + code + "\"}", "application/json");
  });
  const bool access_log = options.access_log;
  server.set_logger([&](const httplib::Request& req, const httplib::Response& res) {
    metrics.count_http(res.status);
    if (access_log) log.write(format_access_line(req, res));
    tl_request.active = false;  // a request httplib rejects before routing has no context
    tl_request.event_type.clear();
    tl_request.alert_id.clear();
    tl_request.error.clear();
  });

  int port = options.listen_port;
  if (port == 0) {
    port = server.bind_to_any_port(options.listen_host);
  } else if (!server.bind_to_port(options.listen_host, port)) {
    port = -1;
  }
  if (port < 0) {
    std::cerr << "ilert-sumo-relay: cannot listen on " << options.listen_host << ":" << options.listen_port << "\n";
    sender->shutdown(options.shutdown_timeout);
    log.stop();
    return 1;
  }
  server.raise_backlog();
  const bool ipv6 = options.listen_host.find(':') != std::string::npos;
  const std::string where = (ipv6 ? "[" + options.listen_host + "]" : options.listen_host) + ":" + std::to_string(port);
  std::printf("listening on %s\n", where.c_str());
  std::fflush(stdout);
  log.info("listening on " + where + ", POST " + options.path + " -> " + sumo_target +
           (options.spool_dir.empty() ? std::string(" (no spool)") : " (write-ahead spool " + options.spool_dir + ")") +
           (options.basic_auth.empty() ? ", no authentication" : ", Basic authentication on"));

  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool server_done = false;
  std::thread server_thread([&] {
    server.listen_after_bind();
    std::lock_guard<std::mutex> lock(done_mutex);
    server_done = true;
    done_cv.notify_all();
  });

  // stop() only works once the accept loop runs: wait for it (bounded) before taking signals.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) {
    std::lock_guard<std::mutex> lock(done_mutex);
    if (server_done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  // Wait for SIGTERM/SIGINT (or the server stopping on its own).
  int signal_number = 0;
  for (;;) {
    const timespec tick{0, 200 * 1000 * 1000};
    const int s = sigtimedwait(&stop_signals, nullptr, &tick);
    if (s > 0) {
      signal_number = s;
      break;
    }
    std::lock_guard<std::mutex> lock(done_mutex);
    if (server_done) break;
  }
  const auto deadline = Clock::now() + options.shutdown_timeout;
  log.info(signal_number != 0 ? std::string("received ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") +
                                    ", shutting down (deadline " +
                                    std::to_string(options.shutdown_timeout.count()) + " ms)"
                              : std::string("the HTTP server stopped, shutting down"));

  // 1. Stop accepting; requests still in flight get 503 once the sender is closed.
  relay_core.begin_shutdown();
  server.stop();
  // 2. Flush what is queued; at the deadline the sender aborts the transfer and spools the rest.
  const auto margin = std::chrono::milliseconds(100);
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) - margin;
  if (remaining.count() < 0) remaining = std::chrono::milliseconds(0);
  const ilert_sumo::FlushResult result = sender->shutdown(remaining);
  const auto stats = sender->stats();
  log.info("shutdown: delivered " + std::to_string(result.delivered) + ", spooled " + std::to_string(result.spooled) +
           ", still pending (lost) " + std::to_string(result.pending) + ", dropped " + std::to_string(result.dropped) +
           (result.completed ? "" : " (deadline reached)") +
           "; webhooks accepted " + std::to_string(metrics.outcome_count(relay::Outcome::accepted)) + ", invalid " +
           std::to_string(metrics.outcome_count(relay::Outcome::invalid)));
  // 3. Worker threads end when their connections do; don't wait past the deadline for idle
  //    keep-alive connections: everything accepted is delivered or spooled by now.
  bool joined = false;
  {
    std::unique_lock<std::mutex> lock(done_mutex);
    joined = done_cv.wait_until(lock, deadline + margin, [&] { return server_done; });
  }
  if (!joined) {
    log.info("exiting with idle connections still open");
    log.stop();
    std::fflush(stdout);
    std::_Exit(0);
  }
  server_thread.join();
  log.stop();
  return 0;
}
