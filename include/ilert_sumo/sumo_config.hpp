// ilert_sumo/sumo_config.hpp: everything about where and how events go to Sumo Logic.
//
// SumoConfig is plain data with in-class defaults. finalize(config) validates it once (URL,
// metadata headers, X-Sumo-Fields, limits, codec availability) and returns FinalizedSumoConfig,
// the only type SumoClient and SumoSender accept. The library never reads the environment.
// Secrets (the presigned URL's code, the token, passwords) never appear unredacted in any
// message or to_string() output.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ilert_sumo/export.hpp"
#include "ilert_sumo/expected.hpp"
#include "ilert_sumo/http_client.hpp"
#include "ilert_sumo/sumo_line.hpp"

namespace ilert_sumo {

/// Request body compression (Content-Encoding).
enum class Compression : std::uint8_t { none, gzip, deflate, zstd };
/// "none", "gzip", "deflate", "zstd".
ILERT_SUMO_EXPORT const char* to_string(Compression c) noexcept;
/// Parses "none|gzip|deflate|zstd".
ILERT_SUMO_EXPORT Expected<Compression> parse_compression(std::string_view name);
/// True when the codec was compiled in.
ILERT_SUMO_EXPORT bool compression_available(Compression c) noexcept;

/// One X-Sumo-Fields entry (sent as `key=value`; Sumo's header has no escape for ',' or '=', so
/// finalize() rejects them in values).
struct SumoField {
  /// Field name: ASCII letters, digits, '_', '-', '.', starting with a letter or '_'; <= 255.
  std::string key;
  /// Field value: non-empty, <= 200 characters, no ',' '=' or control characters.
  std::string value;
};

/// Per-request metadata headers; a request never mixes two different sets.
struct SumoMetadata {
  /// X-Sumo-Category (empty: not sent).
  std::string category;
  /// X-Sumo-Name (empty: not sent).
  std::string name;
  /// X-Sumo-Host (empty: not sent).
  std::string host;
  /// X-Sumo-Fields, at most 30.
  std::vector<SumoField> fields;

