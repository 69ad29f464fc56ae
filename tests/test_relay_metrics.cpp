// tests/test_relay_metrics.cpp: the relay's lifecycle metrics, scraped from a real relay process
// [relay][metrics].
//
// client (httplib) -> the built ilert-sumo-relay -> SumoEmulator. After a known set of webhooks,
// /metrics must hold exact counts: events by kind (every label there from the start), the
// time-to-accept / time-to-resolve histograms by priority (counts, sums, buckets) and type
// mismatches by field. One case uses hand-built webhooks with hand-computed values; the other posts
// every fixture (tests/fixtures/valid, examples/samples) and checks the metrics against the lines
// that reached the emulator (their ttaMs/ttrMs, priority, ilertSumoTypeMismatches), so the metrics
// and the line cannot drift apart. `promtool check metrics` runs on the page when promtool is on
// PATH (Debian: package prometheus); otherwise that one check is skipped with a warning.
#include <httplib.h>
#include <rapidjson/document.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/relay_process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ilert_sumo::test::ChildProcess;
using ilert_sumo::test::prometheus_value;
using ilert_sumo::test::RelayProcess;
using ilert_sumo::test::SumoEmulator;
using ilert_sumo::test::TempDir;

namespace {

constexpr std::array<std::int64_t, 13> kBuckets = {30,   60,   120,   300,   600,   900,  1800,
                                                   3600, 7200, 14400, 28800, 43200, 86400};
const std::array<const char*, 4> kPriorities = {"HIGH", "LOW", "other", "none"};
const char* const kTta = "ilert_sumo_relay_time_to_accept_seconds";
const char* const kTtr = "ilert_sumo_relay_time_to_resolve_seconds";

// What one priority's histogram must hold.
struct Expected {
  std::uint64_t count = 0;
  std::int64_t sum_ms = 0;
  std::array<std::uint64_t, kBuckets.size() + 1> buckets{};  // not cumulative; last = +Inf
  void add(std::int64_t ms) {
    ++count;
    sum_ms += ms;
    std::size_t b = 0;
    while (b < kBuckets.size() && ms > kBuckets[b] * 1000) ++b;
    ++buckets[b];
  }
};

double value_or_fail(const std::string& page, const std::string& series) {
  const auto v = prometheus_value(page, series);
  INFO("series " << series);
  REQUIRE(v.has_value());
  return *v;
}

void check_histogram(const std::string& page, const std::string& name, const std::string& priority, const Expected& e) {
  INFO(name << " priority " << priority);
  const std::string labels = "{priority=\"" + priority + "\"";
  CHECK(value_or_fail(page, name + "_count" + labels + "}") == static_cast<double>(e.count));
  CHECK(value_or_fail(page, name + "_sum" + labels + "}") == static_cast<double>(e.sum_ms) / 1000.0);
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
    cumulative += e.buckets[b];
    const std::string le = b < kBuckets.size() ? std::to_string(kBuckets[b]) : "+Inf";
    CHECK(value_or_fail(page, name + "_bucket" + labels + ",le=\"" + le + "\"}") == static_cast<double>(cumulative));
  }
}

std::string scrape(const RelayProcess& relay) {
  auto client = relay.client();
  auto res = client->Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return res->body;
}

// The executable `name` on PATH, or "".
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// `promtool check metrics` on the page: clean (exit 0, no findings), or a visible skip.
void promtool_check(const std::string& page, const TempDir& tmp) {
  const std::string promtool = on_path("promtool");
  if (promtool.empty()) {
    WARN("promtool is not on PATH (Debian: apt-get install prometheus): `promtool check metrics` skipped");
    return;
  }
  const std::string file = tmp / "metrics.txt";
  { std::ofstream(file, std::ios::binary) << page; }
  ChildProcess p("/bin/sh", {"-c", "\"$0\" check metrics < \"$1\" 2>&1", promtool, file}, {}, tmp / "promtool.stderr");
  std::string findings;
  while (auto line = p.read_line(30s)) findings += *line + "\n";
  const auto st = p.wait(30s);
  INFO("promtool check metrics:\n" << findings);
  REQUIRE(st.has_value());
  CHECK(st->ok());
  CHECK(findings.empty());
}

