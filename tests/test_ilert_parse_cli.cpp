// tests/test_ilert_parse_cli.cpp [cli]: runs the built `ilert-parse` example (build/bin) on the
// bundled samples (examples/samples), on files written here and on standard input, and checks
// the exact stdout lines and the exit status (0 all parsed, 1 some failed, 2 usage error).
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ilert_sumo;
using ilert_sumo::test::TempDir;

namespace {

struct Run {
  std::vector<std::string> lines;  // stdout split on '\n'
  std::string out;                 // stdout as is
  std::string err;                 // stderr
  int status = -1;                 // exit status, -1 when killed by a signal
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

std::string samples_dir() { return test::fixture_path("../../examples/samples"); }

// Runs `ilert-parse <args>` in `cwd` (stdin from `stdin_file` or /dev/null).
Run run(const std::string& cwd, const std::string& args, const std::string& stdin_file = "/dev/null") {
  const std::string bin = test::bin_path("ilert-parse");
  INFO("binary: " << bin << " (built with the examples)");
  REQUIRE(fs::exists(bin));
  TempDir tmp("ilert-parse-test");
  const std::string err_file = tmp / "stderr";
  const std::string cmd =
      "cd " + quote(cwd) + " && " + quote(bin) + " " + args + " < " + quote(stdin_file) + " 2> " + quote(err_file);
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = test::read_file(err_file);
  std::size_t start = 0;
  while (start < r.out.size()) {
    const std::size_t nl = r.out.find('\n', start);
    if (nl == std::string::npos) {
      r.lines.push_back(r.out.substr(start));
      break;
    }
    r.lines.push_back(r.out.substr(start, nl - start));
    start = nl + 1;
  }
  return r;
}

const std::vector<std::string> kGoodSamples = {
    "01-alert-created.json",          "02-alert-acknowledged.json",     "03-alert-assigned.json",
    "04-alert-auto-escalated.json",   "05-alert-raised.json",           "06-alert-resolved.json",
    "07-alert-comment-added.json",    "08-alert-responder-added.json",  "09-alert-responder-removed.json",
    "10-alert-channel-attached.json", "11-alert-channel-detached.json", "12-incident-created.json",
    "13-alert-escalation-ended.json"};

const std::vector<std::string> kGoodLines = {
    "01-alert-created.json: OK AlertCreated alert-created id=8532156",
    "02-alert-acknowledged.json: OK AlertAccepted alert-acknowledged id=8532156",
    "03-alert-assigned.json: OK AlertRerouted alert-assigned id=8532157",
    "04-alert-auto-escalated.json: OK AlertEscalated alert-auto-escalated id=8532158",
    "05-alert-raised.json: OK AlertPriorityRaised alert-raised id=8532159",
    "06-alert-resolved.json: OK AlertResolved alert-resolved id=8532156",
    "07-alert-comment-added.json: OK AlertCommentAdded alert-comment-added id=8532157",
    "08-alert-responder-added.json: OK ResponderAdded alert-responder-added id=8532158",
    "09-alert-responder-removed.json: OK ResponderRemoved alert-responder-removed id=8532158",
    "10-alert-channel-attached.json: OK ChannelAttached alert-channel-attached id=8532159",
    "11-alert-channel-detached.json: OK ChannelDetached alert-channel-detached id=8532159",
    "12-incident-created.json: OK AlertCreated incident-created id=2187734",
    "13-alert-escalation-ended.json: OK AlertEscalationEnded alert-escalation-ended id=8532160"};

std::string join_args(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += quote(a) + " ";
  return s;
}

}  // namespace

TEST_CASE("ilert-parse: every good sample parses, exit 0", "[program][cli]") {
  const Run r = run(samples_dir(), join_args(kGoodSamples));
  CHECK(r.lines == kGoodLines);
  CHECK(r.out.back() == '\n');
  CHECK(r.status == 0);
  CHECK(r.err.empty());
}

TEST_CASE("ilert-parse: a malformed sample is reported with code, path and byte, exit 1", "[program][cli]") {
  const std::string name = "14-malformed-truncated.json";
  auto parsed = parse_event(test::read_file(samples_dir() + "/" + name));
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == ErrorCode::syntax);
  const std::string expected = name + ": ERROR " + parsed.error().to_string();
  CHECK(expected.rfind(name + ": ERROR syntax at ", 0) == 0);
  CHECK(expected.find(" (byte ") != std::string::npos);

  std::vector<std::string> args = kGoodSamples;
  args.push_back(name);
  const Run r = run(samples_dir(), join_args(args));
  std::vector<std::string> want = kGoodLines;
  want.push_back(expected);
  CHECK(r.lines == want);
  CHECK(r.status == 1);

  const Run alone = run(samples_dir(), quote(name));
  CHECK(alone.lines == std::vector<std::string>{expected});
  CHECK(alone.status == 1);
}

