// tests/test_time.cpp: parse_iso8601 and format_iso8601_millis (src/model/time.cpp).
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

#include "ilert_sumo/events.hpp"
#include "support/catch.hpp"

using ilert_sumo::format_iso8601_millis;
using ilert_sumo::parse_iso8601;
using ilert_sumo::UtcTime;

namespace {

/// Nanoseconds since the epoch of a parsed text (fails the test when it does not parse).
std::int64_t ns_of(const std::string& text) {
  const std::optional<UtcTime> t = parse_iso8601(text);
  INFO(text);
  REQUIRE(t.has_value());
  return t->time_since_epoch().count();
}

UtcTime at_ns(std::int64_t ns) { return UtcTime(std::chrono::nanoseconds(ns)); }

constexpr std::int64_t kSec = 1000000000;

}  // namespace

TEST_CASE("parse_iso8601 reads iLert's formats", "[unit][time]") {
  // 2021-08-06T08:16:01Z is 1628237761 s after the epoch.
  CHECK(ns_of("2021-08-06T08:16:01.154Z") == 1628237761 * kSec + 154000000);
  CHECK(ns_of("2021-08-06T08:16:01Z") == 1628237761 * kSec);
  CHECK(ns_of("2021-08-06T08:16:01.1Z") == 1628237761 * kSec + 100000000);
  CHECK(ns_of("2021-08-06T08:16:01.154321987Z") == 1628237761 * kSec + 154321987);
  CHECK(ns_of("2021-08-06T08:16:01.000000001Z") == 1628237761 * kSec + 1);
  CHECK(ns_of("1970-01-01T00:00:00Z") == 0);
  CHECK(ns_of("1969-12-31T23:59:59.999Z") == -1000000);
}

TEST_CASE("parse_iso8601 applies the zone offset", "[unit][time]") {
  const std::int64_t utc = ns_of("2021-08-06T08:16:01Z");
  CHECK(ns_of("2021-08-06T10:16:01+02:00") == utc);
  CHECK(ns_of("2021-08-06T02:46:01-05:30") == utc);
  CHECK(ns_of("2021-08-06T08:16:01+00:00") == utc);
  CHECK(ns_of("2021-08-06T08:16:01-00:00") == utc);
  CHECK(ns_of("2021-08-07T07:59:01+23:43") == utc);
  // Crossing midnight and a year boundary.
  CHECK(ns_of("2021-01-01T01:00:00+02:00") == ns_of("2020-12-31T23:00:00Z"));
}

