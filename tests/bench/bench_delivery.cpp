// tests/bench/bench_delivery.cpp: throughput of synchronous delivery (SumoClient) from events to
// acknowledged requests, per codec, against the in-process Sumo emulator over real libcurl on
// loopback, next to the two reference points of issue 3 measured in the same run on the same lines:
//   (a) the naive baseline: one POST per event (SumoClient with max_events = 1), same codec;
//   (b) the bare compressor alone on the same ~1 MiB requests at the same level: libdeflate for
//       gzip/deflate when built with it (as the library), else zlib; zstd for zstd; context reused,
//       as the library does. zlib is also shown for gzip/deflate.
// Targets: delivery >= 70 % of (b) for each codec, and >= 10x (a).
//
// The emulator runs in this process, on the same (2, shared) cores, so its work is inside the
// figures. It is a "sink" (every body decoded and split into lines; no UTF-8 check, nothing stored;
// --verify turns both on) in two variants: 'inline' decodes before answering (the client waits for
// it), 'deferred' answers first and decodes on its own thread, as Sumo acknowledges and processes
// elsewhere. To show where the time goes the run also measures: the library alone against an
// HttpClient that answers 200 at once (rendering + batching + compression, no network, no server),
// rendering the Sumo lines alone (to_sumo_line), the emulator's decoding alone (decode_body), and
// the naive baseline and delivery with 1 ms of server latency per request (loopback has no RTT).
//
// Usage: bench_delivery [--events N] [--reps R] [--naive-events N] [--verify]
// Figures and the command: docs/perf/delivery.md.
#include <zlib.h>
#ifdef ILERT_SUMO_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "support/fake_http.hpp"
#include "support/sumo_emulator.hpp"

