// src/json_scan.hpp (private): the JSON tokenizer behind parse_event(): one pass over the caller's
// bytes, iterative (no recursion, whatever the nesting), strict RFC 8259, UTF-8 validated on the way.
//
// scan_json(text, handler, workspace) reads one JSON value from `text` and streams it into
// `handler` (SAX style, callbacks below), then checks that only whitespace follows. It never
// copies the body and never reads outside it:
//   * Strings without escapes are handed over as string_views into `text`. Strings with escapes are
//     decoded into workspace.scratch, sized once per call (on the first escape) to text.size() plus
//     a little slack: a decoded string is never longer than its source, so everything decoded in a
//     call fits and no view handed out is invalidated during the call.
//   * Strings are scanned 16 bytes at a time with SSE2 (one signed compare finds control characters
//     and non-ASCII bytes together, two more find '"' and '\'); pure-ASCII chunks need no other
//     work. A non-ASCII byte is validated right there as a whole sequence (strict RFC 3629, see
//     utf8.hpp), so UTF-8 validation costs nothing for ASCII text. Chunks that would cross the end
//     of the body are scanned byte by byte. Without SSE2 everything is scalar.
//   * Outside strings any byte >= 0x80 is an error anyway; it is reported as invalid_utf8 when
//     it does not start a well-formed sequence, else as the syntax error at that byte. Since every
//     byte before the current position has been checked, "the first problem in the body wins".
//   * \u escapes: surrogate pairs are combined; a high surrogate escape not followed by a low one
//     and a low one without a high one are errors. "\u0000" is kept as a NUL byte.
//   * Numbers: strict grammar, handed over as raw text. "Too big" follows RapidJSON 1.1.0's rule
//     (kParseErrorNumberTooBig; the library used to run on it): an integer part that grows past
//     ~1.8e308 while being accumulated, or a positive exponent above 308 minus the fraction digits
//     that count. Checked only for numbers with >= 300 integer digits or a 3+ digit exponent.
//   * Containers: a byte per open container on workspace.stack (object or array); the depth limit
//     is the handler's business (it returns false from on_start_*).
//
// Error codes and offsets follow RapidJSON 1.1.0's recursive reader (in situ, numbers as strings),
// which parse.cpp used before: errors point at the byte where reading stopped, escape errors at
// the backslash, "number too big" at the number's first byte.
//
// Handler callbacks (offsets are byte offsets into `text`; false stops the scan with
// ScanError::handler):
//   bool on_null(std::size_t at); bool on_bool(bool value, std::size_t at);
//   bool on_number(std::string_view raw, std::size_t at);
//   bool on_string(std::string_view decoded, std::size_t quote_at);
//   bool on_key(std::string_view decoded, std::size_t quote_at);
//   bool on_start_object(std::size_t at); bool on_start_array(std::size_t at);
//   bool on_end_object(); bool on_end_array();
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "utf8.hpp"

