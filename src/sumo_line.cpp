// src/sumo_line.cpp: Event -> the one line of compact JSON sent to Sumo Logic (sumo_line.hpp).
//
// Runs once per event on the sender's producer path, so it is a hand-written writer that appends
// straight into the caller's std::string: no DOM, no intermediate strings. The string escaper
// scans 16 bytes at a time (SSE2) for the bytes that need work ('"', '\\', control bytes,
// non-ASCII), copies clean runs with one append and validates UTF-8 on the way: the line is
// always valid UTF-8 even for a hand-built Event with bad bytes (each invalid sequence becomes
// U+FFFD). Raw JSON fields (labels, customDetails) are validated and copied verbatim (whitespace
// outside strings dropped); text that is not JSON is written as a JSON string instead, so the
// line always parses. The schema and the dedupId rule are documented in docs/SUMO_LINE.md.
#include "ilert_sumo/sumo_line.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <emmintrin.h>
#define ILERT_SUMO_LINE_SSE2 1
#endif

namespace ilert_sumo {
namespace {

// ---------------------------------------------------------------------------------------------
// UTF-8 validation

// Length of the valid UTF-8 sequence starting at p (lead byte >= 0x80), or 0 when invalid; on
// invalid input `*bad_len` receives how many bytes form the maximal invalid subpart (>= 1), which
// is replaced by one U+FFFD (Unicode's recommended practice).
inline std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end, std::size_t* bad_len) {
  const unsigned c = p[0];
  const std::size_t avail = static_cast<std::size_t>(end - p);
  unsigned lo = 0x80;
  unsigned hi = 0xBF;
  std::size_t need = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    *bad_len = 1;
    return 0;
  }
  for (std::size_t i = 1; i <= need; ++i) {
    if (i >= avail) {
      *bad_len = i;
      return 0;
    }
    const unsigned b = p[i];
    const unsigned l = (i == 1) ? lo : 0x80u;
    const unsigned h = (i == 1) ? hi : 0xBFu;
    if (b < l || b > h) {
      *bad_len = i;
      return 0;
    }
  }
  return need + 1;
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
#ifdef ILERT_SUMO_LINE_SSE2
    while (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const int mask = _mm_movemask_epi8(v);
      if (mask != 0) {
        p += __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
      p += 16;
    }
#endif
    while (p < end && *p < 0x80) ++p;
    if (p == end) break;
    std::size_t bad = 0;
    const std::size_t n = utf8_sequence(p, end, &bad);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// JSON string escaping

// 1 for bytes that can be copied as they are (printable ASCII other than '"' and '\\').
constexpr std::array<bool, 256> make_plain_table() {
  std::array<bool, 256> t{};
  for (std::size_t i = 0x20; i < 0x80; ++i) t[i] = true;
  t['"'] = false;
  t['\\'] = false;
  return t;
}
constexpr std::array<bool, 256> kPlain = make_plain_table();

constexpr char kHex[] = "0123456789abcdef";

// Appends a string literal (its length known at compile time).
template <std::size_t N>
inline void put(std::string& out, const char (&literal)[N]) {
  out.append(literal, N - 1);
}

#ifdef ILERT_SUMO_LINE_SSE2
// Bit i set when byte i of v needs work: '"', '\\', a control byte or a non-ASCII byte (the signed
// compare sees bytes >= 0x80 as negative, so they count as "< 0x20").
inline unsigned special_mask(__m128i v) {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i special =
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), _mm_cmplt_epi8(v, space));
  return static_cast<unsigned>(_mm_movemask_epi8(special));
}
#endif

// The first byte in [p, end) that is not plain printable ASCII, or end.
inline const unsigned char* find_special(const unsigned char* p, const unsigned char* end) {
#ifdef ILERT_SUMO_LINE_SSE2
  while (end - p >= 16) {
    const unsigned mask = special_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
  if (p == end) return end;
  // The last 1..15 bytes: one check on a copy padded with a plain byte (never read past `end`).
  const auto n = static_cast<std::size_t>(end - p);
  alignas(16) unsigned char tail[16];
  std::memset(tail, 'a', sizeof tail);
  std::memcpy(tail, p, n);
  const unsigned mask = special_mask(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)));
  return mask != 0 ? p + __builtin_ctz(mask) : end;
