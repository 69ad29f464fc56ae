// tests/bench/bench_parse.cpp: parse and Sumo-line throughput on a generated webhook corpus.
//
// Generates ~10 000 realistic iLert webhook bodies deterministically (fixed seed: same bytes on
// every run and machine; mostly 0.5-3 KB, ~4% of 5-40 KB; every event type, a few legacy and
// unknown names, unicode raw and escaped, surrogate pairs, responders, links, labels), then in one
// run measures, as the median of several repetitions (text style per payload: see kAscii below):
//   (a) parse_event over every body (all validation on)            -> MB/s, events/s
//   (b) a bare rapidjson::Document::Parse of the same bytes, no conversion to structs -> MB/s
//       (a new Document per body, and one reusing a pooled allocator: RapidJSON at its fastest)
//   (c) to_sumo_line over the parsed events, append_sumo_line into a reused buffer, and
//       append_sumo_line into 1 MiB batches, line after line (as BatchBuilder::add_event does for
//       SumoClient::send): its time per line should be the reused buffer's, whatever the batch holds
// and prints a table plus the ratio typed/DOM. Figures are medians of this thread's CPU time (the
// machine is shared); wall-clock MB/s is printed alongside. Not a test: run it on demand
// (build/bin/bench_parse).
//
// usage: bench_parse [--count N] [--reps N] [--only typed|dom|line]
//   --only runs one group of measures (for `perf record`).
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_line.hpp"

using namespace ilert_sumo;

namespace {

// ---------------------------------------------------------------------------------------------
// Deterministic generator

struct Rng {
  std::uint64_t state;
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <class T, std::size_t N>
  const T& pick(const T (&items)[N]) {
    return items[below(N)];
  }
};

// Words. Text style is chosen per payload, as alert text comes from the monitoring tool and the
// team: 70% plain ASCII, 20% with some accented Latin words, 10% international (CJK, Cyrillic,
// emoji). Every style has multi-line details (`\n`) and a few JSON escapes (quotes, backslashes,
// tabs, `\u00e9`, an escaped surrogate pair).
const char* const kAscii[] = {"disk",        "usage",      "above",      "threshold",    "on",
                              "prod-db-01",  "latency",    "p99",        "checkout",     "api",
                              "error",       "rate",       "5xx",        "kafka",        "consumer",
                              "lag",         "orders",     "ingest",     "memory",       "pressure",
                              "worker",      "node",       "pod",        "restarted",    "CrashLoopBackOff",
                              "certificate", "expires",    "in",         "days",         "replication",
                              "delay",       "primary",    "replica",    "queue",        "depth",
                              "backup",      "failed",     "heartbeat",  "missing",      "TLS",
                              "handshake",   "timeout",    "upstream",   "connect",      "refused",
                              "for",         "the",        "last",       "10",           "minutes",
                              "since",       "2024-03-14", "host",       "eu-central-1", "us-east-2",
                              "cluster",     "service",    "50%",        "<b>html</b>",  "a/b/c",
                              "x=1&y=2",     "(critical)", "[FIRING:1]", "value=92.4"};
const char* const kLatin[] = {"Müller",  "café",  "naïve",  "Überlauf", "señal",     "Fehler",
                              "système", "Größe", "réseau", "Ärger",    "São Paulo", "Łódź"};
const char* const kIntl[] = {"日本語", "障害", "監視", "サーバー",     "сервер", "ошибка",
                             "🔥",      "🚨",    "✅",    "데이터베이스", "故障",   "Ελλάδα"};
const char* const kEscaped[] = {"\\u00e9t\\u00e9", "\\ud83d\\ude80", "\\\"quoted\\\"", "tab\\there", "C:\\\\temp"};

enum class Style { ascii, latin, intl };
Style g_style = Style::ascii;  // of the payload being generated

const char* const kFirst[] = {"Marta", "Julien", "Sora", "Adaeze", "Klaus", "Lucía", "Wei", "Priya", "Ana", "Tom"};
const char* const kLast[] = {"Kowalski",  "Dubois", "Nakamura", "Okafor", "Müller",
                             "Fernández", "Zhang",  "Iyer",     "Silva",  "O'Brien"};
const char* const kSources[] = {"Prometheus Alertmanager (production)",
                                "Datadog: checkout service",
                                "Grafana alerting",
                                "Sentry: login-svc",
                                "Uptime monitor: shop",
                                "Heartbeat: nightly backup",
                                "AWS CloudWatch eu-central-1",
                                "Zabbix DC Frankfurt"};
const char* const kPolicies[] = {"Database on-call", "Payments team (follow the sun)", "Platform on-call",
                                 "Identity on-call", "Default escalation policy",      "Backups (business hours)"};
const char* const kTypes[] = {"alert-created",           "alert-acknowledged",     "alert-assigned",
                              "alert-auto-escalated",    "alert-raised",           "alert-resolved",
                              "alert-auto-resolved",     "alert-comment-added",    "alert-responder-added",
                              "alert-responder-removed", "alert-channel-attached", "alert-channel-detached"};
const char* const kLegacy[] = {"incident-created",        "incident-acknowledged", "incident-assigned",
                               "incident-auto-escalated", "incident-raised",       "incident-resolved",
                               "incident-auto-resolved",  "incident-comment-added"};
const char* const kUnknown[] = {"alert-escalation-ended", "v-alert-not-resolved", "alert-rejected"};
const char* const kStatus[] = {"PENDING", "ACCEPTED", "RESOLVED"};

std::string words(Rng& rng, std::size_t min_bytes) {
  std::string s;
  while (s.size() < min_bytes) {
    if (!s.empty()) s += rng.chance(8) ? "\\n" : " ";
    const std::size_t roll = rng.below(100);
    if (roll < 3) {
      s += rng.pick(kEscaped);
    } else if (g_style == Style::latin && roll < 13) {
      s += rng.pick(kLatin);
    } else if (g_style == Style::intl && roll < 33) {
      s += rng.pick(kIntl);
    } else {
      s += rng.pick(kAscii);
    }
  }
  return s;
}

std::string digits(Rng& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng.below(i == 0 ? 9 : 10) + (i == 0 ? 1 : 0));
  return s;
}

