// src/parse/parse.cpp: parse_event(), webhook body bytes -> typed Event (see parse.hpp).
//
// How it works, in one pass over the caller's bytes and without a DOM:
//   1. Size limit, BOM skip, empty check.
//   2. RapidJSON's SAX Reader (the project's JSON library) reads the body iteratively
//      (kParseIterativeFlag: no recursion however deep the nesting), strict RFC 8259 (no relaxed
//      flags), with numbers delivered as their text (kParseNumbersAsStringsFlag) so ids are
//      checked exactly and raw values re-serialized losslessly. A body that is valid UTF-8 with
//      no raw control byte (below 0x20 other than tab, LF, CR) is read in situ from a padded
//      per-thread copy, with RapidJSON's SSE2 scans on x86-64 (whose 1.1.0 string scan lets raw
//      0x1A..0x1F through depending on alignment: those bodies never take this path); every other body is read from
//      the caller's bytes (a MemoryStream), validating UTF-8 inside strings
//      (kParseValidateEncodingFlag) when the body is not valid UTF-8. It streams into Handler,
//      which keeps a small frame stack (for paths, duplicate keys and depth) and fills Alert
//      fields directly. Offsets come from the stream's position (see Handler::set_cursor).
//   3. After the root object: only whitespace may follow; then required fields, type mismatches
//      (tolerant mode) and dispatch by event type (events.cpp holds the wire-name table).
// RapidJSON 1.1.0's holes closed here: a lone low surrogate escape (`\uDC00` not preceded by a
// high one) is accepted by the reader and decoded to the bytes ED B0 80; the handler rejects any
// decoded string holding such bytes (raw input was validated, so they can only come from an
// escape) as invalid_unicode_escape at the escape's backslash. Invalid UTF-8 outside strings
// (where RapidJSON reports a syntax error) is reported as invalid_utf8.
//
// Which error is reported when a body has several: JSON-level problems (syntax, invalid_utf8,
// invalid_unicode_escape, duplicate_key, nesting_too_deep, a number too big to represent) stop
// the reader and always win; model-level problems (not_an_object, and with strict_types
// wrong_type / number_out_of_range) are remembered, the rest of the body is still validated, and
// the first one is reported only when the body is otherwise well-formed; missing_field comes
// last. Within a level, the first problem in the body wins.
//
// Tolerant mode (the default, ParseOptions::strict_types = false): a known field other than `id`
// and `eventType` whose value has the wrong JSON type (or, for ids and severity, is out of range)
// does not reject the event. The top-level field it sits in is marked; when the whole body has
// been read its typed field is cleared and its value, re-serialized as compact JSON, is kept in
// Alert::type_mismatches (sorted by field) with the path of the first offending value.
// Top-level keys the model does not know are re-serialized into Alert::extra_fields (body order).
// A Sumo line's own keys are understood: `receivedAt` (a valid ISO-8601 string) sets
// EventBase::received_at; `time`, `dedupId`, `ttaMs`, `ttrMs` and `ilertSumoTypeMismatches` are
// derived by the line writer and skipped (validated, not kept).
//
// Choices where the issue is silent (also documented in the tests):
//   * Error offsets are byte offsets into the original body (a skipped BOM counts). Type and range
//     errors point at the first byte of the offending value, duplicate_key at the opening quote of
//     the second key, nesting_too_deep at the '[' or '{' that is one level too deep, syntax errors
//     where the reader stopped (escape errors at the escape's backslash), missing_field at the
//     `null` when the field was null, else at the root '{'. too_large points at the first byte
//     over the limit, empty_body at the body's end.
//   * Ids: a JSON integer or a digit string in 1..2^63-1. A digit string with a leading zero
//     ("007", "0") and any non-integer number (1.5, 1e3, -0) are number_out_of_range; a string
//     that is not all digits ("", "-5", "12a") is wrong_type.
//   * severity: a JSON integer 1..5 (iLert's schema); a number outside is number_out_of_range,
//     anything else wrong_type (both a mismatch in tolerant mode).
//   * `alertKey` and the older `incidentKey` both fill Alert::alert_key; when both are present,
//     `alertKey` wins (both are still type-checked).
//   * Inside `responders`, `links` and `images`, every element must be an object (`null`
//     included is a wrong type): only fields, not array elements, can be absent.
//   * A number too large for a double (RapidJSON's limit, e.g. 1e400) is number_out_of_range,
//     wherever it is.
//   * Escapes: surrogate pairs are combined; a lone high or lone low surrogate escape is
//     invalid_unicode_escape at its backslash; \u0000 is kept as a NUL byte.
//   * A Sumo line's `receivedEventType` (when a string) is the received type and is dispatched on;
//     its `eventType` (canonical) must still be a string but is not cross-checked.
//   * received_at is kept to the millisecond (what a line can carry), so a line parses back to
//     an equal event.
//   * Out of memory while parsing gives too_large with the message "out of memory". Bodies of
//     4 GiB - 64 bytes or more are too_large whatever max_body_bytes says (RapidJSON's lengths).
//   * Paths: `a.b[2].c`; a key that is not [A-Za-z0-9_$-]+ is written `["k e y"]` (JSON-quoted,
//     cut at 40 bytes). Paths deeper than 80 levels keep their first and last 40 components
//     around "...". For syntax errors the path is the value being read when the reader stopped.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <rapidjson/error/error.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/stream.h>
#include <rapidjson/reader.h>
#include <rapidjson/writer.h>

#include "ilert_sumo/parse.hpp"
#include "util/json_compact.hpp"
#include "parse/parse_internal.hpp"
#include "util/text_util.hpp"
#include "util/utf8.hpp"

namespace ilert_sumo {
namespace {

using rapidjson::SizeType;

// ------------------------------------------------------------------------------------------------
// Vocabulary

/// The JSON type of a value, for type checks and messages.
enum class Kind : std::uint8_t { null, boolean, number, string, object, array };

const char* kind_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::null: return "null";
    case Kind::boolean: return "boolean";
    case Kind::number: return "number";
    case Kind::string: return "string";
    case Kind::object: return "object";
    case Kind::array: return "array";
  }
  return "value";
}

/// What a container on the frame stack is.
enum class Ctx : std::uint8_t {
  root,        // the top-level object (Alert)
  named_ref,   // alertSource, escalationPolicy
  user,        // assignedTo, responders[].user
  responder,   // responders[]
  link,        // links[]
  image,       // images[]
  responders,  // the responders array
  links,       // the links array
  images,      // the images array
  skip,        // validated, not stored (a line's own keys, a mismatched value's insides)
  raw,         // inside labels/customDetails/unknown top-level keys: re-serialized
};

/// Every known key (per context) and array element slot. Values < 64: a frame keeps a bit mask of
/// the known keys it has seen, so their duplicate check is one bit test.
enum class Field : std::uint8_t {
  unknown = 0,
  // root
  id,
  event_type,
  received_event_type,
  summary,
  details,
  status,
  priority,
  report_time,
  alert_key,
  incident_key,
  alert_source,
  escalation_policy,
  assigned_to,
  responders,
  resolved_on,
  links,
  images,
  comment,
  timestamp,
  event_id,
  correlation_id,
  merge_state,
  merged_into_id,
  merged_on,
  severity,
  labels,
  custom_details,
  // a Sumo line's own keys: receivedAt is read back, the others are derived and skipped
  received_at,
  line_time,
  line_dedup_id,
  line_tta,
  line_ttr,
  line_mismatches,
  // alertSource / escalationPolicy
  ref_id,
  ref_name,
  // users
  user_id,
  user_username,
  user_first_name,
  user_last_name,
  user_email,
  // responders[]
  resp_user,
  resp_status,
  resp_accepted_at,
  // links[]
  link_href,
  link_text,
  // images[]
  image_src,
  image_href,
  image_alt,
  // array element slots
  responder_item,
  link_item,
  image_item,
  // inside labels/customDetails: re-serialized
  raw,
  // a top-level key the model does not know: re-serialized into Alert::extra_fields
  extra,
  count_
};
static_assert(static_cast<unsigned>(Field::count_) <= 64, "Field must fit a 64-bit mask");

/// Exact key comparison against a literal; the constant length lets the compiler inline it.
template <std::size_t N>
bool eq(std::string_view k, const char (&lit)[N]) noexcept {
  return k.size() == N - 1 && std::memcmp(k.data(), lit, N - 1) == 0;
}