#else
  while (p < end && kPlain[*p]) ++p;
  return p;
#endif
}

// Appends `s` as a quoted JSON string: '"', '\\' and control bytes escaped (\n, \t, ..., other
// control bytes and NUL as \u00XX), UTF-8 copied raw, invalid UTF-8 replaced by U+FFFD.
void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  const auto* const begin = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = begin + s.size();
  const auto* run = begin;  // start of the bytes not yet copied
  const auto flush = [&](const unsigned char* upto) {
    if (upto != run) out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(upto - run));
  };
  for (const unsigned char* p = find_special(begin, end); p != end; p = find_special(p, end)) {
    const unsigned c = *p;
    if (c >= 0x80) {
      std::size_t bad = 0;
      const std::size_t n = utf8_sequence(p, end, &bad);
      if (n != 0) {
        p += n;  // valid: stays in the run
        continue;
      }
      flush(p);
      put(out, "\xEF\xBF\xBD");
      p += bad;
      run = p;
      continue;
    }
    flush(p);
    switch (c) {
      case '"': put(out, "\\\""); break;
      case '\\': put(out, "\\\\"); break;
      case '\n': put(out, "\\n"); break;
      case '\r': put(out, "\\r"); break;
      case '\t': put(out, "\\t"); break;
      case '\b': put(out, "\\b"); break;
      case '\f': put(out, "\\f"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xF], kHex[c & 0xF]};
        out.append(esc, 6);
      }
    }
    ++p;
    run = p;
  }
  flush(end);
  out.push_back('"');
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(res.ptr - buf));
}

// ---------------------------------------------------------------------------------------------
// Raw JSON (labels, customDetails): validate strictly and copy compactly.

class CompactJson {
 public:
  CompactJson(std::string_view in, std::string& out)
      : p_(reinterpret_cast<const unsigned char*>(in.data())), end_(p_ + in.size()), out_(out) {}

  // Appends the compact form of the input; false (with `out` possibly partly written) when the
  // input is not one RFC 8259 JSON value with valid UTF-8.
  bool run() {
    enum class State { value, key, after_value };
    State state = State::value;
    for (;;) {
      skip_ws();
      switch (state) {
        case State::value: {
          if (p_ == end_) return false;
          const unsigned c = *p_;
          if (c == '{' || c == '[') {
            out_.push_back(static_cast<char>(c));
            ++p_;
            skip_ws();
            const unsigned close = (c == '{') ? '}' : ']';
            if (p_ < end_ && *p_ == close) {
              out_.push_back(static_cast<char>(close));
              ++p_;
              state = State::after_value;
            } else {
              stack_.push_back(c == '{');
              state = (c == '{') ? State::key : State::value;
            }
          } else if (c == '"') {
            if (!string()) return false;
            state = State::after_value;
          } else if (c == 't') {
            if (!literal("true")) return false;
            state = State::after_value;
          } else if (c == 'f') {
            if (!literal("false")) return false;
            state = State::after_value;
          } else if (c == 'n') {
            if (!literal("null")) return false;
            state = State::after_value;
          } else {
            if (!number()) return false;
            state = State::after_value;
          }
          break;
        }
        case State::key: {
          if (p_ == end_ || *p_ != '"' || !string()) return false;
          skip_ws();
          if (p_ == end_ || *p_ != ':') return false;
          out_.push_back(':');
          ++p_;
          state = State::value;
          break;
        }
        case State::after_value: {
          if (stack_.empty()) return p_ == end_;
          if (p_ == end_) return false;
          const bool in_object = stack_.back();
          if (*p_ == ',') {
            out_.push_back(',');
            ++p_;
            state = in_object ? State::key : State::value;
          } else if (*p_ == (in_object ? '}' : ']')) {
            out_.push_back(static_cast<char>(*p_));
            ++p_;
            stack_.pop_back();
          } else {
            return false;
          }
          break;
        }
      }
    }
  }

