// src/spool/spool.cpp: the disk spool (see spool.hpp for the format and the rules).
//
// POSIX file I/O: segments are written with writev(2) through an O_APPEND descriptor and read with
// pread(2) through a separate read-only descriptor. All state is under one mutex.
#include "spool/spool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "util/crc32c.hpp"
#include "util/errors.hpp"

namespace ilert_sumo::detail {
namespace {

constexpr std::uint32_t kMagic = 0x31505349u;  // "ISP1" on disk
constexpr std::size_t kFrameHeader = 12;
constexpr std::size_t kEventHeader = 12;  // type, flags, u16, md, index
constexpr std::uint32_t kMaxPayload = 128u * 1024u * 1024u;
constexpr std::uint8_t kTypeMetadata = 1;
constexpr std::uint8_t kTypeEvent = 2;
constexpr std::uint8_t kTypeAck = 3;
constexpr std::uint8_t kFlagDiskOnly = 1;
constexpr std::size_t kReadChunk = 256 * 1024;
constexpr std::size_t kWriteChunk = 512 * 1024;
/// Segment numbers have exactly 16 digits.
constexpr std::uint64_t kMaxSeq = 9999999999999999ull;
/// Above this, open() renames the kept segments 1..n (a stray high name must not exhaust numbers).
constexpr std::uint64_t kRenumberAbove = kMaxSeq - (1ull << 32);
/// Offsets inside a segment are kept as u32: segments are capped well below 4 GiB.
constexpr std::uint64_t kMaxSegmentBytes = 1024ull * 1024 * 1024;
constexpr std::uint32_t kNoOffset = 0xFFFFFFFFu;
/// open_regular: the path is not a regular file (a FIFO, a device, a directory...).
constexpr int kNotRegular = -2;

void put32(char* p, std::uint32_t v) noexcept {
  p[0] = static_cast<char>(v & 0xFFu);
  p[1] = static_cast<char>((v >> 8) & 0xFFu);
  p[2] = static_cast<char>((v >> 16) & 0xFFu);
  p[3] = static_cast<char>((v >> 24) & 0xFFu);
}
std::uint32_t get32(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint32_t>(u[0]) | (static_cast<std::uint32_t>(u[1]) << 8) |
         (static_cast<std::uint32_t>(u[2]) << 16) | (static_cast<std::uint32_t>(u[3]) << 24);
}
void append32(std::string& out, std::uint32_t v) {
  char b[4];
  put32(b, v);
  out.append(b, 4);
}
void append_str(std::string& out, const std::string& s) {
  append32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

std::string errno_text(const char* what, const std::string& path, int err) {
  std::string m = "spool: ";
  m += what;
  m += " ";
  m += path;
  m += ": ";
  m += std::strerror(err);
  return m;
}
Error io_error(const char* what, const std::string& path, int err) {
  return make_error(ErrorCode::io, errno_text(what, path, err));
}

std::string segment_name(std::uint64_t seq, const char* ext) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "seg-%016llu.%s", static_cast<unsigned long long>(seq), ext);
  return buf;
}

/// Parses exactly "seg-<16 digits>.<ext>" (what segment_name writes) -> seq, or 0. 16 digits
/// cannot overflow a u64.
std::uint64_t parse_segment_name(const char* name, const char* ext) {
  const std::size_t n = std::strlen(name);
  const std::size_t ext_len = std::strlen(ext);
  if (n != 4 + 16 + 1 + ext_len || std::strncmp(name, "seg-", 4) != 0 || name[20] != '.' ||
      std::strcmp(name + 21, ext) != 0) {
    return 0;
  }
  std::uint64_t seq = 0;
  for (std::size_t i = 4; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    seq = seq * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return seq;
}

/// Writes all iovecs (retrying partial writes and EINTR). Returns 0 or errno.
int write_all(int fd, iovec* iov, int count) {
  while (count > 0) {
    const ssize_t w = ::writev(fd, iov, count);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    auto left = static_cast<std::size_t>(w);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return 0;
}

int pread_all(int fd, char* buf, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t r = ::pread(fd, buf + done, size - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) return EIO;  // shorter than expected: the file changed under us
    done += static_cast<std::size_t>(r);
  }
  return 0;
}

/// Opens a regular file without following a symlink (ELOOP) and without blocking on a FIFO.
/// Returns the fd, or -1 with `err` = errno or kNotRegular.
int open_regular(const std::string& path, int flags, int& err, mode_t mode = 0600) {
  const int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    err = kNotRegular;
    return -1;
  }
  // Back to blocking I/O for a regular file (O_NONBLOCK was only for the open).
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0) (void)::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

std::string open_error_text(int err) {
  if (err == kNotRegular) return "not a regular file";
  if (err == ELOOP) return "a symbolic link (refused)";
  return std::strerror(err);
}

bool read_file(const std::string& path, std::string& out, int& err) {
  out.clear();
  const int fd = open_regular(path, O_RDONLY, err);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      err = errno;
      ::close(fd);
      return false;
    }
    if (r == 0) break;
    out.append(buf, static_cast<std::size_t>(r));
  }
  ::close(fd);
  return true;
}

/// Is there a valid frame at `pos`? Sets the payload length.
bool valid_frame(const std::string& data, std::size_t pos, std::uint32_t& payload_len) {
  if (data.size() - pos < kFrameHeader) return false;
  const char* p = data.data() + pos;
  if (get32(p) != kMagic) return false;
  const std::uint32_t len = get32(p + 4);
  if (len > kMaxPayload || len > data.size() - pos - kFrameHeader) return false;
  if (crc32c(p + kFrameHeader, len) != get32(p + 8)) return false;
  payload_len = len;
  return true;
}

