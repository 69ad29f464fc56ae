// tests/bench/bench_sender.cpp: producer-side cost of SumoSender::enqueue and end-to-end
// throughput to the local Sumo emulator (an executable, run on demand; figures go to
// docs/perf/sender.md).
//
// Part 1, enqueue cost: ns per event (median and p99 of blocks of 64 calls, over all threads) with 1
// and 8 producer threads, for enqueue_line (a pre-built line) and enqueue(Event) (renders the Sumo
// line in the call), in memory mode and write_ahead mode (fsync never / interval), against a no-op
// HttpClient that answers 200 at once, so the queue drains (Compression::none: the sender thread
// must keep up with the producers for the figure to be the producer's cost, not back-pressure).
// Part 2, end to end: events/s and MB/s from enqueue to acknowledged requests with gzip, to the
// in-process emulator over real libcurl on loopback.
//
// Usage: bench_sender [--events N] [--e2e-events N] [--dir /tmp/...]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "delivery/compress.hpp"
#include "support/fake_http.hpp"
#include "support/sumo_emulator.hpp"

using namespace ilert_sumo;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

Event make_event(int i) {
  AlertCreated e;
  e.received_type = "alert-created";
  e.alert.id = 100000 + i;
  e.alert.summary = "High CPU on web-" + std::to_string(i % 50) + " (checkout service)";
  // Varied text (a deterministic word salad plus numbers) so compression ratios are realistic.
  static const char* const kWords[] = {"disk",  "latency", "p99", "checkout", "kafka",    "lag",   "orders",
                                       "db-01", "timeout", "5xx", "login",    "backup",   "queue", "replica",
                                       "cpu",   "memory",  "oom", "deploy",   "rollback", "pod",   "node"};
  std::string details = "CPU usage above 95% on web-" + std::to_string(i % 50) + ":";
  std::uint32_t x = static_cast<std::uint32_t>(i) * 2654435761u + 12345u;
  for (int k = 0; k < 24; ++k) {
    x = x * 1103515245u + 12345u;
    details += ' ';
    details += kWords[(x >> 16) % 21];
    if (k % 6 == 5) details += "=" + std::to_string((x >> 8) % 10000);
  }
  e.alert.details = details;
  e.alert.event_id = "evt-" + std::to_string(i);
  e.alert.alert_key = "cpu-web-" + std::to_string(i % 50);
  e.alert.severity = 4;
  Alert& a = e.alert;
  NamedRef source;
  source.id = 4711;
  source.name = std::string("Prometheus production");
  a.alert_source = std::move(source);
  a.status = Tagged<Status>{Status::new_alert, "NEW"};
  a.priority = Tagged<Priority>{Priority::high, "HIGH"};
  return e;
}

struct Mode {
  const char* name;
  SpoolMode spool;
  FsyncPolicy fsync;
};

struct Result {
  double median_ns = 0;
  double p99_ns = 0;
  double wall_ns_per_event = 0;
};