namespace ilert_sumo::detail::json {

/// Why scanning stopped (RapidJSON 1.1.0's parse error names in brackets).
enum class ScanError : std::uint8_t {
  none,
  handler,                      // a callback returned false (the handler holds its own error)
  document_empty,               // a NUL where the top-level value should start [DocumentEmpty]
  value_invalid,                // no value can start here, or a bad literal [ValueInvalid]
  object_miss_name,             // [ObjectMissName]
  object_miss_colon,            // [ObjectMissColon]
  object_miss_comma_or_curly,   // [ObjectMissCommaOrCurlyBracket]
  array_miss_comma_or_bracket,  // [ArrayMissCommaOrSquareBracket]
  escape_invalid,               // '\' followed by something else than an escape; at the '\' [StringEscapeInvalid]
  control_character,            // an unescaped byte < 0x20 in a string (NUL included)
  unterminated_string,          // end of input inside a string; at the end [StringMissQuotationMark]
  unicode_escape_invalid_hex,   // \u without four hex digits; at the '\' [StringUnicodeEscapeInvalidHex]
  unicode_surrogate_invalid,    // high surrogate escape without a low one; at its '\' [StringUnicodeSurrogateInvalid]
  lone_low_surrogate,           // low surrogate escape without a high one; at its '\' (RapidJSON accepted it)
  invalid_utf8,                 // an ill-formed UTF-8 sequence; at its first byte
  number_too_big,               // at the number's first byte [NumberTooBig]
  number_miss_fraction,         // [NumberMissFraction]
  number_miss_exponent,         // [NumberMissExponent]
  trailing_data,                // something else than whitespace after the top-level value
};

struct ScanResult {
  ScanError error = ScanError::none;
  std::size_t offset = 0;  // where (see ScanError); unused when error == none
};

/// Per-thread memory reused between scans.
struct Workspace {
  std::vector<std::uint8_t> stack;  // open containers: 1 = object, 0 = array
  std::vector<char> scratch;        // decoded strings with escapes
};

namespace scan_detail {

constexpr bool is_space(unsigned char c) noexcept {
  return c <= ' ' && ((std::uint64_t{1} << c) & ((std::uint64_t{1} << ' ') | (std::uint64_t{1} << '\t') |
                                                 (std::uint64_t{1} << '\n') | (std::uint64_t{1} << '\r'))) != 0;
}

constexpr bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }

/// The value of a hex digit, or -1.
constexpr int hex_digit(unsigned char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// The code unit of the four hex digits at p[0..4) (all readable), or -1.
inline long hex4_at(const unsigned char* p) noexcept {
  const int a = hex_digit(p[0]);
  const int b = hex_digit(p[1]);
  const int c = hex_digit(p[2]);
  const int d = hex_digit(p[3]);
  if ((a | b | c | d) < 0) return -1;
  return static_cast<long>((a << 12) | (b << 8) | (c << 4) | d);
}

/// RapidJSON 1.1.0's kParseErrorNumberTooBig for a grammatically valid number text [p, e), or for
/// its integer part alone: a port of GenericReader::ParseNumber's accumulation (the double
/// arithmetic included, so the limit is the same to the last digit).
inline bool rapidjson_number_too_big(const unsigned char* p, const unsigned char* e) noexcept {
  const auto digit = [&]() { return p < e && is_digit(*p); };
  const bool minus = p < e && *p == '-';
  if (minus) ++p;
  unsigned i = 0;
  std::uint64_t i64 = 0;
  bool use64bit = false;
  bool use_double = false;
  int significand_digits = 0;
  double d = 0.0;
  if (p < e && *p == '0') {
    ++p;
  } else if (digit()) {
    i = static_cast<unsigned>(*p++ - '0');
    const unsigned limit = minus ? 214748364u : 429496729u;
    const unsigned char last = minus ? '8' : '5';
    while (digit()) {
      if (i >= limit && (i != limit || *p > last)) {
        i64 = i;
        use64bit = true;
        break;
      }
      i = i * 10 + static_cast<unsigned>(*p++ - '0');
      ++significand_digits;
    }
  }
  if (use64bit) {
    const std::uint64_t limit = minus ? 0x0CCCCCCCCCCCCCCCull : 0x1999999999999999ull;
    const unsigned char last = minus ? '8' : '5';
    while (digit()) {
      if (i64 >= limit && (i64 != limit || *p > last)) {
        d = static_cast<double>(i64);
        use_double = true;
        break;
      }
      i64 = i64 * 10 + static_cast<unsigned>(*p++ - '0');
      ++significand_digits;
    }
  }
  if (use_double) {
    while (digit()) {
      if (d >= 1.7976931348623157e307) return true;  // DBL_MAX / 10
      d = d * 10 + (*p++ - '0');
    }
  }
  std::int64_t exp_frac = 0;
  if (p < e && *p == '.') {
    ++p;
    if (!use_double) {
      if (!use64bit) i64 = i;
      while (digit()) {
        if (i64 > 0x1FFFFFFFFFFFFFull) break;  // 2^53 - 1
        i64 = i64 * 10 + static_cast<unsigned>(*p++ - '0');
        --exp_frac;
        if (i64 != 0) ++significand_digits;
      }
      d = static_cast<double>(i64);
      use_double = true;
    }
    while (digit()) {
      if (significand_digits < 17) {
        d = d * 10.0 + (*p++ - '0');
        --exp_frac;
        if (d > 0.0) ++significand_digits;
      } else {
        ++p;
      }
    }
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < e && *p == '-') return false;  // underflow is not an error
    if (p < e && *p == '+') ++p;
    const std::int64_t max_exp = 308 - exp_frac;
    std::int64_t exp = 0;
    while (digit()) {
      exp = exp * 10 + (*p++ - '0');
      if (exp > max_exp) return true;
    }
  }
  return false;
}

}  // namespace scan_detail

