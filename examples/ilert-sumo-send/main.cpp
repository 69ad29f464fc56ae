// examples/ilert-sumo-send: send iLert webhook bodies to a Sumo Logic HTTP Logs source.
//
//   ilert-sumo-send (--url URL | --url-env VAR | --endpoint URL --token-env VAR)
//                   [--category C] [--name N] [--host H] [--fields k=v,...]
//                   [--compression none|gzip|deflate|zstd] [--level N] [--ndjson] [--skip-invalid]
//                   [--retry-budget SEC] [--timeout SEC] [--proxy URL]
//                   [--spool-dir DIR [--shutdown-timeout SEC] [--spool-max-bytes BYTES]] [FILE... | -]
//
// Each FILE is one webhook body (with --ndjson: one body per line); `-` reads stdin, and so does
// no FILE at all unless --spool-dir is given (then no FILE means: only send what the spool holds).
// A FILE must be a regular file (a directory, FIFO or device is a usage error, exit 2; streams go
// through stdin). Input is read in bounded pieces: a body, or an NDJSON line, larger than the
// parser's body limit (ParseOptions::max_body_bytes, 4 MiB) is reported and not sent, and an
// NDJSON input stops at such a line (exit 1), so `< /dev/zero` ends with an error in bounded memory.
// Every body is parsed with parse_event(); valid events are sent as their Sumo line, invalid bodies
// are reported on stderr with their parse error and sent as an `ilert-sumo-invalid-payload` line
// that carries the raw body (unless --skip-invalid), so nothing is dropped silently.
//
// Delivery, two ways:
// - default: SumoClient (SyncLineSender): batched, compressed once, retried by the library's
//   policy; what is not delivered when the retry budget runs out is lost (exit status 1).
// - --spool-dir DIR: SumoSender with a write_ahead spool (SpoolLineSender): every event is on disk
//   before it counts as accepted. Events an earlier run left in DIR are sent first; then the
//   input; the program waits for Sumo at most --shutdown-timeout seconds in all (default 10), and
//   what is still undelivered then stays in DIR for the next run with the same --spool-dir.
// A summary goes to stdout.
//
// Proxy: --proxy URL (http://, https://, socks4(a)://, socks5(h)://, may carry user:password@);
// without it libcurl's environment variables apply, as in curl: https_proxy/HTTPS_PROXY for an
// https:// URL, http_proxy for http://, else ALL_PROXY, with NO_PROXY exempting hosts (docs/DESIGN.md
// "Proxies"). Proxy credentials are secrets too (printed masked); the environment keeps them out
// of `ps`.
//
// The presigned URL and the token are secrets: prefer --url-env / --token-env (the values then do
// not show in `ps` or shell history); the program prints them only redacted. The spool stores lines
// and their metadata headers, never the URL or the token. Plain http:// is accepted only for
// loopback hosts (127.0.0.0/8, ::1, localhost), e.g. the sumo-emulator example.
//
// Exit status: 0 every line that was to be sent was delivered (with --spool-dir: also every event
// replayed from the spool, and nothing is left in it; bodies skipped by --skip-invalid are reported
// but are not failures), 1 something was not delivered (or is still spooled), 2 usage error
// (nothing sent).
//
// SIGINT/SIGTERM: reading stops at once, what was read is delivered (retries included) within
// --shutdown-timeout of the signal; what is not delivered then is spooled with --spool-dir, else
// lost (at the deadline SumoClient::request_stop() aborts the transfer in flight or the retry
// wait); the summary is printed. Command line: CLI11 with examples/common/cli.hpp's convention
// (--help, --version).
//
// Layout: add_options()/finish_options() -> Options; build_config() -> SumoConfig; for_each_payload() reads inputs;
// LineSender is the delivery step: SyncLineSender over SumoClient, SpoolLineSender over SumoSender.
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "ilert_sumo/version.hpp"

#include "../common/cli.hpp"
#include "../common/signals.hpp"

namespace {

using namespace ilert_sumo;
using ilert_sumo_cli::StopSignals;

const char* const kProgram = "ilert-sumo-send";

const char* const kDescription =
    "Parses iLert webhook bodies (one per FILE, or one per line with --ndjson; `-` reads stdin,\n"
    "and so does no FILE at all, except with --spool-dir) and sends them to a Sumo Logic HTTP\n"
    "Logs source. Destination: exactly one of --url, --url-env, or --endpoint with --token-env;\n"
    "http:// is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost).\n"
    "Spool (--spool-dir): nothing accepted is lost, not even by a crash; events an earlier run\n"
    "left in DIR are sent first, with their original headers (the spool keeps lines and headers,\n"
    "never the URL or token).\n"
    "SIGINT/SIGTERM: reading stops at once, what was read is flushed within --shutdown-timeout\n"
    "(with --spool-dir the undelivered rest stays in DIR, without it it is lost), the summary is\n"
    "printed.\n"
    "Summary on stdout; each invalid body and each failed request on stderr.";

const char* const kFooter =
    "Exit status: 0 all delivered (with --spool-dir: also all replayed events, and nothing left\n"
    "spooled), 1 something was not delivered or is still spooled (also after a signal), 2 usage\n"
    "or configuration error (nothing sent).";

/// A usage error: printed, exit status 2.
struct UsageError {
  std::string message;
  /// Add "(run with --help for usage)": false when the command line was fine (e.g. a locked spool).
  bool hint = true;
};

/// Command-line options, as given.
struct Options {
  std::string url;        // --url or --url-env value
  std::string url_env;    // the variable name, for messages
  std::string endpoint;   // --endpoint
  std::string token_env;  // --token-env
  std::string category;
  std::string name;
  std::string host;
  std::optional<std::string> fields;
  std::string compression = "gzip";
  std::optional<int> level;
  bool ndjson = false;
  bool skip_invalid = false;
  std::optional<double> retry_budget_s;
  std::optional<double> timeout_s;
  std::optional<std::string> proxy;              // --proxy; absent: libcurl's environment variables
  std::string spool_dir;                         // --spool-dir; empty: synchronous delivery, no spool
  std::optional<double> shutdown_timeout_s;      // --shutdown-timeout (only with --spool-dir)
  std::optional<std::uint64_t> spool_max_bytes;  // --spool-max-bytes (only with --spool-dir)
  std::vector<std::string> inputs;               // "-" is stdin
};

// ---------------------------------------------------------------------------------------------
// Arguments

/// An argument as it may be printed: anything that looks like a URL is redacted (a presigned URL
/// given by mistake as a file name or as `--url=...` must not be echoed), `--flag=value` keeps the
/// flag only.
std::string printable_arg(const std::string& arg) {
  if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) return arg.substr(0, arg.find('=')) + "=...";
  if (arg.find("://") != std::string::npos) return redact_url(arg);
  return arg;
}

