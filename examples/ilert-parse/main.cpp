// examples/ilert-parse/main.cpp: `ilert-parse [--json] [--strict] [--max-line-bytes N] [FILE...]`,
// the library's main example.
//
// Parses iLert webhook bodies (files, or standard input when no file or `-` is given) with
// ilert_sumo::parse_event and prints one line per payload on stdout:
//   PATH: OK <StructName> <eventType-as-received> id=<id> [mismatches=<field>,...]
//   PATH: UNKNOWN <eventType-as-received> id=<id> [mismatches=<field>,...]
//   PATH: ERROR <code> at <json-path> (byte <offset>): <message>
//   PATH: ERROR io: <reason>                      (file cannot be read)
// With --json stdout carries one JSON object per payload and nothing else, so `| jq` works: the
// Sumo line of a parsed payload (to_sumo_line), and for a payload that failed to parse the
// `ilert-sumo-invalid-payload` line ilert-sumo-send would send for it (to_invalid_payload_line: the
// error's code, path, offset and message, and the raw body), both capped at --max-line-bytes like
// the sender's lines. An error result is a result: it goes to stdout. A diagnostic (a file that
// cannot be read, a usage error) goes to stderr only (`ilert-parse: <file>: cannot read: <reason>`).
// The receipt time of each payload is the moment it was read. Exit status: 0 when every payload
// parsed (UNKNOWN counts as parsed), 1 when any failed or could not be read, 2 for a usage error.
// Command line: CLI11, with the convention of examples/common/cli.hpp (--help, --version).
// Uses only the public API of ilert_sumo.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <ilert_sumo/error.hpp>
#include <ilert_sumo/events.hpp>
#include <ilert_sumo/parse.hpp>
#include <ilert_sumo/sumo_line.hpp>
#include <ilert_sumo/version.hpp>

#include "../common/cli.hpp"

namespace {

constexpr const char* kProgram = "ilert-parse";

// Length of a control character at s[i] (C0, DEL, or a UTF-8 encoded C1 control), else 0.
std::size_t control_at(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x20 || c == 0x7F) return 1;
  if (c == 0xC2 && i + 1 < s.size()) {
    const auto d = static_cast<unsigned char>(s[i + 1]);
    if (d >= 0x80 && d <= 0x9F) return 2;
  }
  return 0;
}

// Appends a JSON-style escape for the control character at s[i] (length n).
void append_control_escape(std::string& out, std::string_view s, std::size_t i, std::size_t n) {
  const unsigned code = (n == 2) ? static_cast<unsigned char>(s[i + 1]) : static_cast<unsigned char>(s[i]);
  switch (code) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", code);
  out += buf;
}

using ilert_sumo_cli::without_controls;

// The eventType as one token: as is when it is plain, else a JSON-escaped quoted string.
std::string event_type_token(std::string_view s) {
  bool plain = !s.empty();
  for (std::size_t i = 0; plain && i < s.size(); ++i) {
    if (s[i] == ' ' || s[i] == '"' || s[i] == '\\' || control_at(s, i) != 0) plain = false;
  }
  if (plain) return std::string(s);
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = control_at(s, i);
    if (n != 0) {
      append_control_escape(out, s, i, n);
      i += n;
      continue;
    }
    if (s[i] == '"' || s[i] == '\\') out += '\\';
    out += s[i];
    ++i;
  }
  out += '"';
  return out;
}

struct ReadResult {
  bool ok = false;
  std::string body;
  std::string error;  // strerror text when !ok
};

// Reads at most `limit` + 1 bytes: enough for parse_event to report too_large without pulling a
// huge file into memory.
ReadResult read_bounded(std::FILE* f, std::size_t limit) {
  ReadResult r;
  const std::size_t cap = limit + 1;
  std::size_t have = 0;
  while (have < cap) {
    const std::size_t chunk = std::min<std::size_t>(cap - have, 64 * 1024);
    r.body.resize(have + chunk);
    const std::size_t got = std::fread(&r.body[have], 1, chunk, f);
    have += got;
    if (got < chunk) {
      if (std::ferror(f)) {
        r.error = std::strerror(errno);
        r.body.clear();
        return r;
      }
      break;  // EOF
    }
  }
  r.body.resize(have);
  r.ok = true;
  return r;
}

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
}

// A diagnostic that is not a payload's result: in --json mode on stderr only.
void print_diagnostic(const std::string& label, const std::string& reason, bool json) {
  if (!json) {
    print_line(label + ": ERROR io: " + reason);
    return;
  }
  std::fflush(stdout);
  std::fprintf(stderr, "%s: %s: cannot read: %s\n", kProgram, label.c_str(), reason.c_str());
}