std::string uuid(Rng& rng) {
  static const char hex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 36; ++i) s += (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[rng.below(16)];
  return s;
}

std::string iso(Rng& rng, int fraction_digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2024-%02d-%02dT%02d:%02d:%02d", static_cast<int>(1 + rng.below(12)),
                static_cast<int>(1 + rng.below(28)), static_cast<int>(rng.below(24)), static_cast<int>(rng.below(60)),
                static_cast<int>(rng.below(60)));
  std::string s = buf;
  if (fraction_digits > 0) {
    s += '.';
    for (int i = 0; i < fraction_digits; ++i) s += static_cast<char>('0' + rng.below(10));
  }
  s += 'Z';
  return s;
}

std::string user(Rng& rng) {
  const std::size_t i = rng.below(10);
  std::string s = "{\"id\": " + digits(rng, 5) + ", \"username\": \"user" + std::to_string(i) +
                  "\", \"firstName\": \"" + kFirst[i] + "\", \"lastName\": \"" + kLast[rng.below(10)] +
                  "\", \"email\": \"user" + std::to_string(i) + "@example.com\"}";
  return s;
}

std::string make_body(Rng& rng) {
  const unsigned kind = static_cast<unsigned>(rng.below(100));
  const char* type = kind < 93 ? rng.pick(kTypes) : (kind < 98 ? rng.pick(kLegacy) : rng.pick(kUnknown));
  const std::size_t style = rng.below(100);
  g_style = style < 70 ? Style::ascii : (style < 90 ? Style::latin : Style::intl);
  const bool big = rng.chance(4);
  const bool modern = rng.chance(85);
  std::string b;
  b.reserve(4096);
  b += "{\n  \"id\": ";
  b += rng.chance(90) ? "\"" + digits(rng, 8) + "\"" : digits(rng, 7);
  b += ",\n  \"eventType\": \"";
  b += type;
  b += "\",\n  \"summary\": \"" + words(rng, 30 + rng.below(60)) + "\"";
  b += ",\n  \"details\": \"" + words(rng, big ? 5000 + rng.below(35000) : 80 + rng.below(900)) + "\"";
  b += ",\n  \"status\": \"";
  b += rng.pick(kStatus);
  b += "\"";
  if (modern) b += std::string(",\n  \"priority\": \"") + (rng.chance(70) ? "HIGH" : "LOW") + "\"";
  b += ",\n  \"reportTime\": \"" + iso(rng, 3) + "\"";
  b += std::string(",\n  \"") + (modern ? "alertKey" : "incidentKey") + "\": \"" + words(rng, 10) + "\"";
  b += ",\n  \"alertSource\": {\"id\": " + digits(rng, 6) + ", \"name\": \"" + rng.pick(kSources) + "\"}";
  b += ",\n  \"escalationPolicy\": {\"id\": " + digits(rng, 4) + ", \"name\": \"" + rng.pick(kPolicies) + "\"}";
  b += ",\n  \"assignedTo\": " + (rng.chance(15) ? std::string("null") : user(rng));
  const std::size_t responders = rng.chance(3) ? 20 + rng.below(30) : rng.below(4);
  b += ",\n  \"responders\": [";
  for (std::size_t i = 0; i < responders; ++i) {
    if (i) b += ", ";
    const bool accepted = rng.chance(40);
    b += "{\"user\": " + user(rng) + ", \"status\": \"" + (accepted ? "ACCEPTED" : "PENDING") + "\"";
    if (accepted) b += ", \"acceptedAt\": \"" + iso(rng, 3) + "\"";
    b += "}";
  }
  b += "]";
  if (rng.chance(30)) b += ",\n  \"resolvedOn\": \"" + iso(rng, 3) + "\"";
  const std::size_t links = rng.below(3);
  b += ",\n  \"links\": [";
  for (std::size_t i = 0; i < links; ++i) {
    if (i) b += ", ";
    b += "{\"href\": \"https://grafana.example.com/d/" + digits(rng, 6) + "?var-host=" + words(rng, 5) +
         "\", \"text\": \"" + words(rng, 12) + "\"}";
  }
  b += "]";
  if (rng.chance(30)) {
    b += ",\n  \"images\": [{\"src\": \"https://grafana.example.com/render/" + digits(rng, 6) +
         ".png\", \"href\": \"https://grafana.example.com/d/" + digits(rng, 6) + "\", \"alt\": \"" + words(rng, 10) +
         "\"}]";
  }
  if (std::strstr(type, "comment") != nullptr) b += ",\n  \"comment\": \"" + words(rng, 40 + rng.below(200)) + "\"";
  if (modern) {
    b += ",\n  \"timestamp\": \"" + iso(rng, static_cast<int>(rng.below(10))) + "\"";
    b += ",\n  \"eventId\": \"" + uuid(rng) + "\"";
    b += ",\n  \"correlationId\": \"" + uuid(rng) + "\"";
  }
  if (rng.chance(40)) {
    b += ",\n  \"labels\": {\"team\": \"" + words(rng, 3) + "\", \"env\": \"production\", \"tier\": " + digits(rng, 1) +
         "}";
  }
  if (rng.chance(25)) {
    b += ",\n  \"customDetails\": {\"value\": 92.4, \"tags\": [\"a\", \"b\"], \"nested\": {\"ok\": true, \"n\": null}}";
  }
  if (rng.chance(20)) b += ",\n  \"nextEscalation\": \"" + iso(rng, 3) + "\", \"unknownFutureField\": [1, 2, 3]";
  b += "\n}\n";
  return b;
}

