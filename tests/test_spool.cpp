// tests/test_spool.cpp: the disk spool (src/spool/spool.hpp) on the real disk, in a temp dir under /tmp:
// framing and recovery of lines and metadata, segment rotation, the size cap (oldest-first
// eviction, counted), damaged records (torn tail, flipped byte, lost frame) kept apart from the
// intact ones, and deletion of segments once every record in them is acknowledged.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "spool/spool.hpp"
#include "support/catch.hpp"
#include "support/temp_dir.hpp"

using namespace ilert_sumo;
using namespace ilert_sumo::detail;
using ilert_sumo::test::TempDir;

namespace {

SumoMetadata meta(const std::string& category) {
  SumoMetadata m;
  m.category = category;
  m.name = "name-" + category;
  m.host = "host";
  m.fields = {{"env", "prod"}, {"team", category}};
  return m;
}

struct Fixture {
  TempDir dir{"ilert-sumo-spool"};
  std::vector<SumoMetadata> sets{meta("a"), meta("b")};
  SpoolOptions options() const {
    SpoolOptions o;
    o.dir = dir.path() + "/spool";
    o.mode = SpoolMode::write_ahead;
    o.fsync = FsyncPolicy::never;
    return o;
  }
  std::unique_ptr<Spool> open(SpoolOptions o) {
    auto s = Spool::open(
        o, [this](std::uint32_t id) -> const SumoMetadata* { return id < sets.size() ? &sets[id] : nullptr; });
    REQUIRE(s.has_value());
    return std::move(s.value());
  }
  std::unique_ptr<Spool> open() { return open(options()); }
};

std::string line(int i) { return "{\"n\":" + std::to_string(i) + ",\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"}\n"; }

std::vector<SpoolRecord> read_all(Spool& s, TagCounts* corrupt_out = nullptr) {
  std::vector<SpoolRecord> out;
  TagCounts corrupt;
  while (s.read_backlog(4096, out, corrupt) > 0) {
  }
  if (corrupt_out != nullptr) *corrupt_out = corrupt;
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

}  // namespace

TEST_CASE("spool: records and their metadata survive a reopen, in order", "[unit][spool]") {
  Fixture f;
  {
    auto s = f.open();
    CHECK(s->recovery().records == 0);
    TagCounts evicted;
    for (int i = 0; i < 100; ++i) {
      auto ref = s->append(static_cast<std::uint32_t>(i % 2), line(i), /*disk_only=*/false, 7, evicted);
      REQUIRE(ref.has_value());
      CHECK(ref->valid());
      CHECK(ref->index == static_cast<std::uint32_t>(i));
    }
    CHECK(evicted.total == 0);
    CHECK(s->stats().outstanding == 100);
    CHECK(s->backlog() == 0);  // this process keeps them in memory
  }
  auto s = f.open();
  CHECK(s->recovery().records == 100);
  CHECK(s->recovery().corrupt == 0);
  CHECK(s->backlog() == 100);
  auto recs = read_all(*s);
  REQUIRE(recs.size() == 100);
  for (int i = 0; i < 100; ++i) {
    const SpoolRecord& r = recs[static_cast<std::size_t>(i)];
    CHECK(r.line == line(i));
    CHECK(r.recovered);
    CHECK(r.tag == 0);
    REQUIRE(r.recovered_metadata != nullptr);
    CHECK(*r.recovered_metadata == f.sets[static_cast<std::size_t>(i % 2)]);
  }
  CHECK(s->backlog() == 0);
}

TEST_CASE("spool: disk-only records are read back in this process, kept ones are not", "[unit][spool]") {
  Fixture f;
  auto s = f.open();
  TagCounts evicted;
  for (int i = 0; i < 10; ++i) {
    REQUIRE(s->append(0, line(i), /*disk_only=*/i % 2 == 1, static_cast<std::uint32_t>(i), evicted).has_value());
  }
  CHECK(s->backlog() == 5);
  auto recs = read_all(*s);
  REQUIRE(recs.size() == 5);
  for (std::size_t k = 0; k < 5; ++k) {
    CHECK(recs[k].line == line(static_cast<int>(2 * k + 1)));
    CHECK(recs[k].tag == 2 * k + 1);
    CHECK_FALSE(recs[k].recovered);
    CHECK(recs[k].metadata == 0);
  }
  // read_backlog honours its byte budget but always returns at least one record.
  REQUIRE(s->append(1, line(99), true, 0, evicted).has_value());
  REQUIRE(s->append(1, line(100), true, 0, evicted).has_value());
  std::vector<SpoolRecord> out;
  TagCounts corrupt;
  CHECK(s->read_backlog(1, out, corrupt) == 1);
  CHECK(s->read_backlog(1 << 20, out, corrupt) == 1);
  CHECK(s->read_backlog(1 << 20, out, corrupt) == 0);
}

TEST_CASE("spool: segments rotate at segment_bytes and append_many writes in bulk", "[unit][spool]") {
  Fixture f;
  SpoolOptions o = f.options();
  o.segment_bytes = 2048;
  o.max_bytes = 1 << 20;
  {
    auto s = f.open(o);
    std::vector<std::string> lines;
    for (int i = 0; i < 200; ++i) lines.push_back(line(i));
    std::vector<SpoolItem> items;
    for (int i = 0; i < 200; ++i)
      items.push_back(SpoolItem{static_cast<std::uint32_t>(i % 2), lines[static_cast<std::size_t>(i)], 3});
    TagCounts evicted;
    Error err;
    CHECK(s->append_many(items.data(), items.size(), evicted, &err) == 200);
    CHECK(err.message.empty());
    CHECK(s->backlog() == 200);
    const auto files = TempDir::files_in(o.dir, ".spool");
    CHECK(files.size() > 5);
    for (const auto& name : files) {
      INFO(name);
      CHECK(name.size() == std::string("seg-0000000000000001.spool").size());
      struct stat st {};
      REQUIRE(::stat((o.dir + "/" + name).c_str(), &st) == 0);
      CHECK(static_cast<std::uint64_t>(st.st_size) <= o.segment_bytes);
    }
  }
  auto s = f.open(o);
  CHECK(s->recovery().records == 200);
  auto recs = read_all(*s);
  REQUIRE(recs.size() == 200);
  for (int i = 0; i < 200; ++i) {
    CHECK(recs[static_cast<std::size_t>(i)].line == line(i));
    REQUIRE(recs[static_cast<std::size_t>(i)].recovered_metadata != nullptr);
    CHECK(*recs[static_cast<std::size_t>(i)].recovered_metadata == f.sets[static_cast<std::size_t>(i % 2)]);
  }
}

TEST_CASE("spool: overflow mode: the size cap evicts the oldest segments and counts what they held", "[unit][spool]") {
  Fixture f;
  SpoolOptions o = f.options();
  o.mode = SpoolMode::overflow;
  o.segment_bytes = 4096;
  o.max_bytes = 16384;
  auto s = f.open(o);
  TagCounts evicted;
  const int n = 1000;
  for (int i = 0; i < n; ++i) {
    REQUIRE(s->append(0, line(i), true, static_cast<std::uint32_t>(i < 500 ? 1 : 2), evicted).has_value());
  }
  const SpoolStats st = s->stats();
  CHECK(st.bytes <= o.max_bytes);
  CHECK(evicted.total > 0);
  CHECK(st.evicted == evicted.total);
  CHECK(st.backlog + evicted.total == static_cast<std::uint64_t>(n));
  // The oldest went first: tag 1 (first half) before any tag 2.
  REQUIRE(!evicted.runs.empty());
  CHECK(evicted.runs.front().first == 1);
  auto recs = read_all(*s);
  REQUIRE(recs.size() == st.backlog);
  // What is left is the newest, contiguous run.
  const int first_kept = n - static_cast<int>(recs.size());
  for (std::size_t k = 0; k < recs.size(); ++k) CHECK(recs[k].line == line(first_kept + static_cast<int>(k)));
  // A record bigger than the whole cap is refused.
  std::string huge(o.max_bytes, 'x');
  auto r = s->append(0, huge, true, 0, evicted);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::io);
}

