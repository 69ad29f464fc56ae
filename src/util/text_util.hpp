// src/util/text_util.hpp (private): the library's one UTF-8 sanitiser and its one JSON writer set-up.
//
// UTF-8: every check is built on utf8.hpp's utf8_multibyte_length()/utf8_lead() (the one
// definition of well-formed UTF-8, shared with the parser). is_valid_utf8() answers yes/no,
// append_utf8_sanitized() copies text replacing each maximal invalid subpart by one U+FFFD
// (Unicode's recommended practice), utf8_cut() finds a character boundary for a cut.
//
// JSON: every JSON text the library writes goes through RapidJSON's Writer (the project's JSON
// library), set up here once as `JsonWriter`:
//   - `JsonSink` is the output stream: it appends to a std::string owned by the caller.
//   (RapidJSON 1.1.0's internal::Stack computes `nullptr + n` on its first push; clang UBSan
//   builds exempt that one class: cmake/ubsan-ignorelist.txt.)
//   - write_json_string() is the one JSON string escaper: it hands valid UTF-8 to
//     Writer::String (which escapes `"`, `\` and control bytes) and sanitises invalid UTF-8 first.
// Used by sumo_line.cpp (the Sumo line), delivery.cpp (pre-built line checks, the oversized-line
// wrapper) and sumo_config.cpp (header-value checks). Nothing here is public API.
#pragma once

#include <rapidjson/reader.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "util/utf8.hpp"

namespace ilert_sumo::detail {

// ---------------------------------------------------------------------------------------------
// UTF-8

/// Length (1..4) of the well-formed UTF-8 character at s[i], or 0 when the bytes there are not one
/// (RFC 3629, see utf8.hpp).
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  return p[0] < 0x80 ? 1 : utf8_multibyte_length(p, s.size() - i);
}

/// For bytes at p[0..avail) that do NOT start a well-formed character: the length (>= 1) of the
/// maximal invalid subpart, i.e. the bytes that one U+FFFD replaces.
inline std::size_t utf8_invalid_length(const unsigned char* p, std::size_t avail) noexcept {
  if (p[0] < 0x80) return 1;
  const Utf8Lead lead = kUtf8Leads.entry[p[0] - 0x80];
  if (lead.length == 0 || avail < 2 || p[1] < lead.lo || p[1] > lead.hi) return 1;
  std::size_t i = 2;
  while (i < lead.length && i < avail && (p[i] & 0xC0) == 0x80) ++i;
  return i;
}

/// What one pass over a text found: whether it is well-formed UTF-8, whether it holds a byte a
/// JSON string must escape (`"`, `\`, or a control byte below 0x20), and whether it holds a control
/// byte that JSON text never allows raw (below 0x20 and not tab, LF or CR; NUL included).
/// `raw_control` is looked for only when asked (scan_text<true>: the parser's choice of reader path;
/// the line writer's per-string scans skip it) and is complete only when `valid_utf8` (the scan
/// stops at the first invalid sequence).
struct TextScan {
  bool valid_utf8 = true;
  bool needs_escape = false;
  bool raw_control = false;
};

/// A control byte JSON allows nowhere raw: below 0x20 and not its whitespace (tab, LF, CR).
constexpr bool is_raw_control(unsigned c) noexcept { return c < 0x20 && c != '\t' && c != '\n' && c != '\r'; }

/// One pass over `s`, eight ASCII bytes at a time where it can (SWAR: a word is plain when no byte
/// has its high bit set, is below 0x20, or equals `"` or `\`); multi-byte characters are checked
/// with utf8_multibyte_length(). Stops at the first invalid sequence. With `kRawControl`, also
/// reports TextScan::raw_control.
template <bool kRawControl = false>
inline TextScan scan_text(std::string_view s) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t v) noexcept { return (v - kOnes) & ~v & kHigh; };
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t size = s.size();
  TextScan scan;
  std::size_t i = 0;
  while (i < size) {
    if (size - i >= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p + i, 8);
      if ((w & kHigh) == 0) {
        // ASCII word: only control bytes, quotes and backslashes matter.
        const bool control = ((w - kOnes * 0x20) & ~w & kHigh) != 0;  // a byte below 0x20
        if (kRawControl && control && !scan.raw_control) {
          for (std::size_t k = 0; k < 8; ++k) scan.raw_control = scan.raw_control || is_raw_control(p[i + k]);
        }
        if (!scan.needs_escape && (control || has_zero(w ^ (kOnes * '"')) != 0 || has_zero(w ^ (kOnes * '\\')) != 0)) {
          scan.needs_escape = true;
        }
        i += 8;
        continue;
      }
    }
    const unsigned c = p[i];
    if (c < 0x80) {
      if (c < 0x20 || c == '"' || c == '\\') scan.needs_escape = true;
      if (kRawControl && is_raw_control(c)) scan.raw_control = true;
      ++i;
      continue;
    }
    const std::size_t n = utf8_multibyte_length(p + i, size - i);
    if (n == 0) {
      scan.valid_utf8 = false;
      return scan;
    }
    i += n;
  }
  return scan;
}

/// True when the whole text is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view s) noexcept { return scan_text(s).valid_utf8; }

/// The replacement character U+FFFD in UTF-8.
inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

/// Appends `s` with each maximal invalid UTF-8 subpart replaced by one U+FFFD.
inline void append_utf8_sanitized(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t size = s.size();
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < size) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = utf8_multibyte_length(p + i, size - i);
    if (n != 0) {
      i += n;
      continue;
    }
    out.append(s.data() + run, i - run);
    out.append(kReplacementChar);
    i += utf8_invalid_length(p + i, size - i);
    run = i;
  }
  out.append(s.data() + run, size - run);
}

