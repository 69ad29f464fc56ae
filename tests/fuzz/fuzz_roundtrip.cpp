// tests/fuzz/fuzz_roundtrip.cpp: libFuzzer target for the Sumo line (built with
// -DILERT_SUMO_BUILD_FUZZERS=ON, clang). The bytes drive the construction of an Event directly
// (not a body), so the writer meets what the parser never produces: invalid UTF-8, huge strings,
// odd type mismatches and extra fields, every kind, any receipt time. Whatever the event:
//   * to_sumo_line() gives one line of valid JSON, at most the cap, starting with `time`, that
//     parse_event() accepts;
//   * when the event's strings are valid UTF-8 and the line was not cut, parsing the line gives
//     back an equal event, and rendering that again gives the same line (round trip).
// A mismatch aborts: that is a real finding, keep the input.
//
// Run: build-fuzz/bin/fuzz_roundtrip -max_total_time=60 <corpus-dir>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_line.hpp"

using namespace ilert_sumo;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_roundtrip: %s\n%s\n", what, detail.substr(0, 3000).c_str());
  std::abort();
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80                   ? 1
                    : (c >= 0xC2 && c <= 0xDF) ? 2
                    : (c >= 0xE0 && c <= 0xEF) ? 3
                    : (c >= 0xF0 && c <= 0xF4) ? 4
                                               : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    const auto d = static_cast<unsigned char>(s[i + 1 < s.size() ? i + 1 : i]);
    if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F) || (c == 0xF0 && d < 0x90) || (c == 0xF4 && d > 0x8F))
      return false;
    i += n;
  }
  return true;
}

struct Builder {
  FuzzedDataProvider& in;
  bool utf8 = true;  // every string put in the event is valid UTF-8

  std::string text(std::size_t max = 64) {
    std::string s = in.ConsumeRandomLengthString(max);
    if (in.ConsumeBool()) s.append(in.ConsumeIntegralInRange<std::size_t>(0, 200000), 'x');  // sometimes huge
    utf8 = utf8 && valid_utf8(s);
    return s;
  }
  std::optional<std::string> opt_text() {
    if (!in.ConsumeBool()) return std::nullopt;
    return text();
  }
  std::optional<std::int64_t> opt_id() {
    if (!in.ConsumeBool()) return std::nullopt;
    return in.ConsumeIntegralInRange<std::int64_t>(1, INT64_MAX);
  }
  std::optional<Timestamp> opt_time() {
    if (!in.ConsumeBool()) return std::nullopt;
    Timestamp t;
    if (in.ConsumeBool()) {
      t.raw = "2026-03-14T09:" + std::to_string(in.ConsumeIntegralInRange(10, 59)) + ":0" +
              std::to_string(in.ConsumeIntegralInRange(0, 9)) + "." +
              std::to_string(in.ConsumeIntegralInRange(100, 999)) + "Z";
    } else {
      t.raw = text(30);
    }
    t.utc = parse_iso8601(t.raw);
    return t;
  }
  /// A small valid JSON value, compact.
  std::string json(int depth = 0) {
    switch (in.ConsumeIntegralInRange(0, depth > 3 ? 3 : 5)) {
      case 0: return "null";
      case 1: return in.ConsumeBool() ? "true" : "false";
      case 2: return std::to_string(in.ConsumeIntegral<int>());
      case 3: {
        std::string s = "\"";
        for (const char c : in.ConsumeRandomLengthString(20)) {
          if (c >= 'a' && c <= 'z') s += c;
        }
        return s + "\"";
      }
      case 4: {
        std::string s = "[";
        const int n = in.ConsumeIntegralInRange(0, 3);
        for (int i = 0; i < n; ++i) s += (i ? "," : "") + json(depth + 1);
        return s + "]";
      }
      default: {
        std::string s = "{";
        const int n = in.ConsumeIntegralInRange(0, 3);
        for (int i = 0; i < n; ++i) s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + json(depth + 1);
        return s + "}";
      }
    }
  }

  static std::string not_null(std::string v) { return v == "null" ? "{}" : v; }