template <class Handler>
class Scanner {
 public:
  Scanner(std::string_view text, Handler& handler, Workspace& workspace) noexcept
      : begin_(reinterpret_cast<const unsigned char*>(text.data())),
        end_(begin_ + text.size()),
        handler_(handler),
        workspace_(workspace) {}

  ScanResult run() {
    using scan_detail::is_space;
    std::vector<std::uint8_t>& stack = workspace_.stack;
    std::size_t depth = 0;
    // Opens a container: 1 = object, 0 = array (the stack only grows; entries are reused).
    const auto open = [&](std::uint8_t is_object) {
      if (depth == stack.size()) {
        stack.push_back(is_object);
      } else {
        stack[depth] = is_object;
      }
      ++depth;
    };
    const unsigned char* p = skip_space(begin_);
    if (p == end_ || *p == '\0') return fail(ScanError::document_empty, p);

  value:
    switch (peek(p)) {
      case '{':
        if (!handler_.on_start_object(offset(p))) return fail(ScanError::handler, p);
        open(1);
        p = skip_space(p + 1);
        if (peek(p) == '}') {
          ++p;
          --depth;
          if (!handler_.on_end_object()) return fail(ScanError::handler, p);
          goto after_value;
        }
        goto key;
      case '[':
        if (!handler_.on_start_array(offset(p))) return fail(ScanError::handler, p);
        open(0);
        p = skip_space(p + 1);
        if (peek(p) == ']') {
          ++p;
          --depth;
          if (!handler_.on_end_array()) return fail(ScanError::handler, p);
          goto after_value;
        }
        goto value;
      case '"': {
        const unsigned char* quote = p;
        std::string_view s;
        if (!scan_string(p, s)) return error_;
        if (!handler_.on_string(s, offset(quote))) return fail(ScanError::handler, p);
        goto after_value;
      }
      case 't':
        if (!literal(p, "true", 4)) return error_;
        if (!handler_.on_bool(true, offset(p - 4))) return fail(ScanError::handler, p);
        goto after_value;
      case 'f':
        if (!literal(p, "false", 5)) return error_;
        if (!handler_.on_bool(false, offset(p - 5))) return fail(ScanError::handler, p);
        goto after_value;
      case 'n':
        if (!literal(p, "null", 4)) return error_;
        if (!handler_.on_null(offset(p - 4))) return fail(ScanError::handler, p);
        goto after_value;
      default: {
        const unsigned char* start = p;
        if (!scan_number(p)) return error_;
        const std::string_view raw(reinterpret_cast<const char*>(start), static_cast<std::size_t>(p - start));
        if (!handler_.on_number(raw, offset(start))) return fail(ScanError::handler, p);
        goto after_value;
      }
    }

  key:
    if (peek(p) != '"') return fail_at_byte(ScanError::object_miss_name, p);
    {
      const unsigned char* quote = p;
      std::string_view k;
      if (!scan_string(p, k)) return error_;
      if (!handler_.on_key(k, offset(quote))) return fail(ScanError::handler, p);
    }
    p = skip_space(p);
    if (peek(p) != ':') return fail_at_byte(ScanError::object_miss_colon, p);
    p = skip_space(p + 1);
    goto value;

  after_value:
    if (depth == 0) {
      p = skip_space(p);
      if (p != end_) return fail_at_byte(ScanError::trailing_data, p);
      return ScanResult{};
    }
    p = skip_space(p);
    if (stack[depth - 1] != 0) {
      const unsigned char c = peek(p);
      if (c == ',') {
        p = skip_space(p + 1);
        goto key;
      }
      if (c == '}') {
        ++p;
        --depth;
        if (!handler_.on_end_object()) return fail(ScanError::handler, p);
        goto after_value;
      }
      return fail_at_byte(ScanError::object_miss_comma_or_curly, p);
    } else {
      const unsigned char c = peek(p);
      if (c == ',') {
        p = skip_space(p + 1);
        goto value;
      }
      if (c == ']') {
        ++p;
        --depth;
        if (!handler_.on_end_array()) return fail(ScanError::handler, p);
        goto after_value;
      }
      return fail_at_byte(ScanError::array_miss_comma_or_bracket, p);
    }
  }

