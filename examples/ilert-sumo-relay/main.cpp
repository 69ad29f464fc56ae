// examples/ilert-sumo-relay/main.cpp: ilert-sumo-relay, a webhook relay from iLert to Sumo Logic.
//
// iLert's webhook alert action POSTs each alert event here; the relay validates it (parse_event),
// answers at once (202, or 400 with the parse error), and hands the Sumo line to a SumoSender that
// batches, compresses and delivers it in the background, with a write-ahead disk spool when
// --spool-dir is given. GET /healthz and GET /metrics (Prometheus) show how delivery goes.
// SIGTERM/SIGINT: stop accepting, flush for at most --shutdown-timeout, spool the rest, exit 0.
// SIGHUP: send what is queued now and keep running (settings are not re-read), so a reload or a
// hang-up never kills the relay unflushed.
// Settings: flags, environment variables or a --config file (see --help and docs/RELAY.md);
// secrets only from the environment or a file. Exit status: 0, 1 runtime failure, 2 usage or
// configuration error (examples/common/cli.hpp's convention). This program uses only the public API of the ilert_sumo
// library; its HTTP server is libmicrohttpd (server.cpp), the request handling is HTTP-free (relay.cpp).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "ilert_sumo/version.hpp"
#include "../common/cli.hpp"
#include "json_text.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "relay.hpp"
#include "server.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// The listening socket, bound here rather than by libmicrohttpd so that its options are explicit:
// SO_REUSEADDR (restart while old connections linger in TIME_WAIT; on Linux it never lets a
// second socket listen on the same port) and never SO_REUSEPORT, so a second relay on the same
// port fails instead of taking a share of the traffic. Returns the fd (listening) or -1 + error.
int open_listener(const std::string& host, int port, int& bound_port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    error = std::string("cannot resolve the host: ") + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (ai->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) break;
    const int e = errno;
    error = e == EADDRINUSE ? "the address is already in use (is another relay or server running on this port?)"
                            : std::strerror(e);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(list);
  if (fd < 0) return -1;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound_port = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                            : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  return fd;
}