TEST_CASE("spool: a torn last record and a flipped byte: replay keeps every intact record and reports the damaged ones",
          "[unit][spool]") {
  Fixture f;
  const int n = 20;
  {
    auto s = f.open();
    TagCounts evicted;
    for (int i = 0; i < n; ++i) REQUIRE(s->append(0, line(i), false, 0, evicted).has_value());
  }
  const auto files = TempDir::files_in(f.options().dir, ".spool");
  REQUIRE(files.size() == 1);
  const std::string path = f.options().dir + "/" + files[0];
  std::string data = slurp(path);
  // Flip one byte inside the line of record 7, and tear the last record in half.
  const std::size_t at7 = data.find(line(7));
  REQUIRE(at7 != std::string::npos);
  data[at7 + 5] = static_cast<char>(data[at7 + 5] ^ 0x20);
  const std::size_t at_last = data.find(line(n - 1));
  REQUIRE(at_last != std::string::npos);
  data.resize(at_last + 10);
  spit(path, data);

  auto s = f.open();
  const SpoolRecovery& rec = s->recovery();
  CHECK(rec.corrupt == 2);
  CHECK(rec.error.code == ErrorCode::spool_corrupt);
  CHECK(rec.error.message.find("2 damaged") != std::string::npos);
  CHECK(rec.truncated_bytes > 0);
  CHECK(rec.records == static_cast<std::uint64_t>(n - 2));
  auto recs = read_all(*s);
  std::vector<std::string> got;
  for (const auto& r : recs) got.push_back(r.line);
  std::vector<std::string> want;
  for (int i = 0; i < n - 1; ++i) {
    if (i != 7) want.push_back(line(i));
  }
  CHECK(got == want);
  // The torn tail was cut off: the file ends at the last intact record.
  const std::string after = slurp(path);
  CHECK(after.size() == at_last - 24);  // 24 = frame + event header of the torn record
  CHECK(s->stats().corrupt == 2);
}