/// The largest n <= max such that s[0, n) does not end inside a UTF-8 sequence (s valid UTF-8).
inline std::size_t utf8_cut(std::string_view s, std::size_t max) noexcept {
  if (max >= s.size()) return s.size();
  std::size_t n = max;
  // Step back over continuation bytes (at most 3) so s[n] starts a character.
  for (int k = 0; k < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++k) --n;
  return n;
}

/// Renders text for an error message: printable ASCII kept, everything else as \xNN; at most
/// `max` input bytes, then "...".
inline std::string printable(std::string_view s, std::size_t max = 64) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const std::size_t n = s.size() < max ? s.size() : max;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  if (n < s.size()) out += "...";
  return out;
}

// ---------------------------------------------------------------------------------------------
// RapidJSON set-up

/// RapidJSON output stream appending to a std::string. It writes through a cursor into space it
/// has grown the string to (Writer reserves before each value), so a byte costs a store, not a
/// push_back; finish() (or the destructor) trims the string to what was written. The string grows
/// in proportion to what this sink has written, never to the caller's earlier content: growing
/// zero-fills the new space, and a line appended to a 1 MiB batch must cost the line, not the batch.
class JsonSink {
 public:
  using Ch = char;
  explicit JsonSink(std::string& out) noexcept : out_(&out), start_(out.size()), len_(out.size()) {}
  JsonSink(const JsonSink&) = delete;
  JsonSink& operator=(const JsonSink&) = delete;
  ~JsonSink() { finish(); }
  void Put(char c) {
    if (len_ == out_->size()) grow(1);
    (*out_)[len_++] = c;
  }
  void Flush() noexcept {}
  /// Makes room for `count` more bytes.
  void reserve(std::size_t count) {
    if (out_->size() - len_ < count) grow(count);
  }
  /// Appends a byte there is room for (after reserve()).
  void put_unsafe(char c) noexcept { (*out_)[len_++] = c; }
  /// Appends `n` bytes there is room for (after reserve()).
  void append_unsafe(const char* s, std::size_t n) noexcept {
    if (n != 0) std::memcpy(&(*out_)[len_], s, n);
    len_ += n;
  }
  /// Bytes written so far, the string's earlier content included.
  std::size_t size() const noexcept { return len_; }
  /// Trims the string to what was written.
  void finish() {
    if (out_->size() != len_) out_->resize(len_);
  }

 private:
  void grow(std::size_t count) {
    // Half again what this sink wrote, plus 64 bytes (on an empty string: half again its size, as
    // before); the string's own capacity doubling keeps reallocation amortized.
    const std::size_t written = len_ - start_;
    out_->resize(len_ + std::max(count, written / 2 + 64));
  }
  std::string* out_;
  std::size_t start_;
  std::size_t len_;
};
// Found by argument-dependent lookup from inside rapidjson::Writer.
inline void PutReserve(JsonSink& sink, std::size_t count) { sink.reserve(count); }
inline void PutUnsafe(JsonSink& sink, char c) noexcept { sink.put_unsafe(c); }

/// The library's JSON writer: RapidJSON's compact Writer, UTF-8 in and out, no SIMD paths, plus
/// one addition: PlainString() writes a string that scan_text() found to need no escaping as one
/// copy between quotes (through the Writer's own Prefix/EndValue, so commas, colons and the
/// writer's state stay RapidJSON's). RapidJSON 1.1.0 looks every byte of every string up in its
/// escape table; most of a webhook's text needs no escape, and this halved the line writer's time
/// (docs/DESIGN.md, "Speed").
class JsonWriter : public rapidjson::Writer<JsonSink> {
 public:
  using rapidjson::Writer<JsonSink>::Writer;
  /// `s` must be valid UTF-8 without `"`, `\` or control bytes (scan_text() said so).
  bool PlainString(const char* s, std::size_t n) {
    Prefix(rapidjson::kStringType);
    os_->reserve(n + 2);
    os_->put_unsafe('"');
    os_->append_unsafe(s, n);
    os_->put_unsafe('"');
    return EndValue(true);
  }
};

/// Writes `s` as a JSON string value or key (`as_key`) through the writer: `"`, `\` and control
/// bytes escaped by RapidJSON, invalid UTF-8 first replaced by U+FFFD (`scratch` holds that copy);
/// text needing neither goes through PlainString().
inline void write_json_string(JsonWriter& writer, std::string_view s, std::string& scratch, bool as_key = false) {
  const TextScan scan = scan_text(s);
  if (scan.valid_utf8 && !scan.needs_escape) {
    writer.PlainString(s.data(), s.size());  // a key or a value: Prefix() knows which
    return;
  }
  std::string_view valid = s;
  if (!scan.valid_utf8) {
    scratch.clear();
    append_utf8_sanitized(scratch, s);
    valid = scratch;
  }
  const auto length = static_cast<rapidjson::SizeType>(valid.size());
  if (as_key) {
    writer.Key(valid.data(), length);
  } else {
    writer.String(valid.data(), length);
  }
}

/// Appends `s` as one quoted JSON string (the same escaper, for code that builds no object).
inline void append_json_string(std::string& out, std::string_view s) {
  JsonSink sink(out);
  JsonWriter writer(sink);
  std::string scratch;
  write_json_string(writer, s, scratch);
}

}  // namespace ilert_sumo::detail
