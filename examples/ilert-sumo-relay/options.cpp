// examples/ilert-sumo-relay/options.cpp: flags + environment -> RelayOptions (see options.hpp).
#include "options.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "../common/cli.hpp"
#include "ilert_sumo/version.hpp"

extern char** environ;

namespace relay {
namespace {

using ilert_sumo::Compression;
using ilert_sumo::FsyncPolicy;
using ilert_sumo::OverflowPolicy;

// One setting: its flag, its environment variable, and how to store a value. `is_switch` flags
// take no value on the command line (`--fields-from-event`), but accept `--flag=false`.
struct OptionSpec {
  const char* flag;
  const char* env;
  const char* metavar;
  const char* help;
  bool is_switch;
  std::function<std::string(RelayOptions&, const std::string&)> set;  // "" = ok, else error
};

std::string trim(const std::string& s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// An HTTP field name: a token (RFC 9110, section 5.1).
bool is_header_token(const std::string& name) {
  if (name.empty() || name.size() > 256) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
  });
}

bool parse_u64(const std::string& text, std::uint64_t& out) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end == nullptr || *end != '\0') return false;
  out = v;
  return true;
}

// "1048576", "512k", "4M", "4MiB", "1G".
bool parse_size(const std::string& text, std::size_t& out) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  std::uint64_t n = 0;
  if (!parse_u64(text.substr(0, i), n)) return false;
  const std::string suffix = lower(text.substr(i));
  std::uint64_t mult = 1;
  if (suffix.empty() || suffix == "b")
    mult = 1;
  else if (suffix == "k" || suffix == "kb" || suffix == "kib")
    mult = 1024;
  else if (suffix == "m" || suffix == "mb" || suffix == "mib")
    mult = 1024 * 1024;
  else if (suffix == "g" || suffix == "gb" || suffix == "gib")
    mult = 1024ull * 1024 * 1024;
  else
    return false;
  if (n > (static_cast<std::uint64_t>(-1) / mult)) return false;
  out = static_cast<std::size_t>(n * mult);
  return true;
}

// "10" (seconds), "2.5", "500ms", "10s", "1m".
bool parse_duration(const std::string& text, std::chrono::milliseconds& out) {
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  const std::string number = text.substr(0, i);
  const std::string suffix = text.substr(i);
  if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1) return false;
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (end == nullptr || *end != '\0' || !std::isfinite(v) || v < 0) return false;
  double ms = 0;
  if (suffix.empty() || suffix == "s")
    ms = v * 1000.0;
  else if (suffix == "ms")
    ms = v;
  else if (suffix == "m" || suffix == "min")
    ms = v * 60000.0;
  else
    return false;
  if (ms > 1e12) return false;
  out = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
  return true;
}

bool parse_bool(const std::string& text, bool& out) {
  const std::string t = lower(text);
  if (t == "1" || t == "true" || t == "yes" || t == "on") return out = true, true;
  if (t == "0" || t == "false" || t == "no" || t == "off") return out = false, true;
  return false;
}

std::string parse_fields(const std::string& text, std::vector<ilert_sumo::SumoField>& out) {
  out.clear();
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return "expected key=value, got '" + item + "'";
    out.push_back({trim(item.substr(0, eq)), trim(item.substr(eq + 1))});
  }
  return "";
}

