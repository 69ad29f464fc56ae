// tests/test_json_scan.cpp [parse]: the JSON tokenizer behind parse_event (src/json_scan.hpp),
// directly through a recording handler, and through parse_event where the tokenizer's edge cases
// meet the error rules: 16-byte chunk boundaries (strings, escapes and multi-byte sequences
// straddling them or ending exactly at the body's end), every class of ill-formed UTF-8, escapes
// cut short by the end of the body, RapidJSON's "number too big" rule, deep nesting without
// recursion, and decoded strings staying valid for the whole scan.
//
// Bodies are copied into exactly-sized heap blocks (`Exact`), so an ASan build catches any read
// past the end (std::string keeps spare capacity and a terminator).
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../src/json_scan.hpp"
#include "ilert_sumo/parse.hpp"
#include "support/catch.hpp"

using namespace ilert_sumo;
using detail::json::ScanError;
using detail::json::ScanResult;

namespace {

/// A copy of `s` in a heap block of exactly s.size() bytes.
class Exact {
 public:
  explicit Exact(std::string_view s) : size_(s.size()), data_(new char[s.size() == 0 ? 1 : s.size()]) {
    if (!s.empty()) std::memcpy(data_.get(), s.data(), s.size());
  }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::size_t size_;
  std::unique_ptr<char[]> data_;
};

/// Records every callback as text, and keeps the string views it was given so the test can check
/// they are still intact at the end of the scan.
struct Recorder {
  std::string log;
  std::vector<std::pair<std::string_view, std::string>> views;  // view, copy taken at callback time
  std::size_t depth = 0;
  std::size_t max_depth = static_cast<std::size_t>(-1);

