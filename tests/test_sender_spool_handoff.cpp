// tests/test_sender_spool_handoff.cpp: events between the sender's memory and its spool
// (src/sender/spool_handoff.hpp), against a real Spool on disk. Each hand-off keeps the ledger's
// identity (enqueued + recovered = delivered + dropped + pending + backlog) and the flush epochs,
// writes each event once, and says what was lost in a notice.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ilert_sumo/sumo_config.hpp"
#include "sender/epochs.hpp"
#include "sender/ledger.hpp"
#include "sender/set_queues.hpp"
#include "sender/spool_handoff.hpp"
#include "spool/spool.hpp"
#include "support/catch.hpp"
#include "support/temp_dir.hpp"

using namespace ilert_sumo;
using namespace ilert_sumo::detail;
using ilert_sumo::test::TempDir;

namespace {

std::string line(int i) { return "{\"n\":" + std::to_string(i) + ",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n"; }

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

struct Fixture {
  TempDir dir{"ilert-sumo-handoff"};
  SumoMetadata md;
  Ledger ledger;
  EpochTracker epochs;
  std::unique_ptr<Spool> spool;
  std::unique_ptr<SpoolHandoff> handoff;

  explicit Fixture(SpoolMode mode = SpoolMode::write_ahead, std::uint64_t max_bytes = 1024ull * 1024 * 1024) {
    md.category = "ilert/alerts";
    SpoolOptions o;
    o.dir = dir.path() + "/spool";
    o.mode = mode;
    o.fsync = FsyncPolicy::never;
    o.max_bytes = max_bytes;
    o.segment_bytes = 1024;
    auto opened = Spool::open(o, [this](std::uint32_t id) -> const SumoMetadata* { return id == 0 ? &md : nullptr; });
    REQUIRE(opened);
    spool = std::move(opened.value());
    handoff = std::make_unique<SpoolHandoff>(ledger, epochs, max_bytes);
  }

  /// n events admitted into memory (written ahead or not), as the sender's push() does.
  std::vector<QueueEntry> admit(int first, int n, bool written_ahead) {
    std::vector<QueueEntry> out;
    for (int i = first; i < first + n; ++i) {
      QueueEntry e;
      e.line = line(i);
      e.epoch = epochs.current();
      if (written_ahead) {
        HandoffNotes notes;
        auto ref = handoff->append(*spool, 0, e.line, /*disk_only=*/false, e.epoch, notes);
        REQUIRE(ref);
        e.ref = *ref;
      }
      ledger.admit(written_ahead);
      epochs.add(e.epoch, 1);
      out.push_back(std::move(e));
    }
    return out;
  }

  std::vector<SpoolRecord> read_back() {
    std::vector<SpoolRecord> out;
    TagCounts corrupt;
    while (spool->read_backlog(1 << 20, out, corrupt) > 0) {
    }
    return out;
  }
};

}  // namespace

TEST_CASE("spool hand-off: a failed batch becomes backlog, each event written once", "[unit][sender]") {
  Fixture f;
  std::vector<QueueEntry> batch = f.admit(0, 3, /*written_ahead=*/true);
  std::vector<QueueEntry> others = f.admit(3, 2, /*written_ahead=*/false);
  for (auto& e : others) batch.push_back(std::move(e));
  const std::uint64_t bytes_before = f.spool->stats().bytes;
  const std::uint64_t outstanding_before = f.spool->stats().outstanding;
  CHECK(outstanding_before == 3);

  HandoffNotes notes;
  f.handoff->requeue(*f.spool, 0, batch, notes);
  CHECK(notes.notices.empty());
  CHECK_FALSE(notes.last_error);
  CHECK(f.ledger.pending() == 0);
  CHECK(f.ledger.backlog() == 5);
  CHECK(f.ledger.balanced());
  CHECK(f.spool->stats().outstanding == 5);  // 3 released in place + 2 appended, no copy of the 3
  CHECK(f.spool->stats().bytes > bytes_before);
  CHECK(f.spool->stats().backlog == 5);

  const auto records = f.read_back();
  REQUIRE(records.size() == 5);
  std::vector<std::string> lines;
  for (const auto& r : records) lines.push_back(r.line);
  std::sort(lines.begin(), lines.end());
  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(line(i));
  std::sort(expected.begin(), expected.end());
  CHECK(lines == expected);
  CHECK_FALSE(f.epochs.idle());  // still open: backlog, not delivered
}

