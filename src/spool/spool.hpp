// src/spool/spool.hpp (private): SumoSender's disk spool, append-only segment files with CRC32C frames.
//
// Used by SumoSender (sumo_sender.cpp) in both spool modes; tests/test_spool.cpp tests it alone.
//
// Layout of SpoolOptions::dir:
//   seg-<16-digit seq>.spool   records, appended only; a new file past segment_bytes
//   seg-<16-digit seq>.ack     which event records of that segment are done (delivered/dropped)
//   spool.lock                 flock()ed while a Spool is open (one process per directory)
//
// Every record is a frame (all integers little-endian):
//   u32 magic "ISP1" | u32 payload length | u32 crc32c(payload) | payload
// and the payload starts with a type byte:
//   1 metadata  u8 type, u8 0, u16 0, u32 id, then category, name, host as (u32 len, bytes),
//               u32 field count, (u32 len, key bytes, u32 len, value bytes) per field
//   2 event     u8 type, u8 flags (bit0: disk-only), u16 0, u32 metadata id, u32 record index,
//               then the line bytes (with their '\n')
//   3 ack       (only in .ack files) u8 type, u8 0, u16 0, u32 n, then n x (u32 first, u32 count)
// A segment is self-contained: before the first event of a metadata set, the set itself is written
// to that segment, so a segment can be replayed (or evicted) without any other file. Record indices
// are written into each record, so damaged records never shift the identity of the others.
//
// Recovery (open): segments are read in order and every frame is checked (magic, length, CRC). A
// damaged record whose neighbours are intact is skipped; when the frame is lost the reader resyncs
// on the next valid frame; a torn tail (no valid frame follows) is cut off with ftruncate. Damage
// is counted per event record: record indices are consecutive in a segment, so an index that is
// neither intact nor acknowledged is a lost event; a damaged tail counts the event frames that
// start in it (at least one). Each damaged segment adds a notice. Acked records are skipped;
// everything else becomes the backlog, returned by read_backlog() in append order.
//
// Files: every file is opened with O_NOFOLLOW (and must be a regular file): a symlink or a special
// file named like a segment is never read, truncated or appended through; it is left alone and
// reported in SpoolRecovery::notices. The directory is created 0700 and refused when it is
// writable by group or others or owned by another user. Segment names are exactly
// "seg-" + 16 digits + ".spool"/".ack" (what segment_name writes); numbers continue after the
// highest segment kept, and when they come near the 16-digit limit (a stray high name) the kept
// segments are renamed 1..n in order on open, so no name the spool writes can be skipped on
// restart.
//
// Acknowledging: ack() marks records done and appends an ack frame to the segment's .ack file (not
// fsync'ed: a lost ack only costs a duplicate). A segment whose every record is done is deleted.
// Size cap: overflow mode: before an append would exceed max_bytes, whole segments are evicted
// oldest first; the backlog records they held are reported as evicted (the caller counts them as
// dropped). write_ahead mode: nothing is ever evicted; an append that would exceed max_bytes fails
// with ErrorCode::spool_full (the caller refuses the event).
//
// Write once: a record the caller holds in memory (write_ahead) that could not be delivered is
// handed back with release(), which makes it backlog again without writing it a second time.
//
// fsync: never (page cache only: survives a killed process, not a power loss), per_batch (every
// append/append_many call is fdatasync'ed before it returns), interval (sync_if_due(), called by
// the sender thread, fdatasyncs dirty files at most fsync_interval after the first unsynced write).
//
// Thread-safe: one internal mutex; appends come from producers (write_ahead, spill) and the sender
// thread, reads/acks from the sender thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ilert_sumo/expected.hpp"
#include "ilert_sumo/sumo_config.hpp"

