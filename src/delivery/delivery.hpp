// src/delivery/delivery.hpp (private): the building blocks of delivery, shared by SumoClient (synchronous,
// sumo_client.cpp) and SumoSender (background thread).
//
// The pipeline, each step usable alone:
//   1. lines      append_event_line / append_prebuilt_line: exactly one line ending in '\n', never
//                 longer than a cap (SumoConfig::max_line_bytes + '\n', see line_budget): an
//                 oversized event is shortened by the line writer, a pre-built line is wrapped.
//   2. batches    BatchBuilder: groups consecutive lines under BatchOptions (bytes incl. '\n',
//                 count) and hands back each completed Batch.
//   3. request    build_request_headers + prepare_request: headers of one metadata set and the
//                 body compressed ONCE (PreparedRequest); retries re-send the same bytes.
//   4. attempt    attempt_once: one POST, classified (classify), Retry-After extracted.
//   5. retries    deliver: the retry loop (capped exponential backoff, full jitter, Retry-After,
//                 elapsed-time budget, max_attempts) over an injectable RetryEnvironment (clocks,
//                 sleeper, randomness, deadline/cancel), so tests do not sleep and the sender can
//                 make waits abortable.
//
// What both take from the config was computed once, by finalize(): the DeliveryPlan (target and
// Redactor, the default headers, the effective compression level and threads; see below).
//
// How SumoSender reuses it: render at enqueue time with append_event_line/append_prebuilt_line
// (the queue then holds final lines and their exact byte cost); it does not use BatchBuilder (that
// is SumoClient's): its batches are cut from the queue of one metadata set (sender/set_queues.hpp)
// and become a request in sender/batch_request.hpp, prepare_request() once per batch with a
// Compressor owned by the sender thread and the plan's headers (build_request_headers() for other
// sets), then deliver() with a RetryEnvironment whose `sleep` waits on the sender's condition variable (and
// returns false at shutdown), whose `deadline`/`cancel` abort an in-flight transfer, and whose
// `on_attempt` updates stats and the throttled flag. The loop blocks the one sender thread, so a
// 429 pauses all sending until its Retry-After.
//
// Oversized lines: an Event is rendered by the line writer with the cap (LineOptions::
// max_line_bytes): it shortens the line itself, field by field, re-rendering through RapidJSON's
// Writer, and names every cut field in `ilertSumoTruncated` (docs/SUMO_LINE.md). A pre-built line
// over the cap (an opaque string: it is never edited) is replaced by
//   {"time":T,"eventType":"ilert-sumo-oversized-line","rawLine":"<prefix of the line>",
//    "ilertSumoTruncated":{"rawLine":{"originalBytes":N}}}
// where T is the original line's leading "time" value when it has one (else now) and the prefix
// is as much of the original line as fits (whole UTF-8 characters). An event line is wrapped the
// same way only when the cap is below kMinMaxLineBytes and even the writer's shortest form does
// not fit. Only when the wrapper with at least 64 bytes of the line exceeds the cap (caps of a
// few hundred bytes) is the line refused: LineFit::too_large, reported as event_too_large.
//
// Pre-built lines are sanitised so they cannot split or poison a request: raw '\r' and '\n' become
// the two-character escapes \r and \n, and bytes that are not UTF-8 become U+FFFD (Sumo, and the
// emulator, reject a whole request that is not UTF-8).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/compress.hpp"
#include "ilert_sumo/events.hpp"
#include "ilert_sumo/http_client.hpp"
#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "config/redact.hpp"