// ---------------------------------------------------------------------------------------------
// Timing

// The figures use this thread's CPU time: on a shared 2-core machine wall time mostly measures the
// neighbours. Wall time is kept too and printed as a cross-check.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Timing {
  double cpu;   // median thread CPU seconds
  double wall;  // median wall seconds
};

template <class F>
Timing median_seconds(int reps, F&& pass) {
  pass();  // warm-up
  std::vector<double> cpu;
  std::vector<double> wall;
  for (int i = 0; i < reps; ++i) {
    const double c0 = thread_cpu_seconds();
    const auto w0 = std::chrono::steady_clock::now();
    pass();
    const auto w1 = std::chrono::steady_clock::now();
    cpu.push_back(thread_cpu_seconds() - c0);
    wall.push_back(std::chrono::duration<double>(w1 - w0).count());
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  return {cpu[cpu.size() / 2], wall[wall.size() / 2]};
}

volatile std::size_t g_sink = 0;

void row(const char* name, Timing t, double bytes, double events) {
  if (t.cpu <= 0) return;  // not measured (--only)
  std::printf("%-40s %9.4f %10.1f %12.0f %9.1f\n", name, t.cpu, bytes / t.cpu / 1e6, events / t.cpu,
              bytes / t.wall / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 10000;
  int reps = 7;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = static_cast<std::size_t>(std::strtoull(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench_parse [--count N] [--reps N] [--only typed|dom|line]\n");
      return 2;
    }
  }

  Rng rng{20240314};
  std::vector<std::string> bodies;
  bodies.reserve(count);
  double total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    bodies.push_back(make_body(rng));
    total += static_cast<double>(bodies.back().size());
  }
  std::vector<std::size_t> sizes;
  for (const auto& b : bodies) sizes.push_back(b.size());
  std::sort(sizes.begin(), sizes.end());

  // Every generated body must parse (it is the point of the corpus) and parse the same in DOM.
  std::vector<Event> events;
  events.reserve(count);
  for (const auto& b : bodies) {
    auto r = parse_event(b);
    if (!r) {
      std::fprintf(stderr, "generated body does not parse: %s\n%s\n", r.error().to_string().c_str(), b.c_str());
      return 1;
    }
    rapidjson::Document d;
    if (d.Parse(b.data(), b.size()).HasParseError()) {
      std::fprintf(stderr, "RapidJSON rejects a generated body\n%s\n", b.c_str());
      return 1;
    }
    events.push_back(std::move(*r));
  }

  std::size_t non_ascii = 0;
  std::size_t backslashes = 0;
  for (const auto& b : bodies) {
    for (const char c : b) {
      non_ascii += static_cast<unsigned char>(c) >= 0x80 ? 1 : 0;
      backslashes += c == '\\' ? 1 : 0;
    }
  }
  const double n = static_cast<double>(count);
  std::printf("corpus: %zu payloads, %.2f MB, size min %zu / median %zu / p95 %zu / max %zu bytes, %d reps (median)\n",
              count, total / 1e6, sizes.front(), sizes[sizes.size() / 2], sizes[sizes.size() * 95 / 100], sizes.back(),
              reps);
  std::printf("        non-ASCII bytes %.2f%%, backslashes %.2f%% of the corpus\n",
              100.0 * static_cast<double>(non_ascii) / total, 100.0 * static_cast<double>(backslashes) / total);

  const auto measure = [&](const char* group, auto&& pass) -> Timing {
    if (!only.empty() && only != group) return {0, 0};
    return median_seconds(reps, pass);
  };
  const Timing typed = measure("typed", [&] {
    std::size_t ok = 0;
    for (const auto& b : bodies) ok += parse_event(b).has_value() ? 1 : 0;
    g_sink = g_sink + ok;
  });
  const Timing dom = measure("dom", [&] {
    std::size_t ok = 0;
    for (const auto& b : bodies) {
      rapidjson::Document d;
      ok += d.Parse(b.data(), b.size()).HasParseError() ? 0 : 1;
    }
    g_sink = g_sink + ok;
  });
  const Timing dom_pooled = measure("dom", [&] {
    std::size_t ok = 0;
    static char buffer[256 * 1024];
    rapidjson::MemoryPoolAllocator<> pool(buffer, sizeof buffer);
    for (const auto& b : bodies) {
      {
        rapidjson::Document d(&pool);
        ok += d.Parse(b.data(), b.size()).HasParseError() ? 0 : 1;
      }
      pool.Clear();
    }
    g_sink = g_sink + ok;
  });
  double line_bytes = 0;
  for (const auto& e : events) line_bytes += static_cast<double>(to_sumo_line(e).size());
  const Timing line = measure("line", [&] {
    std::size_t bytes = 0;
    for (const auto& e : events) bytes += to_sumo_line(e).size();
    g_sink = g_sink + bytes;
  });
  const Timing line_append = measure("line", [&] {
    std::string buf;
    std::size_t bytes = 0;
    for (const auto& e : events) {
      buf.clear();
      append_sumo_line(buf, e);
      bytes += buf.size();
    }
    g_sink = g_sink + bytes;
  });
  // One batch buffer for every repetition, touched once before: the repetitions measure the
  // writing, not the kernel handing out fresh pages.
  constexpr std::size_t kBatch = std::size_t{1} << 20;
  std::string batch(2 * kBatch, '\0');
  const Timing line_batch = measure("line", [&] {
    batch.clear();
    std::size_t bytes = 0;
    for (const auto& e : events) {
      if (batch.size() >= kBatch) {
        bytes += batch.size();
        batch.clear();
      }
      append_sumo_line(batch, e);
      batch += '\n';
    }
    g_sink = g_sink + bytes + batch.size();
  });

  std::printf("\n%-40s %9s %10s %12s %9s\n", "measure (lines: output bytes)", "cpu s", "MB/s", "events/s", "wall MB/s");
  row("(a) parse_event, typed, all validation", typed, total, n);
  row("(b) rapidjson Document::Parse, new doc", dom, total, n);
  row("(b') rapidjson Document::Parse, pooled", dom_pooled, total, n);
  row("(c) to_sumo_line", line, line_bytes, n);
  row("(c') append_sumo_line, reused buffer", line_append, line_bytes, n);
  row("(c'') append_sumo_line, 1 MiB batches", line_batch, line_bytes, n);
  if (line_append.cpu > 0 && line_batch.cpu > 0) {
    std::printf("\nratio batches/reused buffer: %.2f (1.0: a line costs the line, not the batch it joins)\n",
                line_batch.cpu / line_append.cpu);
  }
  if (typed.cpu > 0 && dom.cpu > 0) {
    std::printf(
        "\nratio typed/DOM (new doc): %.2f   typed/DOM (pooled): %.2f   (recorded, no target since issue 9; CPU "
        "time)\n",
        dom.cpu / typed.cpu, dom_pooled.cpu / typed.cpu);
  }
  std::printf("sumo line bytes / body bytes: %.2f\n", line_bytes / total);
  return 0;
}