/// A CLI11 message with every word that holds a URL redacted (CLI11 echoes unexpected arguments
/// and bad values; a presigned URL or proxy credentials must not be printed).
std::string redact_message(const std::string& message) {
  std::string out;
  std::size_t i = 0;
  while (i < message.size()) {
    const std::size_t end = std::min(message.find_first_of(" \n", i), message.size());
    out += printable_arg(message.substr(i, end - i));
    if (end < message.size()) out += message[end];
    i = end + 1;
  }
  return out;
}

/// Seconds in (0, 86400], or nullopt.
std::optional<double> seconds_value(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || !(v > 0) || v > 86400.0) return std::nullopt;
  return v;
}

/// "1048576", "512k", "64M", "1G" (binary multiples) -> bytes; at least 64 KiB; else nullopt.
std::optional<std::uint64_t> bytes_value(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  std::string suffix = text.substr(i);
  for (char& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::uint64_t mult = 0;
  if (suffix.empty() || suffix == "b")
    mult = 1;
  else if (suffix == "k" || suffix == "kib")
    mult = 1024;
  else if (suffix == "m" || suffix == "mib")
    mult = 1024 * 1024;
  else if (suffix == "g" || suffix == "gib")
    mult = 1024ull * 1024 * 1024;
  std::uint64_t n = 0;
  bool ok = i > 0 && i <= 15 && mult != 0;
  for (std::size_t k = 0; ok && k < i; ++k) n = n * 10 + static_cast<std::uint64_t>(text[k] - '0');
  if (ok && n > (std::uint64_t{1} << 50) / mult) ok = false;
  if (!ok || n * mult < 65536) return std::nullopt;
  return n * mult;
}

/// Seconds (as checked by seconds_value) to milliseconds, rounded up: 0.0001 is 1 ms, not 0.
std::chrono::milliseconds seconds_to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000.0)));
}

/// --shutdown-timeout's default.
constexpr double kDefaultShutdownTimeoutSeconds = 10.0;

/// The command line as CLI11 reads it (strings where the value has its own syntax).
struct RawOptions {
  std::string url;
  std::string url_env;
  std::string level;
  std::string retry_budget;
  std::string timeout;
  std::string shutdown_timeout;
  std::string spool_max_bytes;
  std::string fields;
  std::string proxy;
  CLI::Option* url_opt = nullptr;
  CLI::Option* url_env_opt = nullptr;
  CLI::Option* level_opt = nullptr;
  CLI::Option* retry_budget_opt = nullptr;
  CLI::Option* timeout_opt = nullptr;
  CLI::Option* shutdown_timeout_opt = nullptr;
  CLI::Option* spool_max_bytes_opt = nullptr;
  CLI::Option* fields_opt = nullptr;
  CLI::Option* proxy_opt = nullptr;
};