  void add(const std::string& s) {
    if (!log.empty()) log += ' ';
    log += s;
  }
  bool on_null(std::size_t at) {
    add("null@" + std::to_string(at));
    return true;
  }
  bool on_bool(bool b, std::size_t at) {
    add((b ? "true@" : "false@") + std::to_string(at));
    return true;
  }
  bool on_number(std::string_view raw, std::size_t at) {
    add("n:" + std::string(raw) + "@" + std::to_string(at));
    return true;
  }
  bool on_string(std::string_view s, std::size_t at) {
    views.emplace_back(s, std::string(s));
    add("s:" + std::string(s) + "@" + std::to_string(at));
    return true;
  }
  bool on_key(std::string_view s, std::size_t at) {
    views.emplace_back(s, std::string(s));
    add("k:" + std::string(s) + "@" + std::to_string(at));
    return true;
  }
  bool on_start_object(std::size_t at) {
    if (depth >= max_depth) return false;
    ++depth;
    add("{@" + std::to_string(at));
    return true;
  }
  bool on_start_array(std::size_t at) {
    if (depth >= max_depth) return false;
    ++depth;
    add("[@" + std::to_string(at));
    return true;
  }
  bool on_end_object() {
    --depth;
    add("}");
    return true;
  }
  bool on_end_array() {
    --depth;
    add("]");
    return true;
  }
};

struct Scanned {
  ScanResult result;
  Recorder recorder;
};

Scanned scan(std::string_view text, std::size_t max_depth = static_cast<std::size_t>(-1)) {
  static detail::json::Workspace workspace;  // reused, like parse_event's per-thread one
  const Exact body(text);
  Scanned out;
  out.recorder.max_depth = max_depth;
  out.result = detail::json::scan_json(body.view(), out.recorder, workspace);
  for (const auto& [view, copy] : out.recorder.views) {
    // Views into the body are checked before it goes away; views into the scratch buffer too.
    CHECK(std::string(view) == copy);
  }
  return out;
}

void expect_scan_error(std::string_view text, ScanError error, std::size_t offset) {
  INFO(std::string(text.substr(0, 200)));
  const Scanned s = scan(text);
  CHECK(static_cast<int>(s.result.error) == static_cast<int>(error));
  CHECK(s.result.offset == offset);
}

/// The decoded contents of a top-level string.
std::string scan_string(std::string_view body) {
  const Scanned s = scan(body);
  INFO(std::string(body.substr(0, 200)));
  REQUIRE(s.result.error == ScanError::none);
  REQUIRE(s.recorder.views.size() == 1);
  return s.recorder.views[0].second;
}

Error parse_err(std::string_view body, const ParseOptions& options = {}) {
  const Exact exact(body);
  Expected<Event> r = parse_event(exact.view(), options);
  INFO((r ? std::string("OK") : r.error().to_string()));
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

std::string parse_summary(std::string_view body) {
  const Exact exact(body);
  Expected<Event> r = parse_event(exact.view());
  INFO((r ? std::string("OK") : r.error().to_string()));
  REQUIRE(r.has_value());
  REQUIRE(base_of(*r).alert.summary.has_value());
  return *base_of(*r).alert.summary;
}

const std::string kHead = R"({"id":1,"eventType":"x","summary":")";

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("json_scan: callbacks and offsets", "[parse]") {
  const Scanned s = scan(" {\"a\" : [1, -2.5e+3, true, false, null, \"x\\ny\", {}, []], \"b\":{\"c\":0}} \n");
  CHECK(s.result.error == ScanError::none);
  CHECK(s.recorder.log ==
        "{@1 k:a@2 [@8 n:1@9 n:-2.5e+3@12 true@21 false@27 null@34 s:x\ny@40 {@48 } [@52 ] ] k:b@57 {@61 k:c@62 n:0@66 "
        "} }");
  // Any value may be the top-level one.
  CHECK(scan("\"top\"").recorder.log == "s:top@0");
  CHECK(scan(" 12 ").recorder.log == "n:12@1");
  CHECK(scan("null").recorder.log == "null@0");
}

TEST_CASE("json_scan: syntax errors stop where RapidJSON's reader stopped", "[parse]") {
  expect_scan_error("{\"a\":1,}", ScanError::object_miss_name, 7);
  expect_scan_error("[1,]", ScanError::value_invalid, 3);
  expect_scan_error("{\"a\" 1}", ScanError::object_miss_colon, 5);
  expect_scan_error("{\"a\":1 \"b\":2}", ScanError::object_miss_comma_or_curly, 7);
  expect_scan_error("[1 2]", ScanError::array_miss_comma_or_bracket, 3);
  expect_scan_error("{} x", ScanError::trailing_data, 3);
  expect_scan_error("{}{}", ScanError::trailing_data, 2);
  expect_scan_error(std::string(" \0{}", 4), ScanError::document_empty, 1);
  expect_scan_error("}", ScanError::value_invalid, 0);
  expect_scan_error("\f{}", ScanError::value_invalid, 0);
  // Literals: at the first byte that differs, also when the body ends.
  expect_scan_error("tru", ScanError::value_invalid, 3);
  expect_scan_error("[tRue]", ScanError::value_invalid, 2);
  expect_scan_error("nul", ScanError::value_invalid, 3);
  expect_scan_error("[nulL]", ScanError::value_invalid, 4);
  expect_scan_error("fals", ScanError::value_invalid, 4);
  expect_scan_error("[f", ScanError::value_invalid, 2);
  expect_scan_error("[", ScanError::value_invalid, 1);
  expect_scan_error("{", ScanError::object_miss_name, 1);
  expect_scan_error("{\"a\"", ScanError::object_miss_colon, 4);
  expect_scan_error("{\"a\":", ScanError::value_invalid, 5);
  expect_scan_error("[1", ScanError::array_miss_comma_or_bracket, 2);
  // A byte >= 0x80 outside a string: invalid_utf8 when ill-formed, else the syntax error.
  expect_scan_error("[\xFF]", ScanError::invalid_utf8, 1);
  expect_scan_error("[\xC3\xA9]", ScanError::value_invalid, 1);
  expect_scan_error("{} \xC3", ScanError::invalid_utf8, 3);
  expect_scan_error("{} \xC3\xA9", ScanError::trailing_data, 3);
  expect_scan_error("tr\xE2\x82", ScanError::invalid_utf8, 2);
}

TEST_CASE("json_scan: numbers", "[parse]") {
  for (const char* ok : {"0", "-0", "1", "-1", "10", "1.5", "-0.0", "1e5", "1E+5", "1e-5", "123456789012345678901234567890",
                         "0.000001", "1e308", "0.1e309", "-1e308", "1e-400", "1e-99999999999"}) {
    INFO(ok);
    const Scanned s = scan(std::string("[") + ok + "]");
    CHECK(s.result.error == ScanError::none);
    CHECK(s.recorder.log == std::string("[@0 n:") + ok + "@1 ]");
    // Ending exactly at the body's end.
    CHECK(scan(ok).recorder.log == std::string("n:") + ok + "@0");
  }
  expect_scan_error("-", ScanError::value_invalid, 1);
  expect_scan_error("[-a]", ScanError::value_invalid, 2);
  expect_scan_error("[+1]", ScanError::value_invalid, 1);
  expect_scan_error("[.5]", ScanError::value_invalid, 1);
  expect_scan_error("[01]", ScanError::array_miss_comma_or_bracket, 2);
  expect_scan_error("[1.]", ScanError::number_miss_fraction, 3);
  expect_scan_error("1.", ScanError::number_miss_fraction, 2);
  expect_scan_error("[1.e5]", ScanError::number_miss_fraction, 3);
  expect_scan_error("[1e]", ScanError::number_miss_exponent, 3);
  expect_scan_error("[1e+]", ScanError::number_miss_exponent, 4);
  expect_scan_error("1E-", ScanError::number_miss_exponent, 3);
  // RapidJSON's "too big": a positive exponent above 308 (minus the counted fraction digits), or an
  // integer part that grows past DBL_MAX / 10 while being read; reported at the first byte.
  expect_scan_error("[1e400]", ScanError::number_too_big, 1);
  expect_scan_error("[-1e400]", ScanError::number_too_big, 1);
  expect_scan_error("[1e309]", ScanError::number_too_big, 1);
  expect_scan_error("[1E+0000309]", ScanError::number_too_big, 1);
  expect_scan_error("[0.5e99999999999999999999]", ScanError::number_too_big, 1);
  expect_scan_error("[" + std::string(400, '9') + "]", ScanError::number_too_big, 1);
  expect_scan_error("[-" + std::string(400, '9') + "]", ScanError::number_too_big, 1);
  // Found while reading the integer part: before a missing fraction digit.
  expect_scan_error("[" + std::string(400, '9') + ".]", ScanError::number_too_big, 1);
  CHECK(scan("[" + std::string(300, '9') + "]").result.error == ScanError::none);
  CHECK(scan("[1" + std::string(307, '0') + "]").result.error == ScanError::none);
}

TEST_CASE("json_scan: strings ending at every position around 16-byte chunks", "[parse]") {
  for (std::size_t n = 0; n < 50; ++n) {
    INFO(n);
    const std::string text(n, 'a');
    // Closed exactly at the body's end, and unterminated at the body's end.
    CHECK(scan_string("\"" + text + "\"") == text);
    expect_scan_error("\"" + text, ScanError::unterminated_string, n + 1);
    // A control character, a raw NUL, at each position.
    expect_scan_error("\"" + text + "\x1F\"", ScanError::control_character, n + 1);
    expect_scan_error("\"" + text + std::string(1, '\0') + "\"", ScanError::control_character, n + 1);
    expect_scan_error("\"" + text + "\t", ScanError::control_character, n + 1);
    // An escape at each position, also the very last bytes of the body.
    CHECK(scan_string("\"" + text + "\\n\"") == text + "\n");
    CHECK(scan_string("\"" + text + "\\n" + text + "\"") == text + "\n" + text);
    CHECK(scan_string("\"" + text + "\\\"" + text + "\\\\\"") == text + "\"" + text + "\\");
    CHECK(scan_string("\"\\t" + text + "\"") == "\t" + text);
    expect_scan_error("\"" + text + "\\", ScanError::escape_invalid, n + 1);
    expect_scan_error("\"" + text + "\\n", ScanError::unterminated_string, n + 3);
    expect_scan_error("\"\\n" + text, ScanError::unterminated_string, n + 3);
    expect_scan_error("\"\\n" + text + "\x01", ScanError::control_character, n + 3);
  }
}

TEST_CASE("json_scan: every control character is rejected at every alignment", "[parse]") {
  // RapidJSON 1.1.0's SSE2 scan let 0x1A..0x1F through when they fell in an aligned block; RFC 8259
  // requires all of U+0000..U+001F to be escaped, wherever they are.
  for (unsigned c = 0; c < 0x20; ++c) {
    for (std::size_t n = 0; n < 40; ++n) {
      INFO(c << " at " << n);
      const std::string text(n, 'a');
      expect_scan_error("\"" + text + static_cast<char>(c) + text + "\"", ScanError::control_character, n + 1);
      expect_scan_error("\"\\n" + text + static_cast<char>(c) + text + "\"", ScanError::control_character, n + 3);
    }
    const Error e = parse_err(kHead + std::string(37, 'x') + static_cast<char>(c) + "\"}");
    CHECK(e.code == ErrorCode::syntax);
    CHECK(e.offset == kHead.size() + 37);
    CHECK(e.path == "summary");
    CHECK(e.message.find("unescaped control character") != std::string::npos);
  }
}

TEST_CASE("json_scan: multi-byte sequences straddling chunk edges are kept", "[parse]") {
  const std::vector<std::string> chars = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
                                          "\xED\x9F\xBF", "\xEE\x80\x80", "\xC2\x80", "\xEF\xBF\xBF"};
  for (std::size_t pad = 0; pad < 34; ++pad) {
    for (const std::string& c : chars) {
      INFO(pad << " " << c.size());
      const std::string text = std::string(pad, 'x') + c + "y" + c + c;
      CHECK(scan_string("\"" + text + "\"") == text);
      // With an escape before it (the decoding path copies it).
      CHECK(scan_string("\"\\/" + text + "\"") == "/" + text);
      // Right at the end of an unterminated body.
      expect_scan_error("\"" + std::string(pad, 'x') + c, ScanError::unterminated_string, pad + 1 + c.size());
    }
  }
}