/// Walks the frames of a file image. `on_frame(offset, payload, len)` for each valid frame.
/// Returns the number of damaged regions; `cut_at` is where a damaged tail starts (or size).
template <class OnFrame>
std::uint64_t scan_frames(const std::string& data, std::size_t& cut_at, OnFrame&& on_frame) {
  std::uint64_t damaged = 0;
  std::size_t pos = 0;
  cut_at = data.size();
  while (pos < data.size()) {
    std::uint32_t len = 0;
    if (valid_frame(data, pos, len)) {
      on_frame(pos, data.data() + pos + kFrameHeader, len);
      pos += kFrameHeader + len;
      continue;
    }
    ++damaged;
    // Resync: the next position holding a complete, valid frame.
    std::size_t next = std::string::npos;
    for (std::size_t at = pos + 1; at + kFrameHeader <= data.size(); ++at) {
      const void* hit = std::memchr(data.data() + at, 'I', data.size() - at);
      if (hit == nullptr) break;
      at = static_cast<std::size_t>(static_cast<const char*>(hit) - data.data());
      std::uint32_t l = 0;
      if (valid_frame(data, at, l)) {
        next = at;
        break;
      }
    }
    if (next == std::string::npos) {
      cut_at = pos;
      break;
    }
    pos = next;
  }
  return damaged;
}

struct ParsedEvent {
  std::uint8_t flags = 0;
  std::uint32_t metadata = 0;
  std::uint32_t index = 0;
  std::string_view line;
};
bool parse_event(const char* payload, std::uint32_t len, ParsedEvent& ev) {
  if (len < kEventHeader || static_cast<std::uint8_t>(payload[0]) != kTypeEvent) return false;
  ev.flags = static_cast<std::uint8_t>(payload[1]);
  ev.metadata = get32(payload + 4);
  ev.index = get32(payload + 8);
  ev.line = std::string_view(payload + kEventHeader, len - kEventHeader);
  return true;
}

bool read_str(const char*& p, const char* end, std::string& out) {
  if (end - p < 4) return false;
  const std::uint32_t n = get32(p);
  p += 4;
  if (static_cast<std::size_t>(end - p) < n) return false;
  out.assign(p, n);
  p += n;
  return true;
}
bool parse_metadata(const char* payload, std::uint32_t len, std::uint32_t& id, SumoMetadata& md) {
  if (len < 8 || static_cast<std::uint8_t>(payload[0]) != kTypeMetadata) return false;
  id = get32(payload + 4);
  const char* p = payload + 8;
  const char* end = payload + len;
  if (!read_str(p, end, md.category) || !read_str(p, end, md.name) || !read_str(p, end, md.host)) {
    return false;
  }
  if (end - p < 4) return false;
  const std::uint32_t nfields = get32(p);
  p += 4;
  if (nfields > 4096) return false;
  md.fields.clear();
  for (std::uint32_t i = 0; i < nfields; ++i) {
    SumoField f;
    if (!read_str(p, end, f.key) || !read_str(p, end, f.value)) return false;
    md.fields.push_back(std::move(f));
  }
  return p == end;
}

void serialize_metadata(std::string& out, std::uint32_t id, const SumoMetadata& md) {
  out.clear();
  out.append(kFrameHeader, '\0');
  out.push_back(static_cast<char>(kTypeMetadata));
  out.append(3, '\0');
  append32(out, id);
  append_str(out, md.category);
  append_str(out, md.name);
  append_str(out, md.host);
  append32(out, static_cast<std::uint32_t>(md.fields.size()));
  for (const auto& f : md.fields) {
    append_str(out, f.key);
    append_str(out, f.value);
  }
  const auto len = static_cast<std::uint32_t>(out.size() - kFrameHeader);
  put32(&out[0], kMagic);
  put32(&out[4], len);
  put32(&out[8], crc32c(out.data() + kFrameHeader, len));
}

/// Frame + event header for an event record (24 bytes); the line follows.
void event_header(char* h, std::uint32_t metadata, std::uint32_t index, bool disk_only, std::string_view line) {
  char* e = h + kFrameHeader;
  e[0] = static_cast<char>(kTypeEvent);
  e[1] = static_cast<char>(disk_only ? kFlagDiskOnly : 0);
  e[2] = 0;
  e[3] = 0;
  put32(e + 4, metadata);
  put32(e + 8, index);
  std::uint32_t crc = crc32c(e, kEventHeader);
  crc = crc32c(line.data(), line.size(), crc);
  put32(h, kMagic);
  put32(h + 4, static_cast<std::uint32_t>(kEventHeader + line.size()));
  put32(h + 8, crc);
}

}  // namespace

void TagCounts::add(std::uint32_t tag, std::uint64_t n) {
  if (n == 0) return;
  if (!runs.empty() && runs.back().first == tag) {
    runs.back().second += n;
  } else {
    runs.emplace_back(tag, n);
  }
  total += n;
}

namespace {

struct BacklogEntry {
  std::uint64_t offset;  // of the frame
  std::uint32_t length;  // of the whole frame
  std::uint32_t tag;
};

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

struct Spool::Segment {
  std::uint64_t seq = 0;
  /// File size (including buffered, unwritten bytes during append_many).
  std::uint64_t bytes = 0;
  /// Written by an earlier process.
  bool recovered = false;
  /// Appends go here (always the last segment).
  bool active = false;
  int write_fd = -1;
  int read_fd = -1;
  std::uint32_t next_index = 0;
  /// Frame offset of each event record by index (kNoOffset: unknown), for release().
  std::vector<std::uint32_t> offsets;
  /// Event records not done yet.
  std::uint64_t outstanding = 0;
  /// Done flags by record index.
  std::vector<bool> done;
  /// Disk-only records in file order; [backlog_pos, size) not yet read.
  std::vector<BacklogEntry> backlog;
  std::size_t backlog_pos = 0;
  /// This process's metadata ids that have a metadata record in this segment.
  std::vector<bool> md_written;
  /// Recovered segments: metadata sets by the id written in them.
  std::unordered_map<std::uint32_t, std::shared_ptr<const SumoMetadata>> recovered_md;
  /// Written since the last fdatasync.
  bool dirty = false;

