// src/parse.cpp: parse_event(), webhook body bytes -> typed Event (see parse.hpp).
//
// How it works, in one pass over the caller's bytes and without a DOM:
//   1. Size limit, BOM skip, empty check.
//   2. Our own tokenizer (json_scan.hpp) reads the body once, iteratively (no recursion however
//      deep the nesting), strict RFC 8259, validating UTF-8 inside its SSE2 string scan (only
//      non-ASCII bytes are looked at one sequence at a time). It never copies the body: strings
//      without escapes are passed on as views into it; strings with escapes are decoded into a
//      per-thread scratch buffer that is sized once per call and never moves during it. It
//      streams into Handler, which keeps a small frame stack (for paths, duplicate keys and
//      depth) and fills Alert fields directly. Numbers arrive as raw text, so ids are checked
//      exactly and `labels`/`customDetails` are re-serialized losslessly with a compact writer
//      while streaming.
//   3. After the root object: only whitespace may follow; then required fields and dispatch by
//      event type (events.cpp holds the wire-name table).
// Which error is reported when a body has several: JSON-level problems (syntax, invalid_utf8,
// invalid_unicode_escape, duplicate_key, nesting_too_deep, a number too big to represent) stop
// the scan and always win; model-level problems (not_an_object, wrong_type, number_out_of_range
// of an id) are remembered, the rest of the body is still validated, and the first one is
// reported only when the body is otherwise well-formed; missing_field comes last. Within a level,
// the first problem in the body wins: the tokenizer checks every byte before the one it stops at,
// so invalid UTF-8 anywhere is invalid_utf8 at its first byte unless a JSON-level problem comes
// earlier. Error codes, offsets and messages are those of the former RapidJSON 1.1.0 reader
// (recursive, in situ) plus its UTF-8 pre-scan, with one deliberate difference: RapidJSON's SSE2
// string scan let raw bytes 0x1A..0x1F through depending on alignment; they are now always
// "unescaped control character", as RFC 8259 requires.
//
// Choices where the issue is silent (also documented in the tests):
//   * Error offsets are byte offsets into the original body (a skipped BOM counts). Type and range
//     errors point at the first byte of the offending value, duplicate_key at the opening quote of
//     the second key, nesting_too_deep at the '[' or '{' that is one level too deep, syntax errors
//     where the tokenizer stopped (escape errors at the escape's backslash), missing_field at the
//     `null` when the field was null, else at the root '{'. too_large points at the first byte over the limit, empty_body at the body's end.
//   * Ids: a JSON integer or a digit string in 1..2^63-1. A digit string with a leading zero
//     ("007", "0") and any non-integer number (1.5, 1e3, -0) are number_out_of_range; a string
//     that is not all digits ("", "-5", "12a") is wrong_type.
//   * `alertKey` and the older `incidentKey` both fill Alert::alert_key; when both are present,
//     `alertKey` wins (both are still type-checked).
//   * Inside `responders`, `links` and `images`, every element must be an object (`null`
//     included is wrong_type): only fields, not array elements, can be absent.
//   * A number too large for a double (RapidJSON 1.1.0's rule, kept exactly: e.g. 1e400, 1e309,
//     a 400-digit integer; see json_scan.hpp) is number_out_of_range, wherever it is.
//   * Escapes: surrogate pairs are combined; a lone high or lone low surrogate escape is
//     invalid_unicode_escape at its backslash; \u0000 is kept as a NUL byte.
//   * A Sumo line's `receivedEventType` (when a string) is the received type and is dispatched on;
//     its `eventType` (canonical) must still be a string but is not cross-checked.
//   * Out of memory while parsing gives too_large with the message "out of memory". Bodies of
//     4 GiB - 64 bytes or more are too_large whatever max_body_bytes says (RapidJSON's limit,
//     kept: frame counters are 32-bit).
//   * Paths: `a.b[2].c`; a key that is not [A-Za-z0-9_$-]+ is written `["k e y"]` (JSON-quoted,
//     cut at 40 bytes). Paths deeper than 80 levels keep their first and last 40 components
//     around "...". For syntax errors the path is the value being read when the scan stopped.
#include <algorithm>
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