// Parses one payload and prints its line; true when it parsed.
bool report(const std::string& label, const std::string& body, bool json, ilert_sumo::ParseOptions options,
            const ilert_sumo::LineOptions& line_options) {
  options.received_at = ilert_sumo::UtcTime(std::chrono::system_clock::now());
  auto result = ilert_sumo::parse_event(body, options);
  if (!result) {
    if (json) {
      print_line(ilert_sumo::to_invalid_payload_line(body, result.error(), options.received_at, line_options));
    } else {
      print_line(label + ": ERROR " + without_controls(result.error().to_string()));
    }
    return false;
  }
  const ilert_sumo::Event& event = *result;
  if (json) {
    print_line(ilert_sumo::to_sumo_line(event, line_options));
    return true;
  }
  const ilert_sumo::EventBase& base = ilert_sumo::base_of(event);
  const std::string id = "id=" + std::to_string(base.alert.id);
  const std::string type = event_type_token(base.received_type);
  std::string mismatches;
  for (const ilert_sumo::TypeMismatch& m : base.alert.type_mismatches) {
    mismatches += mismatches.empty() ? " mismatches=" : ",";
    mismatches += without_controls(m.field);
  }
  if (std::holds_alternative<ilert_sumo::UnknownEvent>(event)) {
    print_line(label + ": UNKNOWN " + type + " " + id + mismatches);
  } else {
    print_line(label + ": OK " + std::string(ilert_sumo::struct_name(event)) + " " + type + " " + id + mismatches);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  ilert_sumo::ParseOptions options;
  ilert_sumo::LineOptions line_options;
  std::vector<std::string> inputs;

  CLI::App app(
      "Parses iLert webhook bodies and prints one line per payload:\n"
      "  PATH: OK <StructName> <eventType> id=<id> [mismatches=<field>,...]\n"
      "  PATH: UNKNOWN <eventType> id=<id> [mismatches=<field>,...]\n"
      "  PATH: ERROR <code> at <json-path> (byte <offset>): <message>\n"
      "  PATH: ERROR io: <reason>   (the file cannot be read)\n"
      "Reads standard input (PATH '-') when no FILE is given or FILE is '-'. An eventType that\n"
      "is empty or holds spaces, quotes or control characters is printed as a JSON-escaped\n"
      "string in double quotes.");
  ilert_sumo_cli::configure(app, kProgram, ilert_sumo::version());
  app.add_flag("--json", json,
               "Print one JSON object per payload and nothing else on stdout: the Sumo Logic line of a "
               "parsed payload, the ilert-sumo-invalid-payload line (error code, path, offset, message, "
               "raw body) of one that failed; unreadable files are reported on stderr only");
  app.add_flag("--strict", options.strict_types,
               "Reject known fields with the wrong JSON type (default: keep them, listed as mismatches)");
  app.add_option("--max-line-bytes", line_options.max_line_bytes,
                 "Cap of --json lines, as the sender applies it (4096 to 1073741824)")
      ->type_name("N")
      ->check(CLI::Range(ilert_sumo::kMinMaxLineBytes, std::size_t{1} << 30).description(""))
      ->capture_default_str();
  app.add_option("FILE", inputs, "Webhook bodies, one per file ('-': standard input; default: standard input)");
  app.footer(
      "Exit status: 0 every payload parsed (UNKNOWN counts as parsed), 1 some payload failed to\n"
      "parse or a file could not be read, 2 usage error.");
  if (const auto exit_code = ilert_sumo_cli::parse(app, argc, argv)) return *exit_code;
  if (inputs.empty()) inputs.emplace_back("-");

  bool all_ok = true;
  for (const std::string& input : inputs) {
    const std::string label = without_controls(input);
    ReadResult read;
    if (input == "-") {
      read = read_bounded(stdin, options.max_body_bytes);
    } else {
      std::FILE* f = std::fopen(input.c_str(), "rb");
      if (f == nullptr) {
        read.error = std::strerror(errno);
      } else {
        read = read_bounded(f, options.max_body_bytes);
        std::fclose(f);
      }
    }
    if (!read.ok) {
      print_diagnostic(label, read.error, json);
      all_ok = false;
      continue;
    }
    if (!report(label, read.body, json, options, line_options)) all_ok = false;
  }
  if (std::fflush(stdout) != 0) return 1;
  return all_ok ? 0 : 1;
}