// Every connection is a descriptor: raise the soft limit to the hard one so --max-connections
// is what limits them, not EMFILE.
void raise_descriptor_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Signals are taken synchronously by the main thread (sigtimedwait): block them before any
  // thread starts so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const std::vector<std::string> args(argv + 1, argv + argc);
  relay::ParseResult parsed = relay::parse_options(args, relay::environment_map());
  switch (parsed.action) {
    case relay::ParseResult::Action::help:
    case relay::ParseResult::Action::version:
      std::fputs(parsed.text.c_str(), stdout);
      return std::fflush(stdout) == 0 ? 0 : 1;
    case relay::ParseResult::Action::error:
      return parsed.usage ? ilert_sumo_cli::usage_error("ilert-sumo-relay", parsed.error)
                          : ilert_sumo_cli::config_error("ilert-sumo-relay", parsed.error);
    case relay::ParseResult::Action::run: break;
  }
  const relay::RelayOptions& options = parsed.options;

  auto finalized = ilert_sumo::finalize(relay::make_sumo_config(options));
  if (!finalized) {
    return ilert_sumo_cli::config_error("ilert-sumo-relay",
                                        "invalid Sumo configuration: " + finalized.error().to_string());
  }
  const std::string sumo_target = finalized->redacted_url();

  relay::LineLog log(2);
  auto sender_or = ilert_sumo::SumoSender::create(
      std::move(*finalized), nullptr,
      [&log](const ilert_sumo::DeliveryReport& report) {
        if (report.delivered && report.warning.empty()) return;
        std::string m = report.delivered ? "sumo warning: " : "sumo delivery failed: ";
        m += std::to_string(report.events) + " events, " + std::to_string(report.attempts) + " attempts, status " +
             std::to_string(report.final_status);
        if (report.error) m += ": " + report.error->to_string();
        if (!report.warning.empty()) m += ": " + relay::log_safe(report.warning, 300, /*keep_spaces=*/true);
        log.info(m);
      },
      // Spool damage, evictions, spool-full refusals, losses.
      [&log](const ilert_sumo::Error& notice) {
        log.info("sender: " + relay::log_safe(notice.to_string(), 500, /*keep_spaces=*/true));
      });
  if (!sender_or) {
    std::cerr << "ilert-sumo-relay: cannot start the Sumo sender: " << sender_or.error().to_string() << "\n";
    log.stop();
    return 1;
  }
  std::unique_ptr<ilert_sumo::SumoSender> sender = std::move(*sender_or);

  relay::Metrics metrics(options.invalid_status);
  relay::HealthMonitor health(options.degraded_after);
  relay::Relay relay_core(options, *sender, metrics, health);

  raise_descriptor_limit();
  int port = options.listen_port;
  std::string listen_error;
  const int listen_fd = open_listener(options.listen_host, options.listen_port, port, listen_error);
  if (listen_fd < 0) {
    std::cerr << "ilert-sumo-relay: cannot listen on " << options.listen_host << ":" << options.listen_port << ": "
              << listen_error << "\n";
    sender->shutdown(options.shutdown_timeout);
    log.stop();
    return 1;
  }
  relay::HttpServer server(options, relay_core, metrics, log);
  if (const std::string err = server.start(listen_fd); !err.empty()) {
    std::cerr << "ilert-sumo-relay: cannot serve HTTP: " << err << "\n";
    sender->shutdown(options.shutdown_timeout);
    log.stop();
    return 1;
  }
  const bool ipv6 = options.listen_host.find(':') != std::string::npos;
  const std::string where = (ipv6 ? "[" + options.listen_host + "]" : options.listen_host) + ":" + std::to_string(port);
  std::printf("listening on %s\n", where.c_str());
  std::fflush(stdout);
  log.info("listening on " + where + ", POST " + options.path + " -> " + sumo_target +
           (options.spool_dir.empty() ? std::string(" (no spool)") : " (write-ahead spool " + options.spool_dir + ")") +
           (options.proxy.empty() ? std::string() : " via proxy " + ilert_sumo::redact_url(options.proxy)) +
           (options.basic_auth.empty() && options.auth_header.empty()
                ? std::string(", no authentication")
                : std::string(", authentication:") + (options.basic_auth.empty() ? "" : " Basic") +
                      (options.auth_header.empty() ? "" : " header " + relay::log_safe(options.auth_header, 64))) +
           (options.overflow == ilert_sumo::OverflowPolicy::spill ? ", a full queue spills to the spool" : "") +
           (options.invalid_status == 400 ? "" : ", invalid bodies answered 202"));

  // Wait for SIGTERM/SIGINT. SIGHUP asks the sender to send everything queued now (without
  // waiting for the batch age; flush(0) only starts it, so a SIGTERM right after is not delayed)
  // and the relay keeps running.
  int signal_number = 0;
  for (;;) {
    const timespec tick{0, 200 * 1000 * 1000};
    const int s = sigtimedwait(&stop_signals, nullptr, &tick);
    if (s == SIGHUP) {
      const auto before = sender->stats();
      sender->flush(std::chrono::milliseconds(0));
      log.info("received SIGHUP: sending the queue now (" + std::to_string(before.queue_events) +
               " events queued); the relay keeps running, settings are not re-read");
      continue;
    }
    if (s > 0) {
      signal_number = s;
      break;
    }
  }
  const auto deadline = Clock::now() + options.shutdown_timeout;
  log.info(std::string("received ") + (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down (deadline " +
           std::to_string(options.shutdown_timeout.count()) + " ms)");

  // 1. Stop accepting; requests still in flight get 503 once the sender is closed, and every
  //    answer from now on closes its connection.
  relay_core.begin_shutdown();
  server.quiesce();
  // 2. Flush what is queued; at the deadline the sender aborts the transfer and spools the rest.
  const auto margin = std::chrono::milliseconds(100);
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) - margin;
  if (remaining.count() < 0) remaining = std::chrono::milliseconds(0);
  const ilert_sumo::FlushResult result = sender->shutdown(remaining);
  const auto stats = sender->stats();
  log.info("shutdown: delivered " + std::to_string(result.delivered) + ", spooled " + std::to_string(result.spooled) +
           ", lost at the deadline " + std::to_string(result.lost_at_deadline) + ", refused " +
           std::to_string(stats.refused_total()) + " (queue full " + std::to_string(stats.dropped_queue_full) +
           ", spool full " + std::to_string(stats.refused_spool_full) + ", spool error " +
           std::to_string(stats.refused_spool_error) + ", too large " + std::to_string(stats.dropped_too_large) +
           "), dropped after acceptance " + std::to_string(stats.lost_total()) + " (permanent error " +
           std::to_string(stats.dropped_permanent_error) + ", budget exhausted " +
           std::to_string(stats.dropped_budget_exhausted) + ", spool evicted " +
           std::to_string(stats.dropped_spool_evicted) + ", spool damaged " +
           std::to_string(stats.dropped_spool_corrupt) + ", spool error " + std::to_string(stats.dropped_spool_error) +
           ", at shutdown " + std::to_string(stats.dropped_at_shutdown) + ", oldest " +
           std::to_string(stats.dropped_oldest) + ")" + (result.completed ? "" : " (deadline reached)") +
           "; webhooks accepted " + std::to_string(metrics.outcome_count(relay::Outcome::accepted)) + ", invalid " +
           std::to_string(metrics.outcome_count(relay::Outcome::invalid)) + "; log lines dropped " +
           std::to_string(log.dropped()));
  // 3. Close the remaining connections and stop the HTTP threads, but never past the deadline:
  //    everything accepted is delivered or spooled by now.
  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool server_stopped = false;
  std::thread stopper([&] {
    server.stop();
    std::lock_guard<std::mutex> lock(done_mutex);
    server_stopped = true;
    done_cv.notify_all();
  });
  bool joined = false;
  {
    std::unique_lock<std::mutex> lock(done_mutex);
    joined = done_cv.wait_until(lock, deadline + margin, [&] { return server_stopped; });
  }
  if (!joined) {
    log.info("exiting with connections still open");
    log.stop(Clock::now() + margin);
    std::fflush(stdout);
    std::_Exit(0);
  }
  stopper.join();
  // 4. The log writer never holds the exit past the deadline (stderr may be a pipe nobody reads).
  if (!log.stop(std::max(deadline + margin, Clock::now() + margin))) {
    std::fflush(stdout);
    std::_Exit(0);
  }
  return 0;
}