Field root_field(std::string_view k) noexcept {
  switch (k.size()) {
    case 2:
      if (eq(k, "id")) return Field::id;
      break;
    case 4:
      if (eq(k, "time")) return Field::line_time;
      break;
    case 5:
      if (eq(k, "links")) return Field::links;
      if (eq(k, "ttaMs")) return Field::line_tta;
      if (eq(k, "ttrMs")) return Field::line_ttr;
      break;
    case 6:
      if (eq(k, "status")) return Field::status;
      if (eq(k, "images")) return Field::images;
      if (eq(k, "labels")) return Field::labels;
      break;
    case 7:
      if (eq(k, "dedupId")) return Field::line_dedup_id;
      if (eq(k, "summary")) return Field::summary;
      if (eq(k, "details")) return Field::details;
      if (eq(k, "comment")) return Field::comment;
      if (eq(k, "eventId")) return Field::event_id;
      break;
    case 8:
      if (eq(k, "priority")) return Field::priority;
      if (eq(k, "alertKey")) return Field::alert_key;
      if (eq(k, "mergedOn")) return Field::merged_on;
      if (eq(k, "severity")) return Field::severity;
      break;
    case 9:
      if (eq(k, "eventType")) return Field::event_type;
      if (eq(k, "timestamp")) return Field::timestamp;
      break;
    case 10:
      if (eq(k, "reportTime")) return Field::report_time;
      if (eq(k, "assignedTo")) return Field::assigned_to;
      if (eq(k, "responders")) return Field::responders;
      if (eq(k, "resolvedOn")) return Field::resolved_on;
      if (eq(k, "mergeState")) return Field::merge_state;
      if (eq(k, "receivedAt")) return Field::received_at;
      break;
    case 11:
      if (eq(k, "alertSource")) return Field::alert_source;
      if (eq(k, "incidentKey")) return Field::incident_key;
      break;
    case 12:
      if (eq(k, "mergedIntoId")) return Field::merged_into_id;
      break;
    case 13:
      if (eq(k, "correlationId")) return Field::correlation_id;
      if (eq(k, "customDetails")) return Field::custom_details;
      break;
    case 16:
      if (eq(k, "escalationPolicy")) return Field::escalation_policy;
      break;
    case 23:
      if (eq(k, "ilertSumoTypeMismatches")) return Field::line_mismatches;
      break;
    case 17:
      if (eq(k, "receivedEventType")) return Field::received_event_type;
      break;
    default: break;
  }
  return Field::unknown;
}

Field key_field(Ctx ctx, std::string_view k) noexcept {
  switch (ctx) {
    case Ctx::root: return root_field(k);
    case Ctx::named_ref:
      if (eq(k, "id")) return Field::ref_id;
      if (eq(k, "name")) return Field::ref_name;
      return Field::unknown;
    case Ctx::user:
      if (eq(k, "id")) return Field::user_id;
      if (eq(k, "username")) return Field::user_username;
      if (eq(k, "firstName")) return Field::user_first_name;
      if (eq(k, "lastName")) return Field::user_last_name;
      if (eq(k, "email")) return Field::user_email;
      return Field::unknown;
    case Ctx::responder:
      if (eq(k, "user")) return Field::resp_user;
      if (eq(k, "status")) return Field::resp_status;
      if (eq(k, "acceptedAt")) return Field::resp_accepted_at;
      return Field::unknown;
    case Ctx::link:
      if (eq(k, "href")) return Field::link_href;
      if (eq(k, "text")) return Field::link_text;
      return Field::unknown;
    case Ctx::image:
      if (eq(k, "src")) return Field::image_src;
      if (eq(k, "href")) return Field::image_href;
      if (eq(k, "alt")) return Field::image_alt;
      return Field::unknown;
    default: return Field::unknown;
  }
}

Tagged<Status> make_status(std::string_view s) {
  Status v = Status::unknown;
  if (s == "NEW") {
    v = Status::new_alert;
  } else if (s == "PENDING") {
    v = Status::pending;
  } else if (s == "ACCEPTED") {
    v = Status::accepted;
  } else if (s == "RESOLVED") {
    v = Status::resolved;
  }
  return Tagged<Status>{v, std::string(s)};
}

Tagged<Priority> make_priority(std::string_view s) {
  Priority v = Priority::unknown;
  if (s == "HIGH") {
    v = Priority::high;
  } else if (s == "LOW") {
    v = Priority::low;
  }
  return Tagged<Priority>{v, std::string(s)};
}

bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// `text` for a message: a JSON string (the library's one escaper), cut to about 40 bytes on a
/// UTF-8 boundary, then "...".
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 40;
  const bool cut = text.size() > kMax;
  std::string out;
  detail::append_json_string(out, cut ? text.substr(0, detail::utf8_cut(text, kMax)) : text);
  if (cut) out += "...";
  return out;
}

/// A JSON-path component for an object key: `.key` for plain keys, `["k e y"]` otherwise.
void append_key(std::string& path, std::string_view key) {
  bool plain = !key.empty();
  for (const char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '$';
    if (!ok) {
      plain = false;
      break;
    }
  }
  if (plain) {
    if (!path.empty()) path += '.';
    path += key;
  } else {
    path += '[';
    path += quoted(key);
    path += ']';
  }
}

/// The wire name of a top-level field (for TypeMismatch::field).
const char* root_name(Field f) noexcept {
  switch (f) {
    case Field::summary: return "summary";
    case Field::details: return "details";
    case Field::status: return "status";
    case Field::priority: return "priority";
    case Field::report_time: return "reportTime";
    case Field::alert_key: return "alertKey";
    case Field::incident_key: return "incidentKey";
    case Field::alert_source: return "alertSource";
    case Field::escalation_policy: return "escalationPolicy";
    case Field::assigned_to: return "assignedTo";
    case Field::responders: return "responders";
    case Field::resolved_on: return "resolvedOn";
    case Field::links: return "links";
    case Field::images: return "images";
    case Field::comment: return "comment";
    case Field::timestamp: return "timestamp";
    case Field::event_id: return "eventId";
    case Field::correlation_id: return "correlationId";
    case Field::merge_state: return "mergeState";
    case Field::merged_into_id: return "mergedIntoId";
    case Field::merged_on: return "mergedOn";
    case Field::severity: return "severity";
    default: return "";
  }
}

/// The library's one JSON writer set-up (text_util.hpp).
using RawWriter = detail::JsonWriter;
using detail::JsonSink;

/// NUL bytes after the copy the in-situ stream reads: RapidJSON's SSE2 scans load the aligned
/// 16-byte block holding the terminating NUL, so up to 15 bytes past it must be the buffer's own.
constexpr std::size_t kStringStreamPadding = 16;

// Strict RFC 8259 (no relaxed flags), UTF-8 validated, numbers as text, no recursion, stop after
// the root value (trailing data is checked here).
/// The reader's flags for input already known to be well-formed UTF-8 (text_util.hpp's scan_text()
/// said so before the parse: it checks eight ASCII bytes at a time, where RapidJSON's validating
/// string reader decodes every byte of every string).
constexpr unsigned kReaderFlagsValidUtf8 =
    rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseIterativeFlag;
/// The reader's flags for input holding invalid UTF-8 somewhere: RapidJSON validates inside strings,
/// so the error reported is the first problem in the body, whatever its kind.
constexpr unsigned kReaderFlags = kReaderFlagsValidUtf8 | rapidjson::kParseValidateEncodingFlag;
/// The reader's flags for valid UTF-8 without raw control bytes, read in situ from the padded copy.
constexpr unsigned kReaderFlagsInsitu = kReaderFlagsValidUtf8 | rapidjson::kParseInsituFlag;

// ------------------------------------------------------------------------------------------------
// Per-thread scratch space, reused between calls so a typical parse allocates only the strings it
// keeps.

struct Frame {
  std::string_view key;          // object: the current key (stored in Scratch::keys_text)
  void* target = nullptr;        // the struct (or vector) this container fills
  std::uint64_t seen = 0;        // object: known fields seen (bit per Field)
  std::uint32_t keys_begin = 0;  // object: first of its unknown keys in Scratch::keys
  std::uint32_t index = 0;       // array: index of the element being read
  Ctx ctx = Ctx::root;
  Field field = Field::unknown;  // object: the current key's slot; array: the element slot
  bool is_array = false;
  bool in_value = false;  // object: a key was read and its value is not finished yet
  bool has_set = false;   // object: its unknown keys moved into a hash set (many keys)
};

struct Scratch {
  std::optional<rapidjson::Reader> reader{std::in_place};
  std::vector<Frame> frames;
  std::vector<std::string_view> keys;
  std::vector<std::unordered_set<std::string_view>> sets;
  // Every key read, copied (the reader's own copy lives only during the callback). Reserved to the
  // body's size before each parse, so it never reallocates and the views above stay valid.
  std::string keys_text;
  std::string raw;  // labels/customDetails/unknown values being re-serialized
  // The body copied with kStringStreamPadding NUL bytes after it, for the in-situ path.
  std::string padded;
};

