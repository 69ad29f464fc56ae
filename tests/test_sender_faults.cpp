// tests/test_sender_faults.cpp [faults]: SumoSender through real libcurl to the local Sumo emulator
// (tests/support/sumo_emulator.*) under injected faults:
//   (a) 429 (Retry-After: 1) and 503 for 5 s, then 200: 50 000 events from 8 threads all arrive,
//       each exactly once;
//   (b) the emulator is down: shutdown(2s) returns within 2 s + a small margin with the right
//       pending/spooled counts; a new sender on the same spool, emulator up, delivers every event;
//   (c) a child process (this test binary re-executed on a hidden test case) enqueues 20 000 events
//       with a write_ahead spool and is SIGKILLed mid-stream; a new sender on the same spool delivers
//       every event the child accepted; duplicates are at most one batch (the one in flight at the
//       kill, delivered but not yet acknowledged on disk);
//   (d) overflow with a tiny byte bound against a slow emulator: the counts add up exactly.
// Waits are on conditions with deadlines (wait_until, flush/shutdown deadlines), never bare sleeps.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "support/catch.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/sender_identity.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using namespace ilert_sumo;
using Clock = std::chrono::steady_clock;
using ilert_sumo::test::check_identity;
using ilert_sumo::test::ChildProcess;
using ilert_sumo::test::EmulatorConfig;
using ilert_sumo::test::SumoEmulator;
using ilert_sumo::test::TempDir;

namespace {

const char* const kChildDirEnv = "ILERT_SUMO_SPOOL_CHILD_DIR";
const char* const kChildUrlEnv = "ILERT_SUMO_SPOOL_CHILD_URL";
constexpr int kChildEvents = 20000;
constexpr std::size_t kChildBatchEvents = 250;

SumoConfig base_config(const std::string& url) {
  SumoConfig c;
  c.url = url;
  c.allow_insecure_http = true;
  c.compression = Compression::gzip;
  c.retry.initial_backoff = 10ms;
  c.retry.max_backoff = 100ms;
  c.connect_timeout = 1s;
  c.request_timeout = 10s;
  c.batch.max_age = 20ms;
  return c;
}

std::unique_ptr<SumoSender> make_sender(SumoConfig c) {
  auto f = finalize(std::move(c));
  if (!f) FAIL("finalize: " << f.error().to_string());
  auto s = SumoSender::create(std::move(f).value());
  if (!s) FAIL("create: " << s.error().to_string());
  return std::move(s).value();
}

/// An event whose line carries a unique eventId `uid`.
Event make_event(const std::string& uid, int n) {
  AlertCreated e;
  e.received_type = "alert-created";
  e.alert.id = 1000000 + n;
  e.alert.event_id = uid;
  e.alert.summary = "fault test alert " + uid;
  e.alert.details = std::string(200, 'd');
  return e;
}

/// The eventId of a recorded line ("" when none).
std::string uid_of(const std::string& line) {
  const std::string key = "\"eventId\":\"";
  const std::size_t at = line.find(key);
  if (at == std::string::npos) return "";
  const std::size_t start = at + key.size();
  return line.substr(start, line.find('"', start) - start);
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<std::size_t>(n));
}

void say(const std::string& text) {
  const std::string l = text + "\n";
  (void)!::write(1, l.data(), l.size());
}

}  // namespace

TEST_CASE("faults: 429 and 503 for 5 s, then 200: 50 000 events from 8 threads arrive exactly once",
          "[integration][faults]") {
  SumoEmulator emu;
  emu.start();
  emu.fail_for({429, 503}, 5s);
  SumoConfig c = base_config(emu.url());
  c.batch.max_bytes = 256 * 1024;
  auto sender = make_sender(c);
  constexpr int kThreads = 8;
  constexpr int kPer = 6250;
  std::atomic<int> not_accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        const std::string uid = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (sender->enqueue(make_event(uid, t * kPer + i)) != EnqueueStatus::accepted) ++not_accepted;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(not_accepted == 0);
  const FlushResult r = sender->flush(60s);
  CHECK(r.completed);
  CHECK(r.delivered == kThreads * kPer);
  CHECK(r.dropped == 0);
  const auto texts = emu.message_texts();
  std::map<std::string, int> seen;
  for (const auto& t : texts) ++seen[uid_of(t)];
  CHECK(texts.size() == static_cast<std::size_t>(kThreads * kPer));
  CHECK(seen.size() == static_cast<std::size_t>(kThreads * kPer));
  for (const auto& [uid, n] : seen) {
    if (n != 1) FAIL_CHECK(uid << " arrived " << n << " times");
  }
  const SenderStats s = sender->stats();
  CHECK(s.requests_by_status.count(429) == 1);
  CHECK(s.requests_by_status.count(503) == 1);
  CHECK(s.retries > 0);
  check_identity(s);
}