TEST_CASE("spool: a damaged length field loses one record, the reader resyncs on the next frame", "[unit][spool]") {
  Fixture f;
  {
    auto s = f.open();
    TagCounts evicted;
    for (int i = 0; i < 10; ++i) REQUIRE(s->append(0, line(i), false, 0, evicted).has_value());
  }
  const std::string path = f.options().dir + "/" + TempDir::files_in(f.options().dir, ".spool").at(0);
  std::string data = slurp(path);
  const std::size_t at4 = data.find(line(4));
  REQUIRE(at4 != std::string::npos);
  // The frame header of record 4 starts 24 bytes before its line; byte 4..7 is the length.
  data[at4 - 24 + 5] = static_cast<char>(data[at4 - 24 + 5] ^ 0x01);
  // And garbage magic on record 8.
  const std::size_t at8 = data.find(line(8));
  data[at8 - 24] = 'X';
  spit(path, data);
  auto s = f.open();
  CHECK(s->recovery().corrupt == 2);
  auto recs = read_all(*s);
  std::vector<std::string> got;
  for (const auto& r : recs) got.push_back(r.line);
  CHECK(got == std::vector<std::string>{line(0), line(1), line(2), line(3), line(5), line(6), line(7), line(9)});
}

TEST_CASE("spool: a segment is deleted once every record in it is acknowledged", "[unit][spool]") {
  Fixture f;
  SpoolOptions o = f.options();
  o.segment_bytes = 2048;
  auto s = f.open(o);
  TagCounts evicted;
  std::vector<SpoolRef> refs;
  for (int i = 0; i < 100; ++i) {
    auto r = s->append(0, line(i), false, 0, evicted);
    REQUIRE(r.has_value());
    refs.push_back(*r);
  }
  const std::size_t segments = TempDir::files_in(o.dir, ".spool").size();
  REQUIRE(segments > 3);
  // Ack the first segment's records only: exactly that file goes.
  std::vector<SpoolRef> first;
  for (const auto& r : refs) {
    if (r.segment == refs.front().segment) first.push_back(r);
  }
  s->ack(first.data(), first.size());
  CHECK(TempDir::files_in(o.dir, ".spool").size() == segments - 1);
  // Acking twice is harmless.
  s->ack(first.data(), first.size());
  CHECK(s->stats().outstanding == 100 - first.size());
  // Ack everything (in reverse order): no segment is left, not even the active one.
  std::vector<SpoolRef> rest(refs.rbegin(), refs.rend());
  s->ack(rest.data(), rest.size());
  CHECK(TempDir::files_in(o.dir, ".spool").empty());
  CHECK(TempDir::files_in(o.dir, ".ack").empty());
  CHECK(s->stats().outstanding == 0);
  CHECK(s->stats().bytes == 0);
  // And appending again starts a new segment.
  REQUIRE(s->append(0, line(1000), false, 0, evicted).has_value());
  CHECK(TempDir::files_in(o.dir, ".spool").size() == 1);
}

