// examples/common/cli.hpp: the command-line convention shared by the programs under examples/
// (issue 11, point 2). Header-only, so each program still builds alone against an installed
// ilert_sumo; include it as "../common/cli.hpp". The parser is CLI11 (Debian: libcli11-dev).
//
// The convention:
//   --help      the help text on stdout, exit 0 ("Usage: ..." first, as help2man expects)
//   --version   `<program> <version>` on stdout, exit 0
//   exit codes  0 ok, 1 runtime failure, 2 usage or configuration error
//   errors      on stderr only, one format for every usage error:
//                 <program>: error: <message>
//                 Run with --help for more information.
//               and for a configuration error found after the command line was read (a locked
//               spool, a bad value the library refuses) the first line alone.
//   stdout      results only.
#pragma once

#include <algorithm>
#include <cstdio>
#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace ilert_sumo_cli {

/// Exit status of a usage or configuration error.
inline constexpr int kUsageExit = 2;

/// `s` with control characters escaped (\n, \r, \t, \u00XX for other C0, DEL and UTF-8 encoded
/// C1 controls), so a message or a name taken from the command line stays one terminal line.
inline std::string without_controls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    unsigned code = 0x100;  // none
    if (c < 0x20 || c == 0x7F) {
      code = c;
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      code = static_cast<unsigned char>(s[++i]);
    }
    if (code == 0x100) {
      out += s[i];
    } else if (code == '\n') {
      out += "\\n";
    } else if (code == '\r') {
      out += "\\r";
    } else if (code == '\t') {
      out += "\\t";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", code);
      out += buf;
    }
  }
  return out;
}

/// Prints a usage error in the shared format and returns kUsageExit. `message` is printed with
/// its control characters escaped; callers redact secrets before.
inline int usage_error(std::string_view program, std::string_view message) {
  std::fflush(stdout);
  const std::string text = without_controls(message);
  std::fprintf(stderr, "%.*s: error: %s\nRun with --help for more information.\n", static_cast<int>(program.size()),
               program.data(), text.c_str());
  return kUsageExit;
}

/// A configuration error (the command line was well-formed, but what it asks cannot be done):
/// the first line of the usage-error format, returns kUsageExit.
inline int config_error(std::string_view program, std::string_view message) {
  std::fflush(stdout);
  const std::string text = without_controls(message);
  std::fprintf(stderr, "%.*s: error: %s\n", static_cast<int>(program.size()), program.data(), text.c_str());
  return kUsageExit;
}

/// Thrown by a program's own checks after parsing (e.g. two options that go together); main
/// prints it with usage_error().
struct UsageError {
  std::string message;
};

/// CLI11's help layout with the "Usage:" line first (help2man reads the synopsis from it), the
/// description after it, and option descriptions wrapped at 100 columns.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
    if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
    std::string out = make_usage(app, std::move(name));
    const std::string description = make_description(app);
    if (!description.empty()) out += "\n" + description;
    out += make_positionals(app);
    out += make_groups(app, mode);
    out += make_subcommands(app, mode);
    out += "\n" + make_footer(app);
    return out;
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    return wrap(CLI::Formatter::make_option_desc(opt), kWidth - get_column_width());
  }

 private:
  static constexpr std::size_t kWidth = 100;
  /// Breaks `text` at spaces so no line is longer than `width` (a longer word stays whole).
  static std::string wrap(const std::string& text, std::size_t width) {
    std::string out;
    std::size_t line = 0;
    std::size_t i = 0;
    while (i < text.size()) {
      if (text[i] == '\n') {
        out += '\n';
        line = 0;
        ++i;
        continue;
      }
      const std::size_t end = std::min(text.find_first_of(" \n", i), text.size());
      const std::size_t word = end - i;
      if (line > 0 && line + 1 + word > width) {
        out += '\n';
        line = 0;
      } else if (line > 0) {
        out += ' ';
        ++line;
      }
      out.append(text, i, word);
      line += word;
      i = end;
      if (i < text.size() && text[i] == ' ') ++i;
    }
    return out;
  }
};

/// Sets the convention's --help/--version flags and help layout on `app`. `version` is what
/// --version prints after the program name.
inline void configure(CLI::App& app, const std::string& program, const std::string& version) {
  app.name(program);
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.set_version_flag("--version", program + " " + version, "Print the program's version and exit");
  auto formatter = std::make_shared<HelpFormatter>();
  formatter->column_width(30);
  app.formatter(formatter);
  // `--flag=value` and `--flag value` both work; an option given twice is an error unless it is
  // declared repeatable.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::Throw);
}

/// Rewrites an error message before it is printed (e.g. masks a secret echoed from argv).
using Sanitizer = std::function<std::string(const std::string&)>;

/// Parses argv with `app`. Returns nullopt when the program should go on, else the exit status:
/// 0 after --help or --version (printed on stdout), kUsageExit after a usage error (printed with
/// usage_error(), `sanitize`d first when given).
inline std::optional<int> parse(CLI::App& app, int argc, char** argv, const Sanitizer& sanitize = nullptr) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    return std::fflush(stdout) == 0 ? 0 : 1;
  } catch (const CLI::ParseError& e) {
    const std::string message = e.what();
    return usage_error(app.get_name(), sanitize ? sanitize(message) : message);
  }
}

/// A CLI11 validator from a function that returns an error message (empty: valid), with `name`
/// as the value's placeholder in --help.
inline CLI::Validator validator(const std::string& name, std::function<std::string(const std::string&)> check) {
  return CLI::Validator([check = std::move(check)](std::string& value) { return check(value); }, name);
}

}  // namespace ilert_sumo_cli
