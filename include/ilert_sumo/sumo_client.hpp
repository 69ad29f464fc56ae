// ilert_sumo/sumo_client.hpp: synchronous delivery to a Sumo Logic HTTP source.
//
// SumoClient takes events (or pre-built lines), cuts them into requests under the batch limits
// (every message one line ending in '\n', never over max_bytes: an oversized event has its
// `details` truncated and is marked), compresses each request once, POSTs it and retries by the
// pure policy below, re-sending the same compressed bytes. It returns a DeliveryReport per request.
// It blocks the calling thread; SumoSender (sumo_sender.hpp) is the background variant.
//
// Pipelining: when a send() makes more than one request, up to SumoConfig::compression_threads
// threads (started on first need, kept until the SumoClient is destroyed) compress the next
// requests while the calling thread POSTs the current one, so compression, the network and the
// server overlap. Requests still go out one at a time, in input order, from the calling thread:
// the HttpClient is only ever used from there, and Sumo receives them in order. At most
// compression_threads + 1 requests are compressed ahead of the one being sent.
//
// Stopping: a send() can retry for up to RetryOptions::budget (10 minutes by default), waiting up
// to a whole Retry-After between attempts. A program that must end sooner (a SIGTERM with a
// shutdown deadline) calls request_stop() from another thread: the transfer in flight is aborted,
// the wait ends at once (a condition variable, not a sleep), and send() returns with what was not
// delivered reported as failed (ErrorCode::aborted). ilert-sumo-send does this at its
// --shutdown-timeout after SIGINT/SIGTERM.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ilert_sumo/export.hpp"
#include "ilert_sumo/error.hpp"
#include "ilert_sumo/events.hpp"
#include "ilert_sumo/http_client.hpp"
#include "ilert_sumo/sumo_config.hpp"

namespace ilert_sumo {

/// What to do after one attempt.
enum class DeliveryOutcome : std::uint8_t { success, retry, permanent };
/// "success", "retry", "permanent".
ILERT_SUMO_EXPORT const char* to_string(DeliveryOutcome outcome) noexcept;

/// The retry policy as a pure function: 2xx -> success; transport errors, timeouts, 408, 429, 500,
/// 502, 503, 504 -> retry; every other status (1xx, 3xx, 401, 403, other 4xx, other 5xx) ->
/// permanent; a value that is no HTTP status (< 100, > 599) -> retry, like a transport error.
/// `transport_error` is set when no HTTP status was received (status is then ignored): transport,
/// timeout and aborted (the data is not at fault) -> retry, any other code -> permanent.
ILERT_SUMO_EXPORT DeliveryOutcome classify(int http_status, std::optional<ErrorCode> transport_error) noexcept;

/// Parses a Retry-After value (delta-seconds or an HTTP date) relative to `now`; nullopt if invalid.
/// A date in the past gives zero.
ILERT_SUMO_EXPORT std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                                             std::chrono::system_clock::time_point now);

/// Full-jitter backoff: uniform in [0, min(max_backoff, initial_backoff * 2^(attempt-1))], with
/// `random01` in [0,1). attempt starts at 1.
ILERT_SUMO_EXPORT std::chrono::milliseconds backoff_delay(const RetryOptions& retry, std::uint32_t attempt,
                                                          double random01) noexcept;

/// The fate of one request.
struct DeliveryReport {
  /// Index (in the input) of the first event/line of this request.
  std::size_t first_index = 0;
  /// Number of events (lines) in it.
  std::size_t events = 0;
  /// Uncompressed body size.
  std::size_t raw_bytes = 0;
  /// Body size on the wire.
  std::size_t compressed_bytes = 0;
  /// POST attempts made.
  std::uint32_t attempts = 0;
  /// Last HTTP status (0 when none was received).
  int final_status = 0;
  /// True when Sumo acknowledged it (2xx).
  bool delivered = false;
  /// Why it failed (last error; redacted), when not delivered.
  std::optional<Error> error;
  /// The body of a 2xx answer that carried a warning (e.g. dropped fields), else empty.
  std::string warning;
  /// Lines whose `details` were truncated to fit the cap.
  std::size_t truncated_events = 0;
  /// Time from first attempt to the final outcome.
  std::chrono::milliseconds elapsed{0};
};

/// All requests of one send() call, with totals.
struct DeliverySummary {
  /// One report per request (and per line that could not be made to fit), in input order.
  std::vector<DeliveryReport> requests;
  /// Events in delivered requests.
  std::size_t events_delivered = 0;
  /// Events in failed requests (including lines reported as event_too_large).
  std::size_t events_failed = 0;
  /// Attempts beyond the first, summed over requests.
  std::size_t retries = 0;
  /// Uncompressed bytes of all requests (each counted once, not per attempt).
  std::size_t raw_bytes = 0;
  /// Bytes on the wire of all requests (each counted once, not per attempt).
  std::size_t compressed_bytes = 0;
  /// True when every event was delivered.
  bool all_delivered() const noexcept { return events_failed == 0; }
};

/// Blocking batch delivery. Not thread-safe: one SumoClient per thread, except request_stop() and
/// stop_requested(), which any thread may call at any time (also while send() runs).
class ILERT_SUMO_EXPORT SumoClient {
 public:
  /// Uses `http` when given, else a libcurl client built from config.http.
  explicit SumoClient(FinalizedSumoConfig config, std::shared_ptr<HttpClient> http = nullptr);
  ~SumoClient();
  SumoClient(const SumoClient&) = delete;
  SumoClient& operator=(const SumoClient&) = delete;

  /// Converts each event with to_sumo_line() and delivers them in order.
  DeliverySummary send(const std::vector<Event>& events);
  /// Delivers pre-built lines (no '\n' inside; one is appended) in order.
  DeliverySummary send_lines(const std::vector<std::string>& lines);

  /// Ends delivery early; meant to be called from another thread while send() runs (e.g. one that
  /// watches for SIGTERM; it is not async-signal-safe, so never from a signal handler). At once:
  /// a transfer in flight is aborted (through HttpRequest::cancel, which the libcurl client checks
  /// about every 20 ms; an HttpClient of your own should honour it too), a retry wait in progress
  /// (a backoff, or a Retry-After, which may be as long as the retry budget allows) ends, and no
  /// further attempt or compression starts. The running send() then returns promptly: every event
  /// not yet delivered is counted in events_failed, in a report whose error has code
  /// ErrorCode::aborted and a message beginning "stopped by SumoClient::request_stop(): ". Every
  /// later send() returns the same way without sending. Idempotent and final: there is no way
  /// back (make a new SumoClient). Events of a request aborted in flight may still have reached
  /// Sumo (at least once, as with any timeout).
  void request_stop() noexcept;
  /// True once request_stop() was called.
  bool stop_requested() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ilert_sumo