 private:
  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size()) return false;
    if (std::string_view(reinterpret_cast<const char*>(p_), word.size()) != word) return false;
    out_.append(word.data(), word.size());
    p_ += word.size();
    return true;
  }

  static bool is_digit(unsigned c) { return c >= '0' && c <= '9'; }

  bool number() {
    const auto* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !is_digit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ < end_ && is_digit(*p_)) ++p_;
    }
    out_.append(reinterpret_cast<const char*>(start), static_cast<std::size_t>(p_ - start));
    return true;
  }

  static int hex_value(unsigned c) {
    if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<int>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<int>(c - 'A' + 10);
    return -1;
  }

  // Reads \uXXXX at p_ (pointing at the backslash); -1 when malformed.
  long read_u_escape() {
    if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return -1;
    long v = 0;
    for (int i = 2; i < 6; ++i) {
      const int h = hex_value(p_[i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    p_ += 6;
    return v;
  }

  // Copies a string token verbatim (p_ at the opening quote) after validating it.
  bool string() {
    const auto* start = p_;
    ++p_;
    for (;;) {
      while (p_ < end_ && kPlain[*p_]) ++p_;
      if (p_ == end_) return false;
      const unsigned c = *p_;
      if (c == '"') {
        ++p_;
        break;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        std::size_t bad = 0;
        const std::size_t n = utf8_sequence(p_, end_, &bad);
        if (n == 0) return false;
        p_ += n;
        continue;
      }
      // backslash
      if (end_ - p_ < 2) return false;
      const unsigned e = p_[1];
      if (e == 'u') {
        const long cp = read_u_escape();
        if (cp < 0) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone low surrogate
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          const long low = read_u_escape();
          if (low < 0xDC00 || low > 0xDFFF) return false;
        }
        continue;
      }
      if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
        return false;
      }
      p_ += 2;
    }
    out_.append(reinterpret_cast<const char*>(start), static_cast<std::size_t>(p_ - start));
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
  std::string& out_;
  std::vector<bool> stack_;  // true = object, false = array
};

// Writes a raw JSON text field: verbatim (compacted) when it is JSON, else as a JSON string.
void append_raw_json(std::string& out, std::string_view json) {
  const std::size_t mark = out.size();
  if (!CompactJson(json, out).run()) {
    out.resize(mark);
    append_string(out, json);
  }
}

// ---------------------------------------------------------------------------------------------
// Time

using Days = std::chrono::duration<std::int64_t, std::ratio<86400>>;

void append_2(char* dst, unsigned v) {
  dst[0] = static_cast<char>('0' + v / 10);
  dst[1] = static_cast<char>('0' + v % 10);
}

// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds truncated towards the past), without quotes.
void append_time(std::string& out, UtcTime t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch());
  const auto days = std::chrono::floor<Days>(ms);
  const std::int64_t ms_of_day = (ms - std::chrono::duration_cast<std::chrono::milliseconds>(days)).count();
  // Civil date from days since 1970-01-01 (proleptic Gregorian; eras of 400 years).
  const std::int64_t z = days.count() + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

  if (year < 0 || year > 9999) {  // not reachable with 64-bit nanoseconds; kept honest anyway
    append_int(out, year);
    out.push_back('-');
  } else {
    char y[5];
    const auto uy = static_cast<unsigned>(year);
    append_2(y, uy / 100);
    append_2(y + 2, uy % 100);
    y[4] = '-';
    out.append(y, 5);
  }
  const auto msd = static_cast<unsigned>(ms_of_day);
  const unsigned hh = msd / 3600000u;
  const unsigned mm = (msd / 60000u) % 60u;
  const unsigned ss = (msd / 1000u) % 60u;
  const unsigned mmm = msd % 1000u;
  char buf[19];  // MM-DDTHH:MM:SS.mmmZ
  append_2(buf, static_cast<unsigned>(month));
  buf[2] = '-';
  append_2(buf + 3, static_cast<unsigned>(day));
  buf[5] = 'T';
  append_2(buf + 6, hh);
  buf[8] = ':';
  append_2(buf + 9, mm);
  buf[11] = ':';
  append_2(buf + 12, ss);
  buf[14] = '.';
  buf[15] = static_cast<char>('0' + mmm / 100);
  append_2(buf + 16, mmm % 100);
  buf[18] = 'Z';
  out.append(buf, sizeof buf);
}

UtcTime now_utc() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