  friend ILERT_SUMO_EXPORT bool operator==(const SumoMetadata& a, const SumoMetadata& b);
  friend bool operator!=(const SumoMetadata& a, const SumoMetadata& b) { return !(a == b); }
};
/// Checks a metadata set as finalize() does (header characters, field keys/values, count).
ILERT_SUMO_EXPORT Expected<void> validate_metadata(const SumoMetadata& metadata);

/// How requests are cut.
struct BatchOptions {
  /// Max uncompressed bytes per request; default and hard ceiling 1 MiB (Sumo's limit).
  std::size_t max_bytes = 1024 * 1024;
  /// Max events (lines) per request.
  std::size_t max_events = 10000;
  /// SumoSender: a partly filled batch is sent once its oldest line is this old.
  std::chrono::milliseconds max_age{1000};
};

/// Which failures are retried, and for how long (capped exponential backoff with full jitter).
struct RetryOptions {
  /// First backoff cap.
  std::chrono::milliseconds initial_backoff{500};
  /// Backoff cap never exceeds this.
  std::chrono::milliseconds max_backoff{30000};
  /// Total elapsed time one request may spend on retries before it is given up.
  std::chrono::milliseconds budget{std::chrono::minutes(10)};
  /// 0 = no count limit (the budget decides).
  std::uint32_t max_attempts = 0;
};

/// What the async sender does when its byte bound is reached.
enum class OverflowPolicy : std::uint8_t {
  block,        ///< wait up to QueueOptions::enqueue_timeout for room, then drop the new event
  drop_newest,  ///< drop the new event at once
  drop_oldest,  ///< evict the oldest queued events to make room
  spill,        ///< write the new event to the spool (needs SpoolOptions::dir)
};

/// SumoSender's in-memory queue.
struct QueueOptions {
  /// Bound on the queue's memory: what each queued line takes (its allocation, not its size)
  /// plus its queue entry (~64 bytes); the request in flight counts until it is done.
  std::size_t max_bytes = 64 * 1024 * 1024;
  /// What to do when full.
  OverflowPolicy overflow = OverflowPolicy::block;
  /// Longest an enqueue may block under OverflowPolicy::block.
  std::chrono::milliseconds enqueue_timeout{100};
};

/// Where the spool lives and how it is used.
enum class SpoolMode : std::uint8_t {
  off,          ///< no disk
  overflow,     ///< undelivered data (shutdown, budget exhausted, spill) goes to disk
  write_ahead,  ///< every accepted event is on disk before enqueue returns
};
/// When spool appends are fsync'ed.
enum class FsyncPolicy : std::uint8_t { never, per_batch, interval };

/// Disk spool of SumoSender.
struct SpoolOptions {
  /// Directory (created 0700 if missing; refused when group/others can write it or another user
  /// owns it). Empty = no spool.
  std::string dir;
  /// off / overflow / write_ahead.
  SpoolMode mode = SpoolMode::off;
  /// fsync policy.
  FsyncPolicy fsync = FsyncPolicy::interval;
  /// Period for FsyncPolicy::interval.
  std::chrono::milliseconds fsync_interval{1000};
  /// Size cap of the spool directory. overflow mode: oldest segments are evicted (counted and
  /// logged) beyond it. write_ahead mode: nothing is evicted; a new event that does not fit is
  /// refused (EnqueueStatus::refused_spool_full).
  std::uint64_t max_bytes = 1024ull * 1024 * 1024;
  /// A segment file is closed and a new one started past this size.
  std::uint64_t segment_bytes = 8ull * 1024 * 1024;
};

/// Everything SumoClient/SumoSender need.
struct SumoConfig {
  /// Presigned source URL `https://.../receiver/v1/http/<code>`, or the endpoint URL
  /// `https://.../receiver/v1/http` when `token` is set.
  std::string url;
  /// Sent as `x-sumo-token` when non-empty.
  std::string token;
  /// Accept http:// URLs (tests and the local emulator).
  bool allow_insecure_http = false;
  /// Default metadata headers.
  SumoMetadata metadata;
  /// Codec.
  Compression compression = Compression::gzip;
  /// Codec level; -1 = codec default (gzip/deflate 6, zstd 3).
  int compression_level = -1;
  /// Request cutting.
  BatchOptions batch;
  /// The longest Sumo line, in bytes without its '\n' (LineOptions::max_line_bytes): a longer
  /// event line is shortened field by field with a marker, never dropped; a longer pre-built line
  /// is wrapped (docs/SUMO_LINE.md). Default 64 KiB: Sumo slices messages over 64 KB. finalize()
  /// accepts kMinMaxLineBytes (4 KiB) up to 1 MiB; a line and its '\n' also never exceed
  /// batch.max_bytes, so a smaller batch cap is the line cap.
  std::size_t max_line_bytes = kDefaultMaxLineBytes;
  /// SumoClient: threads that compress the next requests while the calling thread sends the
  /// current one (a pipeline; requests still go out one at a time, in order, from the calling
  /// thread). -1 = automatic (the number of hardware threads, at least 1, at most 4); 0 = no
  /// threads (compress on the calling thread); at most 64. A send() whose events fit in one
  /// request never uses them. SumoSender ignores it (it compresses on its own thread).
  int compression_threads = -1;
  /// Retry policy.
  RetryOptions retry;
  /// Connection-establishment timeout.
  std::chrono::milliseconds connect_timeout{5000};
  /// Whole-request timeout (Sumo cuts requests at ~30 s).
  std::chrono::milliseconds request_timeout{20000};
  /// TLS, proxy, User-Agent.
  CurlOptions http;
  /// SumoSender queue.
  QueueOptions queue;
  /// SumoSender spool.
  SpoolOptions spool;
  /// SumoSender's destructor waits at most this long (see SumoSender::shutdown).
  std::chrono::milliseconds shutdown_timeout{5000};
};

class FinalizedSumoConfig;

namespace detail {
/// The library's private record of what delivery needs, computed once by finalize() (defined in
/// the library's sources, not part of the API).
struct DeliveryPlan;
/// The plan of a finalized config (library-internal; not exported).
const DeliveryPlan& delivery_plan(const FinalizedSumoConfig& config) noexcept;
}  // namespace detail

/// A validated SumoConfig. Only finalize() makes one. finalize() also works out, once, what
/// delivery needs (target, redactor, request headers, effective compression level and threads);
/// copies share that, and SumoClient/SumoSender use it instead of deriving it again.
class ILERT_SUMO_EXPORT FinalizedSumoConfig {
 public:
  /// The validated settings.
  const SumoConfig& config() const noexcept { return config_; }
  /// The URL with its secret part masked, safe to print.
  const std::string& redacted_url() const noexcept { return redacted_url_; }

 private:
  friend ILERT_SUMO_EXPORT Expected<FinalizedSumoConfig> finalize(SumoConfig config);
  friend const detail::DeliveryPlan& detail::delivery_plan(const FinalizedSumoConfig& config) noexcept;
  FinalizedSumoConfig(SumoConfig config, std::string redacted_url, std::shared_ptr<const detail::DeliveryPlan> plan)
      : config_(std::move(config)), redacted_url_(std::move(redacted_url)), plan_(std::move(plan)) {}
  SumoConfig config_;
  std::string redacted_url_;
  std::shared_ptr<const detail::DeliveryPlan> plan_;
};

/// Validates a SumoConfig. Errors: invalid_url, insecure_url, invalid_field, too_many_fields,
/// invalid_header_value, unsupported_compression, invalid_config.
ILERT_SUMO_EXPORT Expected<FinalizedSumoConfig> finalize(SumoConfig config);

/// Masks the secret parts of a URL: the code after `/receiver/v1/http/`, `user:password@`, and
/// query strings. `https://h/receiver/v1/http/ZaVn...==` -> `https://h/receiver/v1/http/Za***`.
ILERT_SUMO_EXPORT std::string redact_url(std::string_view url);
/// `text` with secrets masked where they stand as secrets (docs/DESIGN.md "Secrets and redaction"):
/// in URLs (code, passwords, query values), credential headers, and the config's own secrets
/// (URL code, token, passwords, proxy credentials) in free text when long enough not to be a word.
ILERT_SUMO_EXPORT std::string redact(std::string_view text, const SumoConfig& config);
/// A readable, redacted description of the config.
ILERT_SUMO_EXPORT std::string to_string(const SumoConfig& config);

}  // namespace ilert_sumo