std::vector<std::string> json_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The `priority` label a line stands for: HIGH/LOW as sent, "other" for any other value (a
// non-string one included: the line then carries it as a type mismatch), "none" when absent.
std::string priority_of_line(const rapidjson::Document& line) {
  if (!line.HasMember("priority")) return "none";
  const auto& p = line["priority"];
  if (p.IsString() && std::string(p.GetString()) == "HIGH") return "HIGH";
  if (p.IsString() && std::string(p.GetString()) == "LOW") return "LOW";
  return "other";
}

std::size_t priority_index(const std::string& label) {
  return static_cast<std::size_t>(std::find(kPriorities.begin(), kPriorities.end(), label) - kPriorities.begin());
}

}  // namespace

TEST_CASE("relay metrics: hand-computed lifecycle histograms, events by kind and type mismatches",
          "[program][relay][metrics]") {
  TempDir tmp("ilert-sumo-relay-metrics");
  SumoEmulator emulator;
  emulator.start();
  RelayProcess relay(emulator.url(), {}, {}, tmp.path());

  // Every series is there before the first webhook, at 0.
  const std::string before = scrape(relay);
  for (const auto& row : ilert_sumo::event_type_table()) {
    CHECK(prometheus_value(
              before, "ilert_sumo_relay_events_total{event_type=\"" + std::string(row.canonical_name) + "\"}") == 0.0);
  }
  CHECK(prometheus_value(before, "ilert_sumo_relay_events_total{event_type=\"unknown\"}") == 0.0);
  CHECK(prometheus_value(before, "ilert_sumo_relay_events_total{event_type=\"invalid\"}") == 0.0);
  for (const char* p : kPriorities) {
    CHECK(prometheus_value(before, std::string(kTta) + "_count{priority=\"" + p + "\"}") == 0.0);
    CHECK(prometheus_value(before, std::string(kTtr) + "_bucket{priority=\"" + p + "\",le=\"+Inf\"}") == 0.0);
  }
  CHECK(prometheus_value(before, "ilert_sumo_relay_type_mismatches_total{field=\"other\"}") == 0.0);

  const std::string report = R"("reportTime":"2024-03-14T09:00:00.000Z")";
  struct Hook {
    std::string body;
    std::optional<std::int64_t> tta_ms;  // hand-computed
    std::optional<std::int64_t> ttr_ms;
  };
  const std::vector<Hook> hooks = {
      // Accepted 45.25 s after creation (earliest acceptedAt wins over the later one): le=60.
      {R"({"id":"1","eventType":"alert-acknowledged","priority":"HIGH",)" + report +
           R"(,"responders":[{"status":"ACCEPTED","acceptedAt":"2024-03-14T09:01:00.000Z"},)"
           R"({"status":"ACCEPTED","acceptedAt":"2024-03-14T09:00:45.250Z"}],"timestamp":"2024-03-14T09:05:00.000Z"})",
       45250, std::nullopt},
      // No acceptedAt: the event's own time, 90 min after creation: le=7200.
      {R"({"id":"2","eventType":"incident-acknowledged","priority":"LOW",)" + report +
           R"(,"timestamp":"2024-03-14T10:30:00.000Z"})",
       5400000, std::nullopt},
      // Resolved 27 h later, no priority: past the last bucket (+Inf), label "none".
      {R"({"id":"3","eventType":"alert-resolved",)" + report + R"(,"resolvedOn":"2024-03-15T12:00:00.000Z"})",
       std::nullopt, 97200000},
      // Auto-resolved exactly 30 s later, an unknown priority value: le=30 (bounds are inclusive), "other".
      {R"({"id":"4","eventType":"alert-auto-resolved","priority":"MEDIUM",)" + report +
           R"(,"resolvedOn":"2024-03-14T09:00:30.000Z"})",
       std::nullopt, 30000},
      // A priority of the wrong JSON type: "other", and a type mismatch on `priority`; 600.001 s: le=900.
      {R"({"id":"5","eventType":"alert-resolved","priority":1,)" + report +
           R"(,"resolvedOn":"2024-03-14T09:10:00.001Z"})",
       std::nullopt, 600001},
      // No reportTime: nothing to measure.
      {R"({"id":"6","eventType":"alert-acknowledged","priority":"HIGH","timestamp":"2024-03-14T09:05:00.000Z"})",
       std::nullopt, std::nullopt},
      // Resolved before it was created (skew): never a negative observation.
      {R"({"id":"7","eventType":"alert-resolved","priority":"HIGH",)" + report +
           R"(,"resolvedOn":"2024-03-14T08:59:00.000Z"})",
       std::nullopt, std::nullopt},
      // Created, with two type mismatches (severity as text, comment in iLert's REST object shape).
      {R"({"id":"8","eventType":"alert-created","priority":"HIGH",)" + report +
           R"(,"severity":"critical","comment":{"id":1,"content":"disk full"}})",
       std::nullopt, std::nullopt},
  };
  auto client = relay.client();
  for (const auto& h : hooks) {
    INFO(h.body);
    auto res = client->Post("/ilert", h.body, "application/json");
    REQUIRE(res);
    CHECK(res->status == 202);
  }
  const std::string page = scrape(relay);
  INFO(page);

  std::array<Expected, 4> tta;
  std::array<Expected, 4> ttr;
  tta[priority_index("HIGH")].add(45250);
  tta[priority_index("LOW")].add(5400000);
  ttr[priority_index("none")].add(97200000);
  ttr[priority_index("other")].add(30000);
  ttr[priority_index("other")].add(600001);
  for (std::size_t p = 0; p < kPriorities.size(); ++p) {
    check_histogram(page, kTta, kPriorities[p], tta[p]);
    check_histogram(page, kTtr, kPriorities[p], ttr[p]);
  }
  // Spelled out once, so a wrong bucket rule cannot hide behind the helper above.
  CHECK(prometheus_value(page, std::string(kTta) + "_bucket{priority=\"HIGH\",le=\"30\"}") == 0.0);
  CHECK(prometheus_value(page, std::string(kTta) + "_bucket{priority=\"HIGH\",le=\"60\"}") == 1.0);
  CHECK(prometheus_value(page, std::string(kTta) + "_sum{priority=\"HIGH\"}") == 45.25);
  CHECK(prometheus_value(page, std::string(kTtr) + "_bucket{priority=\"other\",le=\"30\"}") == 1.0);
  CHECK(prometheus_value(page, std::string(kTtr) + "_bucket{priority=\"other\",le=\"600\"}") == 1.0);
  CHECK(prometheus_value(page, std::string(kTtr) + "_bucket{priority=\"other\",le=\"900\"}") == 2.0);
  CHECK(prometheus_value(page, std::string(kTtr) + "_sum{priority=\"other\"}") == 630.001);
  CHECK(prometheus_value(page, std::string(kTtr) + "_bucket{priority=\"none\",le=\"86400\"}") == 0.0);
  CHECK(prometheus_value(page, std::string(kTtr) + "_count{priority=\"none\"}") == 1.0);
  CHECK(prometheus_value(page, std::string(kTtr) + "_count{priority=\"HIGH\"}") == 0.0);

  const std::string ev = "ilert_sumo_relay_events_total{event_type=\"";
  CHECK(prometheus_value(page, ev + "alert-acknowledged\"}") == 3.0);
  CHECK(prometheus_value(page, ev + "alert-resolved\"}") == 3.0);
  CHECK(prometheus_value(page, ev + "alert-auto-resolved\"}") == 1.0);
  CHECK(prometheus_value(page, ev + "alert-created\"}") == 1.0);
  const std::string mm = "ilert_sumo_relay_type_mismatches_total{field=\"";
  CHECK(prometheus_value(page, mm + "priority\"}") == 1.0);
  CHECK(prometheus_value(page, mm + "severity\"}") == 1.0);
  CHECK(prometheus_value(page, mm + "comment\"}") == 1.0);
  CHECK(prometheus_value(page, mm + "other\"}") == 0.0);

  // The lines carry the same numbers as ttaMs/ttrMs (one computation in the library).
  REQUIRE(emulator.wait_for_messages(hooks.size(), 20s));
  std::map<std::string, rapidjson::Document> lines;
  for (const auto& text : emulator.message_texts()) {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    REQUIRE(d.IsObject());
    REQUIRE(d.HasMember("id"));
    lines[d["id"].GetString()] = std::move(d);
  }
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const auto& line = lines[std::to_string(i + 1)];
    INFO("webhook " << i + 1);
    REQUIRE(line.IsObject());
    CHECK(line.HasMember("ttaMs") == hooks[i].tta_ms.has_value());
    CHECK(line.HasMember("ttrMs") == hooks[i].ttr_ms.has_value());
    if (hooks[i].tta_ms && line.HasMember("ttaMs")) CHECK(line["ttaMs"].GetInt64() == *hooks[i].tta_ms);
    if (hooks[i].ttr_ms && line.HasMember("ttrMs")) CHECK(line["ttrMs"].GetInt64() == *hooks[i].ttr_ms);
  }

  promtool_check(page, tmp);
  relay.terminate(15s);
}