void add_options(CLI::App& app, Options& o, RawOptions& r) {
  const auto seconds = ilert_sumo_cli::validator("SEC", [](const std::string& v) {
    return seconds_value(v) ? std::string() : "expected a number of seconds in (0, 86400], got '" + v + "'";
  });
  const auto bytes = ilert_sumo_cli::validator("BYTES", [](const std::string& v) {
    return bytes_value(v) ? std::string() : "expected a size of at least 64k such as 512M or 1G, got '" + v + "'";
  });
  const auto not_empty = ilert_sumo_cli::validator(
      "", [](const std::string& v) { return v.empty() ? std::string("empty value") : std::string(); });
  r.url_opt = app.add_option("--url", r.url,
                             "Presigned source URL https://.../receiver/v1/http/<code> (a secret: it shows in "
                             "`ps`; prefer --url-env)")
                  ->type_name("URL")
                  ->check(not_empty);
  r.url_env_opt = app.add_option("--url-env", r.url_env, "Read the presigned URL from environment variable VAR")
                      ->type_name("VAR")
                      ->excludes(r.url_opt);
  auto* endpoint =
      app.add_option("--endpoint", o.endpoint, "Endpoint URL https://.../receiver/v1/http, with --token-env")
          ->type_name("URL")
          ->check(not_empty)
          ->excludes(r.url_opt)
          ->excludes(r.url_env_opt);
  app.add_option("--token-env", o.token_env, "Read the x-sumo-token from environment variable VAR")
      ->type_name("VAR")
      ->needs(endpoint);
  endpoint->needs("--token-env");
  app.add_option("--category", o.category, "X-Sumo-Category")->type_name("C");
  app.add_option("--name", o.name, "X-Sumo-Name")->type_name("N");
  app.add_option("--host", o.host, "X-Sumo-Host")->type_name("H");
  r.fields_opt = app.add_option("--fields", r.fields, "X-Sumo-Fields (at most 30)")->type_name("k=v,...");
  app.add_option("--compression", o.compression, "none, gzip (default), deflate or zstd")->type_name("CODEC");
  r.level_opt = app.add_option("--level", r.level, "Compression level -1..22 (default: the codec's)")
                    ->type_name("N")
                    ->check(CLI::Range(-1, 22).description(""));
  app.add_flag("--ndjson", o.ndjson, "One webhook body per input line (blank lines are skipped)");
  app.add_flag("--skip-invalid", o.skip_invalid, "Do not send bodies that fail to parse (they are still reported)");
  r.retry_budget_opt =
      app.add_option("--retry-budget", r.retry_budget, "Stop retrying a request after SEC seconds (default 600)")
          ->check(seconds);
  r.timeout_opt =
      app.add_option("--timeout", r.timeout, "Whole-request timeout in seconds (default 20)")->check(seconds);
  r.proxy_opt = app.add_option("--proxy", r.proxy,
                               "Proxy http://[user:password@]host:port (also https://, socks5h://, ...); without "
                               "it: https_proxy/HTTPS_PROXY, http_proxy, ALL_PROXY and NO_PROXY from the "
                               "environment, as curl reads them (prefer them for credentials: a --proxy value "
                               "shows in `ps`)")
                    ->type_name("URL")
                    ->check(not_empty);
  auto* spool = app.add_option("--spool-dir", o.spool_dir,
                               "Write every event to DIR before it counts as accepted (created if missing; one "
                               "run at a time per DIR). With --spool-dir and no FILE, only the spool is sent: "
                               "stdin is read only when `-` is given.")
                    ->type_name("DIR")
                    ->check(not_empty);
  r.shutdown_timeout_opt =
      app.add_option("--shutdown-timeout", r.shutdown_timeout,
                     "With --spool-dir: the longest to wait for Sumo, for the replay and this run's events "
                     "together; what is undelivered then stays in DIR for the next run (exit 1). After "
                     "SIGINT/SIGTERM (with or without a spool): the longest to wait for Sumo from the signal. "
                     "Fractions allowed, default 10.")
          ->check(seconds);
  r.spool_max_bytes_opt = app.add_option("--spool-max-bytes", r.spool_max_bytes,
                                         "Cap of DIR, e.g. 512M (default 1G); when it is full, further events "
                                         "are refused (reported, exit 1), never evicted")
                              ->check(bytes)
                              ->needs(spool);
  app.add_option("FILE", o.inputs, "Webhook bodies ('-': stdin)");
}

/// The rest of the options from what CLI11 read: environment variables and values with their own
/// syntax (throws UsageError).
void finish_options(Options& o, const RawOptions& r) {
  if (*r.url_opt) o.url = r.url;
  if (*r.url_env_opt) {
    o.url_env = r.url_env;
    const char* v = std::getenv(o.url_env.c_str());
    if (v == nullptr || *v == '\0')
      throw UsageError{"--url-env: environment variable " + o.url_env + " is not set or empty"};
    o.url = v;
  }
  if (!*r.url_opt && !*r.url_env_opt && o.endpoint.empty()) {
    throw UsageError{"missing destination: --url, --url-env or --endpoint"};
  }
  if (*r.fields_opt) o.fields = r.fields;
  if (*r.level_opt) o.level = std::stoi(r.level);
  if (*r.retry_budget_opt) o.retry_budget_s = seconds_value(r.retry_budget);
  if (*r.timeout_opt) o.timeout_s = seconds_value(r.timeout);
  if (*r.shutdown_timeout_opt) o.shutdown_timeout_s = seconds_value(r.shutdown_timeout);
  if (*r.spool_max_bytes_opt) o.spool_max_bytes = bytes_value(r.spool_max_bytes);
  if (*r.proxy_opt) o.proxy = r.proxy;
  if (o.inputs.empty() && o.spool_dir.empty()) o.inputs.emplace_back("-");
}

/// The wait for Sumo with a spool, and after a stop signal: --shutdown-timeout, or its default.
std::chrono::milliseconds shutdown_timeout(const Options& o) {
  return seconds_to_ms(o.shutdown_timeout_s.value_or(kDefaultShutdownTimeoutSeconds));
}