TEST_CASE("spool: acknowledgements survive a restart (no re-send of delivered records)", "[unit][spool]") {
  Fixture f;
  {
    auto s = f.open();
    TagCounts evicted;
    std::vector<SpoolRef> delivered;
    for (int i = 0; i < 50; ++i) {
      auto r = s->append(0, line(i), false, 0, evicted);
      REQUIRE(r.has_value());
      if (i % 3 != 0) delivered.push_back(*r);
    }
    s->ack(delivered.data(), delivered.size());
    CHECK(TempDir::files_in(f.options().dir, ".ack").size() == 1);
  }
  auto s = f.open();
  auto recs = read_all(*s);
  std::vector<std::string> got;
  for (const auto& r : recs) got.push_back(r.line);
  std::vector<std::string> want;
  for (int i = 0; i < 50; i += 3) want.push_back(line(i));
  CHECK(got == want);
  // Acking the recovered records deletes the old segment and its ack file.
  std::vector<SpoolRef> refs;
  for (const auto& r : recs) refs.push_back(r.ref);
  s->ack(refs.data(), refs.size());
  CHECK(TempDir::files_in(f.options().dir, ".spool").empty());
  CHECK(TempDir::files_in(f.options().dir, ".ack").empty());
}

TEST_CASE("spool: one process per directory, fsync policies sync", "[unit][spool]") {
  Fixture f;
  SpoolOptions o = f.options();
  o.fsync = FsyncPolicy::per_batch;
  auto s = f.open(o);
  auto second = Spool::open(o, nullptr);
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().code == ErrorCode::io);
  TagCounts evicted;
  REQUIRE(s->append(0, line(1), false, 0, evicted).has_value());
  CHECK(s->stats().fsyncs >= 1);
  s.reset();

  o.fsync = FsyncPolicy::interval;
  o.fsync_interval = std::chrono::milliseconds(50);
  auto t = f.open(o);
  REQUIRE(t->append(0, line(2), false, 0, evicted).has_value());
  const auto due = t->next_sync_due();
  CHECK(due != std::chrono::steady_clock::time_point::max());
  CHECK(due <= std::chrono::steady_clock::now() + o.fsync_interval);
  const auto before = t->stats().fsyncs;
  t->sync_if_due(/*force=*/true);
  CHECK(t->stats().fsyncs > before);
  CHECK(t->next_sync_due() == std::chrono::steady_clock::time_point::max());
}