UtcTime line_time(const Alert& a) {
  if (a.timestamp && a.timestamp->utc) return *a.timestamp->utc;
  if (a.report_time && a.report_time->utc) return *a.report_time->utc;
  return now_utc();
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

void append_hex64(std::string& out, std::uint64_t v) {
  char buf[16];
  for (int i = 15; i >= 0; --i) {
    buf[i] = kHex[v & 0xF];
    v >>= 4;
  }
  out.append(buf, sizeof buf);
}

// ---------------------------------------------------------------------------------------------
// The line body: every member between "time" and "dedupId".

// Member writer: `,"key":` before every member but the first of its object.
class Members {
 public:
  explicit Members(std::string& out, bool first = true) : out_(out), first_(first) {}
  // `key_json` is the quoted key with its colon, e.g. "\"summary\":".
  void key(std::string_view key_json) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.append(key_json.data(), key_json.size());
  }
  void str(std::string_view key_json, const std::optional<std::string>& v) {
    if (!v) return;
    key(key_json);
    append_string(out_, *v);
  }
  void id(std::string_view key_json, const std::optional<std::int64_t>& v) {
    if (!v) return;
    key(key_json);
    append_int(out_, *v);
  }
  void time(std::string_view key_json, const std::optional<Timestamp>& v) {
    if (!v) return;
    key(key_json);
    append_string(out_, v->raw);
  }
  template <class E>
  void tagged(std::string_view key_json, const std::optional<Tagged<E>>& v) {
    if (!v) return;
    key(key_json);
    append_string(out_, v->raw);
  }
  void raw_json(std::string_view key_json, const std::optional<std::string>& v) {
    if (!v) return;
    key(key_json);
    append_raw_json(out_, *v);
  }

 private:
  std::string& out_;
  bool first_;
};

void append_named_ref(std::string& out, const NamedRef& r) {
  out.push_back('{');
  Members m(out);
  m.id("\"id\":", r.id);
  m.str("\"name\":", r.name);
  out.push_back('}');
}

void append_user(std::string& out, const User& u) {
  out.push_back('{');
  Members m(out);
  m.id("\"id\":", u.id);
  m.str("\"username\":", u.username);
  m.str("\"firstName\":", u.first_name);
  m.str("\"lastName\":", u.last_name);
  m.str("\"email\":", u.email);
  out.push_back('}');
}

std::size_t opt_size(const std::optional<std::string>& s) { return s ? s->size() : 0; }

// A cheap upper-ish estimate of the line length, so the output grows once in the common case.
std::size_t estimate_size(const EventBase& b) {
  const Alert& a = b.alert;
  return 400 + b.received_type.size() + opt_size(a.summary) + opt_size(a.details) + opt_size(a.comment) +
         opt_size(a.labels_json) + opt_size(a.custom_details_json) + opt_size(a.alert_key) +
         a.responders.size() * 180 + a.links.size() * 120 + a.images.size() * 160;
}