/// `k=v,k2=v2` -> fields. Empty items and items without a key are usage errors; validation of the
/// characters is finalize()'s job.
std::vector<SumoField> parse_fields(const std::string& text) {
  std::vector<SumoField> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    if (item.empty() || eq == std::string::npos || eq == 0) {
      throw UsageError{"--fields: expected k=v[,k=v...], bad item '" + item + "'"};
    }
    out.push_back(SumoField{item.substr(0, eq), item.substr(eq + 1)});
    start = comma + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// URL checks

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

/// The host of an http(s) URL: no userinfo, no port, IPv6 without brackets.
std::string url_host(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  const auto at = rest.rfind('@');
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return {};
    return std::string(rest.substr(1, close - 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

/// 127.0.0.0/8, ::1 (any spelling), localhost.
bool is_loopback_host(const std::string& host) {
  std::string h;
  for (const char c : host) h.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (h == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Configuration

/// SumoConfig from the options (throws UsageError). Reads the token variable; nothing else.
SumoConfig build_config(const Options& o) {
  SumoConfig c;
  if (!o.endpoint.empty()) {
    c.url = o.endpoint;
    const char* token = std::getenv(o.token_env.c_str());
    if (token == nullptr || *token == '\0')
      throw UsageError{"--token-env: environment variable " + o.token_env + " is not set or empty"};
    c.token = token;
  } else {
    c.url = o.url;
  }
  if (starts_with_ci(c.url, "http://")) {
    if (!is_loopback_host(url_host(c.url))) {
      throw UsageError{"refusing plain http:// to a host that is not loopback (" + redact_url(c.url) +
                       "): use https://; http:// is only for 127.0.0.0/8, ::1 and localhost"};
    }
    c.allow_insecure_http = true;
  }
  c.metadata.category = o.category;
  c.metadata.name = o.name;
  c.metadata.host = o.host;
  if (o.fields) c.metadata.fields = parse_fields(*o.fields);
  auto codec = parse_compression(o.compression);
  if (!codec) throw UsageError{"--compression: " + codec.error().message};
  c.compression = *codec;
  if (o.level) c.compression_level = *o.level;
  if (o.retry_budget_s) c.retry.budget = seconds_to_ms(*o.retry_budget_s);
  if (o.timeout_s) c.request_timeout = seconds_to_ms(*o.timeout_s);
  if (o.proxy) c.http.proxy = *o.proxy;  // checked (and printed masked) by finalize()
  if (!o.spool_dir.empty()) {
    // Write-ahead: an event is on disk before enqueue() says accepted, so neither the deadline nor a
    // crash loses it. `spill`: when the memory bound is reached (Sumo slow or down, a large input),
    // new events go to the spool only instead of waiting or being dropped.
    c.spool.dir = o.spool_dir;
    c.spool.mode = SpoolMode::write_ahead;
    c.queue.overflow = OverflowPolicy::spill;
    c.shutdown_timeout = shutdown_timeout(o);
    if (o.spool_max_bytes) c.spool.max_bytes = *o.spool_max_bytes;
    // A small cap: smaller segments, so a delivered one frees its room soon.
    if (c.spool.segment_bytes > c.spool.max_bytes / 4) c.spool.segment_bytes = c.spool.max_bytes / 4;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Messages

/// stderr is written by the main thread and, with --spool-dir, by the sender thread (its report
/// callback): one message at a time.
std::mutex g_stderr_mu;

/// One line on stderr, prefixed with the program name. Callers redact what they pass.
void print_error(const std::string& message) {
  std::lock_guard<std::mutex> lock(g_stderr_mu);
  std::cerr << "ilert-sumo-send: " << message << "\n";
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// One webhook body, where it came from ("file", "file:line", "<stdin>") and when it was read.
struct Payload {
  std::string source;
  std::string body;
  UtcTime received_at;
};

/// The most bytes one payload may have: the parser's body limit.
const std::size_t kMaxPayloadBytes = ParseOptions{}.max_body_bytes;

/// What a path is, for a message: "a directory", "a character device", ...
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

/// Fails early (usage error) when an input file cannot be opened, is not a regular file, or is
/// larger than the parser's body limit (without --ndjson), so nothing is half sent.
void check_inputs(const Options& o) {
  for (const auto& in : o.inputs) {
    if (in == "-") continue;
    const int fd = ::open(in.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      const bool url = in.find("://") != std::string::npos;
      throw UsageError{"cannot read " + printable_arg(in) + ": " + std::strerror(errno) +
                       (url ? " (a URL goes after --url, or better in the variable named by --url-env)" : "")};
    }
    struct stat st {};
    const bool statted = ::fstat(fd, &st) == 0;
    ::close(fd);
    if (!statted) throw UsageError{"cannot read " + printable_arg(in) + ": " + std::strerror(errno)};
    if (!S_ISREG(st.st_mode)) {
      throw UsageError{"refusing " + printable_arg(in) + ": it is " + file_kind(st.st_mode) +
                       "; inputs must be regular files (give a stream on stdin with `-`)"};
    }
    if (!o.ndjson && static_cast<std::uint64_t>(st.st_size) > kMaxPayloadBytes) {
      throw UsageError{"refusing " + printable_arg(in) + ": " + std::to_string(st.st_size) +
                       " bytes is more than the parser's body limit of " + std::to_string(kMaxPayloadBytes) +
                       " bytes (one webhook body per file; use --ndjson for one body per line)"};
    }
  }
}

/// Reads a file descriptor in 64 KiB pieces; never holds more than one payload plus one piece.
class BoundedReader {
 public:
  explicit BoundedReader(int fd) : fd_(fd) {}

  /// The next line (without '\n'): true with `line`, false at the end. A line longer than `max`
  /// sets `too_long` (the line is not returned; the caller stops reading this input).
  bool next_line(std::string& line, std::size_t max, bool& too_long) {
    line.clear();
    too_long = false;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf_.data() + pos_, '\n', len_ - pos_));
      const std::size_t take = (nl != nullptr ? static_cast<std::size_t>(nl - (buf_.data() + pos_)) : len_ - pos_);
      if (line.size() + take > max) {
        too_long = true;
        line.clear();
        line.shrink_to_fit();
        return false;
      }
      line.append(buf_.data() + pos_, take);
      pos_ += take;
      if (nl != nullptr) {
        ++pos_;
        return true;
      }
      if (!fill()) {
        if (!interrupted_) return !line.empty();
        discarded_ = !line.empty();  // cut off by a stop signal: not a whole line
        return false;
      }
    }
  }

  /// Everything up to the end, if it is at most `max` bytes; else `too_long` (reading stops
  /// after max + 1 bytes).
  bool read_all(std::string& out, std::size_t max, bool& too_long) {
    out.clear();
    too_long = false;
    for (;;) {
      if (out.size() + (len_ - pos_) > max) {
        too_long = true;
        out.clear();
        out.shrink_to_fit();
        return false;
      }
      out.append(buf_.data() + pos_, len_ - pos_);
      pos_ = len_;
      if (!fill()) {
        if (interrupted_) discarded_ = !out.empty();  // cut off by a stop signal: not a whole body
        return !error_ && !interrupted_;
      }
    }
  }

  bool error() const noexcept { return error_; }
  int error_number() const noexcept { return errno_; }
  /// True when a stop signal ended the reading.
  bool interrupted() const noexcept { return interrupted_; }
  /// True when a stop signal cut off a body or line that was partly read (it is not sent).
  bool discarded() const noexcept { return discarded_; }

 private:
  bool fill() {
    pos_ = 0;
    len_ = 0;
    for (;;) {
      // A stop signal ends the reading at once, even when the input (stdin, a FIFO) is idle.
      if (!StopSignals::wait_readable(fd_)) {
        interrupted_ = true;
        return false;
      }
      const ssize_t r = ::read(fd_, buf_.data(), buf_.size());
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        error_ = true;
        errno_ = errno;
        return false;
      }
      len_ = static_cast<std::size_t>(r);
      return r > 0;
    }
  }

  int fd_;
  std::vector<char> buf_ = std::vector<char>(64 * 1024);
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  bool error_ = false;
  bool interrupted_ = false;
  bool discarded_ = false;
  int errno_ = 0;
};

UtcTime now_utc() { return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()); }

/// Calls `sink` for each payload of each input, in order. Returns false (after printing why) when an
/// input could not be read completely.
bool for_each_payload(const Options& o, const std::function<void(Payload&&)>& sink) {
  bool ok = true;
  for (const auto& in : o.inputs) {
    const std::string name = in == "-" ? std::string("<stdin>") : printable_arg(in);
    if (StopSignals::requested()) break;  // the rest is not read (the summary says why)
    int fd = 0;
    if (in != "-") {
      fd = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat st {};
      if (fd >= 0 && (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {  // replaced since check_inputs
        ::close(fd);
        print_error("refusing " + name + ": not a regular file");
        ok = false;
        continue;
      }
      if (fd < 0) {
        print_error("cannot read " + name + ": " + std::strerror(errno));
        ok = false;
        continue;
      }
    }
    BoundedReader reader(fd);
    bool too_long = false;
    if (o.ndjson) {
      std::string line;
      std::size_t number = 0;
      while (reader.next_line(line, kMaxPayloadBytes + 1, too_long)) {  // + 1: a trailing '\r'
        if (StopSignals::requested()) break;  // stop at once, even with lines left in the buffer
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        if (line.size() > kMaxPayloadBytes) {
          --number;  // reported as number + 1 below
          too_long = true;
          break;
        }
        sink(Payload{name + ":" + std::to_string(number), std::move(line), now_utc()});
        line.clear();
      }
      if (too_long) {
        print_error(name + ":" + std::to_string(number + 1) + ": line longer than the parser's body limit of " +
                    std::to_string(kMaxPayloadBytes) + " bytes; not sent, and the rest of " + name + " is not read");
        ok = false;
      }
    } else {
      std::string body;
      reader.read_all(body, kMaxPayloadBytes, too_long);
      if (too_long) {
        print_error(name + ": body longer than the parser's body limit of " + std::to_string(kMaxPayloadBytes) +
                    " bytes; not sent");
        ok = false;
      } else if (!reader.error() && !reader.interrupted()) {
        sink(Payload{name, std::move(body), now_utc()});
      }
    }
    if (reader.error()) {
      print_error("error while reading " + name + ": " + std::strerror(reader.error_number()));
      ok = false;
    }
    if (reader.discarded()) {
      print_error("stopped reading " + name + " on a signal in the middle of a " + (o.ndjson ? "line" : "body") +
                  "; that part is not sent");
      ok = false;
    }
    if (fd > 0) ::close(fd);
  }
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Delivery

/// What the spool did (--spool-dir only).
struct SpoolTotals {
  std::string dir;
  std::uint64_t replayed = 0;  // events an earlier run left in the spool (damaged records included)
  std::uint64_t damaged = 0;   // of those, records found damaged (lost, also counted in `dropped`)
  std::uint64_t spooled = 0;   // undelivered at the deadline: on disk, for the next run
  std::uint64_t dropped = 0;   // lost, any reason
};

/// What was delivered.
struct Totals {
  std::size_t sent = 0;      // lines delivered
  std::size_t failed = 0;    // lines not delivered (with a spool: spooled + dropped)
  std::size_t requests = 0;  // requests made (at least one attempt)
  std::size_t retries = 0;
  std::size_t raw_bytes = 0;
  std::size_t compressed_bytes = 0;
  std::optional<SpoolTotals> spool;
};

/// The delivery step: takes events and invalid-payload lines in order.
class LineSender {
 public:
  virtual ~LineSender() = default;
  /// Called once before the first payload.
  virtual void begin() {}
  virtual void add_event(Event event) = 0;
  virtual void add_line(std::string line) = 0;
  /// Delivers what is pending and returns the totals.
  virtual Totals finish() = 0;
};

/// After a stop signal the synchronous path must end within --shutdown-timeout, although
/// SumoClient retries for up to --retry-budget: this thread calls `on_deadline` (the client's
/// request_stop(), which aborts a transfer in flight and ends a retry wait at once, also one
/// begun before the signal) --shutdown-timeout after the first stop signal. Until then delivery
/// goes on as usual, retries included. stop() ends the thread early.
class StopDeadline {
 public:
  StopDeadline(std::chrono::milliseconds timeout, std::function<void()> on_deadline)
      : on_deadline_(std::move(on_deadline)) {
    int fds[2];
    if (::pipe(fds) != 0) return;  // without it: no deadline thread (the retry budget still ends it)
    done_read_ = fds[0];
    done_write_ = fds[1];
    thread_ = std::thread([this, timeout] { run(timeout); });
  }
  ~StopDeadline() { stop(); }
  StopDeadline(const StopDeadline&) = delete;
  StopDeadline& operator=(const StopDeadline&) = delete;

  void stop() {
    if (!thread_.joinable()) return;
    const char byte = 1;
    (void)!::write(done_write_, &byte, 1);
    thread_.join();
    ::close(done_read_);
    ::close(done_write_);
  }

 private:
  void run(std::chrono::milliseconds timeout) {
    if (StopSignals::wait_readable(done_read_)) return;  // stopped before any signal
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{done_read_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count() + 1, 60000)));
      if (n > 0) return;  // the program finished in time
    }
    on_deadline_();
  }

  std::function<void()> on_deadline_;
  int done_read_ = -1;
  int done_write_ = -1;
  std::thread thread_;
};

/// Synchronous delivery with SumoClient. Keeps memory bounded by sending every ~4 MiB of input,
/// and keeps order: a run of events and a run of pre-built lines are sent one after the other.
class SyncLineSender final : public LineSender {
 public:
  SyncLineSender(FinalizedSumoConfig config, std::chrono::milliseconds stop_timeout)
      : config_(config.config()),
        client_(std::move(config)),
        stop_deadline_(stop_timeout, [this] { client_.request_stop(); }) {}

  void add_event(Event event) override {
    if (!lines_.empty()) flush();
    pending_bytes_ += approx_size(event);
    events_.push_back(std::move(event));
    if (pending_bytes_ >= kChunkBytes) flush();
  }
  void add_line(std::string line) override {
    if (!events_.empty()) flush();
    pending_bytes_ += line.size();
    lines_.push_back(std::move(line));
    if (pending_bytes_ >= kChunkBytes) flush();
  }
  Totals finish() override {
    flush();
    stop_deadline_.stop();
    return totals_;
  }

 private:
  static constexpr std::size_t kChunkBytes = 4 * 1024 * 1024;

  static std::size_t approx_size(const Event& e) {
    const Alert& a = std::visit([](const auto& ev) -> const Alert& { return ev.alert; }, e);
    return 512 + (a.details ? a.details->size() : 0) + (a.summary ? a.summary->size() : 0);
  }

  void flush() {
    if (events_.empty() && lines_.empty()) return;
    const DeliverySummary s = events_.empty() ? client_.send_lines(lines_) : client_.send(events_);
    for (const auto& r : s.requests) {
      if (r.attempts > 0) ++totals_.requests;
      if (!r.warning.empty()) print_error("Sumo answered with a warning: " + redact(r.warning, config_));
      if (r.delivered) continue;
      const std::size_t first = offset_ + r.first_index + 1;
      std::string message = "lines " + std::to_string(first) + ".." + std::to_string(first + r.events - 1) +
                            " not delivered after " + std::to_string(r.attempts) + " attempt(s)";
      if (r.final_status != 0) message += ", last status " + std::to_string(r.final_status);
      if (r.error) message += ": " + redact(r.error->to_string(), config_);
      if (client_.stop_requested()) message += " (cut off: --shutdown-timeout after the stop signal)";
      print_error(message);
    }
    totals_.sent += s.events_delivered;
    totals_.failed += s.events_failed;
    totals_.retries += s.retries;
    totals_.raw_bytes += s.raw_bytes;
    totals_.compressed_bytes += s.compressed_bytes;
    offset_ += events_.size() + lines_.size();
    events_.clear();
    lines_.clear();
    pending_bytes_ = 0;
  }

  SumoConfig config_;  // for redact()
  SumoClient client_;
  StopDeadline stop_deadline_;  // after client_: destroyed (its thread joined) before the client
  std::vector<Event> events_;
  std::vector<std::string> lines_;
  std::size_t pending_bytes_ = 0;
  std::size_t offset_ = 0;
  Totals totals_;
};

/// Delivery through SumoSender with a write_ahead spool in `dir`: every event is on disk before it
/// counts as accepted; what an earlier run left there is sent first (begin()); finish() waits for
/// Sumo until the deadline (`wait` in all, from begin()) and leaves the rest in the spool.
class SpoolLineSender final : public LineSender {
 public:
  /// Opens the spool and starts the sender thread. Throws UsageError when the spool cannot be used
  /// (not creatable, not writable, in use by another run): nothing has been sent then.
  SpoolLineSender(FinalizedSumoConfig config, std::string dir, std::chrono::milliseconds wait)
      : config_(config.config()), dir_(std::move(dir)), wait_(wait) {
    auto created = SumoSender::create(
        std::move(config), nullptr, [this](const DeliveryReport& r) { on_report(r); },
        [](const Error& notice) { print_error(notice.message); });
    if (!created) throw UsageError{"--spool-dir: " + redact(created.error().to_string(), config_), false};
    sender_ = std::move(created).value();
  }

  /// Events left by an earlier run go first: wait for them (at most the whole timeout) before
  /// the new input is read, so they are delivered before this run's events.
  void begin() override {
    started_ = Clock::now();
    // `recovered`, not `spool_backlog`: the sender thread may already have read them into memory.
    if (sender_->stats().recovered == 0) return;
    const FlushResult r = sender_->flush(wait_);
    if (!r.completed) {
      print_error(
          "the events left in the spool were not all delivered within --shutdown-timeout; this "
          "run's events are kept in the spool behind them");
    }
  }

  void add_event(Event event) override { count(sender_->enqueue(event)); }
  void add_line(std::string line) override { count(sender_->enqueue_line(line)); }

  Totals finish() override {
    // flush() first: shutdown() alone would not read back events that are only on disk (spilled
    // ones, a failed batch). Then shutdown() aborts what is in flight at the deadline; everything
    // accepted is on disk already (write_ahead), so that costs nothing but time.
    const Clock::time_point deadline = started_ + wait_;
    sender_->flush(until(deadline));
    const FlushResult r = sender_->shutdown(until(deadline));
    const SenderStats s = sender_->stats();

    Totals t;
    t.sent = static_cast<std::size_t>(s.delivered_events);
    std::uint64_t attempts = 0;
    for (const auto& entry : s.requests_by_status) attempts += entry.second;
    t.retries = static_cast<std::size_t>(s.retries);
    t.requests = static_cast<std::size_t>(attempts - std::min(attempts, s.retries));
    t.raw_bytes = static_cast<std::size_t>(s.delivered_raw_bytes);
    t.compressed_bytes = static_cast<std::size_t>(s.delivered_compressed_bytes);
    SpoolTotals sp;
    sp.dir = dir_;
    sp.replayed = s.recovered;
    sp.damaged = s.dropped_spool_corrupt;
    sp.spooled = r.spooled;
    sp.dropped = r.dropped + closed_;
    t.failed = static_cast<std::size_t>(r.spooled + r.pending + sp.dropped);
    t.spool = sp;

    const std::string last_error = s.last_error.empty() ? std::string() : " (" + redact(s.last_error, config_) + ")";
    if (r.spooled > 0) {
      std::ostringstream timeout;
      timeout << static_cast<double>(wait_.count()) / 1000.0;
      print_error(std::to_string(r.spooled) + " event(s) not delivered within --shutdown-timeout " + timeout.str() +
                  " s" + last_error + "; they stay in the spool and are sent by the next run with --spool-dir " + dir_);
    }
    if (sp.dropped > 0) print_error(std::to_string(sp.dropped) + " event(s) lost: " + drop_reasons(s) + last_error);
    return t;
  }

 private:
  using Clock = std::chrono::steady_clock;
  /// Most "not accepted" messages printed (the summary counts them all).
  static constexpr std::uint64_t kMaxRefusalMessages = 10;

  static std::chrono::milliseconds until(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return std::max(left, std::chrono::milliseconds(0));
  }

  void count(EnqueueStatus status) {
    ++index_;
    if (status == EnqueueStatus::accepted || status == EnqueueStatus::spilled) return;
    // Dropped events are counted by the sender (stats); `closed` is not, so count it here.
    if (status == EnqueueStatus::closed) ++closed_;
    if (++refused_ > kMaxRefusalMessages) return;
    std::string message = "line " + std::to_string(index_) + " not accepted (" + to_string(status) + ")";
    if (status == EnqueueStatus::dropped_spool_error || status == EnqueueStatus::refused_spool_full) {
      const std::string error = sender_->stats().last_error;
      if (!error.empty()) message += ": " + redact(error, config_);
    }
    if (refused_ == kMaxRefusalMessages) message += " (further refusals are only counted)";
    print_error(message);
  }

  /// "2 dropped_spool_error, 1 dropped_spool_corrupt" from the non-zero drop counters.
  std::string drop_reasons(const SenderStats& s) const {
    const std::pair<const char*, std::uint64_t> reasons[] = {
        {"queue full", s.dropped_queue_full},
        {"evicted (oldest)", s.dropped_oldest},
        {"too large", s.dropped_too_large},
        {"refused by Sumo", s.dropped_permanent_error},
        {"retry budget exhausted", s.dropped_budget_exhausted},
        {"evicted from the spool (size cap)", s.dropped_spool_evicted},
        {"damaged in the spool", s.dropped_spool_corrupt},
        {"undelivered at shutdown", s.dropped_at_shutdown},
        {"bad metadata", s.dropped_bad_metadata},
        {"spool write failed", s.dropped_spool_error + s.refused_spool_error},
        {"refused: spool full (--spool-max-bytes)", s.refused_spool_full},
        {"sender closed", closed_},
    };
    std::string out;
    for (const auto& [what, n] : reasons) {
      if (n == 0) continue;
      if (!out.empty()) out += ", ";
      out += std::to_string(n) + " " + what;
    }
    return out;
  }

  /// On the sender thread, after each request's final outcome.
  void on_report(const DeliveryReport& r) {
    if (!r.warning.empty()) print_error("Sumo answered with a warning: " + redact(r.warning, config_));
    if (r.delivered) return;
    // Cut off by the deadline: the summary counts those events as spooled.
    if (r.error && r.error->code == ErrorCode::aborted) return;
    std::string message =
        std::to_string(r.events) + " line(s) not delivered after " + std::to_string(r.attempts) + " attempt(s)";
    if (r.final_status != 0) message += ", last status " + std::to_string(r.final_status);
    if (r.error) message += ": " + redact(r.error->to_string(), config_);
    print_error(message + " (kept in the spool)");
  }

  SumoConfig config_;  // for redact()
  std::string dir_;
  std::chrono::milliseconds wait_;
  Clock::time_point started_ = Clock::now();
  std::uint64_t index_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t closed_ = 0;
  // Last: destroyed first, so its thread (which calls on_report) is gone before the rest.
  std::unique_ptr<SumoSender> sender_;
};

/// What was read.
struct ReadCounts {
  std::size_t read = 0;
  std::size_t invalid = 0;
  std::size_t skipped = 0;
};

/// Parses each payload and hands the result to `sender`. Invalid payloads are reported on stderr.
ReadCounts process_payloads(const Options& o, LineSender& sender, bool& inputs_ok) {
  ReadCounts counts;
  inputs_ok = for_each_payload(o, [&](Payload&& p) {
    ++counts.read;
    ParseOptions opts;
    opts.received_at = p.received_at;  // the moment the payload was read
    auto parsed = parse_event(p.body, opts);
    if (parsed) {
      sender.add_event(std::move(parsed).value());
      return;
    }
    ++counts.invalid;
    const Error& err = parsed.error();
    print_error("invalid payload " + p.source + ": " + err.to_string() +
                (o.skip_invalid ? " (skipped)" : " (sent as an invalid-payload line)"));
    if (o.skip_invalid) {
      ++counts.skipped;
      return;
    }
    sender.add_line(to_invalid_payload_line(p.body, err));
  });
  return counts;
}

void print_summary(const std::string& destination, const ReadCounts& c, const Totals& t) {
  std::cout << "destination:      " << destination << "\n";
  if (t.spool) {
    std::cout << "spool dir:        " << t.spool->dir << "\n"
              << "replayed:         " << t.spool->replayed;
    if (t.spool->damaged > 0) std::cout << " (" << t.spool->damaged << " damaged, lost)";
    std::cout << "\n";
  }
  std::cout << "events read:      " << c.read << "\n"
            << "invalid:          " << c.invalid << (c.skipped ? " (skipped)" : "") << "\n"
            << "sent:             " << t.sent << "\n"
            << "requests:         " << t.requests << "\n"
            << "retries:          " << t.retries << "\n"
            << "failures:         " << t.failed << "\n";
  if (t.spool) {
    std::cout << "spooled:          " << t.spool->spooled;
    if (t.spool->spooled > 0) std::cout << " (will be sent by the next run with --spool-dir " << t.spool->dir << ")";
    std::cout << "\n"
              << "dropped:          " << t.spool->dropped << "\n";
  }
  if (const int signo = StopSignals::received()) {
    std::cout << "interrupted:      "
              << (signo == SIGINT    ? "SIGINT"
                  : signo == SIGTERM ? "SIGTERM"
                                     : "signal")
              << " (input not read further)\n";
  }
  std::cout << "raw bytes:        " << t.raw_bytes << "\n"
            << "compressed bytes: " << t.compressed_bytes << "\n";
  std::cout.flush();
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::string destination;
  std::unique_ptr<LineSender> sender;
  CLI::App app(kDescription);
  ilert_sumo_cli::configure(app, kProgram, ilert_sumo::version());
  RawOptions raw_options;
  add_options(app, options, raw_options);
  app.footer(kFooter);
  if (const auto exit_code = ilert_sumo_cli::parse(app, argc, argv, redact_message)) return *exit_code;
  // Before any thread starts (the spool sender's, the deadline thread), so all inherit it.
  if (!StopSignals::install({SIGINT, SIGTERM})) {
    print_error(std::string("cannot install the signal handlers: ") + std::strerror(errno));
    return 1;
  }
  try {
    finish_options(options, raw_options);
    SumoConfig raw = build_config(options);
    auto finalized = finalize(raw);
    // finalize()'s messages are redacted; redact again against this config, to be sure.
    if (!finalized) throw UsageError{"invalid configuration: " + redact(finalized.error().to_string(), raw)};
    check_inputs(options);
    destination = finalized->redacted_url();
    // Last: with a spool, the sender starts sending what the spool holds at once.
    if (options.spool_dir.empty()) {
      sender = std::make_unique<SyncLineSender>(std::move(finalized).value(), shutdown_timeout(options));
    } else {
      sender =
          std::make_unique<SpoolLineSender>(std::move(finalized).value(), options.spool_dir, shutdown_timeout(options));
    }
  } catch (const UsageError& e) {
    return e.hint ? ilert_sumo_cli::usage_error(kProgram, e.message)
                  : ilert_sumo_cli::config_error(kProgram, e.message);
  }

  sender->begin();
  bool inputs_ok = true;
  const ReadCounts counts = process_payloads(options, *sender, inputs_ok);
  const Totals totals = sender->finish();
  print_summary(destination, counts, totals);
  return (totals.failed == 0 && inputs_ok) ? 0 : 1;
}
