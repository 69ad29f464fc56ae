// src/utf8.hpp (private): the pre-scan of a body for parse_event: UTF-8 validation and lone
// low surrogate escapes.
//
// parse_event() checks a whole body before the JSON reader sees it, so that the reader can run
// with RapidJSON's SIMD string scanning (RapidJSON switches that off when it validates encoding
// itself). scan_body() copies the body into the reader's buffer while validating it (32/16 bytes
// at a time with SSE2 where available; only non-ASCII sequences and backslashes are looked at one
// by one) and stops at the first problem: an ill-formed UTF-8 sequence (strict RFC 3629: no
// overlong forms, no UTF-16 surrogates U+D800..U+DFFF, nothing above U+10FFFF, no truncated
// sequences) or a lone low surrogate escape, which RapidJSON 1.1.0 would silently accept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ilert_sumo::detail {

/// For each lead byte >= 0x80: the sequence length (0 = not a lead byte) and the allowed range of
/// the second byte (RFC 3629 table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
struct Utf8Lead {
  unsigned char length, lo, hi;
};
constexpr Utf8Lead utf8_lead(unsigned c) noexcept {
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F};
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  return {0, 0, 0};  // continuation byte, C0/C1 (overlong) or F5..FF
}
struct Utf8LeadTable {
  Utf8Lead entry[128];
  constexpr Utf8LeadTable() : entry() {
    for (unsigned c = 0; c < 128; ++c) entry[c] = utf8_lead(c + 0x80);
  }
};
inline constexpr Utf8LeadTable kUtf8Leads{};

/// Length (2..4) of the well-formed multi-byte sequence at p[0..avail), or 0 when it is not one.
/// p[0] must be >= 0x80.
inline std::size_t utf8_multibyte_length(const unsigned char* p, std::size_t avail) noexcept {
  const Utf8Lead lead = kUtf8Leads.entry[p[0] - 0x80];
  const std::size_t n = lead.length;
  if (n == 0 || avail < n || p[1] < lead.lo || p[1] > lead.hi) return 0;
  if (n >= 3 && (p[2] & 0xC0) != 0x80) return 0;
  if (n == 4 && (p[3] & 0xC0) != 0x80) return 0;
  return n;
}

/// What scan_body() found.
struct BodyScan {
  enum class Problem { none, invalid_utf8, lone_low_surrogate };
  /// Offset of the first problem (== size when there is none). Only the bytes before it are
  /// guaranteed to have been copied.
  std::size_t valid = 0;
  /// What is at `valid`: an ill-formed UTF-8 sequence, or the backslash of a `\uDC00`..`\uDFFF`
  /// escape that does not directly follow a `\uD800`..`\uDBFF` escape.
  Problem problem = Problem::none;
};

/// True when the backslash at p[j] starts an escape: it is preceded by an even number of
/// backslashes. (Linear overall: only called for backslashes followed by `u`.)
inline bool starts_escape(const unsigned char* p, std::size_t j) noexcept {
  std::size_t k = j;
  while (k > 0 && p[k - 1] == '\\') --k;
  return (j - k) % 2 == 0;
}

/// The four hex digits at p[0..3] as a code unit, or a value > 0xFFFF when they are not hex.
inline unsigned hex4(const unsigned char* p) noexcept {
  unsigned cp = 0;
  for (int k = 0; k < 4; ++k) {
    const unsigned c = p[k];
    const unsigned lower = c | 0x20;
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (lower >= 'a' && lower <= 'f') {
      digit = lower - 'a' + 10;
    } else {
      return 0x10000;
    }
    cp = cp << 4 | digit;
  }
  return cp;
}

/// True when p[j] (a backslash followed by `u`) starts a low surrogate escape (\uDC00..\uDFFF) that
/// does not directly follow a high surrogate escape. RapidJSON 1.1.0 rejects a high surrogate
/// escape without a low one, but silently accepts a lone low one.
inline bool lone_low_surrogate_at(const unsigned char* p, std::size_t size, std::size_t j) noexcept {
  if (size - j < 6) return false;
  const unsigned cp = hex4(p + j + 2);
  if (cp < 0xDC00 || cp > 0xDFFF || !starts_escape(p, j)) return false;
  if (j >= 6 && p[j - 6] == '\\' && p[j - 5] == 'u') {
    const unsigned high = hex4(p + j - 4);
    if (high >= 0xD800 && high <= 0xDBFF && starts_escape(p, j - 6)) return false;  // a pair
  }
  return true;
}

/// Copies src[0..size) to dst (room for `size` bytes) while validating it as UTF-8 and looking
/// for lone low surrogate escapes; stops at the first problem.
inline BodyScan scan_body(const char* src, std::size_t size, char* dst) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  BodyScan out;
  std::size_t i = 0;
  // Bytes [i, stop) one at a time (the last sequence may run past `stop`).
  const auto slow = [&](std::size_t stop) -> bool {
    while (i < stop) {
      const unsigned char c = p[i];
      if (c < 0x80) {
        if (c == '\\' && i + 1 < size && p[i + 1] == 'u' && lone_low_surrogate_at(p, size, i)) {
          out.valid = i;
          out.problem = BodyScan::Problem::lone_low_surrogate;
          return false;
        }
        dst[i] = static_cast<char>(c);
        ++i;
        continue;
      }
      const std::size_t n = utf8_multibyte_length(p + i, size - i);
      if (n == 0) {
        out.valid = i;
        out.problem = BodyScan::Problem::invalid_utf8;
        return false;
      }
      std::memcpy(dst + i, p + i, n);
      i += n;
    }
    return true;
  };
#if defined(__SSE2__)
  // 32 or 16 bytes at a time: copy; plain ASCII without a backslash needs nothing else. Otherwise
  // only the interesting bytes are looked at, in order: each non-ASCII sequence is validated once
  // and each backslash followed by `u` is checked.
  const __m128i backslash = _mm_set1_epi8('\\');
  while (size - i >= 16) {
    if (size - i >= 32) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), a);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + 16), b);
      const __m128i special = _mm_or_si128(_mm_or_si128(a, b),
                                           _mm_or_si128(_mm_cmpeq_epi8(a, backslash), _mm_cmpeq_epi8(b, backslash)));
      if (_mm_movemask_epi8(special) == 0) {
        i += 32;
        continue;
      }
    }
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), block);
    auto bits = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(block, _mm_cmpeq_epi8(block, backslash))));
    std::size_t done = i;  // end of the last sequence validated
    while (bits != 0) {
      const std::size_t j = i + static_cast<std::size_t>(__builtin_ctz(bits));
      if (p[j] == '\\') {
        bits &= bits - 1;
        if (j + 1 < size && p[j + 1] == 'u' && lone_low_surrogate_at(p, size, j)) {
          out.valid = j;
          out.problem = BodyScan::Problem::lone_low_surrogate;
          return out;
        }
        continue;
      }
      const std::size_t n = utf8_multibyte_length(p + j, size - j);
      if (n == 0) {
        out.valid = j;
        out.problem = BodyScan::Problem::invalid_utf8;
        return out;
      }
      done = j + n;
      const std::size_t consumed = done - i;  // drop the bits of the continuation bytes
      bits = consumed >= 16 ? 0u : bits & (~0u << consumed);
    }
    const std::size_t block_end = i + 16;
    if (done > block_end) {  // the last sequence runs into the next block
      std::memcpy(dst + block_end, p + block_end, done - block_end);
      i = done;
    } else {
      i = block_end;
    }
  }
#endif
  // The tail (and everything without SSE2).
  if (!slow(size)) return out;
  out.valid = size;
  return out;
}

}  // namespace ilert_sumo::detail