namespace ilert_sumo::detail {

/// Identity of one event record: segment sequence number (>= 1) and record index in it.
struct SpoolRef {
  /// 0 = not on disk.
  std::uint64_t segment = 0;
  std::uint32_t index = 0;
  bool valid() const noexcept { return segment != 0; }
};

/// Backlog records that an append evicted (the size cap), or that read_backlog found damaged:
/// their tags, run-length encoded (the caller uses tags to do its bookkeeping).
struct TagCounts {
  /// (tag, count) in order.
  std::vector<std::pair<std::uint32_t, std::uint64_t>> runs;
  std::uint64_t total = 0;
  void add(std::uint32_t tag, std::uint64_t n = 1);
  void clear() noexcept {
    runs.clear();
    total = 0;
  }
};

/// What open() found in the directory.
struct SpoolRecovery {
  /// Segment files found.
  std::uint64_t segments = 0;
  /// Intact, not yet acknowledged event records: the initial backlog.
  std::uint64_t records = 0;
  /// Damaged event records (CRC mismatch, bad frame, torn tail), skipped: counted per event.
  std::uint64_t corrupt = 0;
  /// Damaged regions (one region can hold several records).
  std::uint64_t damaged_regions = 0;
  /// Files named like segments that were not used (symlinks, special files): left untouched.
  std::uint64_t refused_files = 0;
  /// Bytes cut off torn tails.
  std::uint64_t truncated_bytes = 0;
  /// Segments deleted because all their records were already acknowledged.
  std::uint64_t deleted_segments = 0;
  /// The first damage found (ErrorCode::spool_corrupt), empty message when none.
  Error error;
  /// One notice per damaged segment and per refused file (spool_corrupt / io), for the log.
  std::vector<Error> notices;
};

/// A record returned by read_backlog().
struct SpoolRecord {
  SpoolRef ref;
  /// The caller's tag given at append (0 for records recovered from an earlier process).
  std::uint32_t tag = 0;
  /// Metadata id as appended (for records of this process: the caller's id).
  std::uint32_t metadata = 0;
  /// True for records recovered from an earlier process: `metadata` is meaningless then, use
  /// `recovered_metadata` (null when that segment's metadata record was damaged).
  bool recovered = false;
  std::shared_ptr<const SumoMetadata> recovered_metadata;
  /// The line, with its '\n'.
  std::string line;
};

/// One event for append_many().
struct SpoolItem {
  std::uint32_t metadata = 0;
  std::string_view line;
  std::uint32_t tag = 0;
};

/// Spool counters.
struct SpoolStats {
  std::uint64_t bytes = 0;
  std::uint64_t segments = 0;
  /// Event records not yet acknowledged (backlog + those the caller holds in memory).
  std::uint64_t outstanding = 0;
  /// Disk-only records not yet returned by read_backlog().
  std::uint64_t backlog = 0;
  std::uint64_t evicted = 0;
  std::uint64_t corrupt = 0;
  std::uint64_t fsyncs = 0;
};

class Spool {
 public:
  /// Gives the metadata set of an id when an append needs to write it into a segment.
  using MetadataResolver = std::function<const SumoMetadata*(std::uint32_t id)>;

  /// Creates the directory if missing, takes the lock, recovers existing segments (see above).
  /// Errors: io (cannot create/lock/read), invalid_config (bad sizes).
  static Expected<std::unique_ptr<Spool>> open(const SpoolOptions& options, MetadataResolver resolver);
  /// Syncs (unless fsync never) and closes.
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  /// What open() found.
  const SpoolRecovery& recovery() const noexcept { return recovery_; }

  /// Appends one event record with one writev(2). `line` includes its '\n'. `disk_only`: the
  /// caller does not keep it in memory, so read_backlog() will return it. Backlog records evicted
  /// to make room are added to `evicted` (overflow mode). Errors: io, spool_full (write_ahead
  /// mode: the cap would be passed; nothing was written or evicted).
  Expected<SpoolRef> append(std::uint32_t metadata, std::string_view line, bool disk_only, std::uint32_t tag,
                            TagCounts& evicted);
  /// Makes records this process holds in memory (appended with disk_only false, or returned by
  /// read_backlog) disk-only backlog again, without writing them again: read_backlog() returns them
  /// later. `line_sizes[i]` is the size of the line of refs[i] (with its '\n'). Sets
  /// released[i] to false for a record that is not on disk any more (evicted, acked, unknown): the
  /// caller must append it again. Returns how many were released.
  std::size_t release(const SpoolRef* refs, const std::uint32_t* tags, const std::size_t* line_sizes, std::size_t count,
                      std::vector<bool>& released);

  /// Appends disk-only records with few large writes (one fsync under per_batch). Returns how many
  /// of `items` (a prefix) were written; on a failure `error` is set.
  std::size_t append_many(const SpoolItem* items, std::size_t count, TagCounts& evicted, Error* error = nullptr);

  /// Returns backlog records in append order: at least one (if any) and then until `max_bytes` of
  /// lines. Records found damaged now are skipped and added to `corrupt`.
  std::size_t read_backlog(std::size_t max_bytes, std::vector<SpoolRecord>& out, TagCounts& corrupt);

  /// Marks records done (delivered or dropped). Unknown/evicted/already-done refs are ignored.
  /// Deletes segments whose every record is done.
  void ack(const SpoolRef* refs, std::size_t count);

  /// Under FsyncPolicy::interval: when the next sync is due (time_point::max() when clean).
  std::chrono::steady_clock::time_point next_sync_due() const;
  /// Syncs dirty files if due (interval policy) or if `force` (any policy but never).
  void sync_if_due(bool force = false);

  SpoolStats stats() const;
  /// Number of backlog records (disk-only, not yet read).
  std::uint64_t backlog() const;
  const SpoolOptions& options() const noexcept { return options_; }

 private:
  struct Segment;
  Spool(SpoolOptions options, MetadataResolver resolver);
  struct State;
  std::unique_ptr<State> state_;
  SpoolOptions options_;
  SpoolRecovery recovery_;
};

}  // namespace ilert_sumo::detail
