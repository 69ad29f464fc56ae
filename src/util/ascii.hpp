// src/util/ascii.hpp (private): locale-free ASCII helpers for protocol text (header names, URL
// parts, HTTP field values). <cctype> depends on the process locale, so these do not use it.
// The library's one copy of each: case-insensitive comparison (header names, URL markers) and
// trimming (header values, Retry-After, configuration values).
#pragma once

#include <cstddef>
#include <string_view>

namespace ilert_sumo::detail {

constexpr bool is_alpha(unsigned char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// True when `a` and `b` are equal ignoring ASCII case.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

/// Spaces, tabs, CR and LF: what surrounds a value on a line of text.
inline constexpr std::string_view kLineSpace = " \t\r\n";
/// HTTP's optional whitespace (RFC 9110, 5.6.3): spaces and tabs.
inline constexpr std::string_view kHttpOws = " \t";

/// `s` without the characters of `chars` at either end.
constexpr std::string_view trim(std::string_view s, std::string_view chars = kLineSpace) noexcept {
  const std::size_t b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(chars) - b + 1);
}

}  // namespace ilert_sumo::detail