namespace ilert_sumo::detail {

// ---------------------------------------------------------------------------------------------
// 1. Lines

/// How a line was made to fit its cap.
enum class LineFit : std::uint8_t {
  fitted,     ///< appended as is (pre-built lines: sanitised)
  truncated,  ///< appended shortened (details cut, or the oversized-line wrapper)
  too_large,  ///< cannot fit even wrapped; nothing appended
};

/// The byte budget of one line and its '\n' under a validated config: max_line_bytes + 1, never
/// above batch.max_bytes.
inline std::size_t line_budget(const SumoConfig& config) noexcept {
  return config.max_line_bytes < config.batch.max_bytes ? config.max_line_bytes + 1 : config.batch.max_bytes;
}

/// append_sumo_line with a cap of `max_line_bytes` (sumo_line.cpp); true when the line had to be
/// shortened (it then carries `ilertSumoTruncated`).
bool append_sumo_line_reporting_cut(std::string& out, const Event& event, std::size_t max_line_bytes);

/// The `eventType` of the wrapper line that replaces an oversized line.
inline constexpr std::string_view kOversizedLineEventType = "ilert-sumo-oversized-line";
/// The key of the truncation marker.
inline constexpr std::string_view kTruncatedKey = "ilertSumoTruncated";

/// Appends the event's Sumo line and '\n' to `out`, at most `max_bytes` bytes in total (including
/// the '\n'; pass line_budget(config)), shortened as described above.
LineFit append_event_line(std::string& out, const Event& event, std::size_t max_bytes);
/// Appends a pre-built line, sanitised, and '\n' to `out`, at most `max_bytes` bytes in total
/// (including the '\n'; pass line_budget(config)), wrapped as described above when longer.
LineFit append_prebuilt_line(std::string& out, std::string_view line, std::size_t max_bytes);

// ---------------------------------------------------------------------------------------------
// 2. Batches

/// The lines of one request.
struct Batch {
  /// Lines, each ending in '\n'; size() <= BatchOptions::max_bytes.
  std::string body;
  /// Index of the first line (in the BatchBuilder's count of added items).
  std::size_t first_index = 0;
  /// Number of lines.
  std::size_t events = 0;
  /// Lines that were truncated to fit.
  std::size_t truncated_events = 0;
};

/// Cuts consecutive lines into Batches. Every add*() counts one item (its index is the running
/// count, starting at `first_index`), including a too_large one, so batch ranges stay contiguous
/// and a too_large item falls between two batches.
class BatchBuilder {
 public:
  /// What one add did.
  struct AddResult {
    /// How the line was fitted (too_large: it was not added).
    LineFit fit = LineFit::fitted;
    /// The batch this call completed, if any: the open batch when the line did not fit into it
    /// (max_bytes or max_events reached) or when the line was too_large. At most one per call.
    std::optional<Batch> completed;
  };

  /// `options` must be finalized (max_bytes 1..1 MiB, max_events >= 1). `line_budget` caps each
  /// line with its '\n' (line_budget(config)); the default leaves only options.max_bytes.
  explicit BatchBuilder(const BatchOptions& options, std::size_t first_index = 0,
                        std::size_t line_budget = static_cast<std::size_t>(-1));

  /// Renders and adds an event (append_event_line).
  AddResult add_event(const Event& event);
  /// Sanitises and adds a pre-built line (append_prebuilt_line).
  AddResult add_line(std::string_view line);
  /// Adds a line already made by append_*_line (ends in '\n', <= max_bytes); `truncated` counts it
  /// in Batch::truncated_events. For the sender, whose queue holds fitted lines.
  AddResult add_fitted(std::string_view line_with_newline, bool truncated);
  /// Closes and returns the open batch; nullopt when it is empty.
  std::optional<Batch> finish();

  /// Lines in the open batch.
  std::size_t events() const noexcept { return current_.events; }
  /// Bytes in the open batch.
  std::size_t bytes() const noexcept { return current_.body.size(); }
  /// True when the open batch is empty.
  bool empty() const noexcept { return current_.events == 0; }
  /// Index the next added item gets.
  std::size_t next_index() const noexcept { return next_index_; }

 private:
  template <class Append>
  AddResult add(Append&& append);
  Batch close();

  BatchOptions options_;
  std::size_t line_budget_;
  Batch current_;
  std::size_t next_index_;
};

// ---------------------------------------------------------------------------------------------
// 3. Requests

/// `k1=v1,k2=v2` (fields validated by validate_metadata: no escaping needed).
std::string format_fields_header(const std::vector<SumoField>& fields);
/// The headers of every request of one metadata set: Content-Type, Content-Encoding (omitted for
/// none), X-Sumo-Category/Name/Host/Fields when non-empty, x-sumo-token when a token is set,
/// X-Sumo-Client.
std::vector<HttpHeader> build_request_headers(const SumoConfig& config, const SumoMetadata& metadata);

/// A request ready to be (re-)sent: compressed once.
struct PreparedRequest {
  /// The codec of `compressed`.
  Compression codec = Compression::none;
  /// Request headers (build_request_headers).
  std::vector<HttpHeader> headers;
  /// The uncompressed body (kept: a sender may spool it).
  std::string raw;
  /// The compressed body; empty for Compression::none.
  std::string compressed;
  /// Batch::first_index.
  std::size_t first_index = 0;
  /// Lines in the body.
  std::size_t events = 0;
  /// Lines truncated to fit.
  std::size_t truncated_events = 0;

