// src/util/utf8.hpp (private): strict UTF-8 (RFC 3629) sequence checks and \u-escape helpers.
//
// utf8_multibyte_length() is the one definition of "well-formed UTF-8" in the library: no overlong
// forms, no UTF-16 surrogates U+D800..U+DFFF, nothing above U+10FFFF, no truncated sequences. The
// parser uses it to report invalid UTF-8 outside strings (RapidJSON validates inside them), text_util.hpp
// builds its helpers on it. lone_low_surrogate_at() recognises a `\uDC00`..`\uDFFF` escape not
// preceded by a high surrogate escape without any context (parse.cpp uses it to word an error).
#pragma once

#include <cstddef>
#include <cstdint>

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

}  // namespace ilert_sumo::detail