  std::uint64_t backlog_left() const noexcept { return backlog.size() - backlog_pos; }
  bool has_md(std::uint32_t id) const noexcept { return id < md_written.size() && md_written[id]; }
};

struct Spool::State {
  std::mutex mu;
  SpoolOptions opt;
  MetadataResolver resolver;
  int lock_fd = -1;
  int ack_fd = -1;
  std::uint64_t ack_fd_seq = 0;
  /// Ascending seq; the active segment, if any, is the last.
  std::deque<std::unique_ptr<Segment>> segments;
  std::uint64_t next_seq = 1;
  std::uint64_t total_bytes = 0;
  std::uint64_t outstanding = 0;
  std::uint64_t backlog = 0;
  std::uint64_t evicted = 0;
  std::uint64_t corrupt = 0;
  std::uint64_t fsyncs = 0;
  bool dir_dirty = false;
  std::chrono::steady_clock::time_point dirty_since = std::chrono::steady_clock::time_point::max();
  /// Rotated segments still to fdatasync (interval policy).
  std::vector<int> to_sync;
  std::string md_scratch;
  std::string write_buf;
  std::string read_buf;
  std::string ack_buf;
  std::vector<SpoolRef> ack_sorted;

  std::string path(std::uint64_t seq, const char* ext) const { return opt.dir + "/" + segment_name(seq, ext); }
  Segment* find(std::uint64_t seq) const {
    auto it = std::lower_bound(segments.begin(), segments.end(), seq,
                               [](const std::unique_ptr<Segment>& s, std::uint64_t v) { return s->seq < v; });
    return (it != segments.end() && (*it)->seq == seq) ? it->get() : nullptr;
  }
  Segment* active() const { return (!segments.empty() && segments.back()->active) ? segments.back().get() : nullptr; }

  void mark_dirty(Segment& seg) {
    seg.dirty = true;
    if (dirty_since == std::chrono::steady_clock::time_point::max()) {
      dirty_since = std::chrono::steady_clock::now();
    }
  }

  void sync_dir() {
    const int dfd = ::open(opt.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      if (::fsync(dfd) == 0) ++fsyncs;
      ::close(dfd);
    }
    dir_dirty = false;
  }

  /// Applies the fsync policy after a write to the active segment.
  void after_write(Segment& seg) {
    switch (opt.fsync) {
      case FsyncPolicy::never: break;
      case FsyncPolicy::per_batch:
        if (::fdatasync(seg.write_fd) == 0) ++fsyncs;
        if (dir_dirty) sync_dir();
        break;
      case FsyncPolicy::interval: mark_dirty(seg); break;
    }
  }

  /// Deletes a segment's files and forgets it. Its backlog counts as `evicted` when given.
  void remove(Segment* seg, TagCounts* evicted_tags) {
    ::unlink(path(seg->seq, "spool").c_str());
    ::unlink(path(seg->seq, "ack").c_str());
    close_fd(seg->write_fd);
    close_fd(seg->read_fd);
    if (ack_fd_seq == seg->seq) {
      close_fd(ack_fd);
      ack_fd_seq = 0;
    }
    if (evicted_tags != nullptr) {
      for (std::size_t i = seg->backlog_pos; i < seg->backlog.size(); ++i) evicted_tags->add(seg->backlog[i].tag);
      evicted += seg->backlog_left();
    }
    backlog -= seg->backlog_left();
    outstanding -= seg->outstanding;
    total_bytes -= seg->bytes;
    auto it = std::find_if(segments.begin(), segments.end(),
                           [seg](const std::unique_ptr<Segment>& p) { return p.get() == seg; });
    if (it != segments.end()) segments.erase(it);
  }

  void maybe_remove(Segment* seg) {
    if (seg->outstanding == 0 && seg->backlog_left() == 0) remove(seg, nullptr);
  }

  void rotate() {
    Segment* a = active();
    if (a == nullptr) return;
    a->active = false;
    if (a->write_fd >= 0) {
      if (opt.fsync == FsyncPolicy::interval && a->dirty) {
        to_sync.push_back(a->write_fd);  // synced (and closed) by sync_if_due, off the append path
        a->write_fd = -1;
      } else {
        close_fd(a->write_fd);
      }
    }
    a->dirty = false;
    maybe_remove(a);
  }

  /// Makes room for `need` more bytes: rotation past segment_bytes, eviction past max_bytes.
  Expected<void> make_room(std::uint64_t need, TagCounts& evicted_tags) {
    if (need > opt.max_bytes) {
      return make_error(opt.mode == SpoolMode::write_ahead ? ErrorCode::spool_full : ErrorCode::io,
                        "spool: a record of " + std::to_string(need) + " bytes is larger than the spool cap");
    }
    if (Segment* a = active(); a != nullptr && a->bytes > 0 && a->bytes + need > opt.segment_bytes) rotate();
    if (opt.mode == SpoolMode::write_ahead) {
      // Every record here was promised to a caller: never evict, refuse the new one instead.
      if (total_bytes + need > opt.max_bytes) {
        return make_error(ErrorCode::spool_full, "spool_full: the write-ahead spool holds " +
                                                     std::to_string(total_bytes) +
                                                     " bytes, its cap (spool.max_bytes) is " +
                                                     std::to_string(opt.max_bytes) + "; the event was refused");
      }
      return {};
    }
    while (total_bytes + need > opt.max_bytes && !segments.empty() && !segments.front()->active) {
      remove(segments.front().get(), &evicted_tags);
    }
    return {};
  }

  /// The active segment, created when there is none; nullptr and `err` on failure.
  Segment* ensure_active(Error& err) {
    if (Segment* a = active()) return a;
    for (;;) {
      if (next_seq > kMaxSeq) {
        err = make_error(ErrorCode::io, "spool: segment numbers exhausted in " + opt.dir);
        return nullptr;
      }
      const std::uint64_t seq = next_seq++;
      const std::string p = path(seq, "spool");
      const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) {
        if (errno == EEXIST) continue;  // also a symlink of that name: left alone
        err = io_error("cannot create", p, errno);
        return nullptr;
      }
      auto seg = std::make_unique<Segment>();
      seg->seq = seq;
      seg->active = true;
      seg->write_fd = fd;
      segments.push_back(std::move(seg));
      dir_dirty = true;
      if (opt.fsync == FsyncPolicy::interval) mark_dirty(*segments.back());
      return segments.back().get();
    }
  }