  /// The bytes on the wire.
  std::string_view wire() const noexcept { return codec == Compression::none ? std::string_view(raw) : compressed; }
};

/// Compresses the batch once (nothing to do for none). Errors: compression_failed.
Expected<PreparedRequest> prepare_request(Batch batch, std::vector<HttpHeader> headers, Compressor& compressor);

// ---------------------------------------------------------------------------------------------
// 4. One attempt

/// Where and how requests go: the part of a DeliveryPlan that attempt_once() and deliver() use.
///
/// Redaction rule: every error and warning leaving attempt_once() and deliver() is already redacted
/// by `redactor`, each text once, where it first arrives unredacted (the HttpClient's error, the
/// server's answer); text of deliver()'s own is built from redacted parts. Callers (SumoClient,
/// SumoSender) never redact those errors and warnings again; they redact only text of their own
/// that comes from an unredacted source.
struct DeliveryTarget {
  /// The full URL (secret).
  std::string url;
  /// The URL safe to print.
  std::string redacted_url;
  /// HttpRequest::connect_timeout.
  std::chrono::milliseconds connect_timeout{5000};
  /// HttpRequest::timeout.
  std::chrono::milliseconds request_timeout{20000};
  /// The retry policy.
  RetryOptions retry;
  /// Masks the config's secrets in every message: the one finalize() built for its checks.
  Redactor redactor;
};

/// What delivery needs from a validated config, computed once, by finalize() (make_delivery_plan),
/// and shared by every copy of the FinalizedSumoConfig (delivery_plan() in sumo_config.hpp reads
/// it). SumoClient and SumoSender use it and never derive any of it again; in particular the
/// config's Redactor exists once.
struct DeliveryPlan {
  /// URL, timeouts, retry policy and the config's Redactor.
  DeliveryTarget target;
  /// The headers of a request with the config's own metadata: build_request_headers(config,
  /// config.metadata). (A SumoSender builds those of its other metadata sets itself.)
  std::vector<HttpHeader> headers;
  /// The codec (SumoConfig::compression).
  Compression codec = Compression::none;
  /// The level for Compressor::create: SumoConfig::compression_level with -1 resolved to the
  /// codec's default (default_compression_level: gzip/deflate 6, zstd 3); 0 for none. Never -1.
  int compression_level = 0;
  /// SumoClient's compression threads: SumoConfig::compression_threads with -1 (automatic)
  /// resolved to the hardware threads, clamped to 1..4; 0 for Compression::none (nothing to
  /// overlap). SumoSender ignores it.
  unsigned compression_threads = 0;
};

/// The plan of a config that passed finalize()'s checks. finalize() calls it once and hands over
/// the URL it redacted and the Redactor it built for its checks (moved in, not built again).
DeliveryPlan make_delivery_plan(const SumoConfig& config, std::string redacted_url, Redactor redactor);

/// The classified result of one POST.
struct AttemptResult {
  /// classify() of it.
  DeliveryOutcome outcome = DeliveryOutcome::permanent;
  /// HTTP status (0 when none was received).
  int status = 0;
  /// Why it did not succeed (redacted); empty on success.
  std::optional<Error> error;
  /// Parsed Retry-After of the response, when present and valid.
  std::optional<std::chrono::milliseconds> retry_after;
  /// The body of a 2xx answer when it is not blank (redacted), else empty.
  std::string warning;
};

/// One POST: calls http.post (an exception from it counts as a transport error), classifies the
/// answer and extracts Retry-After relative to `now`.
AttemptResult attempt_once(HttpClient& http, const HttpRequest& request, const DeliveryTarget& target,
                           std::chrono::system_clock::time_point now);

// ---------------------------------------------------------------------------------------------
// 5. The retry loop

/// Everything deliver() needs from the outside world; defaults are real.
struct RetryEnvironment {
  /// Monotonic time (budget, elapsed, deadline).
  std::function<std::chrono::steady_clock::time_point()> steady_now;
  /// Wall-clock time (HTTP-date Retry-After).
  std::function<std::chrono::system_clock::time_point()> system_now;
  /// Waits `delay`; returns false when the wait was interrupted (deliver stops: aborted).
  std::function<bool(std::chrono::milliseconds)> sleep;
  /// Uniform in [0, 1): the jitter.
  std::function<double()> random01;
  /// Called after each attempt with its result and number (1-based); may be empty.
  std::function<void(const AttemptResult&, std::uint32_t)> on_attempt;
  /// Hard deadline: passed to each HttpRequest (in-flight transfers are aborted at it) and no
  /// attempt or wait starts that cannot finish before it.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  /// When set to true (another thread), the transfer is aborted and no further attempt is made.
  const std::atomic<bool>* cancel = nullptr;
};

/// Real clocks, std::this_thread::sleep_for, a per-thread seeded generator; no deadline.
RetryEnvironment default_retry_environment();

/// Sends `request` until it succeeds, fails permanently, or retrying must stop. Re-sends the same
/// bytes on every attempt. The report's error is the last attempt's error (redacted), with code
/// retry_budget_exhausted when the budget (or a Retry-After beyond it) ended retries, aborted when
/// the deadline/cancel/sleep did, and the last error's own code when max_attempts did.
DeliveryReport deliver(HttpClient& http, const PreparedRequest& request, const DeliveryTarget& target,
                       const RetryEnvironment& env);

// ---------------------------------------------------------------------------------------------
// Test hook

/// Called by a SumoClient compression thread each time it has compressed a request, with the
/// request's first_index (tests observe the pipeline with it). Set it only while no SumoClient
/// exists; empty (the default) in production.
extern std::function<void(std::size_t first_index)> on_request_compressed_for_tests;

}  // namespace ilert_sumo::detail