void append_body(std::string& out, const Event& event) {
  const EventBase& b = base_of(event);
  const Alert& a = b.alert;
  const std::string_view canonical = canonical_event_type(event);

  put(out, "\"eventType\":");
  append_string(out, canonical);
  if (b.received_type != canonical) {
    put(out, ",\"receivedEventType\":");
    append_string(out, b.received_type);
  }
  put(out, ",\"id\":\"");
  append_int(out, a.id);
  out.push_back('"');

  Members m(out, /*first=*/false);
  m.str("\"summary\":", a.summary);
  m.str("\"details\":", a.details);
  m.tagged("\"status\":", a.status);
  m.tagged("\"priority\":", a.priority);
  m.time("\"reportTime\":", a.report_time);
  m.str("\"alertKey\":", a.alert_key);
  if (a.alert_source) {
    m.key("\"alertSource\":");
    append_named_ref(out, *a.alert_source);
  }
  if (a.escalation_policy) {
    m.key("\"escalationPolicy\":");
    append_named_ref(out, *a.escalation_policy);
  }
  if (a.assigned_to) {
    m.key("\"assignedTo\":");
    append_user(out, *a.assigned_to);
  }
  if (!a.responders.empty()) {
    m.key("\"responders\":");
    out.push_back('[');
    bool first = true;
    for (const Responder& r : a.responders) {
      if (!first) out.push_back(',');
      first = false;
      out.push_back('{');
      Members rm(out);
      if (r.user) {
        rm.key("\"user\":");
        append_user(out, *r.user);
      }
      rm.tagged("\"status\":", r.status);
      rm.time("\"acceptedAt\":", r.accepted_at);
      out.push_back('}');
    }
    out.push_back(']');
  }
  m.time("\"resolvedOn\":", a.resolved_on);
  if (!a.links.empty()) {
    m.key("\"links\":");
    out.push_back('[');
    bool first = true;
    for (const Link& l : a.links) {
      if (!first) out.push_back(',');
      first = false;
      out.push_back('{');
      Members lm(out);
      lm.str("\"href\":", l.href);
      lm.str("\"text\":", l.text);
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (!a.images.empty()) {
    m.key("\"images\":");
    out.push_back('[');
    bool first = true;
    for (const Image& i : a.images) {
      if (!first) out.push_back(',');
      first = false;
      out.push_back('{');
      Members im(out);
      im.str("\"src\":", i.src);
      im.str("\"href\":", i.href);
      im.str("\"alt\":", i.alt);
      out.push_back('}');
    }
    out.push_back(']');
  }
  m.str("\"comment\":", a.comment);
  m.time("\"timestamp\":", a.timestamp);
  m.str("\"eventId\":", a.event_id);
  m.str("\"correlationId\":", a.correlation_id);
  m.str("\"mergeState\":", a.merge_state);
  m.id("\"mergedIntoId\":", a.merged_into_id);
  m.time("\"mergedOn\":", a.merged_on);
  m.id("\"severity\":", a.severity);
  m.raw_json("\"labels\":", a.labels_json);
  m.raw_json("\"customDetails\":", a.custom_details_json);
}

bool has_event_id(const Alert& a) { return a.event_id && !a.event_id->empty(); }

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

void append_sumo_line(std::string& out, const Event& event, const LineOptions&) {
  const EventBase& b = base_of(event);
  out.reserve(out.size() + estimate_size(b));
  put(out, "{\"time\":\"");
  append_time(out, line_time(b.alert));
  put(out, "\",");
  const std::size_t body_begin = out.size();
  append_body(out, event);
  const std::size_t body_end = out.size();
  put(out, ",\"dedupId\":");
  if (has_event_id(b.alert)) {
    append_string(out, *b.alert.event_id);
  } else {
    const std::uint64_t h = xxh64(out.data() + body_begin, body_end - body_begin);
    out.push_back('"');
    append_hex64(out, h);
    out.push_back('"');
  }
  out.push_back('}');
}

std::string to_sumo_line(const Event& event, const LineOptions&) {
  std::string out;
  append_sumo_line(out, event);
  return out;
}

std::string dedup_id(const Event& event) {
  const Alert& a = base_of(event).alert;
  if (has_event_id(a)) return *a.event_id;
  std::string body;
  body.reserve(estimate_size(base_of(event)));
  append_body(body, event);
  std::string out;
  append_hex64(out, xxh64(body.data(), body.size()));
  return out;
}

std::string to_invalid_payload_line(std::string_view body, const Error& error, std::optional<UtcTime>,
                                    const LineOptions&) {
  std::string out;
  out.reserve(256 + error.message.size() + error.path.size() + body.size() + body.size() / 8);
  put(out, "{\"time\":\"");
  append_time(out, now_utc());
  put(out, "\",\"eventType\":\"ilert-sumo-invalid-payload\",\"error\":{\"code\":");
  append_string(out, to_string(error.code));
  put(out, ",\"codeNumber\":");
  append_int(out, static_cast<std::int64_t>(error.code));
  put(out, ",\"path\":");
  append_string(out, error.path.empty() ? std::string_view("$") : std::string_view(error.path));
  put(out, ",\"offset\":");
  if (error.offset == Error::npos) {
    put(out, "null");
  } else {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, error.offset);
    out.append(buf, static_cast<std::size_t>(res.ptr - buf));
  }
  put(out, ",\"message\":");
  append_string(out, error.message);
  out.push_back('}');
  if (is_valid_utf8(body)) {
    put(out, ",\"rawBody\":");
    append_string(out, body);
  } else {
    put(out, ",\"rawBodyBase64\":\"");
    append_base64(out, body);
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

}  // namespace ilert_sumo