const std::vector<OptionSpec>& specs() {
  static const std::vector<OptionSpec> table = {
      {"--listen", "ILERT_SUMO_RELAY_LISTEN", "HOST:PORT",
       "address to listen on (port 0: any free port) [127.0.0.1:8080]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         std::string host;
         std::string port;
         if (!v.empty() && v[0] == '[') {  // [::1]:8080
           const auto close = v.find(']');
           if (close == std::string::npos || close + 1 >= v.size() || v[close + 1] != ':')
             return "expected [IPV6]:PORT";
           host = v.substr(1, close - 1);
           port = v.substr(close + 2);
         } else {
           const auto colon = v.rfind(':');
           if (colon == std::string::npos) return "expected HOST:PORT";
           host = v.substr(0, colon);
           port = v.substr(colon + 1);
         }
         std::uint64_t p = 0;
         if (host.empty()) return "expected HOST:PORT (the host is empty)";
         if (!parse_u64(port, p) || p > 65535) return "the port must be 0..65535";
         o.listen_host = host;
         o.listen_port = static_cast<int>(p);
         return "";
       }},
      {"--path", "ILERT_SUMO_RELAY_PATH", "PATH", "URL path iLert posts to [/ilert]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         if (v.empty() || v[0] != '/') return "the path must start with '/'";
         for (char c : v) {
           const auto u = static_cast<unsigned char>(c);
           if (u <= 0x20 || u >= 0x7F || c == '?' || c == '#')
             return "the path may hold printable ASCII only (no '?', '#', spaces)";
         }
         if (v == "/healthz" || v == "/metrics")
           return "the path " + v + " is the relay's own endpoint; choose another";
         o.path = v;
         return "";
       }},
      {"--max-body", "ILERT_SUMO_RELAY_MAX_BODY", "BYTES", "largest accepted body, e.g. 4M; larger -> 413 [4M]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         std::size_t n = 0;
         if (!parse_size(v, n) || n == 0) return "expected a size such as 1048576, 512k or 4M";
         o.max_body = n;
         return "";
       }},
      {"--spool-dir", "ILERT_SUMO_RELAY_SPOOL_DIR", "DIR", "write-ahead spool: a 202 means the event is on disk [off]",
       false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         o.spool_dir = v;
         return "";
       }},
      {"--spool-max-bytes", "ILERT_SUMO_RELAY_SPOOL_MAX_BYTES", "BYTES",
       "spool cap; when full, new webhooks get 503 + Retry-After (nothing accepted is evicted) [1G]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         return parse_size(v, o.spool_max_bytes) && o.spool_max_bytes >= 65536
                    ? ""
                    : "expected a size of at least 64k, such as 1G";
       }},
      {"--fsync", "ILERT_SUMO_RELAY_FSYNC", "never|per_batch|interval", "when spool appends are fsync'ed [interval]",
       false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         if (v == "never")
           o.fsync = FsyncPolicy::never;
         else if (v == "per_batch")
           o.fsync = FsyncPolicy::per_batch;
         else if (v == "interval")
           o.fsync = FsyncPolicy::interval;
         else
           return "expected never, per_batch or interval";
         return "";
       }},
      {"--category", "ILERT_SUMO_RELAY_CATEGORY", "CATEGORY",
       "X-Sumo-Category; {eventType} is replaced per event; '' = the source's own [webhook/ilert]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         o.category = v;
         return "";
       }},
      {"--source-name", "ILERT_SUMO_RELAY_SOURCE_NAME", "NAME", "X-Sumo-Name [source default]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         o.source_name = v;
         return "";
       }},
      {"--source-host", "ILERT_SUMO_RELAY_SOURCE_HOST", "HOST", "X-Sumo-Host [source default]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         o.source_host = v;
         return "";
       }},
      {"--fields", "ILERT_SUMO_RELAY_FIELDS", "K=V,...", "static X-Sumo-Fields [none]", false,
       [](RelayOptions& o, const std::string& v) -> std::string { return parse_fields(v, o.fields); }},
      {"--fields-from-event", "ILERT_SUMO_RELAY_FIELDS_FROM_EVENT", "",
       "add eventType, priority, alertSource to X-Sumo-Fields [off]", true,
       [](RelayOptions& o, const std::string& v) -> std::string {
         return parse_bool(v, o.fields_from_event) ? "" : "expected true or false";
       }},
      {"--shutdown-timeout", "ILERT_SUMO_RELAY_SHUTDOWN_TIMEOUT", "SECONDS",
       "on SIGTERM/SIGINT: flush for at most this long, spool the rest [10]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         return parse_duration(v, o.shutdown_timeout) ? "" : "expected seconds, e.g. 10, 2.5 or 500ms";
       }},
      {"--compression", "ILERT_SUMO_RELAY_COMPRESSION", "none|gzip|deflate|zstd", "request compression [gzip]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         auto c = ilert_sumo::parse_compression(v);
         if (!c) return c.error().message;
         o.compression = *c;
         return "";
       }},
      {"--compression-level", "ILERT_SUMO_RELAY_COMPRESSION_LEVEL", "N", "codec level, -1 = codec default [-1]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         char* end = nullptr;
         const long n = std::strtol(v.c_str(), &end, 10);
         if (v.empty() || end == nullptr || *end != '\0' || n < -1 || n > 22) return "expected -1..22";
         o.compression_level = static_cast<int>(n);
         return "";
       }},
      {"--queue-bytes", "ILERT_SUMO_RELAY_QUEUE_BYTES", "BYTES", "in-memory queue bound [64M]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         return parse_size(v, o.queue_bytes) && o.queue_bytes > 0 ? "" : "expected a size such as 64M";
       }},
      {"--overflow", "ILERT_SUMO_RELAY_OVERFLOW", "drop_newest|block|drop_oldest|spill",
       "when the memory queue is full: spill = to the spool, drop_newest = 503 + Retry-After [spill with --spool-dir, "
       "else drop_newest]",
       false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         o.overflow_set = true;
         if (v == "drop_newest")
           o.overflow = OverflowPolicy::drop_newest;
         else if (v == "block")
           o.overflow = OverflowPolicy::block;
         else if (v == "drop_oldest")
           o.overflow = OverflowPolicy::drop_oldest;
         else if (v == "spill")
           o.overflow = OverflowPolicy::spill;
         else
           return "expected drop_newest, block, drop_oldest or spill";
         return "";
       }},
      {"--invalid-status", "ILERT_SUMO_RELAY_INVALID_STATUS", "400|202",
       "answer to a body that does not parse (forwarded to Sumo either way) [400]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         if (v == "400")
           o.invalid_status = 400;
         else if (v == "202")
           o.invalid_status = 202;
         else
           return "expected 400 or 202";
         return "";
       }},
      {"--auth-header", "ILERT_SUMO_RELAY_AUTH_HEADER", "NAME",
       "request header iLert must send; its value from ILERT_SUMO_RELAY_AUTH_HEADER_VALUE or --auth-header-file [none]",
       false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         if (!is_header_token(v)) return "expected an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)";
         for (const char* reserved :
              {"content-length", "transfer-encoding", "connection", "host", "expect", "upgrade", "te", "trailer",
               "keep-alive", "proxy-connection", "content-type", "content-encoding"}) {
           if (lower(v) == reserved)
             return "the header " + v +
                    " describes the request itself; choose another (e.g. Authorization or X-Ilert-Token)";
         }
         o.auth_header = v;
         return "";
       }},
      {"--batch-age", "ILERT_SUMO_RELAY_BATCH_AGE", "SECONDS", "send a partly filled batch once it is this old [1]",
       false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         return parse_duration(v, o.batch_age) && o.batch_age.count() > 0 ? ""
                                                                          : "expected seconds > 0, e.g. 1 or 200ms";
       }},
      {"--retry-budget", "ILERT_SUMO_RELAY_RETRY_BUDGET", "SECONDS", "how long one batch is retried [600]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         return parse_duration(v, o.retry_budget) && o.retry_budget.count() > 0 ? "" : "expected seconds > 0";
       }},
      {"--threads", "ILERT_SUMO_RELAY_THREADS", "N", "HTTP event-loop threads, each serving many connections [4]",
       false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         std::uint64_t n = 0;
         if (!parse_u64(v, n) || n == 0 || n > 64) return "expected 1..64";
         o.threads = static_cast<std::size_t>(n);
         return "";
       }},
      {"--keep-alive-timeout", "ILERT_SUMO_RELAY_KEEP_ALIVE_TIMEOUT", "SECONDS",
       "a connection silent this long is closed [5]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         std::uint64_t n = 0;
         if (!parse_u64(v, n) || n == 0 || n > 3600) return "expected 1..3600 (whole seconds)";
         o.keep_alive_timeout_s = static_cast<int>(n);
         return "";
       }},
      {"--read-timeout", "ILERT_SUMO_RELAY_READ_TIMEOUT", "SECONDS", "a request must arrive in full within this [10]",
       false,
       [](RelayOptions& o, const std::string& v) -> std::
                                                     string {
                                                       return parse_duration(v, o.read_timeout) &&
                                                                      o.read_timeout.count() >= 100
                                                                  ? ""
                                                                  : "expected seconds >= 0.1, e.g. 10";
                                                     }},
      {"--max-connections", "ILERT_SUMO_RELAY_MAX_CONNECTIONS", "N",
       "open connections in total; more are closed [1024]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         std::uint64_t n = 0;
         if (!parse_u64(v, n) || n == 0 || n > 100000) return "expected 1..100000";
         o.max_connections = static_cast<std::size_t>(n);
         return "";
       }},
      {"--max-connections-per-ip", "ILERT_SUMO_RELAY_MAX_CONNECTIONS_PER_IP", "N",
       "open connections per client address [256]", false,
       [](RelayOptions& o, const std::string& v) -> std::
                                                     string {
                                                       std::uint64_t n = 0;
                                                       if (!parse_u64(v, n) || n == 0 || n > 100000)
                                                         return "expected 1..100000";
                                                       o.max_connections_per_ip = static_cast<std::size_t>(n);
                                                       return "";
                                                     }},
      {"--max-header-bytes", "ILERT_SUMO_RELAY_MAX_HEADER_BYTES", "BYTES",
       "request line + headers; larger -> 431 [16k]", false,
       [](RelayOptions& o, const std::string& v) -> std::
                                                     string {
                                                       if (!parse_size(v, o.max_header_bytes) ||
                                                           o.max_header_bytes < 1024 ||
                                                           o.max_header_bytes > 1024 * 1024) {
                                                         return "expected a size from 1k to 1M";
                                                       }
                                                       return "";
                                                     }},
      {"--max-headers", "ILERT_SUMO_RELAY_MAX_HEADERS", "N", "header fields per request; more -> 431 [64]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         std::uint64_t n = 0;
         if (!parse_u64(v, n) || n < 8 || n > 10000) return "expected 8..10000";
         o.max_headers = static_cast<std::size_t>(n);
         return "";
       }},
      {"--max-body-memory", "ILERT_SUMO_RELAY_MAX_BODY_MEMORY", "BYTES",
       "request bodies in memory at once, all connections; over -> 503 [64M]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         return parse_size(v, o.max_body_memory) && o.max_body_memory > 0 ? "" : "expected a size such as 64M";
       }},
      {"--access-log", "ILERT_SUMO_RELAY_ACCESS_LOG", "on|off", "one line per request on stderr [on]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         return parse_bool(v, o.access_log) ? "" : "expected on or off";
       }},
      {"--degraded-after", "ILERT_SUMO_RELAY_DEGRADED_AFTER", "SECONDS",
       "/healthz is 503 when Sumo failed and had no success for this long [60]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         return parse_duration(v, o.degraded_after) ? "" : "expected seconds";
       }},
      {"--retry-after", "ILERT_SUMO_RELAY_RETRY_AFTER", "SECONDS", "Retry-After sent with 503 [5]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         std::uint64_t n = 0;
         if (!parse_u64(v, n) || n > 86400) return "expected whole seconds";
         o.retry_after_s = static_cast<int>(n);
         return "";
       }},
      {"--ca-file", "ILERT_SUMO_RELAY_CA_FILE", "FILE", "CA bundle for TLS to Sumo [system]", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         o.ca_file = v;
         return "";
       }},
      {"--proxy", "ILERT_SUMO_RELAY_PROXY", "URL",
       "proxy to Sumo, scheme://host:port (http, https, socks4, socks4a, socks5, socks5h); user:password@ only in the "
       "environment [libcurl's https_proxy/HTTPS_PROXY, ALL_PROXY]",
       false,
       [](RelayOptions& o, const std::string& v) -> std::
                                                     string {
                                                       o.proxy = v;
                                                       return "";
                                                     }},
      {"--no-proxy", "ILERT_SUMO_RELAY_NO_PROXY", "LIST",
       "hosts reached without a proxy: comma-separated names, domains, addresses; * = never a proxy "
       "[no_proxy/NO_PROXY]",
       false,
       [](RelayOptions& o, const std::string& v) -> std::
                                                     string {
                                                       o.no_proxy = v;
                                                       return "";
                                                     }},
      {"--endpoint", "ILERT_SUMO_ENDPOINT", "URL",
       "Sumo endpoint URL used with ILERT_SUMO_TOKEN (instead of ILERT_SUMO_URL)", false,
       [](RelayOptions& o, const std::string& v) -> std::string {
         o.sumo_endpoint = v;
         return "";
       }},
  };
  return table;
}