/// What the handler keeps between calls on one thread.
struct ThreadState {
  Scratch scratch;
  std::optional<JsonSink> out;  // bound to Scratch::raw while a value is re-serialized
  RawWriter writer;
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

/// Above this many unknown keys in one object, duplicate detection uses a hash set.
constexpr std::size_t kLinearKeyLimit = 16;

constexpr std::uint64_t bit(Field f) noexcept { return std::uint64_t{1} << static_cast<unsigned>(f); }

/// Fields that are part of the strict envelope: a wrong type always rejects.
constexpr std::uint64_t kEnvelope = bit(Field::id) | bit(Field::event_type) | bit(Field::received_event_type);

/// True when `s` (decoded by the reader from validated input) holds an encoded UTF-16 surrogate,
/// which only a lone surrogate escape can produce.
bool has_encoded_surrogate(const char* s, std::size_t n) noexcept {
  const void* p = std::memchr(s, 0xED, n);
  while (p != nullptr) {
    const auto* b = static_cast<const unsigned char*>(p);
    const std::size_t at = static_cast<std::size_t>(reinterpret_cast<const char*>(b) - s);
    if (at + 1 < n && b[1] >= 0xA0) return true;
    p = at + 1 < n ? std::memchr(s + at + 1, 0xED, n - at - 1) : nullptr;
  }
  return false;
}

/// The offset of the opening quote of the string whose contents end just before `end` (exclusive;
/// `end` may be the closing quote or any offset inside the string). Inside a JSON string every `"`
/// is escaped (preceded by an odd run of backslashes), so the first unescaped one going back is
/// the opening quote.
std::size_t string_start(std::string_view content, std::size_t end) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(content.data());
  std::size_t i = std::min(end, content.size());
  while (i > 0) {
    --i;
    if (p[i] == '"' && detail::starts_escape(p, i)) return i;
  }
  return 0;
}

/// The offset of the first lone low surrogate escape in content[from, to), or npos.
std::size_t find_lone_low(std::string_view content, std::size_t from, std::size_t to) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(content.data());
  to = std::min(to, content.size());
  for (std::size_t i = from; i + 1 < to; ++i) {
    if (p[i] != '\\') continue;
    if (p[i + 1] == 'u' && detail::lone_low_surrogate_at(p, content.size(), i)) return i;
    ++i;  // skip the escaped character
  }
  return std::string_view::npos;
}

/// Re-serializes the JSON text `json` (already validated by the main pass, so no check can fail:
/// no depth limit here, the main pass applied ParseOptions::max_depth) as compact JSON.
std::string minify(std::string_view json) {
  std::string out;
  if (!detail::compact_json(json, out, std::numeric_limits<std::size_t>::max())) return std::string(json);
  return out;
}

// ------------------------------------------------------------------------------------------------
// The SAX handler driven by RapidJSON's Reader. Frames track where the reader is (for paths,
// duplicate keys and depth); each frame's `field` says what the next value fills. The hot paths
// (Key, String, RawNumber, open, close) do a table-like switch and little else. Offsets are content
// offsets (after the BOM).

class Handler {
 public:
  Handler(ThreadState& state, Event& event, std::string_view content, std::size_t origin, const ParseOptions& options,
          UtcTime received_at)
      : frames_(state.scratch.frames),
        keys_(state.scratch.keys),
        sets_(state.scratch.sets),
        keys_text_(state.scratch.keys_text),
        raw_(state.scratch.raw),
        out_(state.out),
        writer_(state.writer),
        content_(content),
        origin_(origin),
        max_depth_(options.max_depth),
        strict_(options.strict_types),
        event_(event),
        alert_(&base_of(event).alert),
        default_received_at_(received_at),
        // Without a `\u` anywhere in the body no decoded string can hold a surrogate's bytes (raw
        // input is valid UTF-8 or rejected by the reader), so the per-string check is skipped.
        may_hold_surrogate_(content.find("\\u") != std::string_view::npos) {}

  /// The reader's position: where its stream's cursor is and where that stream's bytes begin.
  /// Over a MemoryStream (the caller's bytes) the cursor has passed a string or number when the
  /// reader hands it over; over the in-situ stream (the padded copy) RapidJSON reads a token
  /// through a local copy of the stream, so the cursor still points at its first byte
  /// (`at_token_start`). string_open() and number_open() hide the difference.
  void set_cursor(const char* const* cursor, const char* begin, bool at_token_start) {
    cursor_ = cursor;
    cursor_begin_ = begin;
    at_token_start_ = at_token_start;
  }

  // --- rapidjson Handler concept ---
  bool Null() { return scalar(Kind::null, "null", tell() - 4); }
  bool Bool(bool b) { return scalar(Kind::boolean, b ? "true" : "false", tell() - (b ? 4 : 5)); }
  // Numbers always arrive through RawNumber (kParseNumbersAsStringsFlag).
  bool Int(int) { return unexpected_callback(); }
  bool Uint(unsigned) { return unexpected_callback(); }
  bool Int64(std::int64_t) { return unexpected_callback(); }
  bool Uint64(std::uint64_t) { return unexpected_callback(); }
  bool Double(double) { return unexpected_callback(); }
  bool RawNumber(const char* s, SizeType n, bool) {
    Frame* f = top_;
    const std::string_view text(s, n);
    if (f == nullptr || f->field != Field::unknown) return scalar(Kind::number, text, number_open(n));
    f->index += f->is_array ? 1 : 0;
    f->in_value = false;
    return true;
  }

  // The hot path: string values of known string fields are stored right here.
  bool String(const char* s, SizeType n, bool) {
    if (may_hold_surrogate_ && has_encoded_surrogate(s, n)) return lone_surrogate();
    Frame* f = top_;
    if (f == nullptr) return scalar(Kind::string, {s, n}, kLazyStart);
    const std::string_view t(s, n);
    switch (f->field) {
      case Field::unknown: break;
      case Field::summary: alert_->summary.emplace(t); break;
      case Field::details: alert_->details.emplace(t); break;
      case Field::alert_key: alert_->alert_key.emplace(t); break;
      case Field::comment: alert_->comment.emplace(t); break;
      case Field::event_id: alert_->event_id.emplace(t); break;
      case Field::correlation_id: alert_->correlation_id.emplace(t); break;
      case Field::merge_state: alert_->merge_state.emplace(t); break;
      case Field::status: alert_->status.emplace(make_status(t)); break;
      case Field::priority: alert_->priority.emplace(make_priority(t)); break;
      case Field::report_time: alert_->report_time.emplace(make_time(t)); break;
      case Field::resolved_on: alert_->resolved_on.emplace(make_time(t)); break;
      case Field::timestamp: alert_->timestamp.emplace(make_time(t)); break;
      case Field::merged_on: alert_->merged_on.emplace(make_time(t)); break;
      case Field::ref_name: target<NamedRef>(*f).name.emplace(t); break;
      case Field::user_username: target<User>(*f).username.emplace(t); break;
      case Field::user_first_name: target<User>(*f).first_name.emplace(t); break;
      case Field::user_last_name: target<User>(*f).last_name.emplace(t); break;
      case Field::user_email: target<User>(*f).email.emplace(t); break;
      case Field::resp_status: target<Responder>(*f).status.emplace(make_status(t)); break;
      case Field::resp_accepted_at: target<Responder>(*f).accepted_at.emplace(make_time(t)); break;
      case Field::link_href: target<Link>(*f).href.emplace(t); break;
      case Field::link_text: target<Link>(*f).text.emplace(t); break;
      case Field::image_src: target<Image>(*f).src.emplace(t); break;
      case Field::image_href: target<Image>(*f).href.emplace(t); break;
      case Field::image_alt: target<Image>(*f).alt.emplace(t); break;
      case Field::raw: writer_.String(s, n); break;
      case Field::extra: return scalar(Kind::string, t, kLazyStart);
      default: return scalar(Kind::string, t, kLazyStart);
    }
    f->index += f->is_array ? 1 : 0;
    f->in_value = false;
    return true;
  }
  bool StartObject() { return open(false, tell()); }  // the iterative reader calls these before
  bool StartArray() { return open(true, tell()); }    // taking the bracket, and End* likewise
  bool EndObject(SizeType) { return close(); }
  bool EndArray(SizeType) { return close(); }

