// examples/ilert-sumo-relay/metrics.hpp: the relay's counters, health rule and /metrics text.
//
// Counters are lock-free atomics bumped on the request path; every label set is bounded (request
// outcomes, the known event types plus "unknown" and "invalid", HTTP status codes, the priorities
// HIGH/LOW/other/none, at most kMaxMismatchFields field names), so a client cannot grow the
// metrics. The lifecycle histograms (time to accept / resolve by priority) take their values from
// the library's lifecycle_measures(), the same numbers the Sumo line carries as ttaMs/ttrMs. render_prometheus() adds
// the SumoSender's stats. HealthMonitor decides /healthz: "degraded" when Sumo has failed and not succeeded for
// `degraded_after`.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/sumo_sender.hpp"

namespace relay {

/// What happened to one webhook request.
enum class Outcome : std::uint8_t {
  accepted,      ///< 202: parsed and queued (or on disk)
  invalid,       ///< 400: did not parse; the raw body was forwarded with the error
  unauthorized,  ///< 401
  too_large,     ///< 413
  queue_full,    ///< 503 + Retry-After: the sender's queue was full (drop_newest)
  unavailable,   ///< 503: shutting down, or the spool could not be written
  error,         ///< 500: anything else
  count_
};
/// "accepted", "invalid", ...
const char* to_string(Outcome o) noexcept;
/// The HTTP status the relay answers for an outcome.
int status_of(Outcome o) noexcept;

/// Whether the relay is healthy, and why not.
struct Health {
  bool healthy = true;
  /// "ok", "degraded" or "shutting_down".
  std::string status = "ok";
  /// Seconds since Sumo last acknowledged a request (since start when it never did).
  double seconds_since_success = 0;
  /// True when at least one attempt failed after the last success.
  bool failing = false;
};

/// Degraded = an attempt failed after the last success, and there has been no success for
/// `degraded_after` (counted from the start when there was never one). Idle is healthy.
class HealthMonitor {
 public:
  explicit HealthMonitor(std::chrono::milliseconds degraded_after);
  /// Evaluates the rule against a fresh stats snapshot. Thread-safe.
  Health evaluate(const ilert_sumo::SenderStats& stats, bool shutting_down);

 private:
  std::chrono::milliseconds degraded_after_;
  std::chrono::system_clock::time_point started_;
};

/// The `priority` label of the lifecycle histograms: iLert's two priorities (HIGH, LOW), "other"
/// for any other value (including a priority of the wrong JSON type), "none" when absent.
enum class PriorityLabel : std::uint8_t { high, low, other, none, count_ };
const char* to_string(PriorityLabel p) noexcept;
PriorityLabel priority_label(const ilert_sumo::Alert& alert) noexcept;

/// Upper bounds (seconds) of the time-to-accept / time-to-resolve buckets: 30 s to 1 day, the
/// range on-call targets are set in (+Inf catches the rest).
inline constexpr std::array<std::int64_t, 13> kLifecycleBucketsSeconds = {30,   60,   120,   300,   600,   900,  1800,
                                                                          3600, 7200, 14400, 28800, 43200, 86400};

/// A histogram of whole milliseconds, exposed in seconds (sum kept exactly, in milliseconds).
struct LifecycleHistogram {
  std::array<std::atomic<std::uint64_t>, kLifecycleBucketsSeconds.size() + 1> buckets{};
  std::atomic<std::uint64_t> sum_ms{0};
  std::atomic<std::uint64_t> count{0};
  void observe(std::int64_t ms) noexcept;
};

/// Request/event counters of the relay.
class Metrics {
 public:
  /// `invalid_status`: what the relay answers a body that does not parse (--invalid-status).
  explicit Metrics(int invalid_status = 400);

  /// Distinct field names the type-mismatch counter keeps; further names count as "other".
  static constexpr std::size_t kMaxMismatchFields = 32;

  /// Index of an event-type label: a canonical iLert name, "unknown" or "invalid".
  std::size_t event_type_index(std::string_view label) const noexcept;
  void count_outcome(Outcome o) noexcept;
  void count_event(std::size_t type_index) noexcept;
  /// Every HTTP response the server wrote (any path), by status.
  void count_http(int status) noexcept;
  /// Relay time of one webhook request (start of routing to response ready).
  void observe_webhook_latency(std::chrono::nanoseconds d) noexcept;
  /// An accepted event: its time to accept / resolve (when it carries one), by priority, and its
  /// type mismatches by field.
  void observe_event(const ilert_sumo::Event& event);

  std::uint64_t outcome_count(Outcome o) const noexcept;

  /// The Prometheus text exposition (version 0.0.4).
  std::string render_prometheus(const ilert_sumo::SenderStats& stats, const Health& health,
                                std::uint64_t log_lines_dropped) const;

 private:
  static constexpr std::size_t kMaxStatus = 600;
  static constexpr std::array<double, 11> kBucketsSeconds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                             0.005,   0.01,   0.05,    0.25,   1.0};
  int invalid_status_;
  std::vector<std::string> type_labels_;
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Outcome::count_)> outcomes_{};
  std::vector<std::atomic<std::uint64_t>> events_;
  std::array<std::atomic<std::uint64_t>, kMaxStatus> http_{};
  std::array<std::atomic<std::uint64_t>, kBucketsSeconds.size() + 1> latency_buckets_{};
  std::atomic<std::uint64_t> latency_sum_ns_{0};
  std::atomic<std::uint64_t> latency_count_{0};
  std::array<LifecycleHistogram, static_cast<std::size_t>(PriorityLabel::count_)> tta_{};
  std::array<LifecycleHistogram, static_cast<std::size_t>(PriorityLabel::count_)> ttr_{};
  // Type mismatches by field: names in first-seen order (at most kMaxMismatchFields), then "other".
  mutable std::mutex mismatch_mutex_;
  std::vector<std::pair<std::string, std::uint64_t>> mismatches_;
  std::uint64_t mismatches_other_ = 0;
};

}  // namespace relay