#include "compact_writer.hpp"
#include "ilert_sumo/parse.hpp"
#include "json_scan.hpp"
#include "utf8.hpp"

namespace ilert_sumo {
namespace {

using detail::json::ScanError;

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
  skip,        // anything inside an unknown key: validated, not stored
  raw,         // inside labels/customDetails: re-serialized
};

/// Every known key (per context) and array element slot. Values < 64: a frame keeps a bit mask of
/// the known keys it has seen, so their duplicate check is one bit test.
enum class Field : std::uint8_t {
  unknown = 0,
  // root
  id, event_type, received_event_type, summary, details, status, priority, report_time, alert_key,
  incident_key, alert_source, escalation_policy, assigned_to, responders, resolved_on, links,
  images, comment, timestamp, event_id, correlation_id, merge_state, merged_into_id, merged_on,
  severity, labels, custom_details,
  // alertSource / escalationPolicy
  ref_id, ref_name,
  // users
  user_id, user_username, user_first_name, user_last_name, user_email,
  // responders[]
  resp_user, resp_status, resp_accepted_at,
  // links[]
  link_href, link_text,
  // images[]
  image_src, image_href, image_alt,
  // array element slots
  responder_item, link_item, image_item,
  // inside labels/customDetails: re-serialized
  raw,
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
    case 5:
      if (eq(k, "links")) return Field::links;
      break;
    case 6:
      if (eq(k, "status")) return Field::status;
      if (eq(k, "images")) return Field::images;
      if (eq(k, "labels")) return Field::labels;
      break;
    case 7:
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
    case 17:
      if (eq(k, "receivedEventType")) return Field::received_event_type;
      break;
    default:
      break;
  }
  return Field::unknown;
}

