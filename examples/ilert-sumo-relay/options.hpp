// examples/ilert-sumo-relay/options.hpp: the relay's settings, from flags, the environment and an
// optional config file (--config FILE, INI/TOML; keys = long flag names without the dashes).
//
// Every setting has a flag and an environment variable. Precedence: flag > environment > config
// file > default. The command line is parsed by CLI11 (examples/common/cli.hpp's convention). Secrets - the Sumo URL or
// token, the Basic-auth credentials and the auth header's value - are read only from the
// environment or from a file, never from the command line (where `ps` shows them); a proxy URL
// with credentials only from the environment. parse_options() also turns the settings into the
// library's SumoConfig; it reports every problem as a message that never contains a secret.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ilert_sumo/sumo_config.hpp"

namespace relay {

/// Everything the relay can be told.
struct RelayOptions {
  /// --listen HOST:PORT (port 0: the OS picks one, printed on stdout).
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  /// --path: where iLert POSTs.
  std::string path = "/ilert";
  /// --max-body: larger bodies get 413 (never read into memory).
  std::size_t max_body = 4 * 1024 * 1024;
  /// --spool-dir: write-ahead spool (a 202 then means "on disk").
  std::string spool_dir;
  /// --fsync never|per_batch|interval.
  ilert_sumo::FsyncPolicy fsync = ilert_sumo::FsyncPolicy::interval;
  /// --spool-max-bytes: the spool's cap; when full, new webhooks get 503 + Retry-After.
  std::size_t spool_max_bytes = 1024ull * 1024 * 1024;
  /// --category: X-Sumo-Category, may contain `{eventType}`. Default `webhook/ilert`, the category
  /// Sumo's iLert app and the sumo/ content read; empty: no header (the source's own category).
  std::string category = "webhook/ilert";
  /// --source-name / --source-host: X-Sumo-Name / X-Sumo-Host.
  std::string source_name;
  std::string source_host;
  /// --fields k=v,...: static X-Sumo-Fields.
  std::vector<ilert_sumo::SumoField> fields;
  /// --fields-from-event: add eventType/priority/alertSource to X-Sumo-Fields.
  bool fields_from_event = false;
  /// --shutdown-timeout: SIGTERM -> exit within this.
  std::chrono::milliseconds shutdown_timeout{10000};
  /// --compression, --compression-level.
  ilert_sumo::Compression compression = ilert_sumo::Compression::gzip;
  int compression_level = -1;
  /// --queue-bytes, --overflow. Without --overflow: spill with --spool-dir (keep accepting while
  /// the spool has room), drop_newest (503 + Retry-After) without one.
  std::size_t queue_bytes = 64 * 1024 * 1024;
  ilert_sumo::OverflowPolicy overflow = ilert_sumo::OverflowPolicy::drop_newest;
  /// True when --overflow (or its variable) was given.
  bool overflow_set = false;
  /// --invalid-status 400|202: the answer to a body that did not parse (it is forwarded to Sumo as
  /// an invalid-payload line either way).
  int invalid_status = 400;
  /// --batch-age: a partly filled batch is sent once its oldest line is this old.
  std::chrono::milliseconds batch_age{1000};
  /// --retry-budget: how long one batch is retried before it is given up (or kept in the spool).
  std::chrono::milliseconds retry_budget{std::chrono::minutes(10)};
  /// --threads: HTTP event-loop threads (each serves many connections).
  std::size_t threads = 4;
  /// --keep-alive-timeout: a connection that sends nothing for this many seconds is closed (idle
  /// keep-alive connections, and stalled clients alike).
  int keep_alive_timeout_s = 5;
  /// --read-timeout: each request must arrive in full within this long of the connection opening
  /// (or of the previous response); slower clients are disconnected.
  std::chrono::milliseconds read_timeout{10000};
  /// --max-connections: open connections in total; more are closed at once.
  std::size_t max_connections = 1024;
  /// --max-connections-per-ip: open connections from one client address.
  std::size_t max_connections_per_ip = 256;
  /// --max-header-bytes: request line + header section; larger -> 431 (414 from MHD when the
  /// request line alone overflows the per-connection memory of 2 x this).
  std::size_t max_header_bytes = 16 * 1024;
  /// --max-headers: header fields per request; more -> 431.
  std::size_t max_headers = 64;
  /// --max-body-memory: request bodies held in memory at once, all connections together; a body
  /// that does not fit gets 503 + Retry-After.
  std::size_t max_body_memory = 64 * 1024 * 1024;
  /// --access-log on|off: one line per request on stderr.
  bool access_log = true;
  /// --degraded-after: /healthz answers 503 when Sumo has failed and not succeeded for this long.
  std::chrono::milliseconds degraded_after{60000};
  /// --retry-after: seconds sent in Retry-After with a 503.
  int retry_after_s = 5;
  /// --ca-file: CA bundle for the Sumo connection.
  std::string ca_file;
  /// --proxy: the proxy to Sumo, scheme://[user:password@]host[:port] (http, https, socks4,
  /// socks4a, socks5, socks5h); empty: libcurl's environment variables decide (https_proxy/
  /// HTTPS_PROXY, ALL_PROXY). With credentials it is a secret: accepted only from the environment
  /// (ILERT_SUMO_RELAY_PROXY), refused on the command line and in the config file, shown masked.
  std::string proxy;
  /// --no-proxy: hosts reached without a proxy (comma-separated names, domains, addresses; "*":
  /// never a proxy); empty: the no_proxy/NO_PROXY environment variable decides.
  std::string no_proxy;

  /// Where Sumo is: presigned URL, or endpoint + token (secrets: env or file only).
  std::string sumo_url;
  std::string sumo_endpoint;
  std::string sumo_token;
  /// `user:password` for HTTP Basic (secret: env or file only); empty = no Basic authentication.
  std::string basic_auth;
  /// --auth-header NAME: a request header iLert must send with the value below (its custom
  /// headers); empty = none. Combined with Basic, both must match.
  std::string auth_header;
  /// The auth header's value (secret: env or file only).
  std::string auth_header_value;
};

/// What parse_options() decided.
struct ParseResult {
  enum class Action { run, help, version, error } action = Action::run;
  /// Set when action == run.
  RelayOptions options;
  /// The message for action == error (never contains a secret).
  std::string error;
  /// action == error: true for a usage error (the command line or a config file is malformed;
  /// printed with the "Run with --help" line), false for a configuration error.
  bool usage = false;
  /// The text printed for action == help / version.
  std::string text;
};

/// Reads the config file (--config / ILERT_SUMO_RELAY_CONFIG) first, then `env`, then the flags
/// in `args` (argv without the program name): each later source overrides an earlier one.
ParseResult parse_options(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);

/// The current process environment as a map.
std::map<std::string, std::string> environment_map();

/// True for 127.0.0.0/8, ::1, [::1] and localhost.
bool is_loopback_host(const std::string& host);

/// The host part of an http(s) URL ("" when it has none).
std::string url_host(const std::string& url);

/// The SumoConfig the relay hands to finalize(): URL/token, default metadata (the category with
/// `{eventType}` expanded to "unknown"), codec, queue, spool, timeouts. http:// is allowed only for
/// loopback hosts.
ilert_sumo::SumoConfig make_sumo_config(const RelayOptions& options);

}  // namespace relay