 private:
  using uchar = unsigned char;

  /// The byte at p, or 0 at the end (which every caller treats as "not what I want").
  uchar peek(const uchar* p) const noexcept { return p != end_ ? *p : uchar{0}; }
  std::size_t offset(const uchar* p) const noexcept { return static_cast<std::size_t>(p - begin_); }

  const uchar* skip_space(const uchar* p) const noexcept {
    while (p != end_ && scan_detail::is_space(*p)) ++p;
    return p;
  }

  ScanResult fail(ScanError error, const uchar* p) noexcept {
    error_ = ScanResult{error, offset(p)};
    return error_;
  }

  /// An error at the byte where reading stopped: invalid_utf8 when that byte does not start a
  /// well-formed UTF-8 sequence (everything before it is known to be valid).
  ScanResult fail_at_byte(ScanError error, const uchar* p) noexcept {
    if (p != end_ && *p >= 0x80 && utf8_multibyte_length(p, static_cast<std::size_t>(end_ - p)) == 0) {
      error = ScanError::invalid_utf8;
    }
    return fail(error, p);
  }

  /// Matches the literal `word` (length n) at p; on a mismatch, value_invalid at the first
  /// differing byte.
  bool literal(const uchar*& p, const char* word, std::size_t n) noexcept {
    const std::size_t avail = static_cast<std::size_t>(end_ - p);
    if (avail >= n && std::memcmp(p, word, n) == 0) {
      p += n;
      return true;
    }
    std::size_t k = 1;
    while (k < n && k < avail && p[k] == static_cast<uchar>(word[k])) ++k;
    fail_at_byte(ScanError::value_invalid, p + k);
    return false;
  }

  bool scan_number(const uchar*& p) noexcept {
    using scan_detail::is_digit;
    const uchar* start = p;
    if (peek(p) == '-') ++p;
    const uchar* int_start = p;
    if (peek(p) == '0') {
      ++p;
    } else if (is_digit(peek(p))) {
      ++p;
      while (p != end_ && is_digit(*p)) ++p;
      // Only a very long integer part can reach RapidJSON's limit (about 309 digits).
      if (p - int_start >= 300 && scan_detail::rapidjson_number_too_big(start, p)) {
        fail(ScanError::number_too_big, start);
        return false;
      }
    } else {
      fail_at_byte(ScanError::value_invalid, p);
      return false;
    }
    if (peek(p) == '.') {
      ++p;
      if (!is_digit(peek(p))) {
        fail_at_byte(ScanError::number_miss_fraction, p);
        return false;
      }
      while (p != end_ && is_digit(*p)) ++p;
    }
    const uchar e = peek(p);
    if (e == 'e' || e == 'E') {
      ++p;
      const uchar sign = peek(p);
      if (sign == '+' || sign == '-') ++p;
      const uchar* exp_start = p;
      if (!is_digit(peek(p))) {
        fail_at_byte(ScanError::number_miss_exponent, p);
        return false;
      }
      while (p != end_ && is_digit(*p)) ++p;
      // An exponent below 100 never exceeds 308 minus the (non-positive) fraction count.
      if (sign != '-' && p - exp_start >= 3 && scan_detail::rapidjson_number_too_big(start, p)) {
        fail(ScanError::number_too_big, start);
        return false;
      }
    }
    return true;
  }

