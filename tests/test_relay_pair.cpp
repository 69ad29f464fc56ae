// tests/test_relay_pair.cpp: two relays, one service [relay][pair] (issue 12, point 6).
//
// Two ilert-sumo-relay processes, each with its own write-ahead spool (--spool-dir), deliver to
// one SumoEmulator (in this process), as two relays behind a load balancer would. Two client
// threads post distinct valid webhooks alternately to relay A and relay B (webhook i goes to relay
// i % 2; every fourth webhook is posted to the other relay as well, like a retry that the load
// balancer sends elsewhere). Relay B is SIGKILLed while both streams run and restarted on the same
// port and spool directory. Then:
//   * every webhook that got a 202 (from either relay) reaches the emulator at least once; copies
//     carry the same dedupId;
//   * the same webhook gives the same line whichever relay took it: lines compared with the
//     receipt-dependent keys removed (`receivedAt` always; `time`, `ttaMs`, `ttrMs` for bodies
//     without `timestamp`, where they derive from the receipt time), `dedupId` equal (`eventId`
//     when the body has one, the content hash otherwise).
// A webhook that got no answer from B while it was dead (connection refused, or the request in
// flight at the kill) is posted to A instead, which iLert's own sender would not do.
// No sleeps: every wait is a condition with a deadline, every loop is bounded; loopback only.
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/catch.hpp"
#include "support/codecs.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/sumo_emulator.hpp"
#include "support/wait.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ilert_sumo::test::ChildProcess;
using ilert_sumo::test::SumoEmulator;
using ilert_sumo::test::wait_until;

using ilert_sumo::test::TempDir;

namespace {

std::string read_text(const std::string& path) {
  try {
    return ilert_sumo::test::read_file(path);
  } catch (...) {
    return "";
  }
}

// One relay process on `listen` (port 0 at first start), named by --source-name so the emulator's
// records tell which relay delivered a line (the name is a request header, not part of the line).
struct PairRelay {
  std::unique_ptr<ChildProcess> process;
  std::string stderr_path;
  int port = 0;

  PairRelay(const std::string& sumo_url, const std::string& name, const fs::path& spool, int listen_port,
            const fs::path& log) {
    std::map<std::string, std::optional<std::string>> env;
    for (const char* v : {"ILERT_SUMO_URL_FILE", "ILERT_SUMO_ENDPOINT", "ILERT_SUMO_TOKEN", "ILERT_SUMO_TOKEN_FILE",
                          "ILERT_SUMO_RELAY_BASIC_AUTH", "ILERT_SUMO_RELAY_BASIC_AUTH_FILE", "ILERT_SUMO_RELAY_LISTEN",
                          "ILERT_SUMO_RELAY_SPOOL_DIR", "ILERT_SUMO_RELAY_SPOOL_MAX_BYTES", "ILERT_SUMO_RELAY_CATEGORY",
                          "ILERT_SUMO_RELAY_SOURCE_NAME", "ILERT_SUMO_RELAY_PATH"}) {
      env.emplace(v, std::nullopt);
    }
    env["ILERT_SUMO_URL"] = sumo_url;
    const std::vector<std::string> args = {"--listen",      "127.0.0.1:" + std::to_string(listen_port),
                                           "--batch-age",   "50ms",
                                           "--spool-dir",   spool.string(),
                                           "--source-name", name,
                                           "--access-log",  "off"};
    stderr_path = log.string();
    const std::string program = ilert_sumo::test::bin_path("ilert-sumo-relay");
    REQUIRE(fs::exists(program));
    process = std::make_unique<ChildProcess>(program, args, env, stderr_path);
    const auto line = process->read_line(30s);
    INFO(name << " stderr: " << read_text(stderr_path));
    REQUIRE(line.has_value());
    const auto p = ilert_sumo::test::parse_listening_port(*line);
    REQUIRE(p.has_value());
    port = *p;
  }