TEST_CASE("faults: emulator down: shutdown(2s) holds its deadline and spools, the next sender delivers all",
          "[integration][faults]") {
  const SpoolMode mode = GENERATE(SpoolMode::overflow, SpoolMode::write_ahead);
  INFO("spool mode " << (mode == SpoolMode::overflow ? "overflow" : "write_ahead"));
  TempDir dir("ilert-sumo-faults");
  // A loopback port nobody listens on: connection refused.
  const std::string down_url = "http://127.0.0.1:" + std::to_string(ilert_sumo::test::closed_loopback_port()) +
                               "/receiver/v1/http/emulator-test-code";
  constexpr int kEvents = 1000;
  {
    SumoConfig c = base_config(down_url);
    c.spool.dir = dir.path() + "/spool";
    c.spool.mode = mode;
    c.spool.fsync = FsyncPolicy::interval;
    auto sender = make_sender(c);
    for (int i = 0; i < kEvents; ++i) {
      REQUIRE(sender->enqueue(make_event("e" + std::to_string(i), i)) == EnqueueStatus::accepted);
    }
    const auto t0 = Clock::now();
    const FlushResult r = sender->shutdown(2s);
    const auto took = Clock::now() - t0;
    CHECK(took <= 2s + 200ms);
    CHECK(r.pending == 0);
    CHECK(r.spooled == kEvents);
    CHECK(r.delivered == 0);
    CHECK(r.dropped == 0);
    CHECK(r.completed);  // nothing lost: everything is on disk
    const SenderStats s = sender->stats();
    CHECK(s.requests_by_status.count(0) == 1);  // transport errors
    CHECK_FALSE(s.last_error.empty());
    check_identity(s);
  }
  SumoEmulator emu;
  emu.start();
  SumoConfig c = base_config(emu.url());
  c.spool.dir = dir.path() + "/spool";
  c.spool.mode = mode;
  auto sender = make_sender(c);
  CHECK(sender->stats().recovered == kEvents);
  const FlushResult r = sender->flush(20s);
  CHECK(r.completed);
  CHECK(r.delivered == kEvents);
  std::set<std::string> uids;
  for (const auto& t : emu.message_texts()) uids.insert(uid_of(t));
  CHECK(uids.size() == static_cast<std::size_t>(kEvents));
  CHECK(emu.count() == static_cast<std::size_t>(kEvents));
  check_identity(sender->stats());
  CHECK(sender->shutdown(2s).completed);
  CHECK(TempDir::files_in(dir.path() + "/spool", ".spool").empty());
}

// The child side of the SIGKILL test: run only when the parent sets the environment.
TEST_CASE("faults: write_ahead child process (helper of the SIGKILL test)", "[.][spool_child]") {
  const char* dir = std::getenv(kChildDirEnv);
  const char* url = std::getenv(kChildUrlEnv);
  if (dir == nullptr || url == nullptr) {
    SUCCEED("not started by the SIGKILL test");
    return;
  }
  SumoConfig c = base_config(url);
  c.spool.dir = dir;
  c.spool.mode = SpoolMode::write_ahead;
  c.spool.fsync = FsyncPolicy::never;  // SIGKILL (not power loss) only needs the page cache
  c.batch.max_events = kChildBatchEvents;
  c.batch.max_age = 5ms;
  auto sender = make_sender(c);
  for (int i = 0; i < kChildEvents; ++i) {
    if (sender->enqueue(make_event("k" + std::to_string(i), i)) != EnqueueStatus::accepted) {
      say("error " + std::to_string(i));
      break;
    }
    if ((i + 1) % 50 == 0) say("accepted " + std::to_string(i + 1));
    // Pace the producer so the kill lands mid-stream with deliveries in flight.
    if ((i + 1) % 100 == 0) std::this_thread::sleep_for(1ms);
  }
  say("done");
  // Wait to be killed (bounded, in case the parent is gone).
  std::this_thread::sleep_for(30s);
}