  /// Serialises the metadata record for `id` into md_scratch.
  void metadata_frame(std::uint32_t id) {
    const SumoMetadata* md = resolver ? resolver(id) : nullptr;
    static const SumoMetadata kEmpty{};
    serialize_metadata(md_scratch, id, md != nullptr ? *md : kEmpty);
  }

  /// Bookkeeping of one appended event record at `offset`.
  SpoolRef record_appended(Segment& seg, std::uint64_t offset, std::uint32_t frame_len, bool disk_only,
                           std::uint32_t tag) {
    const std::uint32_t index = seg.next_index++;
    seg.done.push_back(false);
    seg.offsets.push_back(static_cast<std::uint32_t>(offset));
    ++seg.outstanding;
    ++outstanding;
    if (disk_only) {
      seg.backlog.push_back(BacklogEntry{offset, frame_len, tag});
      ++backlog;
    }
    return SpoolRef{seg.seq, index};
  }

  void set_md_written(Segment& seg, std::uint32_t id) {
    if (seg.md_written.size() <= id) seg.md_written.resize(std::size_t{id} + 1, false);
    seg.md_written[id] = true;
  }
};

Spool::Spool(SpoolOptions options, MetadataResolver resolver)
    : state_(std::make_unique<State>()), options_(std::move(options)) {
  state_->opt = options_;
  state_->resolver = std::move(resolver);
}

Spool::~Spool() {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  const bool sync = options_.fsync != FsyncPolicy::never;
  for (int& fd : s.to_sync) {
    if (sync) ::fdatasync(fd);
    close_fd(fd);
  }
  for (auto& seg : s.segments) {
    if (sync && seg->dirty && seg->write_fd >= 0) ::fdatasync(seg->write_fd);
    close_fd(seg->write_fd);
    close_fd(seg->read_fd);
  }
  if (sync && s.dir_dirty) s.sync_dir();
  close_fd(s.ack_fd);
  close_fd(s.lock_fd);
}

namespace {
Expected<void> make_dirs(const std::string& dir) {
  if (dir.empty()) return make_error(ErrorCode::invalid_config, "spool: empty directory");
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    const std::string partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) return io_error("cannot create", partial, errno);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return io_error("cannot stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) return make_error(ErrorCode::io, "spool: not a directory: " + dir);
  // Anyone who can write here can forge segments (replayed into Sumo) or plant links.
  if (st.st_uid != ::geteuid()) {
    return make_error(ErrorCode::invalid_config, "spool: directory " + dir + " is owned by uid " +
                                                     std::to_string(st.st_uid) + ", not by this process (uid " +
                                                     std::to_string(::geteuid()) + "); refusing to use it");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(ErrorCode::invalid_config, "spool: directory " + dir + " is writable by group or others (mode " +
                                                     mode + "); refusing to use it (chmod 700 it)");
  }
  return {};
}

/// Counts event frames that start in `data[from, size)` (a damaged tail): at least one.
std::uint64_t events_in_tail(const std::string& data, std::size_t from) {
  std::uint64_t n = 0;
  for (std::size_t at = from; at + kFrameHeader + 1 <= data.size(); ++at) {
    const void* hit = std::memchr(data.data() + at, 'I', data.size() - at);
    if (hit == nullptr) break;
    at = static_cast<std::size_t>(static_cast<const char*>(hit) - data.data());
    if (at + kFrameHeader + 1 <= data.size() && get32(data.data() + at) == kMagic &&
        static_cast<std::uint8_t>(data[at + kFrameHeader]) == kTypeEvent) {
      ++n;
    }
  }
  return std::max<std::uint64_t>(n, 1);
}

/// Applies the ack frames of an .ack file image to `done`.
void apply_acks(const std::string& data, std::vector<bool>& done) {
  std::size_t cut = 0;
  scan_frames(data, cut, [&](std::size_t, const char* p, std::uint32_t len) {
    if (len < 8 || static_cast<std::uint8_t>(p[0]) != kTypeAck) return;
    const std::uint32_t n = get32(p + 4);
    if (std::uint64_t{n} * 8 != len - 8) return;
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t first = get32(p + 8 + std::size_t{8} * i);
      const std::uint32_t count = get32(p + 12 + std::size_t{8} * i);
      if (count > (1u << 26) || first > (1u << 30)) continue;  // nonsense: ignore
      const std::size_t end = std::size_t{first} + count;
      if (done.size() < end) done.resize(end, false);
      std::fill(done.begin() + static_cast<std::ptrdiff_t>(first), done.begin() + static_cast<std::ptrdiff_t>(end),
                true);
    }
  });
}
}  // namespace