  bool Key(const char* s, SizeType n, bool) {
    if (may_hold_surrogate_ && has_encoded_surrogate(s, n)) return lone_surrogate();
    // Keep the key: the reader's copy is gone after this call.
    const std::size_t at = keys_text_.size();
    keys_text_.append(s, n);
    const std::string_view key(keys_text_.data() + at, n);
    Frame& f = *top_;
    f.in_value = true;
    f.key = key;
    Field field = Field::unknown;
    switch (f.ctx) {
      case Ctx::root: field = root_field(key); break;
      case Ctx::named_ref:
      case Ctx::user:
      case Ctx::responder:
      case Ctx::link:
      case Ctx::image: field = key_field(f.ctx, key); break;
      default: break;
    }
    if (field != Field::unknown) {
      if ((f.seen & bit(field)) != 0) return duplicate(f, field, key, string_open());
      f.seen |= bit(field);
    } else if (!check_unknown_key(f, key)) {
      f.field = Field::unknown;
      return duplicate(f, field, key, string_open());
    } else if (f.ctx == Ctx::raw) {
      field = Field::raw;
      writer_.Key(s, n);
    } else if (f.ctx == Ctx::root) {
      field = Field::extra;
    }
    f.field = field;
    return true;
  }

  // --- results ---
  bool has_error() const { return error_.code != ErrorCode::ok; }
  Error take_error() { return std::move(error_); }

  /// The path of the value being read: used for errors found by the reader.
  std::string current_path() const {
    // Paths deeper than 80 levels (only possible with a raised max_depth) keep their first and
    // last 40 components around a "...".
    constexpr std::size_t kEdge = 40;
    std::string path;
    const std::size_t n = depth_;
    for (std::size_t i = 0; i < n; ++i) {
      if (n > 2 * kEdge && i == kEdge) {
        path += "...";
        i = n - kEdge;
      }
      const Frame& f = frames_[i];
      if (f.is_array) {
        path += '[';
        path += std::to_string(f.index);
        path += ']';
      } else if (f.in_value) {
        append_key(path, f.key);
      }
    }
    return path;
  }

  Error make_error(ErrorCode code, std::size_t content_offset, std::string message) const {
    return Error{code, std::move(message), current_path(), content_offset + origin_};
  }

  /// After a successful reader pass: the model-level error, a missing required field, or
  /// nothing (the event, filled in place, is complete).
  std::optional<Error> finish() {
    if (model_error_) return std::move(model_error_);
    if (!has_id_) return missing("id", id_null_at_);
    if (!event_type_) return missing("eventType", event_type_null_at_);
    Alert& a = alert();
    for (Mismatch& m : mismatches_) {
      clear_field(m.field);
      a.type_mismatches.push_back(TypeMismatch{root_name(m.field), std::move(m.path), std::move(m.raw_json)});
    }
    std::sort(a.type_mismatches.begin(), a.type_mismatches.end(),
              [](const TypeMismatch& x, const TypeMismatch& y) { return x.field < y.field; });
    if (!a.alert_key && incident_key_) a.alert_key.emplace(*incident_key_);
    // retype() already ran for the dispatching name (receivedEventType, else eventType).
    EventBase& base = base_of(event_);
    base.received_type = received_type_ ? std::move(*received_type_) : std::move(*event_type_);
    base.received_at = received_at_ ? *received_at_ : default_received_at_;
    if (auto* resolved = std::get_if<AlertResolved>(&event_)) resolved->automatic = type_info_ && type_info_->automatic;
    return std::nullopt;
  }

  /// After a reader error with no handler error: the string the reader was in, when it holds a
  /// lone low surrogate escape before `offset` (that problem comes first in the body).
  std::optional<Error> lone_low_before(std::size_t offset) const {
    const std::size_t start = string_start(content_, offset);
    const std::size_t at = find_lone_low(content_, start + 1, offset);
    if (at == std::string_view::npos) return std::nullopt;
    return lone_low_error(at);
  }

 private:
  static constexpr std::size_t kLazyStart = std::numeric_limits<std::size_t>::max();

  /// A value as the reader delivered it.
  struct Value {
    Kind kind;
    std::string_view text;  // string contents, number text, or the literal
    std::size_t start;      // content offset of its first byte (kLazyStart: a string, see start_of)
  };

  /// A top-level field with a type mismatch somewhere inside it (tolerant mode).
  struct Mismatch {
    Field field;
    std::string path;
    std::string raw_json;
  };

  std::size_t tell() const { return static_cast<std::size_t>(*cursor_ - cursor_begin_); }
  /// The offset of the opening quote of the string (or key) the reader is handing over.
  std::size_t string_open() const { return at_token_start_ ? tell() : string_start(content_, tell() - 1); }
  /// The offset of the first byte of the `n`-byte number the reader is handing over.
  std::size_t number_open(std::size_t n) const { return at_token_start_ ? tell() : tell() - n; }
  /// The first byte of a value; for strings found from the closing quote the reader just passed.
  std::size_t start_of(const Value& v) const { return v.start != kLazyStart ? v.start : string_open(); }
  Alert& alert() { return *alert_; }

  template <class T>
  static T& target(const Frame& f) {
    return *static_cast<T*>(f.target);
  }

  // --- errors ---

  /// A JSON-level error (syntax-like): stops the reader.
  bool fail(ErrorCode code, std::size_t content_offset, std::string message) {
    error_ = make_error(code, content_offset, std::move(message));
    return false;
  }

  Error lone_low_error(std::size_t at) const {
    return make_error(
        ErrorCode::invalid_unicode_escape, at,
        "lone low surrogate \\u" + std::string(content_.substr(at + 2, 4)) + " (not preceded by a high surrogate)");
  }

  /// The string just read decoded to an encoded surrogate: a lone low surrogate escape.
  bool lone_surrogate() {
    // The first lone low escape after the opening quote is this string's: it holds one.
    const std::size_t open = string_open();
    std::size_t at = find_lone_low(content_, open + 1, content_.size());
    if (at == std::string_view::npos) at = open;  // cannot happen: the reader decoded one
    error_ = lone_low_error(at);
    return false;
  }

  /// A model-level problem with the value `v` of known field `field`. Strict mode (and the
  /// envelope: id, eventType) keeps the first one as the error; the rest of the body is still read
  /// and validated (JSON-level errors take precedence). Tolerant mode marks the top-level field
  /// it is in as a mismatch. Returns false so callers can `return reject(...)`.
  bool reject(ErrorCode code, std::size_t content_offset, std::string message) {
    const bool tolerant =
        !strict_ && depth_ > 0 && frames_.front().ctx == Ctx::root && (bit(frames_.front().field) & kEnvelope) == 0;
    if (!tolerant) {
      if (!model_error_) model_error_ = make_error(code, content_offset, std::move(message));
      return false;
    }
    // The value is captured when it is complete: a top-level scalar in scalar(), a container in
    // close().
    const Field field = frames_.front().field;
    if ((mismatched_ & bit(field)) == 0) {
      mismatched_ |= bit(field);
      mismatches_.push_back(Mismatch{field, current_path(), {}});
    }
    return false;
  }

  bool unexpected_callback() { return fail(ErrorCode::syntax, tell(), "unexpected number event"); }

  bool wrong_type(const Value& v, const char* expected) {
    std::string message = "expected ";
    message += expected;
    message += ", got ";
    message += kind_name(v.kind);
    return reject(ErrorCode::wrong_type, start_of(v), std::move(message));
  }

  bool duplicate(Frame& f, Field field, std::string_view key, std::size_t start) {
    f.field = field;
    return fail(ErrorCode::duplicate_key, start, "duplicate key " + quoted(key));
  }

  bool too_deep(std::size_t start) {
    return fail(ErrorCode::nesting_too_deep, start,
                "arrays/objects nested deeper than " + std::to_string(max_depth_) + " levels");
  }

  std::optional<Error> missing(const char* name, std::optional<std::size_t> null_at) const {
    Error e;
    e.code = ErrorCode::missing_field;
    e.path = name;
    e.offset = (null_at ? *null_at : root_start_) + origin_;
    e.message = std::string("required field \"") + name + (null_at ? "\" is null" : "\" is missing");
    return e;
  }

  // --- tolerant mode ---

  /// Captures the raw JSON of a top-level scalar that was just marked as a mismatch.
  void capture_scalar(const Value& v) {
    JsonSink os(mismatches_.back().raw_json);
    RawWriter w(os);
    write_scalar(w, v.kind, v.text);
  }

