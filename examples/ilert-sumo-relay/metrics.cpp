// examples/ilert-sumo-relay/metrics.cpp: see metrics.hpp.
#include "metrics.hpp"

#include <algorithm>
#include <cstdio>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/lifecycle.hpp"
#include "ilert_sumo/version.hpp"

namespace relay {

const char* to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::accepted: return "accepted";
    case Outcome::invalid: return "invalid";
    case Outcome::unauthorized: return "unauthorized";
    case Outcome::too_large: return "too_large";
    case Outcome::queue_full: return "queue_full";
    case Outcome::unavailable: return "unavailable";
    case Outcome::error: return "error";
    case Outcome::count_: break;
  }
  return "error";
}

int status_of(Outcome o) noexcept {
  switch (o) {
    case Outcome::accepted: return 202;
    case Outcome::invalid: return 400;
    case Outcome::unauthorized: return 401;
    case Outcome::too_large: return 413;
    case Outcome::queue_full: return 503;
    case Outcome::unavailable: return 503;
    case Outcome::error: return 500;
    case Outcome::count_: break;
  }
  return 500;
}

const char* to_string(PriorityLabel p) noexcept {
  switch (p) {
    case PriorityLabel::high: return "HIGH";
    case PriorityLabel::low: return "LOW";
    case PriorityLabel::other: return "other";
    case PriorityLabel::none: return "none";
    case PriorityLabel::count_: break;
  }
  return "other";
}

PriorityLabel priority_label(const ilert_sumo::Alert& alert) noexcept {
  if (alert.priority) {
    switch (alert.priority->value) {
      case ilert_sumo::Priority::high: return PriorityLabel::high;
      case ilert_sumo::Priority::low: return PriorityLabel::low;
      default: return PriorityLabel::other;
    }
  }
  // A priority of the wrong JSON type was sent (kept as a type mismatch): "other", not "none".
  for (const auto& m : alert.type_mismatches) {
    if (m.field == "priority") return PriorityLabel::other;
  }
  return PriorityLabel::none;
}