TEST_CASE("ilert-parse: standard input is '-', with no argument or an explicit '-'", "[program][cli]") {
  const std::string file = samples_dir() + "/06-alert-resolved.json";
  const Run implicit = run(samples_dir(), "", file);
  CHECK(implicit.lines == std::vector<std::string>{"-: OK AlertResolved alert-resolved id=8532156"});
  CHECK(implicit.status == 0);
  const Run explicit_dash = run(samples_dir(), "01-alert-created.json -", file);
  CHECK(explicit_dash.lines ==
        std::vector<std::string>{"01-alert-created.json: OK AlertCreated alert-created id=8532156",
                                 "-: OK AlertResolved alert-resolved id=8532156"});
  CHECK(explicit_dash.status == 0);

  const Run empty = run(samples_dir(), "-");  // /dev/null
  REQUIRE(empty.lines.size() == 1);
  CHECK(empty.lines[0].rfind("-: ERROR empty_body", 0) == 0);
  CHECK(empty.status == 1);
}

TEST_CASE("ilert-parse: the auto-resolved example line and id forms", "[program][cli]") {
  TempDir dir("ilert-parse-test");
  dir.write("a.json", R"({"id":42,"eventType":"alert-auto-resolved"})");
  dir.write("b.json", R"({"id":"9223372036854775807","eventType":"incident-auto-resolved"})");
  const Run r = run(dir.path(), "a.json b.json");
  CHECK(r.lines == std::vector<std::string>{"a.json: OK AlertResolved alert-auto-resolved id=42",
                                            "b.json: OK AlertResolved incident-auto-resolved id=9223372036854775807"});
  CHECK(r.status == 0);
}

// The line without its `"receivedAt":"...",` member and `time` value (the moment ilert-parse read
// the file; `time` is that moment for a body without `timestamp`).
std::string without_received_at(const std::string& line) {
  std::string out = line;
  const std::size_t at = out.find(",\"receivedAt\":\"");
  if (at != std::string::npos) {
    const std::size_t end = out.find('"', at + 15);
    if (end != std::string::npos) out = out.substr(0, at) + out.substr(end + 1);
  }
  if (out.rfind("{\"time\":\"", 0) == 0) {
    const std::size_t end = out.find('"', 9);
    if (end != std::string::npos) out = "{\"time\":\"" + out.substr(end);
  }
  return out;
}

TEST_CASE("ilert-parse --json prints exactly the Sumo line of each success on stdout", "[program][cli]") {
  std::vector<std::string> want;
  for (const auto& name : kGoodSamples) {
    auto e = parse_event(test::read_file(samples_dir() + "/" + name));
    REQUIRE(e);
    // Every sample has a timestamp: the line is deterministic but for receivedAt.
    want.push_back(without_received_at(to_sumo_line(*e)));
  }
  const Run r = run(samples_dir(), "--json " + join_args(kGoodSamples));
  REQUIRE(r.lines.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(r.lines[i].find(",\"receivedAt\":\"") != std::string::npos);
    CHECK(without_received_at(r.lines[i]) == want[i]);
  }
  CHECK(r.status == 0);

  // An error result is a result: one JSON object on stdout, the invalid-payload line the sender
  // would send (code, path, offset, message, raw body), so stdout stays one object per line.
  const Run bad = run(samples_dir(), "--json 01-alert-created.json 14-malformed-truncated.json");
  REQUIRE(bad.lines.size() == 2);
  CHECK(bad.lines[0].rfind("{\"time\":", 0) == 0);
  CHECK(bad.lines[1].find("\"eventType\":\"ilert-sumo-invalid-payload\"") != std::string::npos);
  CHECK(bad.lines[1].find("\"error\":{\"code\":\"syntax\"") != std::string::npos);
  CHECK(bad.lines[1].find("\"rawBody\":") != std::string::npos);
  CHECK(bad.err.empty());
  CHECK(bad.status == 1);

  // A diagnostic (an unreadable file) goes to stderr only; the other payloads still print.
  const Run missing = run(samples_dir(), "--json no-such-file.json 01-alert-created.json");
  REQUIRE(missing.lines.size() == 1);
  CHECK(missing.lines[0].rfind("{\"time\":", 0) == 0);
  CHECK(missing.err == std::string("ilert-parse: no-such-file.json: cannot read: ") + std::strerror(ENOENT) + "\n");
  CHECK(missing.status == 1);
}