  /// Empties the typed field of a mismatched top-level field.
  void clear_field(Field f) {
    Alert& a = alert();
    switch (f) {
      case Field::summary: a.summary.reset(); break;
      case Field::details: a.details.reset(); break;
      case Field::status: a.status.reset(); break;
      case Field::priority: a.priority.reset(); break;
      case Field::report_time: a.report_time.reset(); break;
      case Field::alert_key: a.alert_key.reset(); break;
      case Field::incident_key: incident_key_.reset(); break;
      case Field::alert_source: a.alert_source.reset(); break;
      case Field::escalation_policy: a.escalation_policy.reset(); break;
      case Field::assigned_to: a.assigned_to.reset(); break;
      case Field::responders: a.responders.clear(); break;
      case Field::resolved_on: a.resolved_on.reset(); break;
      case Field::links: a.links.clear(); break;
      case Field::images: a.images.clear(); break;
      case Field::comment: a.comment.reset(); break;
      case Field::timestamp: a.timestamp.reset(); break;
      case Field::event_id: a.event_id.reset(); break;
      case Field::correlation_id: a.correlation_id.reset(); break;
      case Field::merge_state: a.merge_state.reset(); break;
      case Field::merged_into_id: a.merged_into_id.reset(); break;
      case Field::merged_on: a.merged_on.reset(); break;
      case Field::severity: a.severity.reset(); break;
      default: break;
    }
  }

  // --- event type ---

  /// Makes event_ the alternative for the event type `type` (the alert fields read so far move
  /// along). Called as soon as the type is known, normally the second key, so little moves.
  void retype(std::string_view type) {
    type_info_ = lookup_event_type(type);
    const EventKind kind = type_info_ ? type_info_->kind : EventKind::unknown;
    if (kind_of(event_) == kind) return;
    Alert moved = std::move(*alert_);
    emplace_kind(kind);
    *alert_ = std::move(moved);
    // Only the root object can be open when a top-level key's value arrives.
    if (depth_ > 0) frames_.front().target = alert_;
  }

  void emplace_kind(EventKind kind) {
    switch (kind) {
      case EventKind::created: event_.emplace<AlertCreated>(); break;
      case EventKind::accepted: event_.emplace<AlertAccepted>(); break;
      case EventKind::rerouted: event_.emplace<AlertRerouted>(); break;
      case EventKind::escalated: event_.emplace<AlertEscalated>(); break;
      case EventKind::priority_raised: event_.emplace<AlertPriorityRaised>(); break;
      case EventKind::resolved: event_.emplace<AlertResolved>(); break;
      case EventKind::comment_added: event_.emplace<AlertCommentAdded>(); break;
      case EventKind::responder_added: event_.emplace<ResponderAdded>(); break;
      case EventKind::responder_removed: event_.emplace<ResponderRemoved>(); break;
      case EventKind::channel_attached: event_.emplace<ChannelAttached>(); break;
      case EventKind::channel_detached: event_.emplace<ChannelDetached>(); break;
      case EventKind::escalation_ended: event_.emplace<AlertEscalationEnded>(); break;
      case EventKind::not_resolved: event_.emplace<AlertNotResolved>(); break;
      case EventKind::unknown: event_.emplace<UnknownEvent>(); break;
    }
    alert_ = &base_of(event_).alert;
  }

  // --- duplicate detection for keys the model does not know ---
  bool check_unknown_key(Frame& f, std::string_view key) {
    if (!f.has_set) {
      for (std::size_t i = f.keys_begin; i < keys_.size(); ++i) {
        if (keys_[i] == key) return false;
      }
      keys_.push_back(key);
      if (keys_.size() - f.keys_begin > kLinearKeyLimit) {
        sets_.emplace_back(keys_.begin() + static_cast<std::ptrdiff_t>(f.keys_begin), keys_.end());
        f.has_set = true;
      }
      return true;
    }
    return sets_.back().insert(key).second;
  }

  // --- scalars ---

  bool scalar(Kind kind, std::string_view text, std::size_t start) {
    Frame* f = top_;
    if (f == nullptr) {
      const Value v{kind, text, start};
      if (!model_error_) {
        model_error_ = make_error(ErrorCode::not_an_object, start_of(v),
                                  std::string("the body must be a JSON object, got ") + kind_name(kind));
      }
      return true;
    }
    // After a model-level error values are still stored; the event is discarded anyway.
    const Field field = f->field;
    if (field == Field::raw) {
      write_scalar(writer_, kind, text);
    } else if (field == Field::extra) {
      ExtraField& extra = alert().extra_fields.emplace_back();
      extra.key = std::string(f->key);
      JsonSink os(extra.raw_json);
      RawWriter w(os);
      write_scalar(w, kind, text);
    } else if (field != Field::unknown) {
      const Value v{kind, text, start};
      const std::size_t mismatches = mismatches_.size();
      apply_scalar(*f, field, v);  // false: recorded by reject()
      if (depth_ == 1 && mismatches_.size() != mismatches) capture_scalar(v);
    }
    f->index += f->is_array ? 1 : 0;
    f->in_value = false;
    return true;
  }

  static void write_scalar(RawWriter& w, Kind kind, std::string_view text) {
    switch (kind) {
      case Kind::null: w.Null(); break;
      case Kind::boolean: w.Bool(text.size() == 4); break;
      // Writer::RawNumber quotes its text in RapidJSON 1.1.0: write the number as a raw value.
      case Kind::number: w.RawValue(text.data(), text.size(), rapidjson::kNumberType); break;
      case Kind::string: w.String(text.data(), static_cast<SizeType>(text.size())); break;
      default: break;
    }
  }

  bool set_string(std::optional<std::string>& out, const Value& v) {
    if (v.kind == Kind::string) {
      out.emplace(v.text);
      return true;
    }
    return v.kind == Kind::null || wrong_type(v, "string");
  }

  static Timestamp make_time(std::string_view text) { return Timestamp{std::string(text), parse_iso8601(text)}; }

  bool set_time(std::optional<Timestamp>& out, const Value& v) {
    if (v.kind == Kind::string) {
      out.emplace(make_time(v.text));
      return true;
    }
    return v.kind == Kind::null || wrong_type(v, "string");
  }

  bool set_status(std::optional<Tagged<Status>>& out, const Value& v) {
    if (v.kind == Kind::string) {
      out.emplace(make_status(v.text));
      return true;
    }
    return v.kind == Kind::null || wrong_type(v, "string");
  }

  /// severity: a JSON integer 1..5.
  bool set_severity(const Value& v) {
    if (v.kind == Kind::null) return true;
    if (v.kind != Kind::number) return wrong_type(v, "integer 1..5");
    if (v.text.size() == 1 && v.text[0] >= '1' && v.text[0] <= '5') {
      alert().severity = v.text[0] - '0';
      return true;
    }
    return reject(ErrorCode::number_out_of_range, start_of(v),
                  "severity must be an integer from 1 to 5, got " + std::string(v.text.substr(0, 40)));
  }