  // --- strings ---

  /// Bytes that end a run of plain string content: '"', '\', < 0x20, >= 0x80.
  static bool special(uchar c) noexcept { return c == '"' || c == '\\' || static_cast<signed char>(c) < 0x20; }

#if defined(__SSE2__)
  /// Mask of the special bytes among the 16 at p.
  static unsigned special_mask(const uchar* p) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    const __m128i low_or_high = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));  // signed: < 0x20 or >= 0x80
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low_or_high)));
  }
#endif

  /// Advances p to the next special byte (or the end).
  const uchar* skip_plain(const uchar* p) const noexcept {
#if defined(__SSE2__)
    while (end_ - p >= 16) {
      const unsigned mask = special_mask(p);
      if (mask != 0) return p + __builtin_ctz(mask);
      p += 16;
    }
#endif
    while (p != end_ && !special(*p)) ++p;
    return p;
  }

  /// Like skip_plain, copying the bytes to q (which has room for 16 bytes past the source's
  /// length, see ensure_scratch).
  const uchar* copy_plain(const uchar* p, char*& q) const noexcept {
#if defined(__SSE2__)
    while (end_ - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q), v);
      const unsigned mask = special_mask(p);
      if (mask != 0) {
        const unsigned n = static_cast<unsigned>(__builtin_ctz(mask));
        q += n;
        return p + n;
      }
      p += 16;
      q += 16;
    }