TEST_CASE("faults: a write_ahead child killed with SIGKILL mid-stream loses nothing it accepted", "[program][faults]") {
  SumoEmulator emu;
  emu.start();
  TempDir dir("ilert-sumo-faults");
  const std::string spool_dir = dir.path() + "/spool";
  const std::string exe = self_exe();
  REQUIRE_FALSE(exe.empty());
  int accepted = 0;
  {
    ChildProcess child(exe, {"[spool_child]"}, {{kChildDirEnv, spool_dir}, {kChildUrlEnv, emu.url()}},
                       dir.path() + "/child.stderr");
    while (accepted < 6000) {
      auto l = child.read_line(30s);
      REQUIRE(l.has_value());
      if (l->rfind("error", 0) == 0) FAIL("child: " << *l);
      REQUIRE(*l != "done");  // it must still be running when killed
      if (l->rfind("accepted ", 0) == 0) accepted = std::stoi(l->substr(9));
    }
    child.kill();
    const auto status = child.wait(5s);
    REQUIRE(status.has_value());
    CHECK_FALSE(status->exited);
    CHECK(status->code == SIGKILL);
  }
  const std::size_t by_child = emu.count();
  INFO("the child had " << accepted << " events accepted, " << by_child << " delivered when killed");
  SumoConfig c = base_config(emu.url());
  c.spool.dir = spool_dir;
  c.spool.mode = SpoolMode::write_ahead;
  auto sender = make_sender(c);
  const SenderStats at_start = sender->stats();
  CHECK(at_start.recovered >= static_cast<std::uint64_t>(accepted) - by_child);
  CHECK(at_start.dropped_spool_corrupt == 0);
  const FlushResult r = sender->flush(30s);
  CHECK(r.completed);
  std::map<std::string, int> seen;
  const auto texts = emu.message_texts();
  for (const auto& t : texts) ++seen[uid_of(t)];
  int missing = 0;
  for (int i = 0; i < accepted; ++i) {
    if (seen.find("k" + std::to_string(i)) == seen.end()) ++missing;
  }
  CHECK(missing == 0);
  const std::size_t duplicates = texts.size() - seen.size();
  INFO("messages " << texts.size() << ", unique " << seen.size());
  // Only the batch in flight at the kill (delivered, not yet acknowledged on disk) can come twice.
  CHECK(duplicates <= kChildBatchEvents);
  check_identity(sender->stats());
  CHECK(sender->shutdown(2s).completed);
  CHECK(TempDir::files_in(spool_dir, ".spool").empty());
}

TEST_CASE("faults: overflow against a slow emulator: each policy's counts add up exactly", "[integration][faults]") {
  const OverflowPolicy policy =
      GENERATE(OverflowPolicy::block, OverflowPolicy::drop_newest, OverflowPolicy::drop_oldest, OverflowPolicy::spill);
  INFO("policy " << static_cast<int>(policy));
  SumoEmulator emu;
  emu.start();
  emu.set_delay(50ms);
  TempDir dir("ilert-sumo-faults");
  SumoConfig c = base_config(emu.url());
  c.queue.max_bytes = 32 * 1024;
  c.queue.overflow = policy;
  c.queue.enqueue_timeout = 5ms;
  c.batch.max_bytes = 16 * 1024;
  if (policy == OverflowPolicy::spill) {
    c.spool.dir = dir.path() + "/spool";
    c.spool.mode = SpoolMode::overflow;
    c.spool.fsync = FsyncPolicy::never;
  }
  auto sender = make_sender(c);
  constexpr int kThreads = 4;
  constexpr int kPer = 500;
  std::map<EnqueueStatus, int> statuses;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::map<EnqueueStatus, int> mine;
      for (int i = 0; i < kPer; ++i) {
        ++mine[sender->enqueue(make_event("o" + std::to_string(t) + "-" + std::to_string(i), i))];
      }
      std::lock_guard<std::mutex> lk(mu);
      for (const auto& [st, n] : mine) statuses[st] += n;
    });
  }
  for (auto& th : threads) th.join();
  const FlushResult r = sender->flush(60s);
  CHECK(r.completed);
  const SenderStats s = sender->stats();
  check_identity(s);
  CHECK(s.enqueued == static_cast<std::uint64_t>(kThreads * kPer));
  CHECK(r.pending == 0);
  CHECK(r.spooled == 0);
  // What Sumo holds is exactly what the sender counts as delivered, each once.
  REQUIRE(emu.wait_for_messages(r.delivered, 5s));
  const auto texts = emu.message_texts();
  CHECK(texts.size() == r.delivered);
  std::set<std::string> uids;
  for (const auto& t : texts) uids.insert(uid_of(t));
  CHECK(uids.size() == texts.size());
  // The statuses returned match the counters.
  CHECK(static_cast<std::uint64_t>(statuses[EnqueueStatus::dropped_queue_full]) == s.dropped_queue_full);
  switch (policy) {
    case OverflowPolicy::block:
    case OverflowPolicy::drop_newest:
      CHECK(static_cast<std::uint64_t>(statuses[EnqueueStatus::accepted]) == r.delivered);
      CHECK(r.dropped == s.dropped_queue_full);
      break;
    case OverflowPolicy::drop_oldest:
      CHECK(statuses[EnqueueStatus::accepted] == kThreads * kPer);
      CHECK(r.delivered + s.dropped_oldest == static_cast<std::uint64_t>(kThreads * kPer));
      CHECK(s.dropped_oldest > 0);
      break;
    case OverflowPolicy::spill:
      CHECK(statuses[EnqueueStatus::spilled] > 0);
      CHECK(static_cast<std::uint64_t>(statuses[EnqueueStatus::spilled]) == s.spooled);
      CHECK(r.delivered == static_cast<std::uint64_t>(kThreads * kPer));
      CHECK(s.replayed == s.spooled);
      break;
  }
  if (policy == OverflowPolicy::drop_newest) CHECK(s.dropped_queue_full > 0);
}