  /// Reads an id (JSON integer or digit string, 1..2^63-1) into `out`; null leaves it alone.
  bool read_id(const Value& v, std::int64_t& out, bool& present) {
    present = false;
    if (v.kind == Kind::null) return true;
    const std::string_view t = v.text;
    // Fast path: 1-18 digits without a leading zero (always in range).
    if ((v.kind == Kind::number || v.kind == Kind::string) && !t.empty() && t.size() <= 18 && t[0] >= '1' &&
        t[0] <= '9') {
      std::int64_t value = 0;
      bool digits = true;
      for (const char c : t) {
        digits = digits && c >= '0' && c <= '9';
        value = value * 10 + (c - '0');
      }
      if (digits) {
        out = value;
        present = true;
        return true;
      }
    }
    if (v.kind == Kind::number) {
      if (t.find_first_of(".eE") != std::string_view::npos) {
        return reject(ErrorCode::number_out_of_range, start_of(v),
                      "expected an integer id, got " + std::string(t.substr(0, 40)));
      }
      if (t[0] == '-') {
        return reject(ErrorCode::number_out_of_range, start_of(v),
                      "id must be between 1 and 9223372036854775807, got " + std::string(t.substr(0, 40)));
      }
    } else if (v.kind == Kind::string) {
      const bool digits = !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits) {
        return reject(ErrorCode::wrong_type, start_of(v), "expected integer or digit string, got string " + quoted(t));
      }
      if (t.size() > 1 && t[0] == '0') {
        return reject(ErrorCode::number_out_of_range, start_of(v), "id digit string has a leading zero: " + quoted(t));
      }
    } else {
      return wrong_type(v, "integer or digit string");
    }
    // t is now a run of ASCII digits without a leading zero (or "0").
    std::uint64_t value = 0;
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    bool overflow = t.size() > 19;
    for (std::size_t i = 0; !overflow && i < t.size(); ++i) {
      value = value * 10 + static_cast<std::uint64_t>(t[i] - '0');
      overflow = value > kMax;
    }
    if (overflow || value == 0) {
      return reject(ErrorCode::number_out_of_range, start_of(v),
                    "id must be between 1 and 9223372036854775807, got " +
                        (v.kind == Kind::string ? quoted(t) : std::string(t.substr(0, 40))));
    }
    out = static_cast<std::int64_t>(value);
    present = true;
    return true;
  }

  bool set_opt_id(std::optional<std::int64_t>& out, const Value& v) {
    std::int64_t id = 0;
    bool present = false;
    if (!read_id(v, id, present)) return false;
    if (present) out = id;
    return true;
  }

  /// Starts re-serializing a container into raw_ (then copied at its exact size).
  void start_raw() {
    out_.reset();  // (its destructor trims raw_ to what it wrote: clear after)
    raw_.clear();
    out_.emplace(raw_);
    writer_.Reset(*out_);
  }

  bool set_raw_scalar(std::optional<std::string>& out, const Value& v) {
    if (v.kind == Kind::null) return true;
    JsonSink os(out.emplace());
    RawWriter w(os);
    write_scalar(w, v.kind, v.text);
    return true;
  }

  bool apply_scalar(Frame& f, Field field, const Value& v) {
    switch (field) {
      // --- root ---
      case Field::id:
        if (v.kind == Kind::null) {
          id_null_at_ = v.start;
          return true;
        }
        return read_id(v, alert().id, has_id_);
      case Field::event_type:
        if (v.kind == Kind::string) {
          event_type_.emplace(v.text);
          if (!received_type_) retype(v.text);
          return true;
        }
        if (v.kind == Kind::null) {
          event_type_null_at_ = v.start;
          return true;
        }
        return wrong_type(v, "string");
      case Field::received_event_type:
        if (v.kind == Kind::string) {
          received_type_.emplace(v.text);
          retype(v.text);
          return true;
        }
        return v.kind == Kind::null || wrong_type(v, "string");
      case Field::received_at:
        // A Sumo line's receipt time; anything else is ignored (it is the line's own key).
        if (v.kind == Kind::string) {
          if (std::optional<UtcTime> t = parse_iso8601(v.text)) received_at_ = *t;
        }
        return true;
      case Field::line_time:
      case Field::line_dedup_id:
      case Field::line_tta:
      case Field::line_ttr:
      case Field::line_mismatches: return true;
      case Field::incident_key:
        if (v.kind == Kind::string) {
          incident_key_.emplace(v.text);
          return true;
        }
        return v.kind == Kind::null || wrong_type(v, "string");
      case Field::summary: return set_string(alert().summary, v);
      case Field::details: return set_string(alert().details, v);
      case Field::alert_key: return set_string(alert().alert_key, v);
      case Field::comment: return set_string(alert().comment, v);
      case Field::event_id: return set_string(alert().event_id, v);
      case Field::correlation_id: return set_string(alert().correlation_id, v);
      case Field::merge_state: return set_string(alert().merge_state, v);
      case Field::severity: return set_severity(v);
      case Field::status: return set_status(alert().status, v);
      case Field::priority:
        if (v.kind == Kind::string) {
          alert().priority.emplace(make_priority(v.text));
          return true;
        }
        return v.kind == Kind::null || wrong_type(v, "string");
      case Field::report_time: return set_time(alert().report_time, v);
      case Field::resolved_on: return set_time(alert().resolved_on, v);
      case Field::timestamp: return set_time(alert().timestamp, v);
      case Field::merged_on: return set_time(alert().merged_on, v);
      case Field::merged_into_id: return set_opt_id(alert().merged_into_id, v);
      case Field::labels: return set_raw_scalar(alert().labels_json, v);
      case Field::custom_details: return set_raw_scalar(alert().custom_details_json, v);
      case Field::alert_source:
      case Field::escalation_policy:
      case Field::assigned_to:
      case Field::resp_user: return v.kind == Kind::null || wrong_type(v, "object");
      case Field::responders:
      case Field::links:
      case Field::images: return v.kind == Kind::null || wrong_type(v, "array");
      // --- nested objects ---
      case Field::ref_id: return set_opt_id(target<NamedRef>(f).id, v);
      case Field::ref_name: return set_string(target<NamedRef>(f).name, v);
      case Field::user_id: return set_opt_id(target<User>(f).id, v);
      case Field::user_username: return set_string(target<User>(f).username, v);
      case Field::user_first_name: return set_string(target<User>(f).first_name, v);
      case Field::user_last_name: return set_string(target<User>(f).last_name, v);
      case Field::user_email: return set_string(target<User>(f).email, v);
      case Field::resp_status: return set_status(target<Responder>(f).status, v);
      case Field::resp_accepted_at: return set_time(target<Responder>(f).accepted_at, v);
      case Field::link_href: return set_string(target<Link>(f).href, v);
      case Field::link_text: return set_string(target<Link>(f).text, v);
      case Field::image_src: return set_string(target<Image>(f).src, v);
      case Field::image_href: return set_string(target<Image>(f).href, v);
      case Field::image_alt: return set_string(target<Image>(f).alt, v);
      case Field::responder_item:
      case Field::link_item:
      case Field::image_item: return wrong_type(v, "object");
      case Field::unknown:
      case Field::raw:
      case Field::extra:
      case Field::count_: break;
    }
    return true;
  }

  // --- containers ---

  // frames_ only grows (it is reused across calls); frames_[0, depth_) are the open containers.
  void push(Ctx ctx, bool is_array, Field element, void* target_ptr) {
    if (depth_ == frames_.size()) frames_.emplace_back();
    Frame& f = frames_[depth_++];
    f.target = target_ptr;
    f.seen = 0;
    f.keys_begin = static_cast<std::uint32_t>(keys_.size());
    f.index = 0;
    f.ctx = ctx;
    f.field = is_array ? element : Field::unknown;
    f.is_array = is_array;
    f.in_value = false;
    f.has_set = false;
    top_ = &f;
  }

  void open_raw(bool is_array) {
    if (is_array) {
      writer_.StartArray();
    } else {
      writer_.StartObject();
    }
    push(Ctx::raw, is_array, Field::raw, nullptr);
  }

  bool open(bool is_array, std::size_t start) {
    if (depth_ >= max_depth_) return too_deep(start);
    Frame* f = top_;
    if (f == nullptr) {
      root_start_ = start;
      if (is_array) {
        if (!model_error_) {
          model_error_ = make_error(ErrorCode::not_an_object, start, "the body must be a JSON object, got array");
        }
        push(Ctx::skip, true, Field::unknown, nullptr);
      } else {
        push(Ctx::root, false, Field::unknown, alert_);
      }
      return true;
    }
    if (depth_ == 1) top_value_start_ = start;  // a top-level field's value
    const Field field = f->field;
    if (field == Field::unknown) {
      push(Ctx::skip, is_array, Field::unknown, nullptr);
    } else if (field == Field::raw) {
      open_raw(is_array);
    } else if (field == Field::extra) {
      raw_target_ = nullptr;
      start_raw();
      open_raw(is_array);
    } else if (!open_typed(*f, field, is_array, start)) {
      push(Ctx::skip, is_array, Field::unknown, nullptr);  // wrong type: recorded, now just validate
    }
    return true;
  }

  /// Appends an element; the first one reserves room for a few, so small arrays allocate once.
  template <class T>
  static T& emplace_item(std::vector<T>& items) {
    if (items.empty()) items.reserve(4);
    return items.emplace_back();
  }

  /// Opens a container where the model expects something; false after a reject().
  bool open_typed(Frame& f, Field field, bool is_array, std::size_t start) {
    const Value v{is_array ? Kind::array : Kind::object, {}, start};
    switch (field) {
      case Field::alert_source:
        if (is_array) return wrong_type(v, "object");
        push(Ctx::named_ref, false, Field::unknown, &alert().alert_source.emplace());
        return true;
      case Field::escalation_policy:
        if (is_array) return wrong_type(v, "object");
        push(Ctx::named_ref, false, Field::unknown, &alert().escalation_policy.emplace());
        return true;
      case Field::assigned_to:
        if (is_array) return wrong_type(v, "object");
        push(Ctx::user, false, Field::unknown, &alert().assigned_to.emplace());
        return true;
      case Field::resp_user:
        if (is_array) return wrong_type(v, "object");
        push(Ctx::user, false, Field::unknown, &target<Responder>(f).user.emplace());
        return true;
      case Field::responders:
        if (!is_array) return wrong_type(v, "array");
        push(Ctx::responders, true, Field::responder_item, &alert().responders);
        return true;
      case Field::links:
        if (!is_array) return wrong_type(v, "array");
        push(Ctx::links, true, Field::link_item, &alert().links);
        return true;
      case Field::images:
        if (!is_array) return wrong_type(v, "array");
        push(Ctx::images, true, Field::image_item, &alert().images);
        return true;
      case Field::responder_item:
        if (is_array) return wrong_type(v, "object");
        push(Ctx::responder, false, Field::unknown, &emplace_item(target<std::vector<Responder>>(f)));
        return true;
      case Field::link_item:
        if (is_array) return wrong_type(v, "object");
        push(Ctx::link, false, Field::unknown, &emplace_item(target<std::vector<Link>>(f)));
        return true;
      case Field::image_item:
        if (is_array) return wrong_type(v, "object");
        push(Ctx::image, false, Field::unknown, &emplace_item(target<std::vector<Image>>(f)));
        return true;
      case Field::labels:
      case Field::custom_details:
        raw_target_ = field == Field::labels ? &alert().labels_json : &alert().custom_details_json;
        start_raw();
        open_raw(is_array);
        return true;
      case Field::received_at:
      case Field::line_time:
      case Field::line_dedup_id:
      case Field::line_tta:
      case Field::line_ttr:
      case Field::line_mismatches: return false;  // a line's own key: validated, not kept
      case Field::id:
      case Field::merged_into_id:
      case Field::ref_id:
      case Field::user_id: return wrong_type(v, "integer or digit string");
      case Field::severity: return wrong_type(v, "integer 1..5");
      default: return wrong_type(v, "string");
    }
  }

  bool close() {
    Frame& f = *top_;
    const bool was_raw = f.ctx == Ctx::raw;
    if (was_raw) {
      if (f.is_array) {
        writer_.EndArray();
      } else {
        writer_.EndObject();
      }
    }
    if (keys_.size() != f.keys_begin) {
      keys_.resize(f.keys_begin);
      if (f.has_set) sets_.pop_back();
    }
    if (--depth_ == 0) {
      top_ = nullptr;
      return true;
    }
    Frame& parent = *(top_ - 1);  // frames_ is contiguous
    top_ = &parent;
    if (was_raw && parent.ctx != Ctx::raw) {  // capture complete
      out_->finish();
      if (raw_target_ != nullptr) {
        raw_target_->emplace(raw_);
      } else {
        alert().extra_fields.push_back(ExtraField{std::string(parent.key), raw_});
      }
    }
    if (depth_ == 1 && (mismatched_ & bit(parent.field)) != 0 && mismatches_.back().field == parent.field &&
        mismatches_.back().raw_json.empty()) {
      // A mismatched top-level container ends here ('}' or ']' is at tell()).
      mismatches_.back().raw_json = minify(content_.substr(top_value_start_, tell() + 1 - top_value_start_));
    }
    parent.index += parent.is_array ? 1 : 0;
    parent.in_value = false;
    return true;
  }

  std::vector<Frame>& frames_;
  std::vector<std::string_view>& keys_;
  std::vector<std::unordered_set<std::string_view>>& sets_;
  std::string& keys_text_;
  std::string& raw_;
  std::optional<JsonSink>& out_;
  RawWriter& writer_;
  const char* const* cursor_ = nullptr;
  const char* cursor_begin_ = nullptr;
  bool at_token_start_ = false;
  std::string_view content_;  // the body after the BOM
  std::size_t origin_;        // bytes skipped before content (BOM)
  std::size_t max_depth_;
  bool strict_;
  Event& event_;  // filled in place (see retype)
  Alert* alert_;
  Frame* top_ = nullptr;   // frames_[depth_ - 1], or null before the root
  std::size_t depth_ = 0;  // open containers

  bool has_id_ = false;
  std::optional<std::size_t> id_null_at_;
  std::optional<std::size_t> event_type_null_at_;
  std::optional<std::string> event_type_;
  std::optional<std::string> received_type_;
  std::optional<std::string> incident_key_;
  std::optional<UtcTime> received_at_;
  std::optional<EventTypeInfo> type_info_;  // of the dispatching event type (see retype)
  std::size_t root_start_ = 0;
  std::size_t top_value_start_ = 0;                   // where the current top-level field's container began
  std::optional<std::string>* raw_target_ = nullptr;  // labels/customDetails; null: an extra field
  std::uint64_t mismatched_ = 0;                      // top-level fields with a mismatch (tolerant mode)
  std::vector<Mismatch> mismatches_;
  UtcTime default_received_at_;
  bool may_hold_surrogate_;
  Error error_;                       // JSON-level error (reader stopped)
  std::optional<Error> model_error_;  // first model-level error
};