#endif
    while (p != end_ && !special(*p)) *q++ = static_cast<char>(*p++);
    return p;
  }

  /// Validates the non-ASCII sequences starting at p (p[0] >= 0x80) and those right after it.
  bool skip_multibyte(const uchar*& p) noexcept {
    do {
      const std::size_t n = utf8_multibyte_length(p, static_cast<std::size_t>(end_ - p));
      if (n == 0) {
        fail(ScanError::invalid_utf8, p);
        return false;
      }
      p += n;
    } while (p != end_ && *p >= 0x80);
    return true;
  }

  void ensure_scratch() {
    // Decoded text is never longer than its source, so the whole body fits; +32 for the 16-byte
    // stores of copy_plain.
    const std::size_t need = static_cast<std::size_t>(end_ - begin_) + 32;
    std::vector<char>& scratch = workspace_.scratch;
    if (scratch.size() < need) scratch.resize(need);
    out_ = scratch.data();
  }

  /// Reads the string whose opening quote is at p; on success p is past the closing quote and s
  /// holds the decoded contents.
  bool scan_string(const uchar*& p, std::string_view& s) {
    const uchar* const start = p + 1;
    const uchar* r = start;
    for (;;) {
      r = skip_plain(r);
      if (r == end_) {
        fail(ScanError::unterminated_string, r);
        return false;
      }
      const uchar c = *r;
      if (c == '"') {
        s = std::string_view(reinterpret_cast<const char*>(start), static_cast<std::size_t>(r - start));
        p = r + 1;
        return true;
      }
      if (c == '\\') break;
      if (c < 0x20) {
        fail(ScanError::control_character, r);
        return false;
      }
      if (!skip_multibyte(r)) return false;
    }
    // Escapes: decode into the scratch buffer.
    if (out_ == nullptr) ensure_scratch();
    char* const out_start = out_;
    char* q = out_;
    const std::size_t plain = static_cast<std::size_t>(r - start);
    std::memcpy(q, start, plain);
    q += plain;
    for (;;) {
      const uchar c = *r;  // r != end_ here
      if (c == '"') {
        s = std::string_view(out_start, static_cast<std::size_t>(q - out_start));
        out_ = q;
        p = r + 1;
        return true;
      }
      if (c == '\\') {
        if (!unescape(r, q)) return false;
      } else if (c < 0x20) {
        fail(ScanError::control_character, r);
        return false;
      } else {
        const uchar* from = r;
        if (!skip_multibyte(r)) return false;
        const std::size_t n = static_cast<std::size_t>(r - from);
        std::memcpy(q, from, n);
        q += n;
      }
      r = copy_plain(r, q);
      if (r == end_) {
        fail(ScanError::unterminated_string, r);
        return false;
      }
    }
  }

  /// Decodes the escape at r (a backslash) into q.
  bool unescape(const uchar*& r, char*& q) noexcept {
    const uchar* const esc = r;
    const std::size_t avail = static_cast<std::size_t>(end_ - r);
    const uchar e = avail >= 2 ? r[1] : uchar{0};
    char simple = 0;
    switch (e) {
      case '"': simple = '"'; break;
      case '\\': simple = '\\'; break;
      case '/': simple = '/'; break;
      case 'b': simple = '\b'; break;
      case 'f': simple = '\f'; break;
      case 'n': simple = '\n'; break;
      case 'r': simple = '\r'; break;
      case 't': simple = '\t'; break;
      case 'u': break;
      default: fail(ScanError::escape_invalid, esc); return false;
    }
    if (simple != 0) {
      *q++ = simple;
      r += 2;
      return true;
    }
    const long unit = avail >= 6 ? scan_detail::hex4_at(r + 2) : -1;
    if (unit < 0) {
      fail(ScanError::unicode_escape_invalid_hex, esc);
      return false;
    }
    auto cp = static_cast<std::uint32_t>(unit);
    r += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (avail < 8 || r[0] != '\\' || r[1] != 'u') {
        fail(ScanError::unicode_surrogate_invalid, esc);
        return false;
      }
      const long low = avail >= 12 ? scan_detail::hex4_at(r + 2) : -1;
      if (low < 0) {
        fail(ScanError::unicode_escape_invalid_hex, esc);
        return false;
      }
      if (low < 0xDC00 || low > 0xDFFF) {
        fail(ScanError::unicode_surrogate_invalid, esc);
        return false;
      }
      cp = (((cp - 0xD800) << 10) | (static_cast<std::uint32_t>(low) - 0xDC00)) + 0x10000;
      r += 6;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      fail(ScanError::lone_low_surrogate, esc);
      return false;
    }
    if (cp < 0x80) {
      *q++ = static_cast<char>(cp);
    } else if (cp < 0x800) {
      *q++ = static_cast<char>(0xC0 | (cp >> 6));
      *q++ = static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *q++ = static_cast<char>(0xE0 | (cp >> 12));
      *q++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *q++ = static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *q++ = static_cast<char>(0xF0 | (cp >> 18));
      *q++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *q++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *q++ = static_cast<char>(0x80 | (cp & 0x3F));
    }
    return true;
  }

  const uchar* const begin_;
  const uchar* const end_;
  Handler& handler_;
  Workspace& workspace_;
  char* out_ = nullptr;  // next free byte of workspace_.scratch (null until the first escape)
  ScanResult error_;
};

/// Scans `text` (one JSON value, then only whitespace) into `handler`.
template <class Handler>
ScanResult scan_json(std::string_view text, Handler& handler, Workspace& workspace) {
  return Scanner<Handler>(text, handler, workspace).run();
}

}  // namespace ilert_sumo::detail::json