  Event event() {
    Event e;
    switch (in.ConsumeIntegralInRange(0, 13)) {
      case 0: e = AlertCreated{}; break;
      case 1: e = AlertAccepted{}; break;
      case 2: e = AlertRerouted{}; break;
      case 3: e = AlertEscalated{}; break;
      case 4: e = AlertPriorityRaised{}; break;
      case 5: {
        AlertResolved r;
        r.automatic = in.ConsumeBool();
        e = r;
        break;
      }
      case 6: e = AlertCommentAdded{}; break;
      case 7: e = ResponderAdded{}; break;
      case 8: e = ResponderRemoved{}; break;
      case 9: e = ChannelAttached{}; break;
      case 10: e = ChannelDetached{}; break;
      case 11: e = AlertEscalationEnded{}; break;
      case 12: e = AlertNotResolved{}; break;
      default: e = UnknownEvent{}; break;
    }
    EventBase& b = base_of(e);
    if (kind_of(e) == EventKind::unknown) {
      b.received_type = "x-" + text(20);
    } else {
      b.received_type = std::string(canonical_event_type(e));
    }
    b.received_at = UtcTime(std::chrono::milliseconds(in.ConsumeIntegralInRange<std::int64_t>(0, 4102444800000)));
    Alert& a = b.alert;
    a.id = in.ConsumeIntegralInRange<std::int64_t>(1, INT64_MAX);
    a.summary = opt_text();
    a.details = opt_text();
    a.report_time = opt_time();
    a.timestamp = opt_time();
    a.resolved_on = opt_time();
    a.alert_key = opt_text();
    if (in.ConsumeBool()) a.alert_source = NamedRef{opt_id(), opt_text()};
    if (in.ConsumeBool()) a.severity = in.ConsumeIntegralInRange<std::int64_t>(1, 5);
    // (null is "absent" for these: the parser gives nullopt)
    if (in.ConsumeBool()) a.labels_json = not_null(json());
    if (in.ConsumeBool()) a.custom_details_json = not_null(json());
    const int responders = in.ConsumeIntegralInRange(0, 4);
    for (int i = 0; i < responders; ++i) {
      Responder r;
      if (in.ConsumeBool()) r.user = User{opt_id(), opt_text(), std::nullopt, std::nullopt, opt_text()};
      r.accepted_at = opt_time();
      a.responders.push_back(std::move(r));
    }
    if (in.ConsumeBool() && !a.comment)
      a.type_mismatches.push_back(TypeMismatch{"comment", "comment", "{\"content\":" + json() + "}"});
    if (in.ConsumeBool() && !a.severity) a.type_mismatches.push_back(TypeMismatch{"severity", "severity", "\"high\""});
    const int extras = in.ConsumeIntegralInRange(0, 3);
    for (int i = 0; i < extras; ++i) a.extra_fields.push_back(ExtraField{"x" + std::to_string(i) + "Extra", json()});
    return e;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  Builder build{in};
  LineOptions options;
  options.max_line_bytes = in.ConsumeIntegralInRange<std::size_t>(kMinMaxLineBytes, 2 * kDefaultMaxLineBytes);
  const Event event = build.event();
  const std::string line = to_sumo_line(event, options);
  if (line.size() > options.max_line_bytes) fail("line longer than the cap", std::to_string(line.size()));
  if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) fail("raw line break", line);
  if (line.rfind("{\"time\":\"", 0) != 0) fail("the line does not start with time", line);
  ParseOptions big;
  big.max_body_bytes = 1u << 30;
  big.strict_types = false;
  const Expected<Event> back = parse_event(line, big);
  if (!back) fail("the line does not parse", back.error().to_string() + "\n" + line);
  const bool cut = line.find("\"ilertSumoTruncated\":") != std::string::npos;
  if (build.utf8 && !cut) {
    if (!(*back == event)) fail("round trip changed the event", line);
    if (to_sumo_line(*back, options) != line) fail("line not stable after a round trip", line);
  }
  return 0;
}
