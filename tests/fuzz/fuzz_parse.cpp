// tests/fuzz/fuzz_parse.cpp: libFuzzer target for parse_event (built with -DILERT_SUMO_BUILD_FUZZERS=ON,
// clang). Whatever the bytes, parse_event must not crash, hang or read out of bounds (ASan/UBSan
// watch that). When it succeeds, the Sumo line must be one line of JSON that parses back to an
// equal event, and dedup_id must match the line; when it fails, the invalid-payload line must
// still be one line. parse_event() must give exactly what the parser's always-validating reader
// path gives (src/parse/parse_internal.hpp). A mismatch aborts: that is a real finding, keep the input.
//
// Run: build-fuzz/bin/fuzz_parse -dict=tests/fuzz/json.dict -max_total_time=60 <corpus-dir>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "parse/parse_internal.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_parse: %s\n%s\n", what, detail.substr(0, 2000).c_str());
  std::abort();
}

bool has_line_break(const std::string& s) {
  return s.find('\n') != std::string::npos || s.find('\r') != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  ilert_sumo::ParseOptions at;  // one receipt time for both paths, so their events can be equal
  at.received_at = ilert_sumo::UtcTime(std::chrono::milliseconds(1764979200123));
  auto parsed = ilert_sumo::parse_event(body, at);
  const auto validated = ilert_sumo::detail::parse_event_reader_validates(body, at);
  if (parsed.has_value() != validated.has_value()) fail("the two reader paths disagree on success", std::string(body));
  if (!parsed) {
    const ilert_sumo::Error& a = parsed.error();
    const ilert_sumo::Error& b = validated.error();
    if (a.code != b.code || a.offset != b.offset || a.path != b.path || a.message != b.message) {
      fail("the two reader paths give different errors", a.to_string() + "\n" + b.to_string());
    }
  } else if (!(*parsed == *validated)) {
    fail("the two reader paths give different events", std::string(body));
  }
  if (!parsed) {
    const std::string line = ilert_sumo::to_invalid_payload_line(body, parsed.error());
    if (has_line_break(line)) fail("raw line break in the invalid-payload line", line);
    return 0;
  }
  const ilert_sumo::Event& event = *parsed;
  const std::string line = ilert_sumo::to_sumo_line(event);
  if (has_line_break(line)) fail("raw line break in the Sumo line", line);
  if (line.rfind("{\"time\":\"", 0) != 0) fail("the Sumo line does not start with time", line);

  ilert_sumo::ParseOptions big;
  big.max_body_bytes = 1u << 30;
  auto back = ilert_sumo::parse_event(line, big);
  if (!back) fail("the Sumo line does not parse", back.error().to_string() + "\n" + line);
  // A line cut to the cap (ilertSumoTruncated) is not the whole event any more.
  const bool cut = line.find("\"ilertSumoTruncated\":") != std::string::npos;
  if (!cut && !(*back == event)) fail("round trip changed the event", line);
  const ilert_sumo::Alert& alert = ilert_sumo::base_of(event).alert;
  if (!alert.event_id || alert.event_id->empty()) {
    const std::string tail = ",\"dedupId\":\"" + ilert_sumo::dedup_id(event) + "\"}";
    if (line.size() < tail.size() || line.compare(line.size() - tail.size(), tail.size(), tail) != 0) {
      fail("dedupId in the line differs from dedup_id()", line);
    }
  }
  if (!cut && ilert_sumo::to_sumo_line(*back) != line) fail("line not stable after a round trip", line);
  return 0;
}