using namespace ilert_sumo;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Data: varied, realistic iLert events (ids, summaries, 100-900 bytes of details from a word list
// with numbers), so compression ratios resemble real webhook traffic.

Event make_event(std::uint32_t i) {
  static const char* const kWords[] = {"disk",   "latency", "p99",    "checkout", "kafka",    "lag",   "orders",
                                       "db-01",  "timeout", "5xx",    "login",    "backup",   "queue", "replica",
                                       "cpu",    "memory",  "oom",    "deploy",   "rollback", "pod",   "node",
                                       "region", "eu-west", "failed", "retry",    "upstream", "dns",   "tls"};
  constexpr std::uint32_t kNumWords = sizeof kWords / sizeof kWords[0];
  std::uint32_t x = i * 2654435761u + 0x9e3779b9u;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  const Status statuses[] = {Status::new_alert, Status::pending, Status::accepted, Status::resolved};
  const char* const status_names[] = {"NEW", "PENDING", "ACCEPTED", "RESOLVED"};
  const std::uint32_t s = next() % 4;

  AlertCreated e;
  e.received_type = "alert-created";
  e.alert.id = 8500000 + static_cast<std::int64_t>(i);
  e.alert.summary = std::string("[FIRING:1] ") + kWords[next() % kNumWords] + " " + kWords[next() % kNumWords] +
                    " on prod-" + kWords[next() % kNumWords] + "-" + std::to_string(next() % 64);
  std::string details;
  const std::size_t want = 100 + next() % 800;
  while (details.size() < want) {
    details += kWords[next() % kNumWords];
    details += next() % 5 == 0 ? "=" + std::to_string(next() % 100000) + " " : " ";
  }
  e.alert.details = details;
  e.alert.status = Tagged<Status>{statuses[s], status_names[s]};
  e.alert.priority = Tagged<Priority>{next() % 2 ? Priority::high : Priority::low, x % 2 ? "HIGH" : "LOW"};
  const std::string when = "2024-03-14T09:" + std::to_string(10 + i % 50) + ":" + std::to_string(10 + i % 49) + "." +
                           std::to_string(100 + i % 900) + "Z";
  e.alert.report_time = Timestamp{when, parse_iso8601(when)};
  e.alert.alert_key = "alertmanager-" + std::to_string(next() % 100000);
  e.alert.alert_source =
      NamedRef{static_cast<std::int64_t>(next() % 40), std::string("source-") + kWords[i % kNumWords]};
  e.alert.escalation_policy =
      NamedRef{static_cast<std::int64_t>(next() % 10), std::string("policy-") + kWords[x % kNumWords]};
  User u;
  u.id = static_cast<std::int64_t>(next() % 200);
  u.username = std::string("user") + std::to_string(*u.id);
  u.first_name = "Jane";
  u.last_name = kWords[next() % kNumWords];
  u.email = *u.username + "@example.com";
  e.alert.assigned_to = u;
  e.alert.event_id = "evt-" + std::to_string(i) + "-" + std::to_string(next());
  return Event{std::move(e)};
}

// ---------------------------------------------------------------------------------------------
// Bare compressors, context reused like the library's Compressor.

class Bare {
 public:
  virtual ~Bare() = default;
  virtual std::size_t compress(const std::string& in, std::string& out) = 0;
};

class ZlibBare final : public Bare {
 public:
  ZlibBare(int level, bool gzip) {
    if (deflateInit2(&zs_, level, Z_DEFLATED, gzip ? 16 + MAX_WBITS : MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("deflateInit2");
    }
  }
  ~ZlibBare() override { deflateEnd(&zs_); }
  std::size_t compress(const std::string& in, std::string& out) override {
    deflateReset(&zs_);
    out.resize(deflateBound(&zs_, static_cast<uLong>(in.size())));
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = reinterpret_cast<Bytef*>(&out[0]);
    zs_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
    out.resize(out.size() - zs_.avail_out);
    return out.size();
  }

 private:
  z_stream zs_{};
};

#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
class LibdeflateBare final : public Bare {
 public:
  LibdeflateBare(int level, bool gzip) : c_(libdeflate_alloc_compressor(level)), gzip_(gzip) {
    if (!c_) throw std::runtime_error("libdeflate_alloc_compressor");
  }
  ~LibdeflateBare() override { libdeflate_free_compressor(c_); }
  std::size_t compress(const std::string& in, std::string& out) override {
    const std::size_t bound =
        gzip_ ? libdeflate_gzip_compress_bound(c_, in.size()) : libdeflate_zlib_compress_bound(c_, in.size());
    out.resize(bound);
    const std::size_t n = gzip_ ? libdeflate_gzip_compress(c_, in.data(), in.size(), &out[0], out.size())
                                : libdeflate_zlib_compress(c_, in.data(), in.size(), &out[0], out.size());
    if (n == 0) throw std::runtime_error("libdeflate compress");
    out.resize(n);
    return n;
  }

 private:
  libdeflate_compressor* c_;
  bool gzip_;
};
#endif

#ifdef ILERT_SUMO_HAVE_ZSTD
class ZstdBare final : public Bare {
 public:
  explicit ZstdBare(int level) : c_(ZSTD_createCCtx()), level_(level) {}
  ~ZstdBare() override { ZSTD_freeCCtx(c_); }
  std::size_t compress(const std::string& in, std::string& out) override {
    out.resize(ZSTD_compressBound(in.size()));
    const std::size_t n = ZSTD_compressCCtx(c_, &out[0], out.size(), in.data(), in.size(), level_);
    if (ZSTD_isError(n)) throw std::runtime_error("zstd");
    out.resize(n);
    return n;
  }

 private:
  ZSTD_CCtx* c_;
  int level_;
};
#endif

struct CodecConfig {
  const char* name;
  Compression codec;
  int level;
};

/// The bare compressor the library would use for this codec (libdeflate when built with it).
std::unique_ptr<Bare> library_equivalent(const CodecConfig& c, const char** impl) {
  switch (c.codec) {
    case Compression::gzip:
    case Compression::deflate:
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
      *impl = "libdeflate";
      return std::make_unique<LibdeflateBare>(c.level, c.codec == Compression::gzip);
#else
      *impl = "zlib";
      return std::make_unique<ZlibBare>(c.level, c.codec == Compression::gzip);
#endif
    case Compression::zstd:
#ifdef ILERT_SUMO_HAVE_ZSTD
      *impl = "zstd";
      return std::make_unique<ZstdBare>(c.level);
#else
      *impl = "n/a";
      return nullptr;
#endif
    case Compression::none: break;
  }
  *impl = "-";
  return nullptr;
}

/// Lines cut into requests as delivery cuts them (<= 1 MiB including each '\n', <= 10 000 lines).
std::vector<std::string> cut_requests(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  std::string cur;
  std::size_t n = 0;
  for (const auto& l : lines) {
    if (!cur.empty() && (cur.size() + l.size() + 1 > 1024 * 1024 || n == 10000)) {
      out.push_back(std::move(cur));
      cur.clear();
      n = 0;
    }
    cur += l;
    cur.push_back('\n');
    ++n;
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

/// One measurement: wall-clock seconds, and CPU seconds of the whole process (all threads: client,
/// curl, emulator workers and decoder), which other processes on the shared cores do not inflate.
struct Sample {
  double wall = 0;
  double cpu = 0;
};

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// Starts a wall + CPU stopwatch.
struct Stopwatch {
  Clock::time_point wall0 = Clock::now();
  double cpu0 = cpu_now();
  double wall() const { return seconds_since(wall0); }
  double cpu() const { return cpu_now() - cpu0; }
};

struct Row {
  std::vector<Sample> bare;           // library-equivalent compressor
  std::vector<Sample> zlib;           // zlib (gzip/deflate rows)
  std::vector<Sample> decode;         // emulator decode_body alone
  std::vector<Sample> library;        // send(events) to an HttpClient that answers 200 at once
  std::vector<Sample> inline_ev;      // send(events), emulator decodes before answering
  std::vector<Sample> deferred_ev;    // send(events), emulator answers, then decodes (cpu: until decoded)
  std::vector<Sample> deferred_ln;    // send_lines(lines), same
  std::vector<Sample> deferred_seq;   // send(events), deferred emulator, compression_threads = 0
  std::vector<Sample> bare_parallel;  // the bare compressor on pool_threads threads
  std::vector<double> naive_eps;      // one POST per event, same codec
  std::size_t wire_bytes = 0;
  std::size_t requests = 0;
  const char* impl = "-";
};

/// MB/s from samples: median and best (the best of N approximates an idle machine).
struct Rate {
  double median = 0;
  double best = 0;
  double cpu_median = 0;
};

Rate rate(const std::vector<Sample>& v, double mb) {
  Rate r;
  if (v.empty()) return r;
  std::vector<double> wall;
  std::vector<double> cpu;
  for (const auto& x : v) {
    wall.push_back(mb / x.wall);
    cpu.push_back(mb / x.cpu);
  }
  r.median = median(wall);
  r.best = *std::max_element(wall.begin(), wall.end());
  r.cpu_median = median(cpu);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n_events = 40000;
  int reps = 5;
  std::size_t naive_events = 2000;
  bool verify = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--events")
      n_events = std::strtoul(next(), nullptr, 10);
    else if (a == "--reps")
      reps = std::atoi(next());
    else if (a == "--naive-events")
      naive_events = std::strtoul(next(), nullptr, 10);
    else if (a == "--verify")
      verify = true;
    else {
      std::fprintf(stderr, "usage: bench_delivery [--events N] [--reps R] [--naive-events N] [--verify]\n");
      return 2;
    }
  }
  if (n_events == 0 || reps < 1 || naive_events == 0) return 2;
  // What SumoConfig::compression_threads = -1 (automatic) resolves to.
  const unsigned pool_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);

  // --- data ---
  std::vector<Event> events;
  events.reserve(n_events);
  for (std::size_t i = 0; i < n_events; ++i) events.push_back(make_event(static_cast<std::uint32_t>(i)));
  std::vector<std::string> lines;
  lines.reserve(n_events);
  std::size_t raw = 0;
  for (const auto& e : events) {
    lines.push_back(to_sumo_line(e));
    raw += lines.back().size() + 1;
  }
  const std::vector<std::string> requests = cut_requests(lines);
  const double raw_mb = static_cast<double>(raw) / 1e6;
  std::printf("data: %zu events, %.1f MB of Sumo lines (avg %.0f B/line), %zu requests of <= 1 MiB; %d reps, medians\n",
              n_events, raw_mb, static_cast<double>(raw) / static_cast<double>(n_events), requests.size(), reps);

  // --- two emulators: decoding before the answer, and after it ---
  test::EmulatorConfig inline_cfg;
  inline_cfg.keep_in_memory = verify;
  inline_cfg.validate_utf8 = verify;
  test::EmulatorConfig deferred_cfg = inline_cfg;
  deferred_cfg.decode_after_answer = true;
  test::SumoEmulator inline_emu;
  test::SumoEmulator deferred_emu;
  inline_emu.start(inline_cfg);
  deferred_emu.start(deferred_cfg);
  std::printf(
      "emulators: in-process, %s; 'inline' decodes each body before answering, 'deferred' answers\n"
      "  first and decodes on its own thread (as Sumo, which decodes on other machines)\n",
      verify ? "verify mode (UTF-8 check, messages stored)"
             : "sink mode (every body decoded and split; no UTF-8 check, nothing stored)");

  auto client_for = [&](const test::SumoEmulator& emu, Compression codec, int level, std::size_t max_events,
                        int threads, std::shared_ptr<HttpClient> http = nullptr) {
    SumoConfig c;
    c.compression_threads = threads;
    c.url = emu.url();
    c.allow_insecure_http = true;
    c.compression = codec;
    c.compression_level = level;
    c.batch.max_events = max_events;
    auto f = finalize(c);
    if (!f) {
      std::fprintf(stderr, "finalize: %s\n", f.error().to_string().c_str());
      std::exit(1);
    }
    return std::make_unique<SumoClient>(std::move(f).value(), std::move(http));
  };

  std::vector<CodecConfig> configs = {{"none", Compression::none, 0}, {"gzip", Compression::gzip, 1},
                                      {"gzip", Compression::gzip, 6}, {"deflate", Compression::deflate, 6},
                                      {"zstd", Compression::zstd, 1}, {"zstd", Compression::zstd, 3}};
  configs.erase(std::remove_if(configs.begin(), configs.end(),
                               [](const CodecConfig& c) { return !compression_available(c.codec); }),
                configs.end());

  std::size_t failures = 0;
  // Every delivery must arrive completely: counted at the emulator (deferred: once decoded).
  auto delivered_all = [&](const test::SumoEmulator& emu, std::uint64_t before, std::size_t n,
                           const DeliverySummary& s) {
    if (!s.all_delivered()) return false;
    return emu.wait_for_messages(static_cast<std::size_t>(before + n), std::chrono::seconds(60));
  };

  std::vector<Row> rows(configs.size());
  std::vector<std::unique_ptr<SumoClient>> inline_clients;
  std::vector<std::unique_ptr<SumoClient>> deferred_clients;
  std::vector<std::unique_ptr<SumoClient>> naive_clients;
  std::vector<std::unique_ptr<SumoClient>> null_clients;
  std::vector<std::unique_ptr<SumoClient>> sequential_clients;
  const std::vector<Event> warm(events.begin(),
                                events.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(100, n_events)));
  const std::vector<Event> naive_sample(events.begin(),
                                        events.begin() + static_cast<std::ptrdiff_t>(std::min(naive_events, n_events)));
  for (const auto& c : configs) {
    inline_clients.push_back(client_for(inline_emu, c.codec, c.level, 10000, -1));
    deferred_clients.push_back(client_for(deferred_emu, c.codec, c.level, 10000, -1));
    sequential_clients.push_back(client_for(deferred_emu, c.codec, c.level, 10000, 0));
    // The naive sender compresses and POSTs each event in turn: no pipeline.
    naive_clients.push_back(client_for(deferred_emu, c.codec, c.level, 1, 0));
    // The library's own cost on one thread (compare with the bare compressor, one thread).
    auto null_http = std::make_shared<test::FakeHttp>(test::FakeHttp::Mode::null);
    null_clients.push_back(client_for(deferred_emu, c.codec, c.level, 10000, 0, std::move(null_http)));
    // Warm up: connection, allocator, compressor context, compression threads.
    for (auto* cl : {inline_clients.back().get(), deferred_clients.back().get(), sequential_clients.back().get(),
                     naive_clients.back().get()}) {
      if (!cl->send(warm).all_delivered()) ++failures;
    }
  }

  std::vector<double> render_s;
  std::string out;
  for (int rep = 0; rep < reps; ++rep) {
    {
      const auto t0 = Clock::now();
      std::size_t sink = 0;
      std::string line;
      for (const auto& e : events) {
        line.clear();
        append_sumo_line(line, e);
        sink += line.size();
      }
      render_s.push_back(seconds_since(t0));
      if (sink == 0) return 1;
    }
    for (std::size_t k = 0; k < configs.size(); ++k) {
      const auto& c = configs[k];
      Row& row = rows[k];
      std::vector<std::string> compressed;
      if (auto bare = library_equivalent(c, &row.impl)) {
        Stopwatch sw;
        std::size_t wire = 0;
        for (const auto& r : requests) {
          wire += bare->compress(r, out);
          compressed.push_back(out);
        }
        row.bare.push_back({sw.wall(), sw.cpu()});
        row.wire_bytes = wire;
      } else {
        compressed = requests;
        row.wire_bytes = raw;
      }
      // The bare compressor on `pool_threads` threads, requests dealt round robin: what the
      // pipeline's compression threads could do at best with nothing else to do.
      std::vector<std::unique_ptr<Bare>> bares;
      for (unsigned t = 0; t < pool_threads; ++t) {
        if (auto b = library_equivalent(c, &row.impl)) bares.push_back(std::move(b));
      }
      if (!bares.empty()) {
        Stopwatch sw;
        std::vector<std::thread> workers;
        for (unsigned t = 0; t < pool_threads; ++t) {
          workers.emplace_back([&, t] {
            std::string o;
            for (std::size_t i = t; i < requests.size(); i += pool_threads) bares[t]->compress(requests[i], o);
          });
        }
        for (auto& w : workers) w.join();
        row.bare_parallel.push_back({sw.wall(), sw.cpu()});
      }
      if (c.codec == Compression::gzip || c.codec == Compression::deflate) {
        ZlibBare z(c.level, c.codec == Compression::gzip);
        Stopwatch sw;
        for (const auto& r : requests) z.compress(r, out);
        row.zlib.push_back({sw.wall(), sw.cpu()});
      }
      {
        const char* enc = c.codec == Compression::none ? "" : to_string(c.codec);
        Stopwatch sw;
        for (const auto& w : compressed) {
          if (test::decode_body(enc, w, 1024 * 1024).status != 200) ++failures;
        }
        row.decode.push_back({sw.wall(), sw.cpu()});
      }
      {
        Stopwatch sw;
        const auto s = null_clients[k]->send(events);
        row.library.push_back({sw.wall(), sw.cpu()});
        if (!s.all_delivered()) ++failures;
      }
      // One timed delivery of all events: wall clock until send() returns; CPU until the emulator
      // has counted every message (deferred: decoded).
      auto timed = [&](const test::SumoEmulator& emu, auto&& send) {
        const auto before = emu.counters().messages;
        Stopwatch sw;
        const DeliverySummary s = send();
        const double wall = sw.wall();
        row.requests = s.requests.size();
        if (!delivered_all(emu, before, n_events, s)) ++failures;
        return Sample{wall, sw.cpu()};
      };
      row.inline_ev.push_back(timed(inline_emu, [&] { return inline_clients[k]->send(events); }));
      row.deferred_ev.push_back(timed(deferred_emu, [&] { return deferred_clients[k]->send(events); }));
      row.deferred_seq.push_back(timed(deferred_emu, [&] { return sequential_clients[k]->send(events); }));
      row.deferred_ln.push_back(timed(deferred_emu, [&] { return deferred_clients[k]->send_lines(lines); }));
      {
        const auto before = deferred_emu.counters().messages;
        const auto t0 = Clock::now();
        const auto s = naive_clients[k]->send(naive_sample);
        row.naive_eps.push_back(static_cast<double>(naive_sample.size()) / seconds_since(t0));
        if (!delivered_all(deferred_emu, before, naive_sample.size(), s)) ++failures;
      }
      if (verify) {
        inline_emu.clear_records();
        deferred_emu.clear_records();
      }
    }
  }

  // --- with 1 ms of server latency per request (a LAN-like round trip; loopback has none) ---
  std::vector<std::vector<double>> latency_runs(configs.size());
  std::vector<double> latency_naive_runs;
  deferred_emu.set_delay(std::chrono::milliseconds(1));
  const std::vector<Event> latency_sample(
      naive_sample.begin(),
      naive_sample.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(300, naive_sample.size())));
  for (int rep = 0; rep < std::max(3, reps / 2); ++rep) {
    {
      const auto before = deferred_emu.counters().messages;
      const auto t0 = Clock::now();
      const auto s = naive_clients[0]->send(latency_sample);
      latency_naive_runs.push_back(static_cast<double>(latency_sample.size()) / seconds_since(t0));
      if (!delivered_all(deferred_emu, before, latency_sample.size(), s)) ++failures;
    }
    for (std::size_t k = 0; k < configs.size(); ++k) {
      const auto before = deferred_emu.counters().messages;
      const auto t0 = Clock::now();
      const auto s = deferred_clients[k]->send(events);
      latency_runs[k].push_back(static_cast<double>(n_events) / seconds_since(t0));
      if (!delivered_all(deferred_emu, before, n_events, s)) ++failures;
    }
  }
  deferred_emu.set_delay(std::chrono::milliseconds(0));
  std::vector<double> latency_eps;
  for (const auto& runs : latency_runs) latency_eps.push_back(median(runs));
  const double latency_naive = median(latency_naive_runs);

  // --- report ---
  auto pct = [](double a, double b) {
    char buf[32] = "-";
    if (a > 0 && b > 0) std::snprintf(buf, sizeof buf, "%.0f %%", a / b * 100);
    return std::string(buf);
  };
  auto mbs = [](const Rate& r) {
    char buf[48] = "-";
    if (r.median > 0) std::snprintf(buf, sizeof buf, "%.0f (%.0f)", r.median, r.best);
    return std::string(buf);
  };
  std::printf("\nrendering the Sumo lines alone (to_sumo_line): %.0f MB/s, %.0f k events/s\n",
              raw_mb / median(render_s), static_cast<double>(n_events) / median(render_s) / 1e3);

  std::printf(
      "\n1. Throughput, wall clock. MB/s = uncompressed MB of Sumo lines per second: median (best) of %d;\n"
      "   %% = median vs the bare compressor's median.\n\n",
      reps);
  std::printf(
      "   Delivery columns use the default compression_threads (automatic: %u here) unless marked\n"
      "   '0 threads'; 'library alone' is on one thread. bare xN = the bare compressor on N threads.\n\n",
      pool_threads);
  std::printf(
      "| codec | level | ratio | bare impl | bare MB/s | bare x%u MB/s | zlib MB/s | library alone MB/s | %% | "
      "deferred, 0 threads MB/s | %% | inline emulator MB/s | %% | deferred emulator MB/s | %% | %% of bare x%u | "
      "deferred, lines MB/s |\n",
      pool_threads, pool_threads);
  std::printf("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  bool bare_met = true;
  bool naive_met = true;
  std::vector<Rate> deferred_rates;
  for (std::size_t k = 0; k < configs.size(); ++k) {
    const auto& c = configs[k];
    const Row& r = rows[k];
    const Rate bare = rate(r.bare, raw_mb);
    const Rate lib = rate(r.library, raw_mb);
    const Rate inl = rate(r.inline_ev, raw_mb);
    const Rate def = rate(r.deferred_ev, raw_mb);
    const Rate seq = rate(r.deferred_seq, raw_mb);
    const Rate par = rate(r.bare_parallel, raw_mb);
    deferred_rates.push_back(def);
    if (bare.median > 0 && def.median / bare.median < 0.70) bare_met = false;
    std::printf("| %s | %d | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c.name,
                c.level, static_cast<double>(raw) / static_cast<double>(r.wire_bytes), r.impl, mbs(bare).c_str(),
                mbs(par).c_str(), mbs(rate(r.zlib, raw_mb)).c_str(), mbs(lib).c_str(),
                pct(lib.median, bare.median).c_str(), mbs(seq).c_str(), pct(seq.median, bare.median).c_str(),
                mbs(inl).c_str(), pct(inl.median, bare.median).c_str(), mbs(def).c_str(),
                pct(def.median, bare.median).c_str(), pct(def.median, par.median).c_str(),
                mbs(rate(r.deferred_ln, raw_mb)).c_str());
  }

  std::printf(
      "\n2. CPU cost: MB per CPU-second of the whole process (client, curl, emulator), median; not\n"
      "   inflated by other processes on the shared cores.\n\n");
  std::printf(
      "| codec | level | bare | library alone | %% | emulator decode alone | deferred, 0 threads | "
      "inline, client+emulator | deferred, client+emulator |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (std::size_t k = 0; k < configs.size(); ++k) {
    const Row& r = rows[k];
    const Rate bare = rate(r.bare, raw_mb);
    const Rate lib = rate(r.library, raw_mb);
    char bare_text[32] = "-";
    if (bare.cpu_median > 0) std::snprintf(bare_text, sizeof bare_text, "%.0f", bare.cpu_median);
    std::printf("| %s | %d | %s | %.0f | %s | %.0f | %.0f | %.0f | %.0f |\n", configs[k].name, configs[k].level,
                bare_text, lib.cpu_median, pct(lib.cpu_median, bare.cpu_median).c_str(),
                rate(r.decode, raw_mb).cpu_median, rate(r.deferred_seq, raw_mb).cpu_median,
                rate(r.inline_ev, raw_mb).cpu_median, rate(r.deferred_ev, raw_mb).cpu_median);
  }

  const double naive_none = median(rows[0].naive_eps);
  std::printf(
      "\n3. Events/s: delivery (deferred emulator, median) vs the naive baseline (one POST per event,\n"
      "   keep-alive, %zu events, median), on loopback and with 1 ms of server latency per request\n"
      "   (emulator --delay 1; naive: %zu events; medians).\n\n",
      naive_sample.size(), latency_sample.size());
  std::printf(
      "| codec | level | delivery events/s | naive, same codec | vs naive | vs naive none | "
      "0 threads: events/s | 0 threads: vs naive | 1 ms: delivery events/s | 1 ms: vs naive none (%.2f k/s) |\n",
      latency_naive / 1e3);
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (std::size_t k = 0; k < configs.size(); ++k) {
    const Row& r = rows[k];
    const double bytes_per_event = static_cast<double>(raw) / static_cast<double>(n_events);
    const double eps = deferred_rates[k].median * 1e6 / bytes_per_event;
    const double seq_eps = rate(r.deferred_seq, raw_mb).median * 1e6 / bytes_per_event;
    const double naive = median(r.naive_eps);
    if (eps / naive < 10) naive_met = false;
    std::printf("| %s | %d | %.0f k | %.1f k | %.1fx | %.1fx | %.0f k | %.1fx | %.0f k | %.0fx |\n", configs[k].name,
                configs[k].level, eps / 1e3, naive / 1e3, eps / naive, eps / naive_none, seq_eps / 1e3, seq_eps / naive,
                latency_eps[k] / 1e3, latency_eps[k] / latency_naive);
  }
  std::printf("\n%zu requests per delivery run; %s\n", rows[0].requests,
              failures == 0 ? "every run delivered every event (counted at the emulator)" : "FAILURES seen");
  std::printf("target >= 70 %% of bare (deferred, medians): %s; target >= 10x naive of the same codec (loopback): %s\n",
              bare_met ? "met" : "MISSED", naive_met ? "met" : "MISSED");
  return failures == 0 ? 0 : 1;
}
