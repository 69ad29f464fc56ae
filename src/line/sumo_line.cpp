// src/line/sumo_line.cpp: Event -> the one line of compact JSON sent to Sumo Logic (sumo_line.hpp).
//
// Written with RapidJSON's Writer (text_util.hpp's JsonWriter) straight into the caller's
// std::string. Every top-level value of the line is a `Member` (key, kind, and how this render
// cuts it); one render walks them in line order. The common case is one render. A line over the
// cap is rendered again with per-member limits (details first, then customDetails, labels,
// passed-through values, other strings, array lengths, and last the passed-through members
// themselves), never by editing the finished text, until it fits; every cut member is named in
// `ilertSumoTruncated` with its original size. Raw JSON values (labels, customDetails, extra
// fields, type-mismatch values) are validated and compacted with RapidJSON's Reader feeding the
// Writer; text that is not one JSON value (hand-built events) is written as a string. The line's
// schema, the cut order and the dedupId rule are documented in docs/SUMO_LINE.md.
#include "ilert_sumo/sumo_line.hpp"
#include "ilert_sumo/lifecycle.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "delivery/delivery.hpp"
#include "util/json_compact.hpp"
#include "util/text_util.hpp"

namespace ilert_sumo {
namespace {

using detail::JsonSink;
using detail::JsonWriter;

constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();
// parse_event's default max_depth is 64 with the line object at depth 1: a value may nest 63 deep.
constexpr std::size_t kMaxRawDepth = 63;
// A longer eventId is not used as the dedupId (an iLert eventId is a UUID).
constexpr std::size_t kMaxEventIdBytes = 128;
// Cutting a value shorter than this (rendered bytes) costs more marker than it saves, except as
// the last resort.
constexpr std::size_t kWorthCutting = 64;
// Renders before the last-resort plan (everything cut) is used.
constexpr int kMaxRounds = 16;
// Strings inside objects and arrays are cut no shorter than this before array elements go.
constexpr std::size_t kNestedFloor = 64;
// Per-thread buffers above this size are released after the line.
constexpr std::size_t kKeepScratchBytes = 1u << 20;

constexpr std::string_view kMarkerKey = "ilertSumoTruncated";
constexpr std::string_view kDroppedKey = "ilertSumoDroppedKeys";
constexpr std::string_view kMismatchesKey = "ilertSumoTypeMismatches";

// The modelled optional fields, in line order.
enum Field : std::uint8_t {
  kSummary,
  kDetails,
  kStatus,
  kPriority,
  kReportTime,
  kAlertKey,
  kAlertSource,
  kEscalationPolicy,
  kAssignedTo,
  kResponders,
  kResolvedOn,
  kLinks,
  kImages,
  kComment,
  kTimestamp,
  kEventId,
  kCorrelationId,
  kMergeState,
  kMergedIntoId,
  kMergedOn,
  kSeverity,
  kLabels,
  kCustomDetails,
  kFieldCount,
  kNotModelled = 0xFF,
};
constexpr std::array<std::string_view, kFieldCount> kFieldNames{
    "summary",      "details",          "status",     "priority",   "reportTime",    "alertKey",
    "alertSource",  "escalationPolicy", "assignedTo", "responders", "resolvedOn",    "links",
    "images",       "comment",          "timestamp",  "eventId",    "correlationId", "mergeState",
    "mergedIntoId", "mergedOn",         "severity",   "labels",     "customDetails"};

// Keys the line writes itself besides the modelled ones: an extra field or type mismatch with one
// of these names (or a modelled name) is never written. `ilertSumoTruncated` is not here: an
// extra field of that name is written unless this line carries its own marker.
constexpr std::array<std::string_view, 9> kLineKeys{
    "time",  "eventType", "receivedEventType",       "id",     "receivedAt",
    "ttaMs", "ttrMs",     "ilertSumoTypeMismatches", "dedupId"};

bool is_line_key(std::string_view key) {
  for (std::string_view k : kLineKeys) {
    if (k == key) return true;
  }
  for (std::string_view k : kFieldNames) {
    if (k == key) return true;
  }
  return false;
}

std::uint8_t field_of(std::string_view key) {
  for (std::size_t i = 0; i < kFieldNames.size(); ++i) {
    if (kFieldNames[i] == key) return static_cast<std::uint8_t>(i);
  }
  return kNotModelled;
}

// ---------------------------------------------------------------------------------------------
// Raw JSON: validated and compacted by RapidJSON's Reader feeding a Writer.

// ---------------------------------------------------------------------------------------------
// Members

enum class Kind : std::uint8_t {
  id,      // the alert id, a digit string; never cut
  text,    // a string value
  raw,     // JSON text, written compactly (a string holding a prefix of it when cut)
  object,  // alertSource, escalationPolicy, assignedTo: nested strings cut
  array,   // responders, links, images: nested strings cut, then elements
  number,  // mergedIntoId, severity; never cut
};

struct Member {
  std::string_view key;
  Kind kind = Kind::text;
  std::uint8_t field = kNotModelled;
  std::string_view text;  // text: the value; raw: the JSON text
  std::int64_t number = 0;
  bool passed_through = false;  // an extra field or a type-mismatch value (cut order step 4)
  bool droppable = false;       // a key the model does not have (the last resort may leave it out)
  bool mismatch = false;        // named in ilertSumoTypeMismatches
  bool old_marker = false;      // an extra `ilertSumoTruncated` (left out when this line has its own)
  // How this render cuts it.
  std::size_t limit = kNoLimit;  // text/raw: bytes kept; object/array: bytes kept of each nested string
  std::size_t items = kNoLimit;  // array: elements kept
  bool dropped = false;
  // Measured.
  std::size_t original_bytes = 0;  // by the uncut render: the marker's originalBytes
  std::size_t original_items = 0;
  std::size_t rendered = 0;  // bytes of the value in the last render