// Secrets: value from VAR, or the file named by VAR_FILE / the --*-file flag. `must_hold` (when
// set): an empty value is a configuration error (it would silently mean "no authentication").
struct SecretSpec {
  const char* env;
  const char* file_flag;
  const char* forbidden_flag;
  std::string RelayOptions::*field;
  const char* must_hold;
};

const std::vector<SecretSpec>& secret_specs() {
  static const std::vector<SecretSpec> table = {
      {"ILERT_SUMO_URL", "--url-file", "--url", &RelayOptions::sumo_url, nullptr},
      {"ILERT_SUMO_TOKEN", "--token-file", "--token", &RelayOptions::sumo_token, nullptr},
      {"ILERT_SUMO_RELAY_BASIC_AUTH", "--basic-auth-file", "--basic-auth", &RelayOptions::basic_auth, "user:password"},
      {"ILERT_SUMO_RELAY_AUTH_HEADER_VALUE", "--auth-header-file", "--auth-header-value",
       &RelayOptions::auth_header_value, "the header's value"},
  };
  return table;
}

std::string read_secret_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();  // editors add one
  out = text;
  return "";
}

}  // namespace

std::map<std::string, std::string> environment_map() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

}  // namespace relay

namespace relay {
namespace {

constexpr const char* kProgram = "ilert-sumo-relay";
constexpr const char* kConfigEnv = "ILERT_SUMO_RELAY_CONFIG";

// A CLI11 message may echo an argument: mask anything URL-shaped (a mistyped secret flag's value).
std::string sanitize_message(const std::string& message) {
  std::string out;
  std::size_t i = 0;
  while (i < message.size()) {
    const std::size_t end = std::min(message.find_first_of(" \t\n", i), message.size());
    const std::string word = message.substr(i, end - i);
    out += word.find("://") != std::string::npos ? ilert_sumo::redact_url(word) : word;
    if (end < message.size()) out += message[end];
    i = end + 1;
  }
  return out;
}

// The options every source knows: one per spec (value kept as text, validated by spec.set), the
// secret-file flags, and (hidden) the secret flags that are refused. `app` is either the command
// line or the config-file reader.
struct Declared {
  std::vector<CLI::Option*> specs;          // parallel to specs()
  std::vector<CLI::Option*> secret_files;   // parallel to secret_specs()
  std::vector<CLI::Option*> secret_values;  // parallel to secret_specs() (refused)
};

Declared declare(CLI::App& app) {
  Declared d;
  for (const auto& s : specs()) {
    const std::string help = std::string(s.help) + "; env " + s.env;
    // (The description is set apart: CLI11 would bind a non-const string argument as the storage.)
    CLI::Option* opt = s.is_switch ? app.add_flag(s.flag) : app.add_option(s.flag)->type_name(s.metavar);
    opt->description(help);
    if (std::string(s.flag) == "--endpoint") opt->group("Sumo source");
    d.specs.push_back(opt);
  }
  for (const auto& s : secret_specs()) {
    d.secret_files.push_back(app.add_option(s.file_flag)
                                 ->description(std::string("read ") + s.env + " from FILE; env " + s.env + "_FILE")
                                 ->type_name("FILE")
                                 ->group("Secrets (environment or file only)"));
    // Refused wherever it appears; a value after it is taken (and never printed).
    d.secret_values.push_back(app.add_option(s.forbidden_flag)->expected(0, 1)->group(""));
  }
  return d;
}

std::string first_result(const CLI::Option* opt) {
  const auto& r = opt->results();
  return r.empty() ? std::string() : r.back();
}

// A proxy URL with user info (`user:password@`) carries a secret: only the environment may hold it.
// Checked for the command line and the config file; the message never shows the URL.
std::string proxy_credentials_refused(const std::string& where, const std::string& proxy) {
  const auto scheme_end = proxy.find("://");
  const std::size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const std::size_t end = proxy.find_first_of("/?#", start);
  if (proxy.substr(start, end == std::string::npos ? std::string::npos : end - start).find('@') == std::string::npos) {
    return "";
  }
  return where + ": a proxy URL with credentials (user:password@) is a secret and is not accepted " +
         (where.rfind("--config", 0) == 0 ? "in a config file" : "on the command line") +
         " (other users can read it); set ILERT_SUMO_RELAY_PROXY (or https_proxy) instead";
}

std::string secret_refused(const std::string& where, const SecretSpec& s) {
  return where + ": secrets are not accepted " +
         (where.rfind("--config", 0) == 0 ? "in a config file" : "on the command line") +
         " (other users can read it); set " + s.env + " or use " + s.file_flag;
}

// Reads `path` with CLI11's config reader (INI or TOML). Applies its settings to `o` and fills
// `error` (usage = true) on a problem.
bool apply_config_file(const std::string& path, RelayOptions& o, std::string& error) {
  const std::string where = std::string("--config ") + path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    error = where + ": cannot read the file";
    return false;
  }
  CLI::App file_app;
  file_app.allow_config_extras(CLI::config_extras_mode::error);
  const Declared d = declare(file_app);
  file_app.set_config("--config", path, "", true);
  try {
    file_app.parse(std::vector<std::string>{});
  } catch (const CLI::ParseError& e) {
    error = where + ": " + sanitize_message(e.what());
    return false;
  }
  for (std::size_t i = 0; i < secret_specs().size(); ++i) {
    const auto& s = secret_specs()[i];
    if (d.secret_values[i]->count() > 0) {
      error = where + ": '" + std::string(s.forbidden_flag + 2) +
              "': " + "secrets are not read from a config file (it may be readable by others); set " + s.env +
              " or use " + (s.file_flag + 2) + " = FILE";
      return false;
    }
  }
  for (std::size_t i = 0; i < specs().size(); ++i) {
    if (d.specs[i]->count() == 0) continue;
    const std::string err = specs()[i].set(o, first_result(d.specs[i]));
    if (!err.empty()) {
      error = where + ": " + (specs()[i].flag + 2) + ": " + err;
      return false;
    }
  }
  error = proxy_credentials_refused(where + ": proxy", o.proxy);
  if (!error.empty()) return false;
  for (std::size_t i = 0; i < secret_specs().size(); ++i) {
    const auto& s = secret_specs()[i];
    if (d.secret_files[i]->count() == 0) continue;
    const std::string err = read_secret_file(first_result(d.secret_files[i]), o.*(s.field));
    if (!err.empty() || (s.must_hold != nullptr && (o.*(s.field)).empty())) {
      error = where + ": " + (s.file_flag + 2) + ": " +
              (err.empty() ? std::string("the file is empty; it must hold ") + s.must_hold : err);
      return false;
    }
  }
  return true;
}

}  // namespace