Expected<std::unique_ptr<Spool>> Spool::open(const SpoolOptions& options_in, MetadataResolver resolver) {
  SpoolOptions options = options_in;
  if (options.max_bytes < 4096) {
    return make_error(ErrorCode::invalid_config, "spool: max_bytes must be at least 4096");
  }
  if (options.segment_bytes < 1024) {
    return make_error(ErrorCode::invalid_config, "spool: segment_bytes must be at least 1024");
  }
  if (options.fsync == FsyncPolicy::interval && options.fsync_interval.count() <= 0) {
    return make_error(ErrorCode::invalid_config, "spool: fsync_interval must be positive");
  }
  // Eviction works on whole segments: keep at least two of them under the cap.
  if (options.segment_bytes > options.max_bytes / 2) options.segment_bytes = options.max_bytes / 2;
  if (options.segment_bytes > kMaxSegmentBytes) options.segment_bytes = kMaxSegmentBytes;
  if (auto made = make_dirs(options.dir); !made) return made.error();

  std::unique_ptr<Spool> spool(new Spool(options, std::move(resolver)));
  State& s = *spool->state_;
  SpoolRecovery& rec = spool->recovery_;

  const std::string lock_path = options.dir + "/spool.lock";
  int lock_err = 0;
  s.lock_fd = open_regular(lock_path, O_RDWR | O_CREAT, lock_err);
  if (s.lock_fd < 0) {
    return make_error(ErrorCode::io, "spool: cannot open " + lock_path + ": " + open_error_text(lock_err));
  }
  if (::flock(s.lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return make_error(ErrorCode::io, "spool: directory in use by another sender: " + options.dir);
  }

  std::vector<std::uint64_t> seqs;
  std::vector<std::uint64_t> ack_seqs;
  DIR* d = ::opendir(options.dir.c_str());
  if (d == nullptr) return io_error("cannot list", options.dir, errno);
  while (const dirent* e = ::readdir(d)) {
    if (const std::uint64_t q = parse_segment_name(e->d_name, "spool"); q != 0) seqs.push_back(q);
    if (const std::uint64_t q = parse_segment_name(e->d_name, "ack"); q != 0) ack_seqs.push_back(q);
  }
  ::closedir(d);
  std::sort(seqs.begin(), seqs.end());
  for (std::uint64_t q : ack_seqs) {  // acks of segments that are gone
    if (!std::binary_search(seqs.begin(), seqs.end(), q)) ::unlink(s.path(q, "ack").c_str());
  }

  std::string data;
  std::string ack_data;
  for (std::uint64_t seq : seqs) {
    ++rec.segments;
    const std::string path = s.path(seq, "spool");
    int err = 0;
    if (!read_file(path, data, err)) {
      if (err == ELOOP || err == kNotRegular) {
        // Never read, truncated or appended through: left alone, reported. New segments skip the
        // name (O_EXCL).
        ++rec.refused_files;
        rec.notices.push_back(make_error(ErrorCode::io, "spool: ignoring " + path + ": " + open_error_text(err) +
                                                            "; it is not a segment this spool wrote"));
        continue;
      }
      return io_error("cannot read", path, err);
    }

    auto seg = std::make_unique<Segment>();
    seg->seq = seq;
    seg->recovered = true;
    if (read_file(s.path(seq, "ack"), ack_data, err)) apply_acks(ack_data, seg->done);
    std::vector<bool> seen;  // a record index twice (should not happen): keep the first
    std::size_t cut_at = 0;
    const std::uint64_t damaged = scan_frames(data, cut_at, [&](std::size_t off, const char* p, std::uint32_t len) {
      const auto type = static_cast<std::uint8_t>(p[0]);
      if (type == kTypeMetadata) {
        std::uint32_t id = 0;
        auto md = std::make_shared<SumoMetadata>();
        if (parse_metadata(p, len, id, *md)) seg->recovered_md[id] = std::move(md);
        return;
      }
      ParsedEvent ev;
      if (!parse_event(p, len, ev)) return;
      if (ev.index >= seg->next_index) seg->next_index = ev.index + 1;
      if (seen.size() <= ev.index) seen.resize(std::size_t{ev.index} + 1, false);
      if (seen[ev.index]) return;
      seen[ev.index] = true;
      if (seg->offsets.size() <= ev.index) seg->offsets.resize(std::size_t{ev.index} + 1, kNoOffset);
      seg->offsets[ev.index] = static_cast<std::uint32_t>(off);
      if (ev.index < seg->done.size() && seg->done[ev.index]) return;
      seg->backlog.push_back(BacklogEntry{off, static_cast<std::uint32_t>(kFrameHeader + len), 0});
    });
    if (seg->done.size() < seg->next_index) seg->done.resize(seg->next_index, false);
    if (seg->offsets.size() < seg->next_index) seg->offsets.resize(seg->next_index, kNoOffset);
    if (damaged > 0) {
      // Per event: an index below the highest intact one that is neither intact nor done was lost
      // in a damaged region; a damaged tail holds the event frames that start in it (at least 1).
      std::uint64_t lost = 0;
      for (std::uint32_t i = 0; i < seg->next_index; ++i) {
        if ((i >= seen.size() || !seen[i]) && !seg->done[i]) ++lost;
      }
      if (cut_at < data.size()) lost += events_in_tail(data, cut_at);
      rec.corrupt += lost;
      rec.damaged_regions += damaged;
      Error notice =
          make_error(ErrorCode::spool_corrupt, "spool_corrupt: " + std::to_string(lost) +
                                                   " damaged event record(s) in " + std::to_string(damaged) +
                                                   " damaged region(s) skipped in " + path + " (they are lost)");
      if (rec.error.message.empty()) rec.error = notice;
      rec.notices.push_back(std::move(notice));
    }
    if (cut_at < data.size()) {
      int terr = 0;
      const int tfd = open_regular(path, O_WRONLY, terr);
      if (tfd >= 0) {
        if (::ftruncate(tfd, static_cast<off_t>(cut_at)) == 0) {
          rec.truncated_bytes += data.size() - cut_at;
          data.resize(cut_at);
        }
        ::close(tfd);
      }
    }
    seg->bytes = data.size();
    seg->outstanding = seg->backlog.size();
    if (seg->outstanding == 0) {
      ::unlink(path.c_str());
      ::unlink(s.path(seq, "ack").c_str());
      ++rec.deleted_segments;
      continue;
    }
    rec.records += seg->outstanding;
    s.outstanding += seg->outstanding;
    s.backlog += seg->outstanding;
    s.total_bytes += seg->bytes;
    s.next_seq = seq + 1;  // only segments kept count: a stray name that was dropped does not
    s.segments.push_back(std::move(seg));
  }
  s.corrupt = rec.corrupt;
  if (s.next_seq > kRenumberAbove) {
    // A high (stray) number: rename the kept segments 1..n, in order, so numbers never run out.
    std::uint64_t next = 1;
    for (auto& seg : s.segments) {
      struct stat st {};
      while (next < seg->seq && ::lstat(s.path(next, "spool").c_str(), &st) == 0) ++next;
      if (next < seg->seq) {
        if (::rename(s.path(seg->seq, "spool").c_str(), s.path(next, "spool").c_str()) != 0) {
          return io_error("cannot rename", s.path(seg->seq, "spool"), errno);
        }
        ::unlink(s.path(next, "ack").c_str());
        if (::rename(s.path(seg->seq, "ack").c_str(), s.path(next, "ack").c_str()) != 0 && errno != ENOENT) {
          return io_error("cannot rename", s.path(seg->seq, "ack"), errno);
        }
        seg->seq = next;
        s.dir_dirty = true;
      }
      next = seg->seq + 1;
    }
    s.next_seq = next;
  }
  return spool;
}

std::size_t Spool::release(const SpoolRef* refs, const std::uint32_t* tags, const std::size_t* line_sizes,
                           std::size_t count, std::vector<bool>& released) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  released.assign(count, false);
  std::size_t n = 0;
  std::vector<Segment*> touched;
  for (std::size_t i = 0; i < count; ++i) {
    const SpoolRef& r = refs[i];
    Segment* seg = r.segment != 0 ? s.find(r.segment) : nullptr;
    if (seg == nullptr || r.index >= seg->done.size() || seg->done[r.index] || r.index >= seg->offsets.size() ||
        seg->offsets[r.index] == kNoOffset) {
      continue;
    }
    const auto frame_len = static_cast<std::uint32_t>(kFrameHeader + kEventHeader + line_sizes[i]);
    seg->backlog.push_back(BacklogEntry{seg->offsets[r.index], frame_len, tags[i]});
    ++s.backlog;
    released[i] = true;
    ++n;
    if (touched.empty() || touched.back() != seg) touched.push_back(seg);
  }
  // Keep the unread part of each backlog in file order (read_backlog reads contiguous runs).
  for (Segment* seg : touched) {
    auto first = seg->backlog.begin() + static_cast<std::ptrdiff_t>(seg->backlog_pos);
    if (!std::is_sorted(first, seg->backlog.end(),
                        [](const BacklogEntry& a, const BacklogEntry& b) { return a.offset < b.offset; })) {
      std::stable_sort(first, seg->backlog.end(),
                       [](const BacklogEntry& a, const BacklogEntry& b) { return a.offset < b.offset; });
    }
  }
  return n;
}