Field key_field(Ctx ctx, std::string_view k) noexcept {
  switch (ctx) {
    case Ctx::root:
      return root_field(k);
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
    default:
      return Field::unknown;
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

/// `text` for a message: quoted, escaped, cut to about 40 bytes (on a UTF-8 boundary).
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 40;
  std::size_t n = text.size();
  bool cut = false;
  if (n > kMax) {
    n = kMax;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    cut = true;
  }
  std::string out = "\"";
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += cut ? "\"..." : "\"";
  return out;
}

/// A JSON-path component for an object key: `.key` for plain keys, `["k e y"]` otherwise.
void append_key(std::string& path, std::string_view key) {
  bool plain = !key.empty();
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '$';
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

// ------------------------------------------------------------------------------------------------
// Per-thread scratch space, reused between calls so a typical parse allocates only the strings it
// keeps.

struct Frame {
  std::string_view key;          // object: the current key
  void* target = nullptr;        // the struct (or vector) this container fills
  std::uint64_t seen = 0;        // object: known fields seen (bit per Field)
  std::uint32_t keys_begin = 0;  // object: first of its unknown keys in Scratch::keys
  std::uint32_t index = 0;       // array: index of the element being read
  Ctx ctx = Ctx::root;
  Field field = Field::unknown;  // object: the current key's slot; array: the element slot
  bool is_array = false;
  bool in_value = false;         // object: a key was read and its value is not finished yet
  bool has_set = false;          // object: its unknown keys moved into a hash set (many keys)
};

struct Scratch {
  detail::json::Workspace scan;  // the tokenizer's container stack and unescaped strings
  std::vector<Frame> frames;
  std::vector<std::string_view> keys;
  std::vector<std::unordered_set<std::string_view>> sets;
  std::string raw;  // labels/customDetails being re-serialized
};

/// What the handler keeps between calls on one thread.
struct ThreadState {
  Scratch scratch;
  detail::CompactWriter writer;  // re-serializes labels/customDetails into Scratch::raw
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

/// Above this many unknown keys in one object, duplicate detection uses a hash set.
constexpr std::size_t kLinearKeyLimit = 16;

constexpr std::uint64_t bit(Field f) noexcept { return std::uint64_t{1} << static_cast<unsigned>(f); }

// ------------------------------------------------------------------------------------------------
// The SAX handler driven by the tokenizer (json_scan.hpp). Frames track where the scan is (for
// paths, duplicate keys and depth); each frame's `field` says what the next value fills. The hot
// paths (on_key, on_string, on_number, open, close) do a table-like switch and little else.
// Offsets passed in are content offsets (after the BOM).

class Handler {
 public:
  Handler(ThreadState& state, Event& event, std::size_t origin, std::size_t max_depth)
      : frames_(state.scratch.frames),
        keys_(state.scratch.keys),
        sets_(state.scratch.sets),
        raw_(state.scratch.raw),
        writer_(state.writer),
        origin_(origin),
        max_depth_(max_depth),
        event_(event),
        alert_(&base_of(event).alert) {}

  // --- tokenizer callbacks (json_scan.hpp) ---
  bool on_null(std::size_t at) { return scalar(Kind::null, "null", at); }
  bool on_bool(bool b, std::size_t at) { return scalar(Kind::boolean, b ? "true" : "false", at); }
  bool on_number(std::string_view text, std::size_t at) {
    Frame* f = top_;
    if (f == nullptr || f->field != Field::unknown) return scalar(Kind::number, text, at);
    f->index += f->is_array ? 1 : 0;
    f->in_value = false;
    return true;
  }

  // The hot path: string values of known string fields are stored right here.
  bool on_string(std::string_view t, std::size_t quote_at) {
    Frame* f = top_;
    if (f == nullptr) return scalar(Kind::string, t, quote_at);
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
      case Field::raw: writer_.string_value(t.data(), t.size()); break;
      default: apply_scalar(*f, f->field, Value{Kind::string, t, quote_at}); break;
    }
    f->index += f->is_array ? 1 : 0;
    f->in_value = false;
    return true;
  }
  bool on_start_object(std::size_t at) { return open(false, at); }
  bool on_start_array(std::size_t at) { return open(true, at); }
  bool on_end_object() { return close(); }
  bool on_end_array() { return close(); }

  bool on_key(std::string_view key, std::size_t quote_at) {
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
      if ((f.seen & bit(field)) != 0) return duplicate(f, field, key, quote_at);
      f.seen |= bit(field);
    } else if (!check_unknown_key(f, key)) {
      f.field = Field::unknown;
      return duplicate(f, field, key, quote_at);
    } else if (f.ctx == Ctx::raw) {
      field = Field::raw;
      writer_.key(key.data(), key.size());
    }
    f.field = field;
    return true;
  }

  // --- results ---
  bool has_error() const { return error_.code != ErrorCode::ok; }
  Error take_error() { return std::move(error_); }

  /// The path of the value being read: used for errors found by the tokenizer.
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

  /// After a successful scan: the model-level error, a missing required field, or
  /// nothing (the event, filled in place, is complete).
  std::optional<Error> finish() {
    if (model_error_) return std::move(model_error_);
    if (!has_id_) return missing("id", id_null_at_);
    if (!event_type_) return missing("eventType", event_type_null_at_);
    Alert& a = alert();
    if (!a.alert_key && incident_key_) a.alert_key.emplace(*incident_key_);
    // retype() already ran for the dispatching name (receivedEventType, else eventType).
    const std::string_view received = received_type_ ? *received_type_ : *event_type_;
    EventBase& base = base_of(event_);
    base.received_type = std::string(received);
    if (auto* resolved = std::get_if<AlertResolved>(&event_)) resolved->automatic = type_info_ && type_info_->automatic;
    return std::nullopt;
  }

 private:
  /// A value as the tokenizer delivered it.
  struct Value {
    Kind kind;
    std::string_view text;  // string contents, number text, or the literal
    std::size_t start;      // content offset of its first byte
  };

  Alert& alert() { return *alert_; }

  template <class T>
  static T& target(const Frame& f) {
    return *static_cast<T*>(f.target);
  }

  // --- errors ---

  /// A JSON-level error (syntax-like): stops the scan.
  bool fail(ErrorCode code, std::size_t content_offset, std::string message) {
    error_ = make_error(code, content_offset, std::move(message));
    return false;
  }

  /// A model-level error (not_an_object, wrong_type, number_out_of_range): the first one is kept,
  /// the rest of the body is still read and validated (JSON-level errors take precedence), and
  /// nothing more is stored. Returns false so callers can `return reject(...)`.
  bool reject(ErrorCode code, std::size_t content_offset, std::string message) {
    if (!model_error_) model_error_ = make_error(code, content_offset, std::move(message));
    return false;
  }

  bool wrong_type(const Value& v, const char* expected) {
    std::string message = "expected ";
    message += expected;
    message += ", got ";
    message += kind_name(v.kind);
    return reject(ErrorCode::wrong_type, v.start, std::move(message));
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

  // --- event type ---

  /// Makes event_ the alternative for the event type `type` (the alert fields read so far move
  /// along). Called as soon as the type is known, normally the second key, so little moves.
  void retype(std::string_view type) {
    type_info_ = lookup_event_type(type);
    const EventKind kind = type_info_ ? type_info_->kind : EventKind::unknown;
    if (kind_of(event_) == kind) return;
    // Usually only `id` has been read: then nothing else needs to move.
    const std::uint64_t others =
        depth_ == 0 ? 0 : frames_.front().seen & ~(bit(Field::id) | bit(Field::event_type) | bit(Field::received_event_type));
    if (others != 0) {
      Alert moved = std::move(*alert_);
      emplace_kind(kind);
      *alert_ = std::move(moved);
    } else {
      const std::int64_t id = alert_->id;
      emplace_kind(kind);
      alert_->id = id;
    }
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
      reject(ErrorCode::not_an_object, start, std::string("the body must be a JSON object, got ") + kind_name(kind));
      return true;
    }
    // After a model-level error values are still stored; the event is discarded anyway.
    const Field field = f->field;
    if (field == Field::raw) {
      write_raw_scalar(kind, text);
    } else if (field != Field::unknown) {
      apply_scalar(*f, field, Value{kind, text, start});  // false: recorded by reject()
    }
    f->index += f->is_array ? 1 : 0;
    f->in_value = false;
    return true;
  }

  void write_raw_scalar(Kind kind, std::string_view text) {
    switch (kind) {
      case Kind::null: writer_.null_value(); break;
      case Kind::boolean: writer_.bool_value(text.size() == 4); break;
      case Kind::number: writer_.raw_value(text.data(), text.size()); break;
      case Kind::string: writer_.string_value(text.data(), text.size()); break;
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
        return reject(ErrorCode::number_out_of_range, v.start, "expected an integer id, got " + std::string(t.substr(0, 40)));
      }
      if (t[0] == '-') {
        return reject(ErrorCode::number_out_of_range, v.start,
                      "id must be between 1 and 9223372036854775807, got " + std::string(t.substr(0, 40)));
      }
    } else if (v.kind == Kind::string) {
      const bool digits = !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits) {
        return reject(ErrorCode::wrong_type, v.start, "expected integer or digit string, got string " + quoted(t));
      }
      if (t.size() > 1 && t[0] == '0') {
        return reject(ErrorCode::number_out_of_range, v.start, "id digit string has a leading zero: " + quoted(t));
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
      return reject(ErrorCode::number_out_of_range, v.start,
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

  /// Starts re-serializing a labels/customDetails value into raw_ (then copied at its exact size).
  void start_raw() {
    raw_.clear();
    writer_.reset(&raw_);
  }

  bool set_raw_scalar(std::optional<std::string>& out, const Value& v) {
    if (v.kind == Kind::null) return true;
    start_raw();
    write_raw_scalar(v.kind, v.text);
    out.emplace(raw_);
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
          event_type_ = v.text;
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
          received_type_ = v.text;
          retype(v.text);
          return true;
        }
        return v.kind == Kind::null || wrong_type(v, "string");
      case Field::incident_key:
        if (v.kind == Kind::string) {
          incident_key_ = v.text;
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
      case Field::severity: return set_opt_id(alert().severity, v);
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
      case Field::resp_user:
        return v.kind == Kind::null || wrong_type(v, "object");
      case Field::responders:
      case Field::links:
      case Field::images:
        return v.kind == Kind::null || wrong_type(v, "array");
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
      case Field::image_item:
        return wrong_type(v, "object");
      case Field::unknown:
      case Field::raw:
      case Field::count_:
        break;
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

  bool open(bool is_array, std::size_t start) {
    if (depth_ >= max_depth_) return too_deep(start);
    Frame* f = top_;
    if (f == nullptr) {
      root_start_ = start;
      if (is_array) {
        reject(ErrorCode::not_an_object, start, "the body must be a JSON object, got array");
        push(Ctx::skip, true, Field::unknown, nullptr);
      } else {
        push(Ctx::root, false, Field::unknown, alert_);
      }
      return true;
    }
    const Field field = f->field;
    if (field == Field::unknown) {
      push(Ctx::skip, is_array, Field::unknown, nullptr);
    } else if (field == Field::raw) {
      if (is_array) {
        writer_.start_array();
      } else {
        writer_.start_object();
      }
      push(Ctx::raw, is_array, Field::raw, nullptr);
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
        if (is_array) {
          writer_.start_array();
        } else {
          writer_.start_object();
        }
        push(Ctx::raw, is_array, Field::raw, nullptr);
        return true;
      case Field::id:
      case Field::merged_into_id:
      case Field::ref_id:
      case Field::user_id:
        return wrong_type(v, "integer or digit string");
      default:
        return wrong_type(v, "string");
    }
  }

  bool close() {
    Frame& f = *top_;
    const bool was_raw = f.ctx == Ctx::raw;
    if (was_raw) {
      if (f.is_array) {
        writer_.end_array();
      } else {
        writer_.end_object();
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
    if (was_raw && parent.ctx != Ctx::raw) raw_target_->emplace(raw_);  // capture complete
    parent.index += parent.is_array ? 1 : 0;
    parent.in_value = false;
    return true;
  }

  std::vector<Frame>& frames_;
  std::vector<std::string_view>& keys_;
  std::vector<std::unordered_set<std::string_view>>& sets_;
  std::string& raw_;
  detail::CompactWriter& writer_;
  std::size_t origin_;          // bytes skipped before content (BOM)
  std::size_t max_depth_;
  Event& event_;                // filled in place (see retype)
  Alert* alert_;
  Frame* top_ = nullptr;        // frames_[depth_ - 1], or null before the root
  std::size_t depth_ = 0;       // open containers

  bool has_id_ = false;
  std::optional<std::size_t> id_null_at_;
  std::optional<std::size_t> event_type_null_at_;
  std::optional<std::string_view> event_type_;
  std::optional<std::string_view> received_type_;
  std::optional<std::string_view> incident_key_;
  std::optional<EventTypeInfo> type_info_;  // of the dispatching event type (see retype)
  std::size_t root_start_ = 0;
  std::optional<std::string>* raw_target_ = nullptr;
  Error error_;                       // JSON-level error (scan stopped)
  std::optional<Error> model_error_;  // first model-level error
};

// ------------------------------------------------------------------------------------------------
// Tokenizer errors -> our errors

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

/// True when a syntax error at `offset` is at the backslash of a `\uDC00`..`\uDFFF` escape
/// outside any string: reported as "unexpected '\'" (as the former pre-scan did).
bool lone_low_escape_at(std::string_view content, std::size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(content.data());
  return offset + 1 < content.size() && p[offset] == '\\' && p[offset + 1] == 'u' &&
         detail::lone_low_surrogate_at(p, content.size(), offset);
}

Error scan_error(const Handler& handler, detail::json::ScanResult result, std::string_view content) {
  const std::size_t offset = result.offset;
  const std::string got = describe_byte(content, offset);
  switch (result.error) {
    case ScanError::document_empty:
    case ScanError::value_invalid:
    case ScanError::object_miss_name:
    case ScanError::object_miss_colon:
    case ScanError::object_miss_comma_or_curly:
    case ScanError::array_miss_comma_or_bracket:
    case ScanError::number_miss_fraction:
    case ScanError::number_miss_exponent:
    case ScanError::trailing_data:
      if (lone_low_escape_at(content, offset)) return handler.make_error(ErrorCode::syntax, offset, "unexpected '\\'");
      break;
    default:
      break;
  }
  const auto syntax = [&](std::string message) { return handler.make_error(ErrorCode::syntax, offset, std::move(message)); };
  switch (result.error) {
    case ScanError::document_empty: return syntax("expected a JSON value, got " + got);
    case ScanError::value_invalid: return syntax("invalid value: unexpected " + got + syntax_hint(content, offset));
    case ScanError::object_miss_name:
      return syntax("expected a string key, got " + got + syntax_hint(content, offset));
    case ScanError::object_miss_colon:
      return syntax("expected ':' after the key, got " + got + syntax_hint(content, offset));
    case ScanError::object_miss_comma_or_curly:
      return syntax("expected ',' or '}' after a member, got " + got + syntax_hint(content, offset));
    case ScanError::array_miss_comma_or_bracket:
      return syntax("expected ',' or ']' after an element, got " + got + syntax_hint(content, offset));
    case ScanError::trailing_data: return syntax("unexpected " + got + " after the top-level object");
    case ScanError::escape_invalid:
      return syntax("invalid escape sequence: '\\' followed by " + describe_byte(content, offset + 1));
    case ScanError::control_character: return syntax("unescaped control character (" + got + ") in string");
    case ScanError::unterminated_string: return syntax("unterminated string");
    case ScanError::unicode_escape_invalid_hex:
      return handler.make_error(ErrorCode::invalid_unicode_escape, offset, "\\u must be followed by four hex digits");
    case ScanError::unicode_surrogate_invalid: {
      std::string message = "high surrogate escape";
      if (offset + 6 <= content.size()) message += " \\u" + std::string(content.substr(offset + 2, 4));
      message += " is not followed by a low surrogate escape";
      return handler.make_error(ErrorCode::invalid_unicode_escape, offset, std::move(message));
    }
    case ScanError::lone_low_surrogate:
      return handler.make_error(ErrorCode::invalid_unicode_escape, offset,
                                "lone low surrogate \\u" + std::string(content.substr(offset + 2, 4)) +
                                    " (not preceded by a high surrogate)");
    case ScanError::invalid_utf8:
      return handler.make_error(ErrorCode::invalid_utf8, offset, "invalid UTF-8 byte sequence");
    case ScanError::number_too_big:
      return handler.make_error(ErrorCode::number_out_of_range, offset, "number too large to represent");
    case ScanError::number_miss_fraction: return syntax("expected a digit after the decimal point, got " + got);
    case ScanError::number_miss_exponent: return syntax("expected a digit in the exponent, got " + got);
    case ScanError::none:
    case ScanError::handler:
      break;
  }
  return syntax("invalid JSON at " + got);
}

/// Parses `body` into `event` (which holds a default-constructed Event on entry); the error, if any.
std::optional<Error> parse_into(Event& event, std::string_view body, const ParseOptions& options) {
  // Bodies near 4 GiB are too large whatever the option (kept from the RapidJSON days: offsets
  // and counts in the frames are 32-bit).
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
  Scratch& s = state.scratch;
  s.keys.clear();
  s.sets.clear();
  // Keep the per-thread buffers from pinning a huge body's memory.
  struct Trim {
    Scratch& scratch_space;
    ~Trim() {
      constexpr std::size_t kKeep = std::size_t{1} << 20;
      if (scratch_space.scan.scratch.size() > kKeep) std::vector<char>().swap(scratch_space.scan.scratch);
      if (scratch_space.scan.stack.size() > kKeep) std::vector<std::uint8_t>().swap(scratch_space.scan.stack);
      if (scratch_space.raw.capacity() > kKeep) std::string().swap(scratch_space.raw);
      if (scratch_space.frames.size() > 1024) std::vector<Frame>().swap(scratch_space.frames);
    }
  } trim{s};

  Handler handler(state, event, origin, options.max_depth);
  const detail::json::ScanResult result = detail::json::scan_json(content, handler, s.scan);
  if (result.error == ScanError::none) return handler.finish();
  if (handler.has_error()) return handler.take_error();
  return scan_error(handler, result, content);
}

/// The event is built in place inside the returned Expected (no copies of the Alert).
Expected<Event> parse_checked(std::string_view body, const ParseOptions& options) {
  Expected<Event> result{Event{}};
  if (std::optional<Error> error = parse_into(result.value(), body, options)) result = std::move(*error);
  return result;
}

}  // namespace

Expected<Event> parse_event(std::string_view body, const ParseOptions& options) {
  try {
    return parse_checked(body, options);
  } catch (...) {
    // Only allocation can throw here. The message fits the small-string buffer.
    Error e;
    e.code = ErrorCode::too_large;
    e.message = "out of memory";
    return e;
  }
}

}  // namespace ilert_sumo