ParseResult parse_options(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  ParseResult result;
  RelayOptions& o = result.options;
  auto fail = [&](std::string message, bool usage = false) {
    result.action = ParseResult::Action::error;
    result.error = std::move(message);
    result.usage = usage;
    return result;
  };

  // 0. The command line, parsed (not yet applied).
  CLI::App app(
      "Receives iLert webhook alert actions (POST), validates them and forwards them to a Sumo Logic HTTP "
      "Logs source. Every option can also be set with the environment variable shown, or in the --config "
      "file; a flag wins over the environment, which wins over the config file. Secrets (ILERT_SUMO_URL, "
      "ILERT_SUMO_TOKEN, ILERT_SUMO_RELAY_BASIC_AUTH, ILERT_SUMO_RELAY_AUTH_HEADER_VALUE) come only from the "
      "environment or a file (the *_FILE variables, the --*-file flags); http:// is accepted only for a "
      "loopback Sumo host. With --auth-header NAME, iLert must send that header with the value of "
      "ILERT_SUMO_RELAY_AUTH_HEADER_VALUE.");
  ilert_sumo_cli::configure(app, kProgram, ilert_sumo::kVersion);
  std::string config_path;
  app.add_option("--config", config_path)
      ->description(
          "read settings from this INI/TOML file (keys: the long flag names without dashes, e.g. "
          "`spool-dir = /var/lib/ilert-sumo-relay`; secrets refused); env " +
          std::string(kConfigEnv))
      ->type_name("FILE");
  const Declared d = declare(app);
  app.footer(
      "Endpoints: POST <path> (webhook), GET /healthz, GET /metrics (Prometheus). SIGHUP flushes the queue "
      "and keeps running; SIGTERM/SIGINT shut down within --shutdown-timeout. See docs/RELAY.md.");
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    result.action = ParseResult::Action::help;
    result.text = app.help();
    return result;
  } catch (const CLI::CallForAllHelp&) {
    result.action = ParseResult::Action::help;
    result.text = app.help("", CLI::AppFormatMode::All);
    return result;
  } catch (const CLI::CallForVersion& e) {
    result.action = ParseResult::Action::version;
    result.text = std::string(e.what()) + "\n";
    return result;
  } catch (const CLI::ParseError& e) {
    return fail(sanitize_message(e.what()), true);
  }
  // A secret on the command line is refused before anything is read.
  for (std::size_t i = 0; i < secret_specs().size(); ++i) {
    if (d.secret_values[i]->count() > 0)
      return fail(secret_refused(secret_specs()[i].forbidden_flag, secret_specs()[i]), true);
  }

  // 1. The config file (--config, else ILERT_SUMO_RELAY_CONFIG).
  if (config_path.empty()) {
    const auto it = env.find(kConfigEnv);
    if (it != env.end()) config_path = it->second;
  }
  if (!config_path.empty()) {
    std::string err;
    if (!apply_config_file(config_path, o, err)) return fail(err, true);
  }

  // 2. The environment.
  for (const auto& s : specs()) {
    const auto it = env.find(s.env);
    if (it == env.end() || it->second.empty()) continue;
    const std::string err = s.set(o, it->second);
    if (!err.empty()) return fail(std::string(s.env) + ": " + err);
  }
  for (const auto& s : secret_specs()) {
    const auto file_it = env.find(std::string(s.env) + "_FILE");
    if (file_it != env.end() && !file_it->second.empty()) {
      const std::string err = read_secret_file(file_it->second, o.*(s.field));
      if (!err.empty()) return fail(std::string(s.env) + "_FILE: " + err);
    }
    const auto it = env.find(s.env);
    if (it != env.end() && !it->second.empty()) o.*(s.field) = it->second;
    if (s.must_hold != nullptr) {
      // Set but empty must not silently mean "no authentication".
      if (it != env.end() && it->second.empty()) {
        return fail(std::string(s.env) + " is set but empty; set " + s.must_hold + ", or unset it");
      }
      if (file_it != env.end() && !file_it->second.empty() && (o.*(s.field)).empty()) {
        return fail(std::string(s.env) + "_FILE: the file is empty; it must hold " + s.must_hold);
      }
    }
  }

  // 3. The flags.
  for (std::size_t i = 0; i < secret_specs().size(); ++i) {
    const auto& s = secret_specs()[i];
    if (d.secret_files[i]->count() == 0) continue;
    const std::string err = read_secret_file(first_result(d.secret_files[i]), o.*(s.field));
    if (!err.empty()) return fail(std::string(s.file_flag) + ": " + err);
    if (s.must_hold != nullptr && (o.*(s.field)).empty()) {
      return fail(std::string(s.file_flag) + ": the file is empty; it must hold " + s.must_hold);
    }
  }
  for (std::size_t i = 0; i < specs().size(); ++i) {
    if (d.specs[i]->count() == 0) continue;
    const std::string err = specs()[i].set(o, first_result(d.specs[i]));
    if (!err.empty()) return fail(std::string(specs()[i].flag) + ": " + err, true);
    if (std::string(specs()[i].flag) == "--proxy") {
      const std::string refused = proxy_credentials_refused("--proxy", o.proxy);
      if (!refused.empty()) return fail(refused, true);
    }
  }

  // 4. Cross-checks.
  if (!o.sumo_endpoint.empty()) {
    if (!o.sumo_url.empty())
      return fail("set either ILERT_SUMO_URL or ILERT_SUMO_ENDPOINT (+ ILERT_SUMO_TOKEN), not both");
    if (o.sumo_token.empty()) return fail("ILERT_SUMO_ENDPOINT needs ILERT_SUMO_TOKEN (or ILERT_SUMO_TOKEN_FILE)");
    o.sumo_url = o.sumo_endpoint;
  } else if (!o.sumo_url.empty() && !o.sumo_token.empty()) {
    // A presigned URL carries its own credential: a token beside it would be silently ignored.
    return fail(
        "ILERT_SUMO_URL (--url) is a presigned URL and ILERT_SUMO_TOKEN (--token) is set too: use "
        "ILERT_SUMO_URL alone, or ILERT_SUMO_ENDPOINT with ILERT_SUMO_TOKEN");
  }
  if (o.sumo_url.empty()) {
    return fail("no Sumo source: set ILERT_SUMO_URL (presigned URL) or ILERT_SUMO_ENDPOINT + ILERT_SUMO_TOKEN");
  }
  if (!o.basic_auth.empty() && o.basic_auth.find(':') == std::string::npos) {
    return fail("ILERT_SUMO_RELAY_BASIC_AUTH must be user:password");
  }
  if (!o.basic_auth.empty() && o.basic_auth.find(':') + 1 == o.basic_auth.size()) {
    return fail("ILERT_SUMO_RELAY_BASIC_AUTH has an empty password; set user:password");
  }
  if (!o.auth_header.empty() && o.auth_header_value.empty()) {
    return fail("--auth-header " + o.auth_header +
                " needs its value: set ILERT_SUMO_RELAY_AUTH_HEADER_VALUE or use --auth-header-file FILE");
  }
  if (o.auth_header.empty() && !o.auth_header_value.empty()) {
    return fail(
        "ILERT_SUMO_RELAY_AUTH_HEADER_VALUE is set but no header is named: add --auth-header NAME "
        "(or ILERT_SUMO_RELAY_AUTH_HEADER)");
  }
  if (!o.auth_header_value.empty()) {
    // HTTP drops whitespace around a field value, and no client can send a control character in
    // one: such a value could never match. (The message never shows the value.)
    const std::string& v = o.auth_header_value;
    const bool padded = v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t';
    const bool control = std::any_of(v.begin(), v.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return (u < 0x20 && c != '\t') || u == 0x7F;
    });
    if (padded || control) {
      return fail("the value of --auth-header " + o.auth_header +
                  " begins or ends with whitespace or holds a control character (a newline inside the file?); no "
                  "request could match it");
    }
    if (!o.basic_auth.empty() && lower(o.auth_header) == "authorization") {
      return fail(
          "--auth-header Authorization and ILERT_SUMO_RELAY_BASIC_AUTH both need the Authorization header; "
          "use one of them, or name another header");
    }
  }
  if (!o.overflow_set) {
    // With a spool, a full memory queue spills to disk (keep accepting while the spool has room);
    // without one, the relay refuses with 503 + Retry-After rather than dropping after a 202.
    o.overflow = o.spool_dir.empty() ? OverflowPolicy::drop_newest : OverflowPolicy::spill;
  } else if (o.overflow == OverflowPolicy::spill && o.spool_dir.empty()) {
    return fail("--overflow spill needs --spool-dir (it spills to the spool)");
  }
  if (!o.ca_file.empty()) {
    std::ifstream ca(o.ca_file, std::ios::binary);
    std::error_code ec;
    if (!ca || std::filesystem::is_directory(o.ca_file, ec)) {
      return fail("--ca-file " + o.ca_file + ": cannot read the file");
    }
  }
  const std::string scheme = o.sumo_url.substr(0, o.sumo_url.find("://"));
  if (scheme == "http" && !is_loopback_host(url_host(o.sumo_url))) {
    return fail("the Sumo URL " + ilert_sumo::redact_url(o.sumo_url) +
                " uses http:// with a non-loopback host; only https:// may leave this machine");
  }
  return result;
}