TEST_CASE("parse_iso8601 validates calendar ranges", "[unit][time]") {
  CHECK(parse_iso8601("2024-02-29T00:00:00Z").has_value());  // leap year
  CHECK(parse_iso8601("2000-02-29T00:00:00Z").has_value());  // divisible by 400
  CHECK_FALSE(parse_iso8601("2023-02-29T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("1900-02-29T00:00:00Z"));  // divisible by 100, not 400
  CHECK_FALSE(parse_iso8601("2021-04-31T00:00:00Z"));
  CHECK(parse_iso8601("2021-12-31T23:59:59Z").has_value());
  CHECK_FALSE(parse_iso8601("2021-13-01T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2021-00-10T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2021-01-00T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2021-01-32T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2021-01-01T24:00:00Z"));  // no end-of-day form
  CHECK_FALSE(parse_iso8601("2021-01-01T23:60:00Z"));
  CHECK_FALSE(parse_iso8601("2016-12-31T23:59:60Z"));  // leap seconds are not representable
  CHECK_FALSE(parse_iso8601("2021-01-01T00:00:00+24:00"));
  CHECK_FALSE(parse_iso8601("2021-01-01T00:00:00+01:60"));
}

TEST_CASE("parse_iso8601 rejects other spellings", "[unit][time]") {
  for (const char* text : {
           "",
           "2019-08-29T09: 52: 39.551Z",       // the iLert docs' sample
           "2021-08-06 08:16:01Z",             // space separator
           "2021-08-06t08:16:01Z",             // lower-case t
           "2021-08-06T08:16:01z",             // lower-case z
           "2021-08-06T08:16:01",              // no zone
           "2021-08-06T08:16:01.Z",            // dot without digits
           "2021-08-06T08:16:01.1234567890Z",  // ten fraction digits
           "2021-08-06T08:16:01,5Z",           // comma fraction
           "2021-08-06T08:16:01+0200",         // offset without colon
           "2021-08-06T08:16:01+02",           // offset without minutes
           "2021-08-06T08:16:01+02:00Z",       // two zones
           "2021-08-06T08:16:01Z ",            // trailing space
           " 2021-08-06T08:16:01Z",            // leading space
           "2021-8-06T08:16:01Z",              // one-digit month
           "21-08-06T08:16:01Z",               // two-digit year
           "+2021-08-06T08:16:01Z",            // signed year
           "2021-08-06T08:16Z",                // no seconds
           "2021-08-06",                       // date only
           "2021-08-06T08:16:0aZ",
           "2021-08-06T08:1 :01Z",
           "2021/08/06T08:16:01Z",
       }) {
    INFO(text);
    CHECK_FALSE(parse_iso8601(text));
  }
  // Embedded NUL: the text is a string_view, not a C string.
  CHECK_FALSE(parse_iso8601(std::string("2021-08-06T08:16:01Z\0", 21)));
  CHECK_FALSE(parse_iso8601(std::string("2021-08-06T08:16:01\0Z", 21)));
}

TEST_CASE("parse_iso8601 stays within int64 nanoseconds", "[unit][time]") {
  // The representable range is exactly INT64_MIN .. INT64_MAX nanoseconds.
  CHECK(ns_of("1677-09-21T00:12:43.145224192Z") == INT64_MIN);
  CHECK_FALSE(parse_iso8601("1677-09-21T00:12:43.145224191Z"));
  CHECK(ns_of("2262-04-11T23:47:16.854775807Z") == INT64_MAX);
  CHECK_FALSE(parse_iso8601("2262-04-11T23:47:16.854775808Z"));
  CHECK_FALSE(parse_iso8601("0000-01-01T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("9999-12-31T23:59:59.999999999Z"));
  // The offset moves an instant back into range.
  CHECK(parse_iso8601("2262-04-12T00:47:16+01:00").has_value());
  CHECK_FALSE(parse_iso8601("2262-04-11T23:47:17+00:00"));
}

TEST_CASE("parse_iso8601 agrees with timegm on every day of 1901-2261", "[unit][time]") {
  // An independent check of the days_from_civil arithmetic (glibc's timegm).
  std::tm tm{};
  tm.tm_year = 1901 - 1900;
  tm.tm_mon = 0;
  tm.tm_mday = 1;
  tm.tm_hour = 13;
  tm.tm_min = 7;
  tm.tm_sec = 42;
  int checked = 0;
  int mismatches = 0;
  for (;;) {
    std::tm copy = tm;
    const std::time_t secs = timegm(&copy);
    if (copy.tm_year + 1900 >= 2262) break;
    char text[40];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", copy.tm_year + 1900, copy.tm_mon + 1,
                  copy.tm_mday, copy.tm_hour, copy.tm_min, copy.tm_sec);
    const std::optional<UtcTime> parsed = parse_iso8601(text);
    if (!parsed || parsed->time_since_epoch().count() != static_cast<std::int64_t>(secs) * kSec) {
      ++mismatches;
      if (mismatches < 5) FAIL_CHECK(text);
    }
    ++checked;
    tm = copy;
    tm.tm_mday += 1;
  }
  CHECK(checked > 130000);
  CHECK(mismatches == 0);
}

TEST_CASE("format_iso8601_millis writes UTC with milliseconds", "[unit][time]") {
  CHECK(format_iso8601_millis(at_ns(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601_millis(at_ns(1628237761 * kSec + 154999999)) == "2021-08-06T08:16:01.154Z");
  CHECK(format_iso8601_millis(at_ns(-1)) == "1969-12-31T23:59:59.999Z");  // floors, never rounds up
  CHECK(format_iso8601_millis(at_ns(-kSec)) == "1969-12-31T23:59:59.000Z");
  CHECK(format_iso8601_millis(at_ns(951782400 * kSec)) == "2000-02-29T00:00:00.000Z");
  CHECK(format_iso8601_millis(at_ns(INT64_MIN)) == "1677-09-21T00:12:43.145Z");
  CHECK(format_iso8601_millis(at_ns(INT64_MAX)) == "2262-04-11T23:47:16.854Z");
}

TEST_CASE("format then parse gives the instant floored to milliseconds", "[unit][time]") {
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const auto ns = static_cast<std::int64_t>(x);
    const std::string text = format_iso8601_millis(at_ns(ns));
    std::int64_t floored = ns / 1000000 * 1000000;
    if (ns < 0 && ns % 1000000 != 0) floored -= 1000000;
    const std::optional<UtcTime> back = parse_iso8601(text);
    INFO(text);
    if (floored < INT64_MIN + 1000000) continue;  // the floor of the very first ms is outside the range
    REQUIRE(back.has_value());
    CHECK(back->time_since_epoch().count() == floored);
  }
}