TEST_CASE("ilert-parse: mismatches on the OK line, --strict, and the line cap", "[program][cli]") {
  TempDir dir("ilert-parse-test");
  dir.write("drift.json",
            R"({"id":"5","eventType":"alert-comment-added","severity":"high","comment":{"content":"x"}})");
  const Run r = run(dir.path(), "drift.json");
  CHECK(r.lines == std::vector<std::string>{
                       "drift.json: OK AlertCommentAdded alert-comment-added id=5 mismatches=comment,severity"});
  CHECK(r.status == 0);
  const Run strict = run(dir.path(), "--strict drift.json");
  REQUIRE(strict.lines.size() == 1);
  CHECK(strict.lines[0].rfind("drift.json: ERROR wrong_type at severity", 0) == 0);
  CHECK(strict.status == 1);
  // A 200 KB details field: the --json line obeys the cap and still parses.
  dir.write("big.json", R"({"id":"6","eventType":"alert-created","details":")" + std::string(200000, 'd') + "\"}");
  const Run capped = run(dir.path(), "--json --max-line-bytes 8192 big.json");
  REQUIRE(capped.lines.size() == 1);
  CHECK(capped.lines[0].size() <= 8192);
  CHECK(parse_event(capped.lines[0]).has_value());
  const Run defaulted = run(dir.path(), "--json big.json");
  REQUIRE(defaulted.lines.size() == 1);
  CHECK(defaulted.lines[0].size() <= kDefaultMaxLineBytes);
  CHECK(defaulted.lines[0].size() > 8192);
  // Bad caps are usage errors.
  CHECK(run(dir.path(), "--max-line-bytes 100 big.json").status == 2);
  CHECK(run(dir.path(), "--max-line-bytes x big.json").status == 2);
}

TEST_CASE("ilert-parse: unreadable inputs are io errors, exit 1", "[program][cli]") {
  TempDir dir("ilert-parse-test");
  const Run missing = run(dir.path(), "nope.json");
  CHECK(missing.lines == std::vector<std::string>{std::string("nope.json: ERROR io: ") + std::strerror(ENOENT)});
  CHECK(missing.status == 1);

  fs::create_directory(dir / "sub");
  const Run directory = run(dir.path(), "sub");
  CHECK(directory.lines == std::vector<std::string>{std::string("sub: ERROR io: ") + std::strerror(EISDIR)});
  CHECK(directory.status == 1);

  // The other inputs are still processed.
  dir.write("ok.json", R"({"id":"1","eventType":"alert-created"})");
  const Run mixed = run(dir.path(), "nope.json ok.json");
  CHECK(mixed.lines == std::vector<std::string>{std::string("nope.json: ERROR io: ") + std::strerror(ENOENT),
                                                "ok.json: OK AlertCreated alert-created id=1"});
  CHECK(mixed.status == 1);
}

TEST_CASE("ilert-parse: a body over the size limit is too_large without reading it all", "[program][cli]") {
  TempDir dir("ilert-parse-test");
  const std::size_t limit = ParseOptions{}.max_body_bytes;
  std::string body = R"({"id":"1","eventType":"alert-created","details":")";
  body += std::string(limit, 'x');
  body += "\"}";
  dir.write("big.json", body);
  const Run r = run(dir.path(), "big.json");
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0].rfind("big.json: ERROR too_large", 0) == 0);
  CHECK(r.status == 1);
}

TEST_CASE("ilert-parse: control characters in eventType cannot garble the output", "[program][cli]") {
  TempDir dir("ilert-parse-test");
  dir.write("c.json", R"({"id":"7","eventType":"alert\ncreated\u0007 \"x\"\u0085"})");
  dir.write("e.json", R"({"id":"8","eventType":""})");
  const Run r = run(dir.path(), "c.json e.json");
  CHECK(r.lines == std::vector<std::string>{R"(c.json: UNKNOWN "alert\ncreated\u0007 \"x\"\u0085" id=7)",
                                            R"(e.json: UNKNOWN "" id=8)"});
  CHECK(r.status == 0);
}

TEST_CASE("ilert-parse: usage errors exit 2, --help exits 0", "[program][cli]") {
  const Run bad = run(samples_dir(), "--bogus 01-alert-created.json");
  CHECK(bad.status == 2);
  CHECK(bad.out.empty());
  CHECK(bad.err ==
        "ilert-parse: error: The following argument was not expected: --bogus\n"
        "Run with --help for more information.\n");

  const Run help = run(samples_dir(), "--help");
  CHECK(help.status == 0);
  CHECK(help.out.rfind("Usage: ilert-parse [OPTIONS] [FILE...]", 0) == 0);
  CHECK(help.err.empty());

  // `--` ends the options: a file named like an option.
  TempDir dir("ilert-parse-test");
  dir.write("--json", R"({"id":"3","eventType":"alert-raised"})");
  const Run dashdash = run(dir.path(), "-- --json");
  CHECK(dashdash.lines == std::vector<std::string>{"--json: OK AlertPriorityRaised alert-raised id=3"});
  CHECK(dashdash.status == 0);
}