TEST_CASE("json_scan: every class of ill-formed UTF-8, at every alignment", "[parse]") {
  const std::vector<std::string> bad = {
      "\xC0\xAF",          // overlong '/'
      "\xC1\xBF",          // overlong
      "\xE0\x9F\xBF",      // overlong 3-byte
      "\xF0\x8F\xBF\xBF",  // overlong 4-byte
      "\xED\xA0\x80",      // U+D800 encoded
      "\xED\xBF\xBF",      // U+DFFF encoded
      "\xF4\x90\x80\x80",  // U+110000
      "\xF5\x80\x80\x80",  // beyond U+10FFFF
      "\xFF",
      "\x80",              // stray continuation
      "\xC3\x28",          // bad continuation
      "\xE2\x82\x28",
      "\xF0\x9F\x98\x28",
  };
  // Truncated sequences: ill-formed at the end of the body, or before the closing quote.
  const std::vector<std::string> truncated = {"\xC3", "\xE2\x82", "\xF0\x9F\x98", "\xF4\x8F"};
  for (std::size_t pad = 0; pad < 34; ++pad) {
    const std::string text(pad, 'a');
    for (const std::string& seq : bad) {
      INFO(pad << " " << seq.size());
      expect_scan_error("\"" + text + seq + "\"", ScanError::invalid_utf8, pad + 1);
      expect_scan_error("\"\\n" + text + seq + "\"", ScanError::invalid_utf8, pad + 3);  // decoding path
      expect_scan_error("[\"\xC3\xA9" + text + seq + "zz\"]", ScanError::invalid_utf8, pad + 4);
    }
    for (const std::string& seq : truncated) {
      INFO(pad << " truncated " << seq.size());
      expect_scan_error("\"" + text + seq, ScanError::invalid_utf8, pad + 1);
      expect_scan_error("\"" + text + seq + "\"", ScanError::invalid_utf8, pad + 1);
      expect_scan_error("\"\\n" + text + seq, ScanError::invalid_utf8, pad + 3);
    }
  }
}