TEST_CASE("spool hand-off: at shutdown what is in memory goes to disk, or is lost and said so", "[unit][sender]") {
  SECTION("with a spool") {
    Fixture f;
    std::vector<std::pair<MetadataId, QueueEntry>> rest;
    for (auto& e : f.admit(0, 2, true)) rest.emplace_back(0, std::move(e));
    for (auto& e : f.admit(2, 3, false)) rest.emplace_back(0, std::move(e));
    HandoffNotes notes;
    f.handoff->spool_rest(f.spool.get(), rest, notes);
    CHECK(notes.notices.empty());
    CHECK_FALSE(notes.progress);
    CHECK(f.ledger.backlog() == 5);
    CHECK(f.ledger.dropped_total() == 0);
    CHECK(f.ledger.balanced());
    CHECK(f.spool->stats().outstanding == 5);
  }
  SECTION("without one") {
    Fixture f;
    std::vector<std::pair<MetadataId, QueueEntry>> rest;
    for (auto& e : f.admit(0, 4, false)) rest.emplace_back(0, std::move(e));
    HandoffNotes notes;
    f.handoff->spool_rest(nullptr, rest, notes);
    REQUIRE(notes.notices.size() == 1);
    CHECK(notes.notices[0].code == ErrorCode::closed);
    CHECK(contains(notes.notices[0].message, "shutdown: 4 event(s) still in memory at the deadline"));
    CHECK(contains(notes.notices[0].message, "no spool is configured (lost)"));
    CHECK(notes.progress);
    CHECK(f.ledger.dropped_total() == 4);
    CHECK(f.ledger.pending() == 0);
    CHECK(f.ledger.balanced());
  }
}

TEST_CASE("spool hand-off: records read back join their queue, damaged ones are lost and said so", "[unit][sender]") {
  Fixture f;
  // Two spilled (disk-only) events, as spill does.
  for (int i = 0; i < 2; ++i) {
    HandoffNotes notes;
    REQUIRE(f.handoff->append(*f.spool, 0, line(i), /*disk_only=*/true, f.epochs.current(), notes));
    f.ledger.spill();
    f.epochs.add(f.epochs.current(), 1);
  }
  // And one more whose record was found damaged while reading (counted by the spool).
  f.ledger.spill();
  f.epochs.add(f.epochs.current(), 1);
  std::vector<SpoolRecord> records;
  TagCounts ignored;
  f.spool->read_backlog(1 << 20, records, ignored);
  REQUIRE(records.size() == 2);
  TagCounts corrupt;
  corrupt.add(f.epochs.current(), 1);

  SetQueues queues;
  HandoffNotes notes;
  const auto now = std::chrono::steady_clock::now();
  f.handoff->load(records, std::vector<MetadataId>(records.size(), 0), corrupt, queues, now, notes);
  REQUIRE(notes.notices.size() == 1);
  CHECK(notes.notices[0].code == ErrorCode::spool_corrupt);
  CHECK(notes.notices[0].message == "spool_corrupt: 1 damaged spool record(s) skipped while reading back (lost)");
  REQUIRE(notes.last_error);
  CHECK(*notes.last_error == "spool_corrupt: 1 damaged spool record(s) skipped while reading back");
  CHECK(notes.progress);
  CHECK(f.ledger.pending() == 2);
  CHECK(f.ledger.backlog() == 0);
  CHECK(f.ledger.dropped_total() == 1);
  CHECK(f.ledger.balanced());
  CHECK(queues.size(0) == 2);
}

TEST_CASE("spool hand-off: overflow-mode evictions at the cap are counted per event and said", "[unit][sender]") {
  Fixture f(SpoolMode::overflow, /*max_bytes=*/4096);
  int spilled = 0;
  HandoffNotes notes;
  for (int i = 0; i < 200 && notes.notices.empty(); ++i) {
    auto ref = f.handoff->append(*f.spool, 0, line(i), /*disk_only=*/true, f.epochs.current(), notes);
    REQUIRE(ref);
    f.ledger.spill();
    f.epochs.add(f.epochs.current(), 1);
    ++spilled;
  }
  REQUIRE(notes.notices.size() == 1);
  CHECK(notes.notices[0].code == ErrorCode::io);
  CHECK(contains(notes.notices[0].message, "spool_evicted: the spool reached its cap (spool.max_bytes 4096)"));
  CHECK(notes.progress);
  const std::uint64_t evicted = f.ledger.dropped_total();
  CHECK(evicted > 0);
  CHECK(contains(notes.notices[0].message, ": " + std::to_string(evicted) + " undelivered event(s) evicted"));
  CHECK(f.ledger.backlog() == static_cast<std::uint64_t>(spilled) - evicted);
  CHECK(f.ledger.balanced());
  CHECK(f.read_back().size() == f.ledger.backlog());
}