Expected<SpoolRef> Spool::append(std::uint32_t metadata, std::string_view line, bool disk_only, std::uint32_t tag,
                                 TagCounts& evicted) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  const std::uint64_t frame_len = kFrameHeader + kEventHeader + line.size();
  if (frame_len - kFrameHeader > kMaxPayload) {
    return make_error(ErrorCode::io, "spool: a line of " + std::to_string(line.size()) + " bytes is too large");
  }
  const Segment* before = s.active();
  bool md_guess = before == nullptr || !before->has_md(metadata);
  if (md_guess) s.metadata_frame(metadata);
  if (!md_guess && before->bytes > 0 && before->bytes + frame_len > s.opt.segment_bytes) {
    md_guess = true;  // make_room will rotate: the new segment needs the metadata record too
    s.metadata_frame(metadata);
  }
  if (auto room = s.make_room(frame_len + (md_guess ? s.md_scratch.size() : 0), evicted); !room) {
    return room.error();
  }
  Error err;
  Segment* active = s.ensure_active(err);
  if (active == nullptr) return err;
  Segment& seg = *active;
  const bool need_md = !seg.has_md(metadata);
  if (need_md && !md_guess) s.metadata_frame(metadata);

  char header[kFrameHeader + kEventHeader];
  event_header(header, metadata, seg.next_index, disk_only, line);
  iovec iov[3];
  int n = 0;
  if (need_md) iov[n++] = iovec{&s.md_scratch[0], s.md_scratch.size()};
  iov[n++] = iovec{header, sizeof header};
  iov[n++] = iovec{const_cast<char*>(line.data()), line.size()};
  const std::uint64_t md_len = need_md ? s.md_scratch.size() : 0;
  if (const int werr = write_all(seg.write_fd, iov, n); werr != 0) {
    if (::ftruncate(seg.write_fd, static_cast<off_t>(seg.bytes)) != 0) {
      // The file keeps a partial record; recovery skips it as damaged.
    }
    return io_error("cannot write", s.path(seg.seq, "spool"), werr);
  }
  const std::uint64_t offset = seg.bytes + md_len;
  seg.bytes += md_len + frame_len;
  s.total_bytes += md_len + frame_len;
  if (need_md) s.set_md_written(seg, metadata);
  const SpoolRef ref = s.record_appended(seg, offset, static_cast<std::uint32_t>(frame_len), disk_only, tag);
  s.after_write(seg);
  return ref;
}