void LifecycleHistogram::observe(std::int64_t ms) noexcept {
  if (ms < 0) return;
  std::size_t b = 0;
  while (b < kLifecycleBucketsSeconds.size() && ms > kLifecycleBucketsSeconds[b] * 1000) ++b;
  buckets[b].fetch_add(1, std::memory_order_relaxed);
  sum_ms.fetch_add(static_cast<std::uint64_t>(ms), std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
}

HealthMonitor::HealthMonitor(std::chrono::milliseconds degraded_after)
    : degraded_after_(degraded_after), started_(std::chrono::system_clock::now()) {}

Health HealthMonitor::evaluate(const ilert_sumo::SenderStats& stats, bool shutting_down) {
  // Failing exactly when the sender's log says so: an attempt failed after the last success (the
  // sender stamps both; the first failed attempt is also its first log notice).
  const auto now = std::chrono::system_clock::now();
  const auto reference = stats.last_success.value_or(started_);
  Health h;
  h.seconds_since_success = std::chrono::duration<double>(now - reference).count();
  h.failing =
      stats.last_failure.has_value() && (!stats.last_success.has_value() || *stats.last_failure > *stats.last_success);
  if (shutting_down) {
    h.healthy = false;
    h.status = "shutting_down";
  } else if (h.failing && now - reference >= degraded_after_) {
    h.healthy = false;
    h.status = "degraded";
  }
  return h;
}

Metrics::Metrics(int invalid_status) : invalid_status_(invalid_status) {
  for (const auto& row : ilert_sumo::event_type_table()) {
    const std::string name(row.canonical_name);
    if (std::find(type_labels_.begin(), type_labels_.end(), name) == type_labels_.end()) type_labels_.push_back(name);
  }
  std::sort(type_labels_.begin(), type_labels_.end());
  type_labels_.push_back("unknown");
  type_labels_.push_back("invalid");
  events_ = std::vector<std::atomic<std::uint64_t>>(type_labels_.size());
}

std::size_t Metrics::event_type_index(std::string_view label) const noexcept {
  for (std::size_t i = 0; i < type_labels_.size(); ++i) {
    if (type_labels_[i] == label) return i;
  }
  return type_labels_.size() - 2;  // "unknown"
}

void Metrics::count_outcome(Outcome o) noexcept {
  outcomes_[static_cast<std::size_t>(o)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_event(std::size_t type_index) noexcept {
  if (type_index < events_.size()) events_[type_index].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_http(int status) noexcept {
  const auto i = (status >= 0 && static_cast<std::size_t>(status) < kMaxStatus) ? static_cast<std::size_t>(status) : 0;
  http_[i].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::observe_webhook_latency(std::chrono::nanoseconds d) noexcept {
  const double s = std::chrono::duration<double>(d).count();
  std::size_t b = 0;
  while (b < kBucketsSeconds.size() && s > kBucketsSeconds[b]) ++b;
  latency_buckets_[b].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count())),
                            std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::observe_event(const ilert_sumo::Event& event) {
  const ilert_sumo::Alert& alert = ilert_sumo::base_of(event).alert;
  const ilert_sumo::LifecycleMeasures m = ilert_sumo::lifecycle_measures(event);
  if (m.tta_ms || m.ttr_ms) {
    const auto p = static_cast<std::size_t>(priority_label(alert));
    if (m.tta_ms) tta_[p].observe(*m.tta_ms);
    if (m.ttr_ms) ttr_[p].observe(*m.ttr_ms);
  }
  if (alert.type_mismatches.empty()) return;
  std::lock_guard<std::mutex> lock(mismatch_mutex_);
  for (const auto& mismatch : alert.type_mismatches) {
    auto it = std::find_if(mismatches_.begin(), mismatches_.end(),
                           [&](const auto& entry) { return entry.first == mismatch.field; });
    if (it != mismatches_.end()) {
      ++it->second;
    } else if (mismatches_.size() < kMaxMismatchFields && mismatch.field != "other") {
      mismatches_.emplace_back(mismatch.field, 1);
    } else {
      ++mismatches_other_;
    }
  }
}

std::uint64_t Metrics::outcome_count(Outcome o) const noexcept {
  return outcomes_[static_cast<std::size_t>(o)].load(std::memory_order_relaxed);
}

namespace {

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const char* name, const std::string& labels, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += buf;
  out += '\n';
}

// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// Whole milliseconds as seconds, exactly ("139.240").
std::string seconds_text(std::uint64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(ms / 1000),
                static_cast<unsigned long long>(ms % 1000));
  return buf;
}

void lifecycle_family(std::string& out, const char* name, const char* help,
                      const std::array<LifecycleHistogram, static_cast<std::size_t>(PriorityLabel::count_)>& hs) {
  header(out, name, "histogram", help);
  const std::string n = name;
  for (std::size_t p = 0; p < hs.size(); ++p) {
    const LifecycleHistogram& h = hs[p];
    const std::string priority = std::string("priority=\"") + to_string(static_cast<PriorityLabel>(p)) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < h.buckets.size(); ++b) {
      cumulative += h.buckets[b].load(std::memory_order_relaxed);
      const std::string le = b < kLifecycleBucketsSeconds.size() ? std::to_string(kLifecycleBucketsSeconds[b]) : "+Inf";
      out += n + "_bucket{" + priority + ",le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += n + "_sum{" + priority + "} " + seconds_text(h.sum_ms.load(std::memory_order_relaxed)) + "\n";
    out += n + "_count{" + priority + "} " + std::to_string(h.count.load(std::memory_order_relaxed)) + "\n";
  }
}

void sample(std::string& out, const char* name, const std::string& labels, std::uint64_t value) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

std::string Metrics::render_prometheus(const ilert_sumo::SenderStats& s, const Health& health,
                                       std::uint64_t log_lines_dropped) const {
  std::string out;
  out.reserve(8192);

  header(out, "ilert_sumo_relay_info", "gauge", "Library version of the relay.");
  sample(out, "ilert_sumo_relay_info", std::string("version=\"") + ilert_sumo::kVersion + "\"", std::uint64_t{1});

  header(out, "ilert_sumo_relay_webhook_requests_total", "counter",
         "Webhook requests by outcome (accepted=202, invalid=400 or 202 per --invalid-status, unauthorized=401, "
         "too_large=413, queue_full/unavailable=503, error=500).");
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    const auto o = static_cast<Outcome>(i);
    const int code = o == Outcome::invalid ? invalid_status_ : status_of(o);
    sample(out, "ilert_sumo_relay_webhook_requests_total",
           std::string("outcome=\"") + to_string(o) + "\",code=\"" + std::to_string(code) + "\"",
           outcomes_[i].load(std::memory_order_relaxed));
  }

  header(out, "ilert_sumo_relay_events_total", "counter",
         "Events handed to the sender, by canonical event type (unknown types as \"unknown\", "
         "bodies that failed to parse as \"invalid\").");
  for (std::size_t i = 0; i < type_labels_.size(); ++i) {
    sample(out, "ilert_sumo_relay_events_total", "event_type=\"" + type_labels_[i] + "\"",
           events_[i].load(std::memory_order_relaxed));
  }

  lifecycle_family(out, "ilert_sumo_relay_time_to_accept_seconds",
                   "Time from an alert's creation (reportTime) to its accept, per accepted alert-acknowledged event "
                   "(the line's ttaMs), by priority.",
                   tta_);
  lifecycle_family(out, "ilert_sumo_relay_time_to_resolve_seconds",
                   "Time from an alert's creation (reportTime) to its resolve, per accepted alert-resolved or "
                   "alert-auto-resolved event (the line's ttrMs), by priority.",
                   ttr_);

  header(out, "ilert_sumo_relay_type_mismatches_total", "counter",
         "Known top-level fields whose value had another JSON type than modelled (kept verbatim on the line), "
         "by field; an early warning that iLert changed its payload. Past 32 names: \"other\".");
  {
    std::lock_guard<std::mutex> lock(mismatch_mutex_);
    std::vector<std::pair<std::string, std::uint64_t>> rows = mismatches_;
    std::sort(rows.begin(), rows.end());
    for (const auto& [field, n] : rows) {
      sample(out, "ilert_sumo_relay_type_mismatches_total", "field=\"" + label_value(field) + "\"", n);
    }
    sample(out, "ilert_sumo_relay_type_mismatches_total", "field=\"other\"", mismatches_other_);
  }

  header(out, "ilert_sumo_relay_http_responses_total", "counter", "HTTP responses written, any path, by status.");
  for (std::size_t i = 0; i < http_.size(); ++i) {
    const auto n = http_[i].load(std::memory_order_relaxed);
    if (n != 0) sample(out, "ilert_sumo_relay_http_responses_total", "code=\"" + std::to_string(i) + "\"", n);
  }

  header(out, "ilert_sumo_relay_webhook_duration_seconds", "histogram",
         "Relay time of a webhook request: routing start to response ready (excludes the network).");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < latency_buckets_.size(); ++b) {
    cumulative += latency_buckets_[b].load(std::memory_order_relaxed);
    char le[32];
    if (b < kBucketsSeconds.size())
      std::snprintf(le, sizeof le, "%g", kBucketsSeconds[b]);
    else
      std::snprintf(le, sizeof le, "+Inf");
    sample(out, "ilert_sumo_relay_webhook_duration_seconds_bucket", std::string("le=\"") + le + "\"", cumulative);
  }
  sample(out, "ilert_sumo_relay_webhook_duration_seconds_sum", "",
         static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  sample(out, "ilert_sumo_relay_webhook_duration_seconds_count", "", latency_count_.load(std::memory_order_relaxed));

  header(out, "ilert_sumo_relay_healthy", "gauge", "1 when /healthz answers 200, 0 when degraded or shutting down.");
  sample(out, "ilert_sumo_relay_healthy", "", std::uint64_t{health.healthy ? 1u : 0u});
  header(out, "ilert_sumo_relay_seconds_since_sumo_success", "gauge",
         "Seconds since Sumo last acknowledged a request (since start if never).");
  sample(out, "ilert_sumo_relay_seconds_since_sumo_success", "", health.seconds_since_success);
  header(out, "ilert_sumo_relay_log_lines_dropped_total", "counter",
         "Access-log lines dropped because stderr could not keep up.");
  sample(out, "ilert_sumo_relay_log_lines_dropped_total", "", log_lines_dropped);

  // --- the sender ---
  header(out, "ilert_sumo_sender_enqueued_total", "counter", "Events accepted by the sender.");
  sample(out, "ilert_sumo_sender_enqueued_total", "", s.enqueued);
  header(out, "ilert_sumo_sender_recovered_total", "counter",
         "Events found in the spool at start (left by an earlier process). With enqueued: enqueued + recovered = "
         "delivered + refused + dropped + queue_events + spool_backlog_events on every scrape.");
  sample(out, "ilert_sumo_sender_recovered_total", "", s.recovered);
  header(out, "ilert_sumo_sender_delivered_events_total", "counter", "Events acknowledged by Sumo.");
  sample(out, "ilert_sumo_sender_delivered_events_total", "", s.delivered_events);
  header(out, "ilert_sumo_sender_delivered_bytes_total", "counter", "Bytes acknowledged by Sumo (raw / on the wire).");
  sample(out, "ilert_sumo_sender_delivered_bytes_total", "kind=\"raw\"", s.delivered_raw_bytes);
  sample(out, "ilert_sumo_sender_delivered_bytes_total", "kind=\"compressed\"", s.delivered_compressed_bytes);
  header(out, "ilert_sumo_sender_requests_total", "counter",
         "Requests to Sumo by HTTP status of each attempt (0 = transport error).");
  for (const auto& [status, n] : s.requests_by_status) {
    sample(out, "ilert_sumo_sender_requests_total", "code=\"" + std::to_string(status) + "\"", n);
  }
  header(out, "ilert_sumo_sender_retries_total", "counter", "Attempts beyond the first.");
  sample(out, "ilert_sumo_sender_retries_total", "", s.retries);
  header(out, "ilert_sumo_sender_refused_total", "counter",
         "Events refused at enqueue (the client got a 503/413 and nothing was accepted), by reason.");
  const std::pair<const char*, std::uint64_t> refusals[] = {
      {"queue_full", s.dropped_queue_full},     {"too_large", s.dropped_too_large},
      {"bad_metadata", s.dropped_bad_metadata}, {"spool_full", s.refused_spool_full},
      {"spool_error", s.refused_spool_error},
  };
  for (const auto& [reason, n] : refusals) {
    sample(out, "ilert_sumo_sender_refused_total", std::string("reason=\"") + reason + "\"", n);
  }
  header(out, "ilert_sumo_sender_dropped_total", "counter", "Events accepted (202) and then lost, by reason.");
  const std::pair<const char*, std::uint64_t> drops[] = {
      {"oldest", s.dropped_oldest},
      {"permanent_error", s.dropped_permanent_error},
      {"budget_exhausted", s.dropped_budget_exhausted},
      {"spool_evicted", s.dropped_spool_evicted},
      {"spool_corrupt", s.dropped_spool_corrupt},
      {"at_shutdown", s.dropped_at_shutdown},
      {"spool_error", s.dropped_spool_error},
  };
  for (const auto& [reason, n] : drops) {
    sample(out, "ilert_sumo_sender_dropped_total", std::string("reason=\"") + reason + "\"", n);
  }
  header(
      out, "ilert_sumo_sender_lost_at_deadline_total", "counter",
      "Events still in memory at the shutdown deadline that could not be kept (no spool, or the spool write failed).");
  sample(out, "ilert_sumo_sender_lost_at_deadline_total", "", s.lost_at_deadline);
  header(out, "ilert_sumo_sender_spool_damaged_regions_total", "counter", "Damaged regions found in the spool.");
  sample(out, "ilert_sumo_sender_spool_damaged_regions_total", "", s.spool_damaged_regions);
  header(out, "ilert_sumo_sender_spool_backlog_events", "gauge", "Events only on disk, waiting to be sent.");
  sample(out, "ilert_sumo_sender_spool_backlog_events", "", s.spool_backlog);
  header(out, "ilert_sumo_sender_spooled_total", "counter", "Events written to the spool.");
  sample(out, "ilert_sumo_sender_spooled_total", "", s.spooled);
  header(out, "ilert_sumo_sender_replayed_total", "counter", "Events replayed from the spool.");
  sample(out, "ilert_sumo_sender_replayed_total", "", s.replayed);
  header(out, "ilert_sumo_sender_queue_bytes", "gauge", "Bytes in the in-memory queue.");
  sample(out, "ilert_sumo_sender_queue_bytes", "", s.queue_bytes);
  header(out, "ilert_sumo_sender_queue_events", "gauge", "Events in the in-memory queue.");
  sample(out, "ilert_sumo_sender_queue_events", "", s.queue_events);
  header(out, "ilert_sumo_sender_throttled", "gauge", "1 while sending is paused by a 429/Retry-After.");
  sample(out, "ilert_sumo_sender_throttled", "", std::uint64_t{s.throttled ? 1u : 0u});
  header(out, "ilert_sumo_sender_last_success_timestamp_seconds", "gauge",
         "Unix time of Sumo's last acknowledgement (0 = never).");
  double last = 0;
  if (s.last_success) last = std::chrono::duration<double>(s.last_success->time_since_epoch()).count();
  sample(out, "ilert_sumo_sender_last_success_timestamp_seconds", "", last);
  return out;
}

}  // namespace relay