Result run_enqueue(const Mode& mode, int threads, int events_per_thread, bool use_events, const std::string& dir) {
  std::filesystem::remove_all(dir);
  SumoConfig c;
  c.url = "http://127.0.0.1:9/receiver/v1/http/benchmarkbenchmarkbenchmark";
  c.allow_insecure_http = true;
  c.compression = Compression::none;
  c.queue.max_bytes = 512ull * 1024 * 1024;
  c.queue.enqueue_timeout = 10s;
  c.batch.max_age = 10ms;
  c.spool.mode = mode.spool;
  c.spool.fsync = mode.fsync;
  c.spool.fsync_interval = 1000ms;
  c.spool.max_bytes = 8ull * 1024 * 1024 * 1024;
  c.spool.segment_bytes = 64ull * 1024 * 1024;
  if (mode.spool != SpoolMode::off) c.spool.dir = dir;
  auto f = finalize(c);
  if (!f) {
    std::fprintf(stderr, "finalize: %s\n", f.error().to_string().c_str());
    std::exit(1);
  }
  auto s = SumoSender::create(std::move(f).value(), std::make_shared<test::FakeHttp>(test::FakeHttp::Mode::null));
  if (!s) {
    std::fprintf(stderr, "create: %s\n", s.error().to_string().c_str());
    std::exit(1);
  }
  auto& sender = *s.value();

  // Inputs prepared up front so only the call is measured.
  std::vector<std::vector<std::string>> lines(static_cast<std::size_t>(threads));
  std::vector<std::vector<Event>> evs(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < events_per_thread; ++i) {
      Event e = make_event(t * events_per_thread + i);
      if (use_events) {
        evs[static_cast<std::size_t>(t)].push_back(std::move(e));
      } else {
        lines[static_cast<std::size_t>(t)].push_back(to_sumo_line(e));
      }
    }
  }
  constexpr int kBlock = 64;
  std::vector<std::vector<double>> samples(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto& mine = samples[static_cast<std::size_t>(t)];
      mine.reserve(static_cast<std::size_t>(events_per_thread / kBlock + 1));
      ++ready;
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i + kBlock <= events_per_thread; i += kBlock) {
        const auto t0 = Clock::now();
        for (int k = i; k < i + kBlock; ++k) {
          const EnqueueStatus st =
              use_events ? sender.enqueue(evs[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)])
                         : sender.enqueue_line(lines[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)]);
          if (st != EnqueueStatus::accepted) ++failures;
        }
        const auto t1 = Clock::now();
        mine.push_back(static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()) /
                       kBlock);
      }
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto w0 = Clock::now();
  go = true;
  for (auto& th : pool) th.join();
  const auto w1 = Clock::now();
  const FlushResult fr = sender.flush(120s);
  sender.shutdown(10s);
  if (failures.load() != 0 || !fr.completed) {
    std::fprintf(stderr, "warning: %d enqueue failures, flush completed=%d\n", failures.load(), fr.completed ? 1 : 0);
  }
  std::vector<double> all;
  for (auto& v : samples) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.median_ns = all[all.size() / 2];
  r.p99_ns = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  r.wall_ns_per_event = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(w1 - w0).count()) /
                        (static_cast<double>(threads) * events_per_thread);
  std::filesystem::remove_all(dir);
  return r;
}

void run_e2e(int events, Compression codec) {
  test::SumoEmulator emu;
  test::EmulatorConfig ec;
  ec.keep_in_memory = false;
  emu.start(ec);
  SumoConfig c;
  c.url = emu.url();
  c.allow_insecure_http = true;
  c.compression = codec;
  c.queue.max_bytes = 256ull * 1024 * 1024;
  c.queue.enqueue_timeout = 60s;
  auto f = finalize(c);
  auto s = SumoSender::create(std::move(f).value());
  if (!s) {
    std::fprintf(stderr, "create: %s\n", s.error().to_string().c_str());
    std::exit(1);
  }
  auto& sender = *s.value();
  std::vector<std::string> lines;
  std::size_t bytes = 0;
  for (int i = 0; i < events; ++i) {
    lines.push_back(to_sumo_line(make_event(i)));
    bytes += lines.back().size() + 1;
  }
  // The bare compressor on the same lines, in the same ~1 MiB requests: the ceiling for this codec.
  double bare_mbs = 0;
  if (codec != Compression::none) {
    auto comp = detail::Compressor::create(codec);
    std::string body;
    std::string out;
    std::size_t done = 0;
    const auto c0 = Clock::now();
    for (const auto& l : lines) {
      if (body.size() + l.size() + 1 > 1024 * 1024) {
        (void)comp->compress(body, out);
        done += body.size();
        body.clear();
      }
      body += l;
      body += '\n';
    }
    (void)comp->compress(body, out);
    done += body.size();
    bare_mbs = static_cast<double>(done) / std::chrono::duration<double>(Clock::now() - c0).count() / 1e6;
  }
  const auto t0 = Clock::now();
  for (const auto& l : lines) sender.enqueue_line(l);
  const FlushResult r = sender.flush(300s);
  const auto t1 = Clock::now();
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  const SenderStats st = sender.stats();
  std::printf("| %-7s | %8d | %8.3f | %10.0f | %7.1f | %7.1f | %5.2f | %8llu | %s |\n", to_string(codec), events, secs,
              events / secs, static_cast<double>(bytes) / secs / 1e6, bare_mbs,
              static_cast<double>(st.delivered_raw_bytes) /
                  static_cast<double>(std::max<std::uint64_t>(1, st.delivered_compressed_bytes)),
              static_cast<unsigned long long>(emu.counters().accepted_requests), r.completed ? "yes" : "NO");
  sender.shutdown(10s);
}

}  // namespace