std::size_t Spool::append_many(const SpoolItem* items, std::size_t count, TagCounts& evicted, Error* error) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  // Frames are gathered in write_buf and written in large chunks; the bookkeeping of a chunk is
  // applied only once the chunk is on disk.
  struct Pending {
    std::uint64_t offset;
    std::uint32_t frame_len;
    std::uint32_t tag;
    std::uint32_t metadata;
    bool new_md;
  };
  std::vector<Pending> pending;
  Segment* chunk_seg = nullptr;
  std::uint64_t chunk_start = 0;  // file offset of write_buf[0]
  std::size_t written = 0;        // items on disk
  s.write_buf.clear();
  std::vector<std::uint32_t> chunk_md;  // metadata ids written in this chunk

  auto flush = [&]() -> bool {
    if (chunk_seg == nullptr || s.write_buf.empty()) return true;
    iovec iov{&s.write_buf[0], s.write_buf.size()};
    if (const int err = write_all(chunk_seg->write_fd, &iov, 1); err != 0) {
      if (::ftruncate(chunk_seg->write_fd, static_cast<off_t>(chunk_start)) != 0) {
        // a partial record stays; recovery skips it
      }
      if (error != nullptr) *error = io_error("cannot write", s.path(chunk_seg->seq, "spool"), err);
      return false;
    }
    chunk_seg->bytes = chunk_start + s.write_buf.size();
    s.total_bytes += s.write_buf.size();
    for (const Pending& p : pending) {
      if (p.new_md) s.set_md_written(*chunk_seg, p.metadata);
      s.record_appended(*chunk_seg, p.offset, p.frame_len, true, p.tag);
    }
    written += pending.size();
    pending.clear();
    s.write_buf.clear();
    chunk_md.clear();
    if (s.opt.fsync == FsyncPolicy::interval) s.mark_dirty(*chunk_seg);
    return true;
  };

  for (std::size_t i = 0; i < count; ++i) {
    const SpoolItem& item = items[i];
    const std::uint64_t frame_len = kFrameHeader + kEventHeader + item.line.size();
    if (frame_len - kFrameHeader > kMaxPayload) {
      if (error != nullptr) *error = make_error(ErrorCode::io, "spool: a line is too large for the spool");
      break;
    }
    auto in_chunk = [&](std::uint32_t id) { return std::find(chunk_md.begin(), chunk_md.end(), id) != chunk_md.end(); };
    const Segment* a = s.active();
    const std::uint64_t used = a != nullptr ? (a == chunk_seg ? chunk_start + s.write_buf.size() : a->bytes) : 0;
    bool md_guess = a == nullptr || !(a->has_md(item.metadata) || (a == chunk_seg && in_chunk(item.metadata)));
    if (md_guess) s.metadata_frame(item.metadata);
    if (!md_guess && used > 0 && used + frame_len > s.opt.segment_bytes) {
      md_guess = true;  // rotating: the new segment needs the metadata record too
      s.metadata_frame(item.metadata);
    }
    const std::uint64_t need = frame_len + (md_guess ? s.md_scratch.size() : 0);
    const bool rotating = a != nullptr && used > 0 && used + need > s.opt.segment_bytes;
    if (rotating || s.write_buf.size() + need > kWriteChunk ||
        s.total_bytes + s.write_buf.size() + need > s.opt.max_bytes) {
      if (!flush()) break;
      chunk_seg = nullptr;
    }
    if (auto room = s.make_room(need, evicted); !room) {
      if (error != nullptr) *error = room.error();
      break;
    }
    Error err;
    Segment* active = s.ensure_active(err);
    if (active == nullptr) {
      if (error != nullptr) *error = err;
      break;
    }
    Segment& seg = *active;
    if (chunk_seg != &seg) {
      if (!flush()) break;
      chunk_seg = &seg;
      chunk_start = seg.bytes;
    }
    const bool need_md = !seg.has_md(item.metadata) && !in_chunk(item.metadata);
    if (need_md) {
      if (!md_guess) s.metadata_frame(item.metadata);
      s.write_buf += s.md_scratch;
      chunk_md.push_back(item.metadata);
    }
    const std::uint64_t offset = chunk_start + s.write_buf.size();
    char header[kFrameHeader + kEventHeader];
    const auto index = static_cast<std::uint32_t>(seg.next_index + pending.size());
    event_header(header, item.metadata, index, true, item.line);
    s.write_buf.append(header, sizeof header);
    s.write_buf.append(item.line.data(), item.line.size());
    pending.push_back(Pending{offset, static_cast<std::uint32_t>(frame_len), item.tag, item.metadata, need_md});
  }
  const bool ok = flush();
  (void)ok;
  if (written > 0 && s.opt.fsync == FsyncPolicy::per_batch) {
    if (Segment* a = s.active(); a != nullptr && a->write_fd >= 0 && ::fdatasync(a->write_fd) == 0) ++s.fsyncs;
    if (s.dir_dirty) s.sync_dir();
  }
  return written;
}

std::size_t Spool::read_backlog(std::size_t max_bytes, std::vector<SpoolRecord>& out, TagCounts& corrupt) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  std::size_t bytes = 0;
  std::size_t got = 0;
  std::vector<Segment*> emptied;
  for (auto& seg_ptr : s.segments) {
    Segment& seg = *seg_ptr;
    if (got > 0 && bytes >= max_bytes) break;
    while (seg.backlog_pos < seg.backlog.size() && (got == 0 || bytes < max_bytes)) {
      int open_err = 0;
      if (seg.read_fd < 0) seg.read_fd = open_regular(s.path(seg.seq, "spool"), O_RDONLY, open_err);
      // A run of entries contiguous on disk, up to kReadChunk (at least one).
      const std::size_t first = seg.backlog_pos;
      const std::uint64_t run_start = seg.backlog[first].offset;
      std::uint64_t run_end = run_start + seg.backlog[first].length;
      std::size_t last = first + 1;
      while (last < seg.backlog.size() && seg.backlog[last].offset == run_end &&
             run_end + seg.backlog[last].length - run_start <= kReadChunk &&
             bytes + (run_end - run_start) < max_bytes) {
        run_end += seg.backlog[last].length;
        ++last;
      }
      s.read_buf.resize(static_cast<std::size_t>(run_end - run_start));
      const int err = seg.read_fd < 0 ? (open_err != 0 ? open_err : EIO)
                                      : pread_all(seg.read_fd, &s.read_buf[0], s.read_buf.size(), run_start);
      for (std::size_t i = first; i < last; ++i) {
        const BacklogEntry& b = seg.backlog[i];
        const char* p = s.read_buf.data() + (b.offset - run_start);
        ParsedEvent ev;
        const bool ok = err == 0 && get32(p) == kMagic && get32(p + 4) == b.length - kFrameHeader &&
                        crc32c(p + kFrameHeader, b.length - kFrameHeader) == get32(p + 8) &&
                        parse_event(p + kFrameHeader, b.length - static_cast<std::uint32_t>(kFrameHeader), ev);
        --s.backlog;
        if (!ok) {  // damaged since it was written/recovered: it will never be acked
          ++s.corrupt;
          corrupt.add(b.tag);
          --seg.outstanding;
          --s.outstanding;
          continue;
        }
        SpoolRecord r;
        r.ref = SpoolRef{seg.seq, ev.index};
        r.tag = b.tag;
        r.metadata = ev.metadata;
        r.recovered = seg.recovered;
        if (seg.recovered) {
          if (auto it = seg.recovered_md.find(ev.metadata); it != seg.recovered_md.end()) {
            r.recovered_metadata = it->second;
          }
        }
        r.line.assign(ev.line.data(), ev.line.size());
        bytes += r.line.size();
        ++got;
        out.push_back(std::move(r));
      }
      seg.backlog_pos = last;
    }
    if (seg.backlog_pos == seg.backlog.size() && !seg.backlog.empty()) {
      seg.backlog.clear();
      seg.backlog.shrink_to_fit();
      seg.backlog_pos = 0;
      close_fd(seg.read_fd);
      if (seg.outstanding == 0 && !seg.active) emptied.push_back(&seg);
    }
  }
  for (Segment* seg : emptied) s.maybe_remove(seg);
  return got;
}