TEST_CASE("json_scan: unicode escapes", "[parse]") {
  CHECK(scan_string(R"("\u0041\u00e9\u20AC\uD83D\uDE00")") == "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  CHECK(scan_string(R"("a\u0000b")") == std::string("a\0b", 3));
  CHECK(scan_string(R"("\uDBFF\uDFFF\uD800\uDC00")") == "\xF4\x8F\xBF\xBF\xF0\x90\x80\x80");
  CHECK(scan_string(R"("\\uDC00")") == "\\uDC00");
  CHECK(scan_string(R"("\"\\\/\b\f\n\r\t")") == "\"\\/\b\f\n\r\t");
  // Errors are reported at the escape's backslash (the first one of a pair).
  expect_scan_error(R"("ab\uDC00")", ScanError::lone_low_surrogate, 3);
  expect_scan_error(R"("ab\uD83D")", ScanError::unicode_surrogate_invalid, 3);
  expect_scan_error(R"("ab\uD83Dx")", ScanError::unicode_surrogate_invalid, 3);
  expect_scan_error(R"("ab\uD83D\n")", ScanError::unicode_surrogate_invalid, 3);
  expect_scan_error(R"("ab\uD83D\u0041")", ScanError::unicode_surrogate_invalid, 3);
  expect_scan_error(R"("ab\uD83D\uD83D")", ScanError::unicode_surrogate_invalid, 3);
  expect_scan_error(R"("ab\uD83D\uDG00")", ScanError::unicode_escape_invalid_hex, 3);
  expect_scan_error(R"("ab\u12G4")", ScanError::unicode_escape_invalid_hex, 3);
  expect_scan_error(R"("ab\x")", ScanError::escape_invalid, 3);
  expect_scan_error("\"ab\\\xC3\xA9\"", ScanError::escape_invalid, 3);
  // Cut short by the end of the body at every byte.
  const std::string pair = R"("ab\uD83D\uDE00")";
  for (std::size_t cut = 4; cut < pair.size(); ++cut) {
    INFO(cut);
    const ScanError expected = cut == 4    ? ScanError::escape_invalid
                               : cut < 9   ? ScanError::unicode_escape_invalid_hex
                               : cut < 11  ? ScanError::unicode_surrogate_invalid
                               : cut < 15  ? ScanError::unicode_escape_invalid_hex
                                           : ScanError::unterminated_string;
    expect_scan_error(pair.substr(0, cut), expected, expected == ScanError::unterminated_string ? cut : 3);
  }
  // A pair straddling every chunk edge, and many escapes in one string.
  for (std::size_t pad = 0; pad < 34; ++pad) {
    INFO(pad);
    const std::string text(pad, 'z');
    CHECK(scan_string("\"" + text + R"(\uD83D\uDE00)" + text + "\"") == text + "\xF0\x9F\x98\x80" + text);
    expect_scan_error("\"" + text + R"(\uDE00")", ScanError::lone_low_surrogate, pad + 1);
  }
  CHECK(scan_string("\"" + repeat("\\u00e9x", 1000) + "\"") == repeat("\xC3\xA9x", 1000));
}

TEST_CASE("json_scan: decoded strings stay valid for the whole scan", "[parse]") {
  // Many escaped keys and values: every view is compared with its copy after the scan.
  std::string body = "{";
  for (int i = 0; i < 200; ++i) {
    if (i) body += ",";
    body += "\"k\\u00e9" + std::to_string(i) + "\":[\"v\\n" + std::string(static_cast<std::size_t>(i % 40), 'x') +
            "\",\"plain\"]";
  }
  body += "}";
  const Scanned s = scan(body);
  CHECK(s.result.error == ScanError::none);
  CHECK(s.recorder.views.size() == 600);
}

TEST_CASE("json_scan: nesting is iterative, the handler sets the limit", "[parse]") {
  // 100 000 open brackets, no limit: the end of input is found without recursion.
  expect_scan_error(repeat("[", 100000), ScanError::value_invalid, 100000);
  expect_scan_error(repeat("{\"a\":", 100000), ScanError::value_invalid, 500000);
  const Scanned ok = scan(repeat("[", 100000) + repeat("]", 100000));
  CHECK(ok.result.error == ScanError::none);
  // A handler that refuses the 65th level.
  const Scanned limited = scan(repeat("[", 100000), 64);
  CHECK(limited.result.error == ScanError::handler);
  CHECK(limited.recorder.depth == 64);
}

TEST_CASE("parse_event: tokenizer edge cases keep their error rules", "[parse]") {
  const std::size_t h = kHead.size();
  for (std::size_t pad = 0; pad < 40; ++pad) {
    INFO(pad);
    const std::string text(pad, 'x');
    // The body ends inside the summary: unterminated at the end, or ill-formed UTF-8 at the cut.
    CHECK(parse_err(kHead + text).message == "unterminated string");
    CHECK(parse_err(kHead + text).offset == h + pad);
    const Error cut = parse_err(kHead + text + "\xE2\x82");
    CHECK(cut.code == ErrorCode::invalid_utf8);
    CHECK(cut.offset == h + pad);
    CHECK(cut.path == "summary");
    // Escapes and multi-byte text at every alignment decode exactly.
    CHECK(parse_summary(kHead + text + R"(\u00e9\n\uD83D\uDE00)" "\xE2\x82\xAC" + text + "\"}") ==
          text + "\xC3\xA9\n\xF0\x9F\x98\x80\xE2\x82\xAC" + text);
    // A lone low surrogate escape: its own message, at its backslash.
    const Error lone = parse_err(kHead + text + R"(\uDC05")" "}");
    CHECK(lone.code == ErrorCode::invalid_unicode_escape);
    CHECK(lone.offset == h + pad);
    CHECK(lone.message == "lone low surrogate \\uDC05 (not preceded by a high surrogate)");
  }
  // Outside strings a lone low escape is "unexpected '\'", like before.
  CHECK(parse_err(R"({"id":1,"eventType":"x"} \uDC00)").message == "unexpected '\\'");
  CHECK(parse_err(R"({"id":1,"eventType":"x"} \n)").message == "unexpected '\\' after the top-level object");
  // Numbers too big for RapidJSON's limit are number_out_of_range wherever they are.
  const Error big = parse_err(R"({"id":1,"eventType":"x","labels":[1,2,-1e400]})");
  CHECK(big.code == ErrorCode::number_out_of_range);
  CHECK(big.path == "labels[2]");
  CHECK(big.offset == 38);
  CHECK(big.message == "number too large to represent");
  // Every truncation of a valid body fails cleanly (ASan watches the reads).
  const std::string full = R"({"id":"12","eventType":"alert-created","summary":"caf\u00e9 \uD83D\uDE80 )"
                           "\xE6\x97\xA5\xE6\x9C\xAC" R"(","labels":{"a":[1.5e3,true,false,null]}})";
  for (std::size_t n = 0; n < full.size(); ++n) {
    INFO(n);
    const Exact exact(std::string_view(full).substr(0, n));
    CHECK_FALSE(parse_event(exact.view()).has_value());
  }
  const Exact exact(full);
  CHECK(parse_event(exact.view()).has_value());
}
