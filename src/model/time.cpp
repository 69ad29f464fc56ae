// src/model/time.cpp: ISO-8601 parsing and formatting for Timestamp (see events.hpp).
//
// parse_iso8601() accepts exactly `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+hh:mm|-hh:mm)` (upper-case `T`
// and `Z`, as iLert sends it) and validates every range: month 1-12, day within the month (leap
// years included), hour 0-23, minute 0-59, second 0-59, offset hours 0-23 and minutes 0-59. A leap
// second (`:60`) and the end-of-day form `24:00:00` are rejected: UtcTime, like POSIX time, cannot
// represent them, and a parsed time must never lie. Instants outside the range of int64
// nanoseconds since the epoch (about 1677-09-21 .. 2262-04-11) give nullopt too.
// The calendar arithmetic is Howard Hinnant's days_from_civil / civil_from_days.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ilert_sumo/events.hpp"
#include "util/civil_time.hpp"

namespace ilert_sumo {
namespace {
using detail::days_from_civil;

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

/// The inverse of days_from_civil.
constexpr Civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;                             // [1, 31]
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;                                // [1, 12]
  return Civil{static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0, "epoch");
static_assert(days_from_civil(2000, 3, 1) == 11017, "2000-03-01");
static_assert(civil_from_days(11017).year == 2000 && civil_from_days(11017).month == 3, "inverse");

constexpr bool is_leap(std::int64_t y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29u : kDays[m - 1];
}

/// Two ASCII digits at p[0..1] as a number, or a value > 99 when either is not a digit.
inline unsigned two_digits(const unsigned char* p) noexcept {
  const unsigned hi = static_cast<unsigned>(p[0]) - '0';
  const unsigned lo = static_cast<unsigned>(p[1]) - '0';
  return hi > 9 || lo > 9 ? 1000u : hi * 10 + lo;
}

void put2(std::string& out, unsigned v) {
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

}  // namespace

std::optional<UtcTime> parse_iso8601(std::string_view s) noexcept {
  // Fixed part: YYYY-MM-DDTHH:MM:SS (19 bytes), then at least the zone.
  if (s.size() < 20) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':') return std::nullopt;
  const unsigned century = two_digits(p);
  const unsigned year2 = two_digits(p + 2);
  const unsigned month = two_digits(p + 5);
  const unsigned day = two_digits(p + 8);
  const unsigned hour = two_digits(p + 11);
  const unsigned minute = two_digits(p + 14);
  const unsigned second = two_digits(p + 17);
  if (century > 99 || year2 > 99 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  const unsigned year = century * 100 + year2;
  if (day > days_in_month(year, month)) return std::nullopt;

  // Optional fraction: '.' and 1-9 digits.
  std::size_t pos = 19;
  std::int64_t frac_ns = 0;
  if (s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++digits > 9) return std::nullopt;
      frac_ns = frac_ns * 10 + (s[pos] - '0');
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 9; ++i) frac_ns *= 10;
  }

  // Zone: 'Z' or +hh:mm / -hh:mm, and nothing after it.
  if (pos >= s.size()) return std::nullopt;
  std::int64_t offset_s = 0;
  if (s[pos] == 'Z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    if (s.size() - pos != 6 || p[pos + 3] != ':') return std::nullopt;
    const unsigned oh = two_digits(p + pos + 1);
    const unsigned om = two_digits(p + pos + 4);
    if (oh > 23 || om > 59) return std::nullopt;
    offset_s = static_cast<std::int64_t>(oh) * 3600 + static_cast<std::int64_t>(om) * 60;
    if (s[pos] == '-') offset_s = -offset_s;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;

  // Local time minus the offset is UTC. |secs| < 4e11 here, so no overflow until the scaling.
  const std::int64_t secs = days_from_civil(year, month, day) * 86400 + static_cast<std::int64_t>(hour) * 3600 +
                            static_cast<std::int64_t>(minute) * 60 + second - offset_s;
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(secs, std::int64_t{1000000000}, &ns) || __builtin_add_overflow(ns, frac_ns, &ns)) {
    // secs * 1e9 alone may overflow for the most negative representable second; retry from one
    // second later so that such instants are not lost.
    std::int64_t ns2 = 0;
    if (__builtin_mul_overflow(secs + 1, std::int64_t{1000000000}, &ns2) ||
        __builtin_add_overflow(ns2, frac_ns - 1000000000, &ns2)) {
      return std::nullopt;
    }
    ns = ns2;
  }
  return UtcTime(std::chrono::nanoseconds(ns));
}

std::string format_iso8601_millis(UtcTime t) {
  const std::int64_t ns = t.time_since_epoch().count();
  // Floor to milliseconds, then split into days and milliseconds of the day (both floored).
  std::int64_t ms = ns / 1000000;
  if (ns % 1000000 < 0) --ms;
  std::int64_t days = ms / 86400000;
  std::int64_t ms_of_day = ms % 86400000;
  if (ms_of_day < 0) {
    ms_of_day += 86400000;
    --days;
  }
  const Civil c = civil_from_days(days);
  const auto tod = static_cast<unsigned>(ms_of_day);

  std::string out;
  out.reserve(24);
  // Years of the int64-nanosecond range are 1677..2262: always four digits.
  const auto year = static_cast<unsigned>(c.year);
  put2(out, year / 100);
  put2(out, year % 100);
  out += '-';
  put2(out, c.month);
  out += '-';
  put2(out, c.day);
  out += 'T';
  put2(out, tod / 3600000);
  out += ':';
  put2(out, tod / 60000 % 60);
  out += ':';
  put2(out, tod / 1000 % 60);
  out += '.';
  const unsigned millis = tod % 1000;
  out += static_cast<char>('0' + millis / 100);
  put2(out, millis % 100);
  out += 'Z';
  return out;
}

}  // namespace ilert_sumo
