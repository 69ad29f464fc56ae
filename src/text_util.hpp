// src/text_util.hpp (private): small UTF-8 and JSON-string helpers for the delivery layer.
//
// Used by sumo_config.cpp (header-value checks) and delivery.cpp (line sanitising, UTF-8-safe
// truncation, the oversized-line wrapper). Header-only; UTF-8 decoding itself is utf8.hpp's
// (shared with the parser).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "utf8.hpp"

namespace ilert_sumo::detail {

/// Length (1..4) of the well-formed UTF-8 character at s[i], or 0 when the bytes there are not one
/// (RFC 3629, see utf8.hpp).
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  return p[0] < 0x80 ? 1 : utf8_multibyte_length(p, s.size() - i);
}

/// True when the whole text is well-formed UTF-8 (ASCII runs checked eight bytes at a time).
inline bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t size = s.size();
  std::size_t i = 0;
  while (i < size) {
    if (size - i >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = utf8_multibyte_length(p + i, size - i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

/// The largest n <= max such that s[0, n) does not end inside a UTF-8 sequence (s valid UTF-8).
inline std::size_t utf8_cut(std::string_view s, std::size_t max) noexcept {
  if (max >= s.size()) return s.size();
  std::size_t n = max;
  // Step back over continuation bytes (at most 3) so s[n] starts a character.
  for (int k = 0; k < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++k) --n;
  return n;
}

/// Bytes that append_json_escaped() adds for `s` (without quotes).
inline std::size_t json_escaped_size(std::string_view s) noexcept {
  std::size_t n = 0;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
      n += 2;
    } else if (c < 0x20) {
      n += 6;
    } else {
      n += 1;
    }
  }
  return n;
}

/// Appends `s` (valid UTF-8) as the inside of a JSON string: `"` `\` and control characters escaped.
inline void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
        break;
    }
  }
  out.append(s.data() + start, s.size() - start);
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

}  // namespace ilert_sumo::detail