  void check_no_sanitizer_report() const {
    const std::string log = read_text(stderr_path);
    INFO("relay stderr: " << log);
    CHECK(log.find("Sanitizer") == std::string::npos);
    CHECK(log.find("runtime error:") == std::string::npos);
  }
};

// Webhook i: a distinct alert (id 700000 + i). The mix covers bodies with `eventId` + `timestamp`,
// with `timestamp` only, and with neither (dedupId is then the content hash and `time` the receipt
// time), over accept (ttaMs) and resolve (ttrMs) events, with and without responders' acceptedAt
// and resolvedOn, plus an unknown top-level key (an extra field).
struct Webhook {
  std::string id;
  std::string body;
  bool has_event_id = false;
  bool has_timestamp = false;
  std::string event_id;
};

Webhook make_webhook(int i) {
  static const char* const kTypes[] = {"alert-created",       "alert-acknowledged",    "alert-resolved",
                                       "alert-comment-added", "incident-acknowledged", "alert-auto-resolved"};
  Webhook w;
  w.id = std::to_string(700000 + i);
  const std::string type = kTypes[i % 6];
  const int variant = (i / 6) % 3;  // 0: eventId + timestamp, 1: timestamp only, 2: neither
  w.has_event_id = variant == 0;
  w.has_timestamp = variant != 2;
  std::string b = "{\"id\":\"" + w.id + "\",\"eventType\":\"" + type + "\",\"summary\":\"pair test alert " + w.id +
                  "\",\"status\":\"ACCEPTED\",\"priority\":\"" + (i % 3 ? "HIGH" : "LOW") +
                  "\",\"reportTime\":\"2024-03-14T09:26:53.589Z\",\"alertKey\":\"pair/" + std::to_string(i % 17) +
                  "\",\"alertSource\":{\"id\":7,\"name\":\"Pair source\"}";
  if (type == "alert-acknowledged" && i % 4 == 1) {
    b += ",\"responders\":[{\"user\":{\"id\":11,\"username\":\"a.b\"},\"status\":\"ACCEPTED\","
         "\"acceptedAt\":\"2024-03-14T09:31:00.000Z\"}]";
  }
  if (type == "alert-resolved" && i % 4 == 2) b += ",\"resolvedOn\":\"2024-03-14T10:00:00.000Z\"";
  if (type == "alert-comment-added") b += ",\"comment\":\"note " + std::to_string(i) + "\"";
  if (w.has_timestamp) b += ",\"timestamp\":\"2024-03-14T09:40:" + std::to_string(10 + i % 50) + ".123456Z\"";
  if (w.has_event_id) {
    w.event_id = "3b1c2a9e-0000-4e8f-9a61-" + std::to_string(100000000000LL + i);
    b += ",\"eventId\":\"" + w.event_id + "\"";
  }
  b += ",\"nextEscalation\":{\"level\":" + std::to_string(i % 5) + "}}";
  w.body = b;
  return w;
}

// The line with the receipt-dependent keys removed (order of the rest kept), re-serialised.
std::optional<std::string> normalised(const std::string& line, bool body_has_timestamp) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  std::vector<const char*> drop = {"receivedAt"};
  if (!body_has_timestamp) drop.insert(drop.end(), {"time", "ttaMs", "ttrMs"});
  for (const char* key : drop) {
    auto it = d.FindMember(key);
    if (it != d.MemberEnd()) d.EraseMember(it);  // EraseMember keeps the order (RemoveMember does not)
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  d.Accept(writer);
  return std::string(out.GetString(), out.GetSize());
}

std::optional<std::string> string_member(const std::string& json, const char* name) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  auto it = d.FindMember(name);
  if (it == d.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// What the clients saw, per webhook index.
struct Outcome {
  std::set<char> accepted_by;  // 'A' / 'B': relays that answered 202
  int failures = 0;            // posts without an answer (relay dead) or with another status
  std::vector<int> statuses;   // other statuses seen (should be none)
};

}  // namespace

TEST_CASE(
    "relay pair: two relays with their own spools, one SIGKILLed and restarted: every 202 arrives, "
    "the same webhook gives the same line on either relay",
    "[program][relay][pair]") {
  constexpr int kWebhooks = 400;
  TempDir tmp("ilert-sumo-relay-pair");
  SumoEmulator emulator;
  emulator.start();
  // One request (gzip, with Sumo metadata headers, like the relays') before the two relays deliver
  // at the same time. Under ThreadSanitizer: cpp-httplib's shared library (uninstrumented) sets up
  // function-local statics on its first request, and its guard is invisible to TSan, which then
  // reports two emulator workers touching them concurrently (a false positive seen in this test
  // only, where two relays deliver at once). This first request, finished before the relays start,
  // orders that set-up before every later request through the worker pool's mutex.
  {
    httplib::Client warm("127.0.0.1", emulator.port());
    warm.set_keep_alive(false);
    const httplib::Headers headers = {
        {"Content-Encoding", "gzip"}, {"X-Sumo-Name", "warm-up"}, {"Connection", "close"}};
    auto res = warm.Post(("/receiver/v1/http/" + emulator.config().code).c_str(), headers,
                         ilert_sumo::test::gzip_compress("{\"warmUp\":true}\n"), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    REQUIRE(emulator.wait_for_messages(1, 10s));
    emulator.clear_records();
  }

  std::vector<Webhook> hooks;
  for (int i = 0; i < kWebhooks; ++i) hooks.push_back(make_webhook(i));

  PairRelay relay_a(emulator.url(), "relay-a", fs::path(tmp / "spool-a"), 0, fs::path(tmp / "a.stderr"));
  auto relay_b =
      std::make_unique<PairRelay>(emulator.url(), "relay-b", fs::path(tmp / "spool-b"), 0, fs::path(tmp / "b1.stderr"));
  const int port_a = relay_a.port;
  const int port_b = relay_b->port;
  REQUIRE(port_a != port_b);

  std::mutex mu;
  std::vector<Outcome> outcomes(kWebhooks);
  std::atomic<int> b_accepted{0};
  std::atomic<int> a_posted{0};
  std::atomic<bool> b_restarted{false};
  std::atomic<int> b_failures{0};

  auto make_client = [](int port) {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
    c->set_keep_alive(true);
    c->set_connection_timeout(2, 0);
    c->set_read_timeout(10, 0);
    c->set_write_timeout(10, 0);
    return c;
  };
  // One POST; true on 202. Records the outcome.
  auto post = [&](httplib::Client& client, int i, char relay) {
    auto res = client.Post("/ilert", hooks[i].body, "application/json");
    std::lock_guard<std::mutex> lock(mu);
    if (res && res->status == 202) {
      outcomes[i].accepted_by.insert(relay);
      return true;
    }
    ++outcomes[i].failures;
    if (res) outcomes[i].statuses.push_back(res->status);
    return false;
  };

  // Stream A: even webhooks to A (every fourth also to B, while B is up).
  std::thread stream_a([&] {
    auto a = make_client(port_a);
    auto b = make_client(port_b);
    for (int i = 0; i < kWebhooks; i += 2) {
      post(*a, i, 'A');
      a_posted.fetch_add(1);
      if (i % 4 == 0 && (b_restarted.load() || b_failures.load() == 0)) {
        post(*b, i, 'B');  // a copy; its failure while B is dead is not retried
      }
    }
  });
  // Stream B: odd webhooks to B (every fourth also to A). When B does not answer, the webhook goes
  // to A, and the stream waits (bounded) until B is back before it continues.
  std::thread stream_b([&] {
    auto a = make_client(port_a);
    auto b = make_client(port_b);
    for (int i = 1; i < kWebhooks; i += 2) {
      if (post(*b, i, 'B')) {
        b_accepted.fetch_add(1);
      } else {
        b_failures.fetch_add(1);
        post(*a, i, 'A');
        wait_until([&] { return b_restarted.load(); }, 30s);
        b = make_client(port_b);
      }
      if (i % 4 == 1) post(*a, i, 'A');
    }
  });

  // Kill B mid-stream: once it has accepted a quarter of its share, while A's stream still runs.
  const bool reached = wait_until([&] { return b_accepted.load() >= kWebhooks / 8; }, 30s);
  CHECK(reached);
  const int a_at_kill = a_posted.load();
  relay_b->check_no_sanitizer_report();
  relay_b->process->kill();  // SIGKILL + reap
  // The stream notices (a refused connection, or the request in flight at the kill).
  const bool noticed = wait_until([&] { return b_failures.load() > 0; }, 20s);
  CHECK(noticed);
  relay_b = std::make_unique<PairRelay>(emulator.url(), "relay-b", fs::path(tmp / "spool-b"), port_b,
                                        fs::path(tmp / "b2.stderr"));
  CHECK(relay_b->port == port_b);
  b_restarted.store(true);
  stream_a.join();
  stream_b.join();
  INFO("A had posted " << a_at_kill << " of " << kWebhooks / 2 << " when B was killed; B had failed "
                       << b_failures.load() << " post(s)");
  CHECK(a_at_kill < kWebhooks / 2);  // the kill was mid-stream for A too

  // What must arrive: every webhook with a 202.
  std::set<std::string> expected;
  int accepted_by_both = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (int i = 0; i < kWebhooks; ++i) {
      INFO("webhook " << i);
      CHECK(outcomes[i].statuses.empty());           // only 202s or no answer at all
      CHECK_FALSE(outcomes[i].accepted_by.empty());  // each one got a 202 somewhere
      if (!outcomes[i].accepted_by.empty()) expected.insert(hooks[i].id);
      if (outcomes[i].accepted_by.size() == 2) ++accepted_by_both;
    }
  }
  CHECK(accepted_by_both >= kWebhooks / 8);

  auto arrived_ids = [&] {
    std::set<std::string> ids;
    for (const auto& m : emulator.message_texts()) {
      if (auto id = string_member(m, "id")) ids.insert(*id);
    }
    return ids;
  };
  const bool all_arrived = wait_until(
      [&] {
        const auto ids = arrived_ids();
        for (const auto& id : expected) {
          if (ids.count(id) == 0) return false;
        }
        return true;
      },
      40s);
  if (!all_arrived) {
    const auto ids = arrived_ids();
    std::string missing;
    for (const auto& id : expected) {
      if (ids.count(id) == 0) missing += id + " ";
    }
    FAIL("202'ed webhooks missing at the emulator: " << missing << "\nrelay-a stderr:\n"
                                                     << read_text(relay_a.stderr_path) << "\nrelay-b stderr:\n"
                                                     << read_text(relay_b->stderr_path) << "\nkilled relay-b stderr:\n"
                                                     << read_text(tmp / "b1.stderr"));
  }

  // Both relays stop cleanly (their spools are delivered by then).
  for (ChildProcess* p : {relay_a.process.get(), relay_b->process.get()}) {
    p->signal(SIGTERM);
    const auto st = p->wait(20s);
    REQUIRE(st.has_value());
    CHECK(st->ok());
  }
  relay_a.check_no_sanitizer_report();
  relay_b->check_no_sanitizer_report();

  // Group the lines by webhook, with the relay that delivered each.
  std::map<std::string, int> index_of;
  for (int i = 0; i < kWebhooks; ++i) index_of[hooks[i].id] = i;
  struct Seen {
    std::string relay;
    std::string line;
  };
  std::map<std::string, std::vector<Seen>> lines_by_id;
  for (const auto& m : emulator.messages()) {
    const auto id = string_member(m.message, "id");
    INFO("line: " << m.message.substr(0, 400));
    REQUIRE(id.has_value());
    REQUIRE(index_of.count(*id) == 1);  // only webhooks the test posted
    CHECK((m.name == "relay-a" || m.name == "relay-b"));
    lines_by_id[*id].push_back({m.name, m.message});
  }

  std::size_t duplicates = 0;
  std::size_t compared_across_relays = 0;
  std::size_t hash_ids = 0;
  for (const auto& [id, seen] : lines_by_id) {
    const Webhook& w = hooks[index_of[id]];
    INFO("webhook " << id << " body: " << w.body);
    duplicates += seen.size() - 1;
    const auto first = normalised(seen.front().line, w.has_timestamp);
    REQUIRE(first.has_value());
    const auto dedup = string_member(seen.front().line, "dedupId");
    REQUIRE(dedup.has_value());
    if (w.has_event_id) {
      CHECK(*dedup == w.event_id);
    } else {
      CHECK(dedup->size() == 16);
      CHECK(dedup->find_first_not_of("0123456789abcdef") == std::string::npos);
      ++hash_ids;
    }
    std::set<std::string> relays;
    for (const auto& s : seen) {
      INFO("from " << s.relay << ": " << s.line);
      INFO("first (" << seen.front().relay << "): " << seen.front().line);
      relays.insert(s.relay);
      CHECK(string_member(s.line, "dedupId") == dedup);
      CHECK(normalised(s.line, w.has_timestamp) == first);
    }
    if (relays.size() == 2) ++compared_across_relays;
  }
  INFO("lines: " << emulator.count() << ", webhooks with a 202: " << expected.size()
                 << ", accepted by both relays: " << accepted_by_both << ", copies: " << duplicates
                 << ", webhooks seen from both relays: " << compared_across_relays
                 << ", content-hash dedupIds: " << hash_ids);
  CHECK(lines_by_id.size() == expected.size());
  // The comparison really was across relays, for bodies with and without eventId.
  CHECK(compared_across_relays >= static_cast<std::size_t>(kWebhooks / 8));
  CHECK(hash_ids > 0);
  std::size_t hash_across = 0;
  std::size_t event_id_across = 0;
  for (const auto& [id, seen] : lines_by_id) {
    std::set<std::string> relays;
    for (const auto& s : seen) relays.insert(s.relay);
    if (relays.size() < 2) continue;
    (hooks[index_of[id]].has_event_id ? event_id_across : hash_across) += 1;
  }
  CHECK(hash_across > 0);
  CHECK(event_id_across > 0);
  // The killed relay's stderr shows no sanitizer report either.
  const std::string killed_log = read_text(tmp / "b1.stderr");
  CHECK(killed_log.find("Sanitizer") == std::string::npos);
  CHECK(killed_log.find("runtime error:") == std::string::npos);
}