// ------------------------------------------------------------------------------------------------
// Reader errors -> our errors

/// Describes the byte at `offset` for a message: 'x', byte 0xNN, or end of input.
std::string describe_byte(std::string_view content, std::size_t offset) {
  if (offset >= content.size()) return "end of input";
  const auto c = static_cast<unsigned char>(content[offset]);
  if (c >= 0x20 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
  constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("byte 0x") + kHex[c >> 4] + kHex[c & 0xF];
}

/// A hint for common non-RFC-8259 constructs found at `offset`.
std::string syntax_hint(std::string_view content, std::size_t offset) {
  if (offset >= content.size()) return "";
  const char c = content[offset];
  std::size_t prev = offset;
  while (prev > 0 && is_json_space(content[prev - 1])) --prev;
  const char before = prev > 0 ? content[prev - 1] : '\0';
  if ((c == '}' || c == ']') && before == ',') return " (trailing comma)";
  if (c == '/') return " (comments are not allowed)";
  if (c == '\'') return " (single quotes are not allowed)";
  if (c == 'N' || c == 'I') return " (NaN and Infinity are not allowed)";
  if (c >= '0' && c <= '9' && offset > 0 && content[offset - 1] == '0') return " (numbers must not have leading zeros)";
  return "";
}

/// True when the bytes at `offset` are not a well-formed UTF-8 sequence (only bytes >= 0x80 can
/// be; RapidJSON validates inside strings only, so outside them this turns its syntax error into
/// invalid_utf8).
bool invalid_utf8_at(std::string_view content, std::size_t offset) {
  if (offset >= content.size()) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(content.data()) + offset;
  return *p >= 0x80 && detail::utf8_multibyte_length(p, content.size() - offset) == 0;
}

/// True when a syntax error at `offset` is at the backslash of a `\uDC00`..`\uDFFF` escape
/// outside any string: reported as "unexpected '\'".
bool lone_low_escape_at(std::string_view content, std::size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(content.data());
  return offset + 1 < content.size() && p[offset] == '\\' && p[offset + 1] == 'u' &&
         detail::lone_low_surrogate_at(p, content.size(), offset);
}

bool in_string_error(rapidjson::ParseErrorCode code) {
  using namespace rapidjson;
  return code == kParseErrorStringUnicodeEscapeInvalidHex || code == kParseErrorStringUnicodeSurrogateInvalid ||
         code == kParseErrorStringEscapeInvalid || code == kParseErrorStringMissQuotationMark ||
         code == kParseErrorStringInvalidEncoding;
}

Error reader_error(const Handler& handler, rapidjson::ParseErrorCode code, std::size_t offset,
                   std::string_view content) {
  using namespace rapidjson;
  if (in_string_error(code)) {
    if (std::optional<Error> earlier = handler.lone_low_before(offset)) return std::move(*earlier);
  } else if (invalid_utf8_at(content, offset)) {
    return handler.make_error(ErrorCode::invalid_utf8, offset, "invalid UTF-8 byte sequence");
  } else if (lone_low_escape_at(content, offset)) {
    return handler.make_error(ErrorCode::syntax, offset, "unexpected '\\'");
  }
  const std::string got = describe_byte(content, offset);
  const auto syntax = [&](std::string message) {
    return handler.make_error(ErrorCode::syntax, offset, std::move(message));
  };
  switch (code) {
    case kParseErrorDocumentEmpty:
      // The iterative reader also says this for an invalid first value.
      if (offset >= content.size() || content[offset] == '\0') return syntax("expected a JSON value, got " + got);
      return syntax("invalid value: unexpected " + got + syntax_hint(content, offset));
    case kParseErrorValueInvalid: return syntax("invalid value: unexpected " + got + syntax_hint(content, offset));
    case kParseErrorObjectMissName: return syntax("expected a string key, got " + got + syntax_hint(content, offset));
    case kParseErrorObjectMissColon:
      return syntax("expected ':' after the key, got " + got + syntax_hint(content, offset));
    case kParseErrorObjectMissCommaOrCurlyBracket:
      return syntax("expected ',' or '}' after a member, got " + got + syntax_hint(content, offset));
    case kParseErrorArrayMissCommaOrSquareBracket:
      return syntax("expected ',' or ']' after an element, got " + got + syntax_hint(content, offset));
    case kParseErrorStringUnicodeEscapeInvalidHex:
      return handler.make_error(ErrorCode::invalid_unicode_escape, offset, "\\u must be followed by four hex digits");
    case kParseErrorStringUnicodeSurrogateInvalid: {
      std::string message = "high surrogate escape";
      if (offset + 6 <= content.size()) message += " \\u" + std::string(content.substr(offset + 2, 4));
      message += " is not followed by a low surrogate escape";
      return handler.make_error(ErrorCode::invalid_unicode_escape, offset, std::move(message));
    }
    case kParseErrorStringEscapeInvalid:
      if (offset < content.size() && static_cast<unsigned char>(content[offset]) < 0x20) {
        return syntax("unescaped control character (" + got + ") in string");
      }
      return syntax("invalid escape sequence: '\\' followed by " + describe_byte(content, offset + 1));
    case kParseErrorStringMissQuotationMark:
      if (offset < content.size()) return syntax("unescaped control character (" + got + ") in string");
      return syntax("unterminated string");
    case kParseErrorStringInvalidEncoding:
      return handler.make_error(ErrorCode::invalid_utf8, offset, "invalid UTF-8 byte sequence");
    case kParseErrorNumberTooBig:
      return handler.make_error(ErrorCode::number_out_of_range, offset, "number too large to represent");
    case kParseErrorNumberMissFraction: return syntax("expected a digit after the decimal point, got " + got);
    case kParseErrorNumberMissExponent: return syntax("expected a digit in the exponent, got " + got);
    default: return syntax("invalid JSON at " + got);
  }
}

/// `t` cut to whole milliseconds (what a Sumo line carries).
UtcTime to_millis(UtcTime t) { return std::chrono::time_point_cast<std::chrono::milliseconds>(t); }

/// Parses `body` into `event` (which holds a default-constructed Event on entry); the error, if any.
std::optional<Error> parse_into(Event& event, std::string_view body, const ParseOptions& options,
                                bool reader_validates) {
  // RapidJSON's string lengths are 32-bit: bodies near 4 GiB are too large whatever the option.
  constexpr std::size_t kReaderLimit = std::size_t{0xFFFFFFFFu} - 64;
  const std::size_t limit = std::min(options.max_body_bytes, kReaderLimit);
  if (body.size() > limit) {
    return Error{ErrorCode::too_large,
                 "body is " + std::to_string(body.size()) + " bytes, more than the limit of " + std::to_string(limit),
                 "", limit};
  }
  std::size_t origin = 0;
  if (body.size() >= 3 && body.compare(0, 3, "\xEF\xBB\xBF") == 0) origin = 3;
  const std::string_view content = body.substr(origin);
  if (std::all_of(content.begin(), content.end(), is_json_space)) {
    return Error{ErrorCode::empty_body, "the body is empty", "", body.size()};
  }

  ThreadState& state = thread_state();
  state.out.reset();  // a capture cut short by an error in the previous call
  Scratch& s = state.scratch;
  s.keys.clear();
  s.sets.clear();
  s.keys_text.clear();
  s.keys_text.reserve(content.size());  // keys are never longer than the body: no reallocation
  // Keep the per-thread buffers from pinning a huge body's memory.
  struct Trim {
    Scratch& scratch_space;
    ~Trim() {
      constexpr std::size_t kKeep = std::size_t{1} << 20;
      if (scratch_space.keys_text.capacity() > kKeep) std::string().swap(scratch_space.keys_text);
      if (scratch_space.raw.capacity() > kKeep) std::string().swap(scratch_space.raw);
      if (scratch_space.padded.capacity() > kKeep) std::string().swap(scratch_space.padded);
      if (scratch_space.frames.size() > 1024) std::vector<Frame>().swap(scratch_space.frames);
    }
  } trim{s};
  // The reader's stack holds the longest string read: start afresh after a big body.
  struct TrimReader {
    Scratch& scratch_space;
    bool big;
    ~TrimReader() {
      if (big) scratch_space.reader.emplace();
    }
  } trim_reader{s, content.size() > (std::size_t{1} << 20)};

  const UtcTime received_at =
      to_millis(options.received_at ? *options.received_at : UtcTime(std::chrono::system_clock::now()));
  Handler handler(state, event, content, origin, options, received_at);
  // Same reader, same handler, same results: validation inside strings is only skipped when the
  // whole body is known to be valid UTF-8 (tests/test_parse.cpp checks both paths agree).
  const detail::TextScan scan = reader_validates ? detail::TextScan{} : detail::scan_text<true>(content);
  const bool valid_utf8 = !reader_validates && scan.valid_utf8;
  rapidjson::MemoryStream stream(content.data(), content.size());
  std::optional<rapidjson::InsituStringStream> padded_stream;
  rapidjson::ParseResult result;
  // In situ only without a raw control byte other than JSON's whitespace: a NUL would end the
  // NUL-terminated stream early, and RapidJSON 1.1.0's SSE2 string scan compares with 0x19 and so
  // lets raw 0x1A..0x1F through inside strings, depending on alignment. Such a body is invalid
  // JSON; the MemoryStream path rejects it where the byte stands.
  if (valid_utf8 && !scan.raw_control) {
    // RapidJSON's fast path (see "Speed, without leaving RapidJSON" in docs/DESIGN.md): in-situ
    // parsing of a NUL-terminated, padded copy, which its SSE2 string and whitespace scans read 16
    // aligned bytes at a time (never past the padding) and whose strings are handed over where they
    // lie instead of being copied byte by byte. Offsets are the same as over the body; the
    // handler's offset scans (string_start, find_lone_low) read the original bytes (content),
    // never the copy the reader rewrites.
    s.padded.assign(content.data(), content.size());
    s.padded.append(kStringStreamPadding, '\0');
    padded_stream.emplace(s.padded.data());
    handler.set_cursor(&padded_stream->src_, padded_stream->head_, /*at_token_start=*/true);
    result = s.reader->Parse<kReaderFlagsInsitu>(*padded_stream, handler);
  } else {
    handler.set_cursor(&stream.src_, stream.begin_, /*at_token_start=*/false);
    result = valid_utf8 ? s.reader->Parse<kReaderFlagsValidUtf8>(stream, handler)
                        : s.reader->Parse<kReaderFlags>(stream, handler);
  }
  if (result.IsError()) {
    if (handler.has_error()) return handler.take_error();
    return reader_error(handler, result.Code(), result.Offset(), content);
  }
  // Only whitespace may follow the root object.
  std::size_t end = padded_stream ? padded_stream->Tell() : stream.Tell();
  while (end < content.size() && is_json_space(content[end])) ++end;
  if (end < content.size()) {
    if (invalid_utf8_at(content, end))
      return handler.make_error(ErrorCode::invalid_utf8, end, "invalid UTF-8 byte sequence");
    if (lone_low_escape_at(content, end)) return handler.make_error(ErrorCode::syntax, end, "unexpected '\\'");
    return handler.make_error(ErrorCode::syntax, end,
                              "unexpected " + describe_byte(content, end) + " after the top-level object");
  }
  return handler.finish();
}

/// The event is built in place inside the returned Expected (no copies of the Alert).
Expected<Event> parse_checked(std::string_view body, const ParseOptions& options, bool reader_validates) {
  Expected<Event> result{Event{}};
  if (std::optional<Error> error = parse_into(result.value(), body, options, reader_validates)) {
    result = std::move(*error);
  }
  return result;
}

Expected<Event> parse_guarded(std::string_view body, const ParseOptions& options, bool reader_validates) {
  try {
    return parse_checked(body, options, reader_validates);
  } catch (...) {
    // Only allocation can throw here. The message fits the small-string buffer.
    Error e;
    e.code = ErrorCode::too_large;
    e.message = "out of memory";
    return e;
  }
}

}  // namespace

Expected<Event> parse_event(std::string_view body, const ParseOptions& options) {
  return parse_guarded(body, options, /*reader_validates=*/false);
}

namespace detail {
Expected<Event> parse_event_reader_validates(std::string_view body, const ParseOptions& options) {
  return parse_guarded(body, options, /*reader_validates=*/true);
}
}  // namespace detail

}  // namespace ilert_sumo