TEST_CASE("spool: bad options are refused", "[unit][spool]") {
  Fixture f;
  SpoolOptions o = f.options();
  o.max_bytes = 100;
  auto s = Spool::open(o, nullptr);
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().code == ErrorCode::invalid_config);
  o = f.options();
  o.dir = "/proc/ilert-sumo-cannot-create";
  s = Spool::open(o, nullptr);
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().code == ErrorCode::io);
}

// ---- issue 12: a spool that keeps every promise ----

namespace {

std::uint64_t dir_bytes(const std::string& dir, const std::string& suffix) {
  std::uint64_t n = 0;
  for (const auto& name : TempDir::files_in(dir, suffix)) {
    struct stat st {};
    if (::stat((dir + "/" + name).c_str(), &st) == 0) n += static_cast<std::uint64_t>(st.st_size);
  }
  return n;
}

bool has_notice(const SpoolRecovery& rec, const std::string& needle) {
  for (const auto& n : rec.notices) {
    if (n.message.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("spool: write_ahead mode refuses an append past the cap and evicts nothing", "[unit][spool]") {
  Fixture f;
  SpoolOptions o = f.options();  // write_ahead
  o.segment_bytes = 4096;
  o.max_bytes = 16384;
  int accepted = 0;
  {
    auto s = f.open(o);
    TagCounts evicted;
    Error refusal;
    for (int i = 0; i < 1000; ++i) {
      auto r = s->append(0, line(i), /*disk_only=*/false, 1, evicted);
      if (!r) {
        refusal = r.error();
        break;
      }
      ++accepted;
    }
    CHECK(accepted > 100);
    CHECK(accepted < 1000);
    CHECK(refusal.code == ErrorCode::spool_full);
    CHECK(refusal.message.find("spool_full") != std::string::npos);
    CHECK(evicted.total == 0);
    CHECK(s->stats().evicted == 0);
    CHECK(s->stats().bytes <= o.max_bytes);
    // Still refused (nothing was evicted to make room), and nothing was written.
    const std::uint64_t before = dir_bytes(o.dir, ".spool");
    auto again = s->append(0, line(5000), false, 1, evicted);
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code == ErrorCode::spool_full);
    CHECK(dir_bytes(o.dir, ".spool") == before);
  }
  // Every accepted record is still there after a restart.
  auto s = f.open(o);
  CHECK(s->recovery().records == static_cast<std::uint64_t>(accepted));
  auto recs = read_all(*s);
  REQUIRE(recs.size() == static_cast<std::size_t>(accepted));
  for (int i = 0; i < accepted; ++i) CHECK(recs[static_cast<std::size_t>(i)].line == line(i));
}

TEST_CASE("spool: release makes kept records backlog again without writing them twice", "[unit][spool]") {
  Fixture f;
  auto s = f.open();
  TagCounts evicted;
  std::vector<SpoolRef> refs;
  std::vector<std::uint32_t> tags;
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 50; ++i) {
    auto r = s->append(0, line(i), /*disk_only=*/false, 3, evicted);
    REQUIRE(r.has_value());
    refs.push_back(*r);
    tags.push_back(static_cast<std::uint32_t>(i));
    sizes.push_back(line(i).size());
  }
  const std::uint64_t bytes = dir_bytes(f.options().dir, ".spool");
  CHECK(s->backlog() == 0);
  // Released out of order: read back in file order.
  std::vector<bool> released;
  CHECK(s->release(refs.data() + 25, tags.data() + 25, sizes.data() + 25, 25, released) == 25);
  CHECK(s->release(refs.data(), tags.data(), sizes.data(), 25, released) == 25);
  CHECK(s->backlog() == 50);
  CHECK(dir_bytes(f.options().dir, ".spool") == bytes);  // written once
  auto recs = read_all(*s);
  REQUIRE(recs.size() == 50);
  for (std::size_t i = 0; i < 50; ++i) {
    CHECK(recs[i].line == line(static_cast<int>(i)));
    CHECK(recs[i].tag == i);
    CHECK(recs[i].ref.index == refs[i].index);
  }
  // An acknowledged record cannot be released.
  s->ack(refs.data(), 1);
  CHECK(s->release(refs.data(), tags.data(), sizes.data(), 1, released) == 0);
  CHECK_FALSE(released[0]);
}

TEST_CASE("spool: a symlink named like a segment or an ack file is refused and its target never touched",
          "[unit][spool]") {
  Fixture f;
  const std::string dir = f.options().dir;
  const std::string target = f.dir.path() + "/precious.txt";
  const std::string target_ack = f.dir.path() + "/precious-ack.txt";
  const std::string content = "not a spool segment: a torn-tail recovery would truncate this to 0 bytes\n";
  spit(target, content);
  spit(target_ack, content);
  {
    auto s = f.open();  // creates the directory
  }
  REQUIRE(::symlink(target.c_str(), (dir + "/seg-0000000000000001.spool").c_str()) == 0);
  {
    auto s = f.open();
    CHECK(s->recovery().refused_files == 1);
    CHECK(has_notice(s->recovery(), "seg-0000000000000001.spool"));
    CHECK(has_notice(s->recovery(), "symbolic link"));
    // A link where the next ack file will go.
    TagCounts evicted;
    std::vector<SpoolRef> refs;
    for (int i = 0; i < 10; ++i) refs.push_back(*s->append(0, line(i), false, 0, evicted));
    REQUIRE(refs[0].segment == 2);  // the link's name was skipped, not appended through
    REQUIRE(::symlink(target_ack.c_str(), (dir + "/seg-0000000000000002.ack").c_str()) == 0);
    s->ack(refs.data(), 3);  // not all: an ack record would be written
  }
  CHECK(slurp(target) == content);
  CHECK(slurp(target_ack) == content);
  // The links are still links (not replaced, not followed); the real records replay (the acks
  // were lost with the refused ack file: that costs duplicates, never events).
  struct stat st {};
  REQUIRE(::lstat((dir + "/seg-0000000000000001.spool").c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  auto s = f.open();
  CHECK(s->recovery().records >= 7);
  CHECK(slurp(target) == content);
}

TEST_CASE("spool: a FIFO named like a segment is refused without blocking", "[unit][spool]") {
  Fixture f;
  { auto s = f.open(); }
  REQUIRE(::mkfifo((f.options().dir + "/seg-0000000000000003.spool").c_str(), 0600) == 0);
  auto s = f.open();
  CHECK(s->recovery().refused_files == 1);
  CHECK(has_notice(s->recovery(), "not a regular file"));
}

TEST_CASE("spool: the directory is created 0700 and refused when others can write it or it is not ours",
          "[unit][spool]") {
  Fixture f;
  const std::string dir = f.options().dir;
  { auto s = f.open(); }
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  auto try_open = [&] {
    return Spool::open(f.options(), [](std::uint32_t) -> const SumoMetadata* { return nullptr; });
  };
  SECTION("world-writable") {
    REQUIRE(::chmod(dir.c_str(), 0777) == 0);
    auto s = try_open();
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::invalid_config);
    CHECK(s.error().message.find("writable by group or others") != std::string::npos);
    CHECK(s.error().message.find(dir) != std::string::npos);
  }
  SECTION("group-writable") {
    REQUIRE(::chmod(dir.c_str(), 0770) == 0);
    CHECK_FALSE(try_open().has_value());
  }
  SECTION("owned by another user") {
    if (::geteuid() != 0) {
      WARN("not root: cannot chown the directory to another user; skipped");
      return;
    }
    REQUIRE(::chown(dir.c_str(), 12345, 12345) == 0);
    auto s = try_open();
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::invalid_config);
    CHECK(s.error().message.find("owned by uid 12345") != std::string::npos);
  }
}

TEST_CASE("spool: a stray seg-9999999999999999.spool cannot hide later segments", "[unit][spool]") {
  Fixture f;
  const std::string dir = f.options().dir;
  { auto s = f.open(); }
  // (Each section asserts its set-up: ctest runs with --warn NoAssertions.)
  SECTION("an empty stray file") {
    spit(dir + "/seg-9999999999999999.spool", "");
    REQUIRE(::access((dir + "/seg-9999999999999999.spool").c_str(), F_OK) == 0);
  }
  SECTION("a stray file holding valid records (renumbered)") {
    {
      auto s = f.open();
      TagCounts evicted;
      REQUIRE(s->append(0, line(-1), false, 0, evicted).has_value());
    }
    REQUIRE(::rename((dir + "/seg-0000000000000001.spool").c_str(), (dir + "/seg-9999999999999999.spool").c_str()) ==
            0);
  }
  SECTION("a stray file with garbage") {
    spit(dir + "/seg-9999999999999999.spool", "garbage garbage garbage");
    REQUIRE(::access((dir + "/seg-9999999999999999.spool").c_str(), F_OK) == 0);
  }
  SECTION("names that are not exactly the format are ignored") {
    for (const char* name : {"/seg-99999999999999999.spool",  // 17 digits
                             "/seg-+000000000000001.spool", "/seg-000000000000000a.spool"}) {
      spit(dir + name, "x");
      REQUIRE(::access((dir + name).c_str(), F_OK) == 0);
    }
  }
  std::uint64_t before = 0;
  SpoolOptions o = f.options();
  o.segment_bytes = 2048;  // several segments
  {
    auto s = f.open(o);
    before = s->recovery().records;
    TagCounts evicted;
    for (int i = 0; i < 200; ++i) REQUIRE(s->append(0, line(i), false, 0, evicted).has_value());
    CHECK(s->stats().segments > 2);
  }
  auto s = f.open(o);
  CHECK(s->recovery().records == before + 200);
  auto recs = read_all(*s);
  REQUIRE(recs.size() == before + 200);
  for (int i = 0; i < 200; ++i) CHECK(recs[before + static_cast<std::size_t>(i)].line == line(i));
  for (const auto& name : TempDir::files_in(dir, ".spool")) {
    if (name.find("99999999999999999") != std::string::npos || name.find('+') != std::string::npos ||
        name.find('a') != std::string::npos) {
      continue;  // the ignored non-format names
    }
    CHECK(name.size() == std::string("seg-0000000000000001.spool").size());
  }
}

TEST_CASE("spool: damage is counted per event record, with a notice per damaged segment", "[unit][spool]") {
  Fixture f;
  const int n = 100;
  {
    auto s = f.open();
    TagCounts evicted;
    for (int i = 0; i < n; ++i) REQUIRE(s->append(0, line(i), false, 0, evicted).has_value());
  }
  const std::string path = f.options().dir + "/" + TempDir::files_in(f.options().dir, ".spool").at(0);
  std::string data = slurp(path);
  // One damaged region spanning records 20..49 (30 events), and a torn tail (1 event).
  const std::size_t from = data.find(line(20)) - 24 + 1;
  const std::size_t to = data.find(line(50)) - 24;
  for (std::size_t i = from; i < to; ++i) data[i] = 'Z';
  data.resize(data.find(line(n - 1)) + 5);
  spit(path, data);
  auto s = f.open();
  const SpoolRecovery& rec = s->recovery();
  CHECK(rec.corrupt == 31);
  CHECK(rec.damaged_regions == 2);
  CHECK(rec.records == static_cast<std::uint64_t>(n - 31));
  REQUIRE(rec.notices.size() == 1);
  CHECK(rec.notices[0].code == ErrorCode::spool_corrupt);
  CHECK(rec.notices[0].message.find("31 damaged event record(s)") != std::string::npos);
  CHECK(s->stats().corrupt == 31);
}
