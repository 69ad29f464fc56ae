// examples/ilert-parse/main.cpp: `ilert-parse [--json] [--strict] [--max-line-bytes N] [FILE...]`,
// the library's main example.
//
// Parses iLert webhook bodies (files, or standard input when no file or `-` is given) with
// ilert_sumo::parse_event and prints one line per payload on stdout:
//   PATH: OK <StructName> <eventType-as-received> id=<id> [mismatches=<field>,...]
//   PATH: UNKNOWN <eventType-as-received> id=<id> [mismatches=<field>,...]
//   PATH: ERROR <code> at <json-path> (byte <offset>): <message>
//   PATH: ERROR io: <reason>                      (file cannot be read)
// With --json stdout carries exactly the Sumo line of each parsed payload (to_sumo_line, capped at
// --max-line-bytes like the sender's lines) and nothing else, so `| jq` works; ERROR lines go to
// stderr. The receipt time of each payload is the moment it was read. Exit status: 0 when every
// payload parsed (UNKNOWN counts as parsed), 1 when any failed, 2 for a usage error.
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

namespace {

constexpr const char* kUsage =
    "usage: ilert-parse [--json] [--strict] [--max-line-bytes N] [FILE...]\n"
    "\n"
    "Parses iLert webhook bodies and prints one line per payload:\n"
    "  PATH: OK <StructName> <eventType> id=<id> [mismatches=<field>,...]\n"
    "  PATH: UNKNOWN <eventType> id=<id> [mismatches=<field>,...]\n"
    "  PATH: ERROR <code> at <json-path> (byte <offset>): <message>\n"
    "Reads standard input (PATH '-') when no FILE is given or FILE is '-'.\n"
    "An eventType that is empty or holds spaces, quotes or control characters is printed as a\n"
    "JSON-escaped string in double quotes.\n"
    "\n"
    "options:\n"
    "  --json     print exactly the Sumo Logic line of each parsed payload on stdout (ERROR\n"
    "             lines go to stderr)\n"
    "  --strict   reject known fields with the wrong JSON type (default: keep them, listed as\n"
    "             mismatches)\n"
    "  --max-line-bytes N\n"
    "             cap for --json lines (default 65536, at least 4096), as the sender applies\n"
    "  -h, --help show this help\n"
    "  --         treat every following argument as a FILE\n"
    "\n"
    "exit status: 0 every payload parsed, 1 some payload failed, 2 usage error\n";

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

// Text with control characters escaped, so one report stays one terminal line.
std::string without_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = control_at(s, i);
    if (n == 0) {
      out += s[i];
      ++i;
    } else {
      append_control_escape(out, s, i, n);
      i += n;
    }
  }
  return out;
}

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

void print_error_line(const std::string& line, bool json) {
  if (!json) {
    print_line(line);
    return;
  }
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", line.c_str());
}

// Parses one payload and prints its line; true when it parsed.
bool report(const std::string& label, const std::string& body, bool json, ilert_sumo::ParseOptions options,
            const ilert_sumo::LineOptions& line_options) {
  options.received_at = ilert_sumo::UtcTime(std::chrono::system_clock::now());
  auto result = ilert_sumo::parse_event(body, options);
  if (!result) {
    print_error_line(label + ": ERROR " + without_controls(result.error().to_string()), json);
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

// A decimal size in [lo, hi], or nullopt.
std::optional<std::size_t> parse_size(const std::string& text, std::size_t lo, std::size_t hi) {
  if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const unsigned long long v = std::stoull(text);
  if (v < lo || v > hi) return std::nullopt;
  return static_cast<std::size_t>(v);
}

int main(int argc, char** argv) {
  bool json = false;
  bool options_done = false;
  ilert_sumo::ParseOptions options;
  ilert_sumo::LineOptions line_options;
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!options_done && arg.size() > 1 && arg[0] == '-') {
      if (arg == "--json") {
        json = true;
      } else if (arg == "--strict") {
        options.strict_types = true;
      } else if (arg == "--max-line-bytes" || arg.rfind("--max-line-bytes=", 0) == 0) {
        std::string value;
        if (arg == "--max-line-bytes") {
          if (i + 1 >= argc) {
            std::fprintf(stderr, "ilert-parse: --max-line-bytes needs a value\n%s", kUsage);
            return 2;
          }
          value = argv[++i];
        } else {
          value = arg.substr(std::strlen("--max-line-bytes="));
        }
        const std::optional<std::size_t> cap = parse_size(value, ilert_sumo::kMinMaxLineBytes, std::size_t{1} << 30);
        if (!cap) {
          std::fprintf(stderr, "ilert-parse: --max-line-bytes must be a number from %zu to %zu, got '%s'\n",
                       ilert_sumo::kMinMaxLineBytes, std::size_t{1} << 30, without_controls(value).c_str());
          return 2;
        }
        line_options.max_line_bytes = *cap;
      } else if (arg == "--help" || arg == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else if (arg == "--") {
        options_done = true;
      } else {
        std::fprintf(stderr, "ilert-parse: unknown option '%s'\n%s", without_controls(arg).c_str(), kUsage);
        return 2;
      }
      continue;
    }
    inputs.push_back(arg);
  }
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
      print_error_line(label + ": ERROR io: " + read.error, json);
      all_ok = false;
      continue;
    }
    if (!report(label, read.body, json, options, line_options)) all_ok = false;
  }
  if (std::fflush(stdout) != 0) return 1;
  return all_ok ? 0 : 1;
}