  bool cut() const { return limit != kNoLimit || items != kNoLimit; }
};

// Per-thread buffers and RapidJSON objects, reused by every line.
struct Scratch {
  std::vector<Member> members;
  std::vector<std::size_t> order;  // candidate indexes while planning
  std::string compact;             // compact JSON of one raw value
  std::string sanitized;           // an invalid-UTF-8 text made valid
  JsonWriter line_writer;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Compacts `raw` into s.compact; false when it is not one RFC 8259 JSON value parse_event takes.
bool compact_json(Scratch& s, std::string_view raw) { return detail::compact_json(raw, s.compact, kMaxRawDepth); }

// A key the code spells (a literal: ASCII, nothing to escape), written in one copy.
void put_name(JsonWriter& w, const char* key) { w.PlainString(key, std::strlen(key)); }

void put_key(JsonWriter& w, std::string_view key, Scratch& s) { detail::write_json_string(w, key, s.sanitized, true); }

void put_text(JsonWriter& w, std::string_view v, std::size_t limit, Scratch& s) {
  if (limit < v.size()) v = v.substr(0, detail::utf8_cut(v, limit));
  detail::write_json_string(w, v, s.sanitized);
}

void put_opt(JsonWriter& w, const char* key, const std::optional<std::string>& v, std::size_t limit, Scratch& s) {
  if (!v) return;
  put_name(w, key);
  put_text(w, *v, limit, s);
}

void put_opt_id(JsonWriter& w, const char* key, const std::optional<std::int64_t>& v) {
  if (!v) return;
  put_name(w, key);
  w.Int64(*v);
}

template <class E>
void put_tagged(JsonWriter& w, const char* key, const std::optional<Tagged<E>>& v, std::size_t limit, Scratch& s) {
  if (!v) return;
  put_name(w, key);
  put_text(w, v->raw, limit, s);
}

void put_time(JsonWriter& w, const char* key, const std::optional<Timestamp>& v, std::size_t limit, Scratch& s) {
  if (!v) return;
  put_name(w, key);
  put_text(w, v->raw, limit, s);
}

void put_named_ref(JsonWriter& w, const NamedRef& r, std::size_t limit, Scratch& s) {
  w.StartObject();
  put_opt_id(w, "id", r.id);
  put_opt(w, "name", r.name, limit, s);
  w.EndObject();
}

void put_user(JsonWriter& w, const User& u, std::size_t limit, Scratch& s) {
  w.StartObject();
  put_opt_id(w, "id", u.id);
  put_opt(w, "username", u.username, limit, s);
  put_opt(w, "firstName", u.first_name, limit, s);
  put_opt(w, "lastName", u.last_name, limit, s);
  put_opt(w, "email", u.email, limit, s);
  w.EndObject();
}

void put_time_string(JsonWriter& w, UtcTime t) {
  const std::string text = format_iso8601_millis(t);  // digits, '-', ':', '.', 'T', 'Z': no escapes
  w.PlainString(text.data(), text.size());
}

// ---------------------------------------------------------------------------------------------
// XXH64 (seed 0), written from the published algorithm: stable across runs, machines, compilers.

constexpr std::uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t kP5 = 0x27D4EB2F165667C5ULL;

inline std::uint64_t rotl64(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline std::uint64_t read_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t read_le32(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline std::uint64_t xxh_round(std::uint64_t acc, std::uint64_t input) {
  acc += input * kP2;
  acc = rotl64(acc, 31);
  return acc * kP1;
}
inline std::uint64_t xxh_merge(std::uint64_t acc, std::uint64_t v) {
  acc ^= xxh_round(0, v);
  return acc * kP1 + kP4;
}

std::uint64_t xxh64(const char* data, std::size_t len) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  const auto* const end = p + len;
  std::uint64_t h;
  if (len >= 32) {
    std::uint64_t v1 = kP1 + kP2;
    std::uint64_t v2 = kP2;
    std::uint64_t v3 = 0;
    std::uint64_t v4 = 0 - kP1;
    const auto* const limit = end - 32;
    do {
      v1 = xxh_round(v1, read_le64(p));
      v2 = xxh_round(v2, read_le64(p + 8));
      v3 = xxh_round(v3, read_le64(p + 16));
      v4 = xxh_round(v4, read_le64(p + 24));
      p += 32;
    } while (p <= limit);
    h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
    h = xxh_merge(h, v1);
    h = xxh_merge(h, v2);
    h = xxh_merge(h, v3);
    h = xxh_merge(h, v4);
  } else {
    h = kP5;
  }
  h += static_cast<std::uint64_t>(len);
  while (end - p >= 8) {
    h ^= xxh_round(0, read_le64(p));
    h = rotl64(h, 27) * kP1 + kP4;
    p += 8;
  }
  if (end - p >= 4) {
    h ^= read_le32(p) * kP1;
    h = rotl64(h, 23) * kP2 + kP3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<std::uint64_t>(*p) * kP5;
    h = rotl64(h, 11) * kP1;
    ++p;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

std::string hex64(std::uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[v & 0xF];
    v >>= 4;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The line writer

class LineWriter {
 public:
  LineWriter(const Event& event, Scratch& s)
      : event_(event), base_(base_of(event)), a_(base_.alert), s_(s), ms_(s.members) {
    build();
    measures();
  }

  // Appends the line to `out` within `cap` bytes (see the header comment).
  // Appends the line to `out` within `cap` bytes; true when it had to be shortened.
  bool append(std::string& out, std::size_t cap) {
    const std::size_t start = out.size();
    render(out, /*first=*/true);
    if (out.size() - start <= cap) return false;
    for (int round = 0; round < kMaxRounds; ++round) {
      if (!tighten(out.size() - start - cap)) break;
      out.resize(start);
      render(out, false);
      if (out.size() - start <= cap) return true;
    }
    last_resort();
    out.resize(start);
    render(out, false);
    return true;
  }

  // After a huge first render: give the caller's string back what the cut line does not need.
  // Only capacity this call added is given back, down to the caller's own (a batch buffer's
  // reserve stays); trimming whenever 1 MiB was spare would make every line appended to a roomy
  // batch reallocate and copy the whole batch.
  static void trim_capacity(std::string& out, std::size_t capacity_before) {
    if (out.capacity() <= capacity_before || out.capacity() - out.size() <= kKeepScratchBytes) return;
    std::string trimmed;
    trimmed.reserve(std::max(capacity_before, out.size()));
    trimmed.append(out);
    out.swap(trimmed);
  }

  // The dedupId (renders the uncut content once).
  std::string dedup(std::string& buffer) {
    render(buffer, true);
    return dedup_;
  }

 private:
  // ---- members ----

  Member& add(std::string_view key, Kind kind, std::uint8_t field) {
    Member& m = ms_.emplace_back();
    m.key = key;
    m.kind = kind;
    m.field = field;
    return m;
  }

  void add_text(std::uint8_t f, const std::optional<std::string>& v) {
    if (v) add(kFieldNames[f], Kind::text, f).text = *v;
  }
  void add_time(std::uint8_t f, const std::optional<Timestamp>& v) {
    if (v) add(kFieldNames[f], Kind::text, f).text = v->raw;
  }
  template <class E>
  void add_tagged(std::uint8_t f, const std::optional<Tagged<E>>& v) {
    if (v) add(kFieldNames[f], Kind::text, f).text = v->raw;
  }
  void add_number(std::uint8_t f, const std::optional<std::int64_t>& v) {
    if (v) add(kFieldNames[f], Kind::number, f).number = *v;
  }

  void add_typed(std::uint8_t f) {
    switch (f) {
      case kSummary: add_text(f, a_.summary); break;
      case kDetails: add_text(f, a_.details); break;
      case kStatus: add_tagged(f, a_.status); break;
      case kPriority: add_tagged(f, a_.priority); break;
      case kReportTime: add_time(f, a_.report_time); break;
      case kAlertKey: add_text(f, a_.alert_key); break;
      case kAlertSource:
        if (a_.alert_source) add(kFieldNames[f], Kind::object, f);
        break;
      case kEscalationPolicy:
        if (a_.escalation_policy) add(kFieldNames[f], Kind::object, f);
        break;
      case kAssignedTo:
        if (a_.assigned_to) add(kFieldNames[f], Kind::object, f);
        break;
      case kResponders:
        if (!a_.responders.empty()) add(kFieldNames[f], Kind::array, f);
        break;
      case kResolvedOn: add_time(f, a_.resolved_on); break;
      case kLinks:
        if (!a_.links.empty()) add(kFieldNames[f], Kind::array, f);
        break;
      case kImages:
        if (!a_.images.empty()) add(kFieldNames[f], Kind::array, f);
        break;
      case kComment: add_text(f, a_.comment); break;
      case kTimestamp: add_time(f, a_.timestamp); break;
      case kEventId: add_text(f, a_.event_id); break;
      case kCorrelationId: add_text(f, a_.correlation_id); break;
      case kMergeState: add_text(f, a_.merge_state); break;
      case kMergedIntoId: add_number(f, a_.merged_into_id); break;
      case kMergedOn: add_time(f, a_.merged_on); break;
      case kSeverity: add_number(f, a_.severity); break;
      case kLabels:
        if (a_.labels_json) add(kFieldNames[f], Kind::raw, f).text = *a_.labels_json;
        break;
      case kCustomDetails:
        if (a_.custom_details_json) add(kFieldNames[f], Kind::raw, f).text = *a_.custom_details_json;
        break;
      default: break;
    }
  }

  void build() {
    ms_.clear();
    const std::string_view canonical = canonical_event_type(event_);
    add("eventType", Kind::text, kNotModelled).text = canonical;
    if (base_.received_type != canonical) add("receivedEventType", Kind::text, kNotModelled).text = base_.received_type;
    add("id", Kind::id, kNotModelled);

    // A type mismatch on a modelled field is written in that field's place (its typed value is
    // empty by contract; for a hand-built event holding both, the mismatch value wins).
    std::array<const TypeMismatch*, kFieldCount> mismatch{};
    for (const TypeMismatch& t : a_.type_mismatches) {
      const std::uint8_t f = field_of(t.field);
      if (f != kNotModelled && mismatch[f] == nullptr) mismatch[f] = &t;
    }
    for (std::uint8_t f = 0; f < kFieldCount; ++f) {
      if (mismatch[f] != nullptr) {
        Member& m = add(kFieldNames[f], Kind::raw, f);
        m.text = mismatch[f]->raw_json;
        m.passed_through = true;
        m.mismatch = true;
      } else {
        add_typed(f);
      }
    }

    // Extra fields (body order), then mismatches on keys the model does not have (hand-built):
    // never a key the line writes itself, never the same key twice.
    const std::size_t first_pass = ms_.size();
    for (const ExtraField& x : a_.extra_fields) {
      if (is_line_key(x.key)) continue;
      Member& m = add(x.key, Kind::raw, kNotModelled);
      m.text = x.raw_json;
      m.passed_through = true;
      m.droppable = true;
      m.old_marker = x.key == kMarkerKey;
    }
    for (const TypeMismatch& t : a_.type_mismatches) {
      if (is_line_key(t.field)) continue;
      Member& m = add(t.field, Kind::raw, kNotModelled);
      m.text = t.raw_json;
      m.passed_through = true;
      m.droppable = true;
      m.mismatch = true;
      m.old_marker = t.field == kMarkerKey;
    }
    if (ms_.size() - first_pass > 1) drop_duplicate_keys(first_pass);
  }

  // Keeps the first member of each key among ms_[first..].
  void drop_duplicate_keys(std::size_t first) {
    std::vector<std::size_t>& idx = s_.order;
    idx.clear();
    for (std::size_t i = first; i < ms_.size(); ++i) idx.push_back(i);
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t x, std::size_t y) { return ms_[x].key < ms_[y].key; });
    std::vector<bool> gone(ms_.size(), false);
    for (std::size_t k = 1; k < idx.size(); ++k) {
      if (ms_[idx[k]].key == ms_[idx[k - 1]].key) gone[idx[k]] = true;
    }
    std::size_t out = first;
    for (std::size_t i = first; i < ms_.size(); ++i) {
      if (!gone[i]) ms_[out++] = ms_[i];
    }
    ms_.resize(out);
  }

  // ttaMs/ttrMs: the library's one computation (lifecycle.hpp), shared with the relay's metrics.
  void measures() {
    const LifecycleMeasures m = lifecycle_measures(event_);
    tta_ = m.tta_ms;
    ttr_ = m.ttr_ms;
  }

  // ---- rendering ----

  bool has_marker() const {
    if (dropped_count_ > 0) return true;
    for (const Member& m : ms_) {
      if (m.cut()) return true;
    }
    return false;
  }

  void render(std::string& out, bool first) {
    JsonSink sink(out);
    JsonWriter& w = s_.line_writer;
    w.Reset(sink);
    const bool marker = !first && has_marker();
    w.StartObject();
    w.Key("time", 4);
    put_time_string(w, event_time(base_));
    const std::size_t content_begin = sink.size() + 1;  // after the ',' the next key brings
    for (Member& m : ms_) {
      m.rendered = 0;
      if (m.dropped || (marker && m.old_marker)) continue;
      put_key(w, m.key, s_);
      const std::size_t before = sink.size();
      value(w, m, first);
      m.rendered = sink.size() - before;
      if (first && m.kind != Kind::text && m.kind != Kind::raw) m.original_bytes = m.rendered - 1;  // less the ':'
    }
    if (first) {
      const Alert& a = a_;
      if (a.event_id && !a.event_id->empty() && a.event_id->size() <= kMaxEventIdBytes) {
        dedup_ = *a.event_id;
      } else {
        dedup_ = hex64(xxh64(out.data() + content_begin, sink.size() - content_begin));
      }
    }
    w.Key("receivedAt", 10);
    put_time_string(w, base_.received_at);
    if (tta_) {
      w.Key("ttaMs", 5);
      w.Int64(*tta_);
    }
    if (ttr_) {
      w.Key("ttrMs", 5);
      w.Int64(*ttr_);
    }
    bool any_mismatch = false;
    for (const Member& m : ms_) {
      if (!m.mismatch || m.dropped || (marker && m.old_marker)) continue;
      if (!any_mismatch) {
        put_key(w, kMismatchesKey, s_);
        w.StartArray();
        any_mismatch = true;
      }
      put_text(w, m.key, kNoLimit, s_);
    }
    if (any_mismatch) w.EndArray();
    if (marker) write_marker(w);
    w.Key("dedupId", 7);
    put_text(w, dedup_, kNoLimit, s_);
    w.EndObject();
  }

  void write_marker(JsonWriter& w) {
    put_key(w, kMarkerKey, s_);
    w.StartObject();
    for (const Member& m : ms_) {
      if (m.dropped || !m.cut()) continue;
      put_key(w, m.key, s_);
      w.StartObject();
      w.Key("originalBytes", 13);
      w.Uint64(m.original_bytes);
      if (m.items != kNoLimit) {
        w.Key("originalItems", 13);
        w.Uint64(m.original_items);
        w.Key("keptItems", 9);
        w.Uint64(std::min(m.items, m.original_items));
      }
      w.EndObject();
    }
    if (dropped_count_ > 0) {
      put_key(w, kDroppedKey, s_);
      w.StartObject();
      w.Key("count", 5);
      w.Uint64(dropped_count_);
      w.Key("originalBytes", 13);
      w.Uint64(dropped_bytes_);
      w.EndObject();
    }
    w.EndObject();
  }

  void value(JsonWriter& w, Member& m, bool first) {
    switch (m.kind) {
      case Kind::id: {
        char buf[24];
        const auto res = std::to_chars(buf, buf + sizeof buf, a_.id);
        w.String(buf, static_cast<rapidjson::SizeType>(res.ptr - buf));
        return;
      }
      case Kind::number: w.Int64(m.number); return;
      case Kind::text:
        if (first) m.original_bytes = m.text.size();
        put_text(w, m.text, m.limit, s_);
        return;
      case Kind::raw:
        if (!compact_json(s_, m.text)) {
          m.kind = Kind::text;  // not JSON (hand-built): carried as a string from now on
          if (first) m.original_bytes = m.text.size();
          put_text(w, m.text, m.limit, s_);
          return;
        }
        if (first) m.original_bytes = s_.compact.size();
        if (m.limit == kNoLimit) {
          w.RawValue(s_.compact.data(), s_.compact.size(), rapidjson::kObjectType);
        } else {
          put_text(w, s_.compact, m.limit, s_);
        }
        return;
      case Kind::object: {
        const std::size_t limit = m.limit;
        if (m.field == kAssignedTo) {
          put_user(w, *a_.assigned_to, limit, s_);
        } else {
          put_named_ref(w, m.field == kAlertSource ? *a_.alert_source : *a_.escalation_policy, limit, s_);
        }
        return;
      }
      case Kind::array: array(w, m, first); return;
    }
  }

  void array(JsonWriter& w, Member& m, bool first) {
    const std::size_t limit = m.limit;
    std::size_t n = 0;
    w.StartArray();
    if (m.field == kResponders) {
      n = a_.responders.size();
      for (std::size_t i = 0; i < n && i < m.items; ++i) {
        const Responder& r = a_.responders[i];
        w.StartObject();
        if (r.user) {
          w.Key("user", 4);
          put_user(w, *r.user, limit, s_);
        }
        put_tagged(w, "status", r.status, limit, s_);
        put_time(w, "acceptedAt", r.accepted_at, limit, s_);
        w.EndObject();
      }
    } else if (m.field == kLinks) {
      n = a_.links.size();
      for (std::size_t i = 0; i < n && i < m.items; ++i) {
        w.StartObject();
        put_opt(w, "href", a_.links[i].href, limit, s_);
        put_opt(w, "text", a_.links[i].text, limit, s_);
        w.EndObject();
      }
    } else {
      n = a_.images.size();
      for (std::size_t i = 0; i < n && i < m.items; ++i) {
        w.StartObject();
        put_opt(w, "src", a_.images[i].src, limit, s_);
        put_opt(w, "href", a_.images[i].href, limit, s_);
        put_opt(w, "alt", a_.images[i].alt, limit, s_);
        w.EndObject();
      }
    }
    w.EndArray();
    if (first) m.original_items = n;
  }

  // ---- cutting ----

  // Cuts a text/raw member so its value shrinks by about `*excess` bytes; true when it changed.
  bool cut_value(Member& m, std::size_t* excess, std::size_t min_rendered) {
    if (m.dropped || m.rendered < min_rendered) return false;
    const std::size_t whole = m.kind == Kind::raw ? m.original_bytes : m.text.size();
    const std::size_t kept = std::min(m.limit, whole);
    if (kept == 0) return false;
    const std::size_t overhead = m.cut() ? 0 : m.key.size() + 32;  // its marker entry
    const std::size_t need = *excess + overhead;
    const std::size_t target = m.rendered > need ? m.rendered - need : 0;
    std::size_t limit = static_cast<std::size_t>(static_cast<double>(kept) * static_cast<double>(target) /
                                                 static_cast<double>(m.rendered));
    if (limit >= kept) limit = kept - 1;
    m.limit = limit;
    const std::size_t saved = m.rendered - std::min(m.rendered, target);
    *excess = saved >= need ? 0 : need - saved;
    return true;
  }

  // Candidates of `pred`, largest rendered value first.
  template <class Pred>
  std::vector<std::size_t>& largest_first(Pred pred) {
    std::vector<std::size_t>& idx = s_.order;
    idx.clear();
    for (std::size_t i = 0; i < ms_.size(); ++i) {
      if (!ms_[i].dropped && pred(ms_[i])) idx.push_back(i);
    }
    std::stable_sort(idx.begin(), idx.end(),
                     [&](std::size_t x, std::size_t y) { return ms_[x].rendered > ms_[y].rendered; });
    return idx;
  }

  // One planning pass over the cut order for `excess` bytes too many; false when nothing is left
  // to cut.
  bool tighten(std::size_t excess) {
    excess += 16;
    bool changed = false;
    const auto by_field = [&](std::uint8_t f) -> Member* {
      for (Member& m : ms_) {
        if (m.field == f && !m.passed_through && (m.kind == Kind::text || m.kind == Kind::raw)) return &m;
      }
      return nullptr;
    };
    // 1-3: details, customDetails, labels.
    for (const std::uint8_t f : {kDetails, kCustomDetails, kLabels}) {
      if (excess == 0) return true;
      if (Member* m = by_field(f)) changed |= cut_value(*m, &excess, kWorthCutting);
    }
    // 4: passed-through values (extra fields, type-mismatch values), largest first.
    for (const std::size_t i : largest_first([](const Member& m) { return m.passed_through; })) {
      if (excess == 0) return true;
      changed |= cut_value(ms_[i], &excess, kWorthCutting);
    }
    // 5: every other string, largest first: text members, and the strings inside objects/arrays.
    for (const std::size_t i : largest_first(
             [](const Member& m) { return m.kind == Kind::text || m.kind == Kind::object || m.kind == Kind::array; })) {
      if (excess == 0) return true;
      Member& m = ms_[i];
      if (m.kind == Kind::text) {
        changed |= cut_value(m, &excess, kWorthCutting);
      } else if (m.rendered >= kWorthCutting && (m.limit == kNoLimit || m.limit > kNestedFloor)) {
        // Nested strings (names, e-mails, hrefs) down to kNestedFloor bytes; shorter only in the
        // last resort, after array elements.
        m.limit = m.limit == kNoLimit ? 1024 : std::max(kNestedFloor, m.limit / 4);
        const std::size_t saved = m.rendered / 2;
        excess = saved >= excess ? 0 : excess - saved;
        changed = true;
      }
    }
    // 6: array elements.
    for (const std::size_t i : largest_first([](const Member& m) { return m.kind == Kind::array; })) {
      if (excess == 0) return true;
      Member& m = ms_[i];
      const std::size_t n = std::min(m.items, m.original_items);
      if (n == 0 || m.rendered == 0) continue;
      const std::size_t target = m.rendered > excess ? m.rendered - excess : 0;
      std::size_t keep = n * target / m.rendered;
      if (keep >= n) keep = n - 1;
      m.items = keep;
      const std::size_t saved = m.rendered - target;
      excess = saved >= excess ? 0 : excess - saved;
      changed = true;
    }
    // 7: leave passed-through members out, last first.
    for (std::size_t k = ms_.size(); k-- > 0 && excess > 0;) {
      Member& m = ms_[k];
      if (!m.droppable || m.dropped) continue;
      drop(m);
      const std::size_t saved = m.rendered + m.key.size() + 4;
      excess = saved >= excess ? 0 : excess - saved;
      changed = true;
    }
    return changed;
  }

  void drop(Member& m) {
    m.dropped = true;
    if (m.old_marker) return;  // replaced by this line's own marker, not counted
    ++dropped_count_;
    dropped_bytes_ += m.original_bytes;
  }

  // Everything cut to nothing, every passed-through member left out: fits any cap >= 4 KiB.
  void last_resort() {
    for (Member& m : ms_) {
      if (m.dropped) continue;
      if (m.droppable) {
        drop(m);
        continue;
      }
      switch (m.kind) {
        case Kind::text:
        case Kind::raw: m.limit = 0; break;
        case Kind::object: m.limit = 0; break;
        case Kind::array:
          m.limit = 0;
          m.items = 0;
          break;
        default: break;
      }
    }
  }

  const Event& event_;
  const EventBase& base_;
  const Alert& a_;
  Scratch& s_;
  std::vector<Member>& ms_;
  std::optional<std::int64_t> tta_;
  std::optional<std::int64_t> ttr_;
  std::string dedup_;
  std::size_t dropped_count_ = 0;
  std::size_t dropped_bytes_ = 0;
};

UtcTime now_utc() { return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()); }

// ---------------------------------------------------------------------------------------------
// Base64 (RFC 4648, standard alphabet, padded).

void append_base64(std::string& out, std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size();
  out.reserve(out.size() + (n + 2) / 3 * 4);
  while (n >= 3) {
    const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
    const char q[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], kAlphabet[v & 63]};
    out.append(q, 4);
    p += 3;
    n -= 3;
  }
  if (n == 1) {
    const std::uint32_t v = std::uint32_t{p[0]} << 16;
    const char q[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
    out.append(q, 4);
  } else if (n == 2) {
    const std::uint32_t v = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8);
    const char q[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
    out.append(q, 4);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

namespace detail {

bool append_sumo_line_reporting_cut(std::string& out, const Event& event, std::size_t max_line_bytes) {
  Scratch& s = scratch();
  const std::size_t capacity_before = out.capacity();
  LineWriter writer(event, s);
  const bool cut = writer.append(out, max_line_bytes);
  LineWriter::trim_capacity(out, capacity_before);
  // A huge value leaves big per-thread buffers behind: give them back.
  if (s.compact.capacity() > kKeepScratchBytes) std::string().swap(s.compact);
  if (s.sanitized.capacity() > kKeepScratchBytes) std::string().swap(s.sanitized);
  return cut;
}

}  // namespace detail

void append_sumo_line(std::string& out, const Event& event, const LineOptions& options) {
  detail::append_sumo_line_reporting_cut(out, event, options.max_line_bytes);
}

std::string to_sumo_line(const Event& event, const LineOptions& options) {
  std::string out;
  append_sumo_line(out, event, options);
  return out;
}

std::string dedup_id(const Event& event) {
  Scratch& s = scratch();
  LineWriter writer(event, s);
  std::string buffer;
  return writer.dedup(buffer);
}

std::string to_invalid_payload_line(std::string_view body, const Error& error, std::optional<UtcTime> received_at,
                                    const LineOptions& options) {
  Scratch& s = scratch();
  const UtcTime at = received_at ? *received_at : now_utc();
  const std::size_t cap = options.max_line_bytes;
  const bool utf8 = detail::is_valid_utf8(body);
  std::string encoded;
  if (!utf8) append_base64(encoded, body);

  std::string out;
  // Renders with the first `keep` bytes of the body; the marker when keep < body.size().
  const auto render = [&](std::size_t keep) {
    out.clear();
    JsonSink sink(out);
    JsonWriter& w = s.line_writer;
    w.Reset(sink);
    w.StartObject();
    w.Key("time", 4);
    put_time_string(w, at);
    w.Key("eventType", 9);
    w.String("ilert-sumo-invalid-payload", 26);
    w.Key("error", 5);
    w.StartObject();
    w.Key("code", 4);
    put_text(w, to_string(error.code), kNoLimit, s);
    w.Key("codeNumber", 10);
    w.Int64(static_cast<std::int64_t>(error.code));
    w.Key("path", 4);
    put_text(w, error.path.empty() ? std::string_view("$") : std::string_view(error.path), 1024, s);
    w.Key("offset", 6);
    if (error.offset == Error::npos) {
      w.Null();
    } else {
      w.Uint64(error.offset);
    }
    w.Key("message", 7);
    put_text(w, error.message, 1024, s);
    w.EndObject();
    const char* key = utf8 ? "rawBody" : "rawBodyBase64";
    put_name(w, key);
    if (utf8) {
      put_text(w, body, keep, s);
    } else {
      const std::size_t chars = keep >= body.size() ? encoded.size() : keep / 3 * 4;
      w.String(encoded.data(), static_cast<rapidjson::SizeType>(chars));
    }
    w.Key("receivedAt", 10);
    put_time_string(w, at);
    if (keep < body.size()) {
      w.Key(kMarkerKey.data(), static_cast<rapidjson::SizeType>(kMarkerKey.size()));
      w.StartObject();
      put_name(w, key);
      w.StartObject();
      w.Key("originalBytes", 13);
      w.Uint64(body.size());
      w.EndObject();
      w.EndObject();
    }
    w.EndObject();
  };

  render(body.size());
  if (out.size() <= cap || body.empty()) return out;
  // What the line costs without the body, then the longest body prefix that fits the rest: every
  // body byte costs at least one line byte (base64: exactly 4 per 3), so one correction suffices
  // and the loop is only a guard.
  render(0);
  const std::size_t fixed = out.size();
  const std::size_t room = cap > fixed ? cap - fixed : 0;
  std::size_t keep = utf8 ? detail::utf8_cut(body, std::min(room, body.size() - 1)) : room / 4 * 3;
  for (int round = 0; round < kMaxRounds; ++round) {
    render(keep);
    if (out.size() <= cap || keep == 0) break;
    // Cut in proportion to what the kept part costs on the line (escapes make it longer).
    const std::size_t excess = out.size() - cap;
    const std::size_t body_bytes = out.size() > fixed ? out.size() - fixed : 1;
    const std::size_t cut = std::max<std::size_t>(1, (excess * keep + body_bytes - 1) / body_bytes);
    keep = keep > cut ? keep - cut : 0;
    keep = utf8 ? detail::utf8_cut(body, keep) : keep / 3 * 3;
  }
  return out;
}

}  // namespace ilert_sumo