TEST_CASE("relay metrics: every fixture and sample, counted exactly as the lines that reached Sumo say",
          "[program][relay][metrics]") {
  TempDir tmp("ilert-sumo-relay-metrics");
  SumoEmulator emulator;
  emulator.start();
  RelayProcess relay(emulator.url(), {}, {}, tmp.path());
  auto client = relay.client();

  std::vector<std::string> files = json_files(ilert_sumo::test::fixture_path("valid"));
  const std::vector<std::string> samples = json_files(ilert_sumo::test::repo_path("examples/samples"));
  REQUIRE(files.size() >= 30);
  REQUIRE(samples.size() >= 14);
  files.insert(files.end(), samples.begin(), samples.end());
  std::size_t invalid_posts = 0;
  for (const auto& file : files) {
    INFO(file);
    auto res = client->Post("/ilert", ilert_sumo::test::read_file(file), "application/json");
    REQUIRE(res);
    if (file.find("malformed") != std::string::npos) {
      CHECK(res->status == 400);
      ++invalid_posts;
    } else {
      CHECK(res->status == 202);
    }
  }
  REQUIRE(invalid_posts >= 1);
  REQUIRE(emulator.wait_for_messages(files.size(), 30s));
  const std::string page = scrape(relay);
  INFO(page);

  // What the lines say.
  std::vector<std::string> canonical;
  for (const auto& row : ilert_sumo::event_type_table()) canonical.emplace_back(row.canonical_name);
  std::map<std::string, std::uint64_t> events;
  for (const auto& name : canonical) events[name] = 0;
  events["unknown"] = 0;
  events["invalid"] = 0;
  std::array<Expected, 4> tta;
  std::array<Expected, 4> ttr;
  std::map<std::string, std::uint64_t> mismatches;
  for (const auto& text : emulator.message_texts()) {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    REQUIRE(d.IsObject());
    REQUIRE(d.HasMember("eventType"));
    const std::string type = d["eventType"].GetString();
    if (type == "ilert-sumo-invalid-payload") {
      ++events["invalid"];
      continue;
    }
    ++events[std::find(canonical.begin(), canonical.end(), type) != canonical.end() ? type : "unknown"];
    const std::size_t p = priority_index(priority_of_line(d));
    if (d.HasMember("ttaMs")) tta[p].add(d["ttaMs"].GetInt64());
    if (d.HasMember("ttrMs")) ttr[p].add(d["ttrMs"].GetInt64());
    if (d.HasMember("ilertSumoTypeMismatches")) {
      for (const auto& f : d["ilertSumoTypeMismatches"].GetArray()) ++mismatches[f.GetString()];
    }
  }
  // The fixture set exercises what is checked (else this test would prove nothing).
  REQUIRE(tta[priority_index("HIGH")].count + tta[priority_index("LOW")].count >= 2);
  REQUIRE(ttr[priority_index("HIGH")].count + ttr[priority_index("LOW")].count >= 2);
  REQUIRE(!mismatches.empty());
  REQUIRE(events["unknown"] >= 1);

  // What /metrics says: exactly the same.
  for (const auto& [label, n] : events) {
    INFO("event_type " << label);
    CHECK(prometheus_value(page, "ilert_sumo_relay_events_total{event_type=\"" + label + "\"}") ==
          static_cast<double>(n));
  }
  for (std::size_t p = 0; p < kPriorities.size(); ++p) {
    check_histogram(page, kTta, kPriorities[p], tta[p]);
    check_histogram(page, kTtr, kPriorities[p], ttr[p]);
  }
  for (const auto& [field, n] : mismatches) {
    INFO("mismatch field " << field);
    CHECK(prometheus_value(page, "ilert_sumo_relay_type_mismatches_total{field=\"" + field + "\"}") ==
          static_cast<double>(n));
  }
  CHECK(prometheus_value(page, "ilert_sumo_relay_type_mismatches_total{field=\"other\"}") == 0.0);

  promtool_check(page, tmp);
  relay.terminate(15s);
}