std::string url_host(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  std::size_t start = scheme_end + 3;
  std::size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  std::string authority = url.substr(start, end - start);
  const auto at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    return close == std::string::npos ? "" : authority.substr(1, close - 1);
  }
  const auto colon = authority.find(':');
  if (colon != std::string::npos) authority = authority.substr(0, colon);
  std::transform(authority.begin(), authority.end(), authority.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return authority;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // 127.0.0.0/8 as a dotted quad.
  int parts = 0;
  std::size_t i = 0;
  int first = -1;
  while (i <= host.size()) {
    std::size_t j = i;
    while (j < host.size() && host[j] >= '0' && host[j] <= '9') ++j;
    if (j == i || j - i > 3) return false;
    const int v = std::atoi(host.substr(i, j - i).c_str());
    if (v > 255) return false;
    if (parts == 0) first = v;
    ++parts;
    if (j == host.size()) break;
    if (host[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4 && first == 127;
}

ilert_sumo::SumoConfig make_sumo_config(const RelayOptions& o) {
  ilert_sumo::SumoConfig c;
  c.url = o.sumo_url;
  c.token = o.sumo_token;
  c.allow_insecure_http = o.sumo_url.rfind("http://", 0) == 0 && is_loopback_host(url_host(o.sumo_url));
  std::string category = o.category;
  const std::string tmpl = "{eventType}";
  for (auto p = category.find(tmpl); p != std::string::npos; p = category.find(tmpl, p)) {
    category.replace(p, tmpl.size(), "unknown");
  }
  c.metadata.category = category;
  c.metadata.name = o.source_name;
  c.metadata.host = o.source_host;
  c.metadata.fields = o.fields;
  c.compression = o.compression;
  c.compression_level = o.compression_level;
  c.batch.max_age = o.batch_age;
  c.retry.budget = o.retry_budget;
  c.http.ca_file = o.ca_file;
  c.http.proxy = o.proxy;  // checked (and shown masked) by finalize()
  c.http.no_proxy = o.no_proxy;
  c.queue.max_bytes = o.queue_bytes;
  c.queue.overflow = o.overflow;
  if (!o.spool_dir.empty()) {
    c.spool.dir = o.spool_dir;
    c.spool.mode = ilert_sumo::SpoolMode::write_ahead;
    c.spool.fsync = o.fsync;
    c.spool.max_bytes = o.spool_max_bytes;
    // A small cap: smaller segments, so a delivered one frees its room soon.
    if (c.spool.segment_bytes > c.spool.max_bytes / 4) c.spool.segment_bytes = c.spool.max_bytes / 4;
  }
  c.shutdown_timeout = o.shutdown_timeout;
  return c;
}

}  // namespace relay