int main(int argc, char** argv) {
  int events = 200000;
  int e2e_events = 200000;
  std::string dir = "/tmp/ilert-sumo-bench-spool";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--events") events = std::atoi(argv[i + 1]);
    if (a == "--e2e-events") e2e_events = std::atoi(argv[i + 1]);
    if (a == "--dir") dir = argv[i + 1];
  }
  std::printf("line size: %zu bytes\n\n", to_sumo_line(make_event(1)).size() + 1);
  std::printf("## enqueue cost (ns per event; median and p99 of 64-call blocks; wall = total time / events)\n\n");
  std::printf("| mode | call | threads | median ns | p99 ns | wall ns/event |\n|---|---|---|---|---|---|\n");
  const Mode modes[] = {{"memory", SpoolMode::off, FsyncPolicy::never},
                        {"write_ahead fsync=never", SpoolMode::write_ahead, FsyncPolicy::never},
                        {"write_ahead fsync=interval", SpoolMode::write_ahead, FsyncPolicy::interval}};
  for (const Mode& m : modes) {
    for (const bool use_events : {false, true}) {
      for (const int threads : {1, 8}) {
        const Result r = run_enqueue(m, threads, events / threads, use_events, dir);
        std::printf("| %s | %s | %d | %.0f | %.0f | %.0f |\n", m.name, use_events ? "enqueue(Event)" : "enqueue_line",
                    threads, r.median_ns, r.p99_ns, r.wall_ns_per_event);
        std::fflush(stdout);
      }
    }
  }
  {
    // The rendering share of enqueue(Event): append_sumo_line alone into a fresh string.
    std::vector<Event> evs;
    for (int i = 0; i < 20000; ++i) evs.push_back(make_event(i));
    std::vector<double> samples;
    std::size_t sink = 0;
    for (int rep = 0; rep < 5; ++rep) {
      for (std::size_t i = 0; i + 64 <= evs.size(); i += 64) {
        const auto t0 = Clock::now();
        for (std::size_t k = i; k < i + 64; ++k) {
          std::string line;
          line.reserve(768);
          append_sumo_line(line, evs[k]);
          sink += line.size();
        }
        samples.push_back(
            static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()) / 64);
      }
    }
    std::sort(samples.begin(), samples.end());
    std::printf("\nrendering alone (append_sumo_line into a new string), 1 thread: median %.0f ns/event (%zu)\n",
                samples[samples.size() / 2], sink % 10);
  }
  std::printf("\n## end to end: enqueue_line -> emulator (real libcurl, loopback), flush\n\n");
  std::printf(
      "| codec | events | seconds | events/s | MB/s raw | bare compressor MB/s | ratio | requests | complete |\n"
      "|---|---|---|---|---|---|---|---|---|\n");
  run_e2e(e2e_events, Compression::gzip);
  run_e2e(e2e_events, Compression::zstd);
  run_e2e(e2e_events, Compression::none);
  return 0;
}