void Spool::ack(const SpoolRef* refs, std::size_t count) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  s.ack_sorted.assign(refs, refs + count);
  std::sort(s.ack_sorted.begin(), s.ack_sorted.end(), [](const SpoolRef& a, const SpoolRef& b) {
    return a.segment != b.segment ? a.segment < b.segment : a.index < b.index;
  });
  std::size_t i = 0;
  while (i < s.ack_sorted.size()) {
    const std::uint64_t seq = s.ack_sorted[i].segment;
    std::size_t j = i;
    while (j < s.ack_sorted.size() && s.ack_sorted[j].segment == seq) ++j;
    Segment* seg = seq != 0 ? s.find(seq) : nullptr;
    if (seg != nullptr) {
      // Ranges of newly done indices.
      s.ack_buf.assign(kFrameHeader, '\0');
      s.ack_buf.push_back(static_cast<char>(kTypeAck));
      s.ack_buf.append(7, '\0');  // 3 zero bytes + u32 count (patched)
      std::uint32_t ranges = 0;
      std::uint32_t run_first = 0;
      std::uint32_t run_len = 0;
      auto close_run = [&] {
        if (run_len == 0) return;
        append32(s.ack_buf, run_first);
        append32(s.ack_buf, run_len);
        ++ranges;
        run_len = 0;
      };
      for (std::size_t k = i; k < j; ++k) {
        const std::uint32_t idx = s.ack_sorted[k].index;
        if (idx >= seg->done.size() || seg->done[idx]) continue;
        seg->done[idx] = true;
        --seg->outstanding;
        --s.outstanding;
        if (run_len > 0 && run_first + run_len == idx) {
          ++run_len;
        } else {
          close_run();
          run_first = idx;
          run_len = 1;
        }
      }
      close_run();
      if (seg->outstanding == 0 && seg->backlog_left() == 0) {
        s.remove(seg, nullptr);  // nothing left: no need to write the ack
      } else if (ranges > 0) {
        const auto len = static_cast<std::uint32_t>(s.ack_buf.size() - kFrameHeader);
        put32(&s.ack_buf[kFrameHeader + 4], ranges);
        put32(&s.ack_buf[0], kMagic);
        put32(&s.ack_buf[4], len);
        put32(&s.ack_buf[8], crc32c(s.ack_buf.data() + kFrameHeader, len));
        if (s.ack_fd_seq != seq) {
          close_fd(s.ack_fd);
          int open_err = 0;
          s.ack_fd = open_regular(s.path(seq, "ack"), O_WRONLY | O_CREAT | O_APPEND, open_err);
          s.ack_fd_seq = s.ack_fd >= 0 ? seq : 0;
        }
        if (s.ack_fd >= 0) {
          iovec iov{&s.ack_buf[0], s.ack_buf.size()};
          (void)write_all(s.ack_fd, &iov, 1);  // a lost ack only costs a duplicate
        }
      }
    }
    i = j;
  }
}

std::chrono::steady_clock::time_point Spool::next_sync_due() const {
  const State& s = *state_;
  std::lock_guard<std::mutex> lock(state_->mu);
  if (options_.fsync != FsyncPolicy::interval || s.dirty_since == std::chrono::steady_clock::time_point::max()) {
    return std::chrono::steady_clock::time_point::max();
  }
  return s.dirty_since + options_.fsync_interval;
}

void Spool::sync_if_due(bool force) {
  if (options_.fsync == FsyncPolicy::never) return;
  State& s = *state_;
  std::vector<int> fds;  // synced outside the lock so appends are not held up by the disk
  bool dir = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    const auto now = std::chrono::steady_clock::now();
    if (!force && (s.dirty_since == std::chrono::steady_clock::time_point::max() ||
                   now < s.dirty_since + options_.fsync_interval)) {
      return;
    }
    fds.swap(s.to_sync);
    for (auto& seg : s.segments) {
      if (seg->dirty && seg->write_fd >= 0) {
        const int d = ::dup(seg->write_fd);
        if (d >= 0) fds.push_back(d);
      }
      seg->dirty = false;
    }
    dir = s.dir_dirty;
    s.dir_dirty = false;
    s.dirty_since = std::chrono::steady_clock::time_point::max();
  }
  std::uint64_t synced = 0;
  for (int fd : fds) {
    if (::fdatasync(fd) == 0) ++synced;
    ::close(fd);
  }
  std::lock_guard<std::mutex> lock(s.mu);
  s.fsyncs += synced;
  if (dir) s.sync_dir();
}

std::uint64_t Spool::backlog() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->backlog;
}

SpoolStats Spool::stats() const {
  const State& s = *state_;
  std::lock_guard<std::mutex> lock(state_->mu);
  SpoolStats st;
  st.bytes = s.total_bytes;
  st.segments = s.segments.size();
  st.outstanding = s.outstanding;
  st.backlog = s.backlog;
  st.evicted = s.evicted;
  st.corrupt = s.corrupt;
  st.fsyncs = s.fsyncs;
  return st;
}

}  // namespace ilert_sumo::detail
