// src/delivery/delivery.cpp: lines, batches, prepared requests, one attempt and the retry loop of
// delivery.hpp. The policy pieces it calls (classify, parse_retry_after, backoff_delay) are the
// public pure functions of sumo_client.hpp.
#include "delivery/delivery.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <random>
#include <thread>
#include <utility>
#include <variant>

#include "ilert_sumo/sumo_line.hpp"
#include "util/text_util.hpp"
#include "util/errors.hpp"
#include "util/ascii.hpp"

namespace ilert_sumo::detail {

namespace {

bool has_line_break(std::string_view s) noexcept {
  return std::memchr(s.data(), '\n', s.size()) != nullptr || std::memchr(s.data(), '\r', s.size()) != nullptr;
}

/// Appends `line` with invalid UTF-8 replaced by U+FFFD (text_util.hpp's one sanitiser) and raw
/// CR/LF written as the two-character escapes \r / \n.
void append_sanitized(std::string& out, std::string_view line) {
  if (!has_line_break(line) && is_valid_utf8(line)) {  // the common case: two fast scans
    out.append(line);
    return;
  }
  std::string valid;
  append_utf8_sanitized(valid, line);
  std::size_t run = 0;
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const char c = valid[i];
    if (c != '\n' && c != '\r') continue;
    out.append(valid, run, i - run);
    out += c == '\n' ? "\\n" : "\\r";
    run = i + 1;
  }
  out.append(valid, run, std::string::npos);
}

/// The value of a leading `{"time":"..."` when it is short plain text, else empty.
std::string_view leading_time(std::string_view line) noexcept {
  static constexpr std::string_view kPrefix = "{\"time\":\"";
  if (line.substr(0, kPrefix.size()) != kPrefix) return {};
  const std::string_view rest = line.substr(kPrefix.size());
  const std::size_t end = rest.find('"');
  if (end == std::string_view::npos || end == 0 || end > 64) return {};
  const std::string_view value = rest.substr(0, end);
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F || c == '\\') return {};
  }
  return value;
}

/// The least of the original line an oversized-line wrapper must carry to be worth sending.
constexpr std::size_t kMinWrappedBytes = 64;

/// Renders the oversized-line wrapper for `line` (valid UTF-8, no raw line break) with its first
/// `keep` bytes into `out` (replacing its content).
void render_wrapper(std::string& out, std::string_view time, std::string_view line, std::size_t keep,
                    std::size_t original_bytes) {
  out.clear();
  JsonSink sink(out);
  JsonWriter w(sink);
  std::string scratch;
  w.StartObject();
  w.Key("time", 4);
  write_json_string(w, time, scratch);
  w.Key("eventType", 9);
  write_json_string(w, kOversizedLineEventType, scratch);
  w.Key("rawLine", 7);
  write_json_string(w, line.substr(0, keep), scratch);
  write_json_string(w, kTruncatedKey, scratch, /*as_key=*/true);
  w.StartObject();
  w.Key("rawLine", 7);
  w.StartObject();
  w.Key("originalBytes", 13);
  w.Uint64(original_bytes);
  w.EndObject();
  w.EndObject();
  w.EndObject();
}

/// Appends the oversized-line wrapper for `line` (valid UTF-8, no raw line break) and '\n' within
/// `max` bytes; false (nothing appended) when even the wrapper without any of the line does not fit.
bool append_wrapper(std::string& out, std::string_view line, std::size_t original_bytes, std::size_t max) {
  std::string time(leading_time(line));
  if (time.empty()) {
    time =
        format_iso8601_millis(std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
  }
  std::string wrapped;
  render_wrapper(wrapped, time, line, 0, original_bytes);
  // A wrapper with (almost) none of the line says nothing: refuse it instead.
  if (wrapped.size() + 1 + std::min<std::size_t>(kMinWrappedBytes, line.size()) > max) return false;
  // Every byte of the line costs at least one byte of the wrapper, so cutting the excess from the
  // kept prefix always makes progress; the first guess is usually right.
  std::size_t keep = utf8_cut(line, max - 1 - wrapped.size());
  for (;;) {
    render_wrapper(wrapped, time, line, keep, original_bytes);
    if (wrapped.size() + 1 <= max || keep == 0) break;
    const std::size_t excess = wrapped.size() + 1 - max;
    keep = utf8_cut(line, keep > excess ? keep - excess : 0);
  }
  out += wrapped;
  out += '\n';
  return true;
}

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Lines

LineFit append_event_line(std::string& out, const Event& event, std::size_t max_bytes) {
  if (max_bytes == 0) return LineFit::too_large;
  const std::size_t start = out.size();
  // Shortened by the line writer itself (re-rendered with per-field limits) when over the cap.
  const bool cut = append_sumo_line_reporting_cut(out, event, max_bytes - 1);
  const std::size_t len = out.size() - start;
  if (len + 1 <= max_bytes) {
    out += '\n';
    return cut ? LineFit::truncated : LineFit::fitted;
  }
  // Only for caps below kMinMaxLineBytes: even the writer's last resort did not fit.
  const std::string full = out.substr(start);
  out.resize(start);
  return append_wrapper(out, full, full.size(), max_bytes) ? LineFit::truncated : LineFit::too_large;
}

LineFit append_prebuilt_line(std::string& out, std::string_view line, std::size_t max_line_bytes) {
  const std::size_t start = out.size();
  append_sanitized(out, line);
  const std::size_t len = out.size() - start;
  if (len + 1 <= max_line_bytes) {
    out += '\n';
    return LineFit::fitted;
  }
  const std::string sanitized = out.substr(start);
  out.resize(start);
  return append_wrapper(out, sanitized, line.size(), max_line_bytes) ? LineFit::truncated : LineFit::too_large;
}

// ---------------------------------------------------------------------------------------------
// 2. Batches

BatchBuilder::BatchBuilder(const BatchOptions& options, std::size_t first_index, std::size_t line_budget)
    : options_(options), line_budget_(std::min(line_budget, options.max_bytes)), next_index_(first_index) {
  current_.first_index = first_index;
  current_.body.reserve(options_.max_bytes);
}

Batch BatchBuilder::close() {
  Batch done = std::move(current_);
  current_ = Batch{};
  current_.first_index = next_index_;
  current_.body.reserve(options_.max_bytes);
  return done;
}

template <class Append>
BatchBuilder::AddResult BatchBuilder::add(Append&& append) {
  AddResult result;
  const std::size_t index = next_index_++;
  if (current_.events >= options_.max_events) result.completed = close();
  const std::size_t before = current_.body.size();
  result.fit = append(current_.body, line_budget_);
  if (result.fit == LineFit::too_large) {
    current_.body.resize(before);
    if (!result.completed && current_.events > 0) result.completed = close();
    current_.first_index = next_index_;
    return result;
  }
  if (current_.body.size() > options_.max_bytes) {
    // The line fits alone (append guarantees it) but not after the open batch's lines.
    std::string line(current_.body, before);
    current_.body.resize(before);
    result.completed = close();
    current_.body.append(line);
  }
  if (current_.events == 0) current_.first_index = index;
  ++current_.events;
  if (result.fit == LineFit::truncated) ++current_.truncated_events;
  return result;
}

BatchBuilder::AddResult BatchBuilder::add_event(const Event& event) {
  return add([&](std::string& out, std::size_t max) { return append_event_line(out, event, max); });
}

BatchBuilder::AddResult BatchBuilder::add_line(std::string_view line) {
  return add([&](std::string& out, std::size_t max) { return append_prebuilt_line(out, line, max); });
}

BatchBuilder::AddResult BatchBuilder::add_fitted(std::string_view line_with_newline, bool truncated) {
  return add([&](std::string& out, std::size_t) {  // fitted already: only the batch cap applies
    if (line_with_newline.size() > options_.max_bytes) return LineFit::too_large;
    out.append(line_with_newline);
    return truncated ? LineFit::truncated : LineFit::fitted;
  });
}

std::optional<Batch> BatchBuilder::finish() {
  if (current_.events == 0) return std::nullopt;
  return close();
}

// ---------------------------------------------------------------------------------------------
// 3. Requests

std::string format_fields_header(const std::vector<SumoField>& fields) {
  std::string out;
  for (const SumoField& f : fields) {
    if (!out.empty()) out += ',';
    out += f.key;
    out += '=';
    out += f.value;
  }
  return out;
}

std::vector<HttpHeader> build_request_headers(const SumoConfig& config, const SumoMetadata& metadata) {
  std::vector<HttpHeader> h;
  h.push_back({"Content-Type", "text/plain; charset=utf-8"});
  if (config.compression != Compression::none) h.push_back({"Content-Encoding", to_string(config.compression)});
  if (!metadata.category.empty()) h.push_back({"X-Sumo-Category", metadata.category});
  if (!metadata.name.empty()) h.push_back({"X-Sumo-Name", metadata.name});
  if (!metadata.host.empty()) h.push_back({"X-Sumo-Host", metadata.host});
  if (!metadata.fields.empty()) h.push_back({"X-Sumo-Fields", format_fields_header(metadata.fields)});
  if (!config.token.empty()) h.push_back({"x-sumo-token", config.token});
  h.push_back({"X-Sumo-Client", "ilert-sumo"});
  return h;
}

Expected<PreparedRequest> prepare_request(Batch batch, std::vector<HttpHeader> headers, Compressor& compressor) {
  PreparedRequest p;
  p.codec = compressor.codec();
  p.headers = std::move(headers);
  p.first_index = batch.first_index;
  p.events = batch.events;
  p.truncated_events = batch.truncated_events;
  p.raw = std::move(batch.body);
  if (p.codec != Compression::none) {
    if (auto ok = compressor.compress(p.raw, p.compressed); !ok) return ok.error();
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// 4. One attempt

DeliveryPlan make_delivery_plan(const SumoConfig& config, std::string redacted_url, Redactor redactor) {
  DeliveryPlan plan;
  DeliveryTarget& t = plan.target;
  t.url = config.url;
  t.redacted_url = std::move(redacted_url);
  t.connect_timeout = config.connect_timeout;
  t.request_timeout = config.request_timeout;
  t.retry = config.retry;
  t.redactor = std::move(redactor);
  plan.headers = build_request_headers(config, config.metadata);
  plan.codec = config.compression;
  if (config.compression == Compression::none) {
    plan.compression_level = 0;
    plan.compression_threads = 0;  // nothing to overlap
  } else {
    plan.compression_level = effective_compression_level(config.compression, config.compression_level);
    plan.compression_threads = config.compression_threads >= 0
                                   ? static_cast<unsigned>(config.compression_threads)
                                   : std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  }
  return plan;
}

AttemptResult attempt_once(HttpClient& http, const HttpRequest& request, const DeliveryTarget& target,
                           std::chrono::system_clock::time_point now) {
  AttemptResult r;
  Expected<HttpResponse> response = [&]() -> Expected<HttpResponse> {
    try {
      return http.post(request);
    } catch (const std::exception& e) {
      return make_error(ErrorCode::transport, std::string("HTTP client threw: ") + e.what());
    } catch (...) {
      return make_error(ErrorCode::transport, "HTTP client threw an unknown exception");
    }
  }();
  if (!response) {
    const Error& e = response.error();
    r.outcome = classify(0, e.code);
    r.error = make_error(e.code, target.redactor("POST " + target.redacted_url + ": " + e.message));
    return r;
  }
  const HttpResponse* answer = &*response;
  if (answer == nullptr) return r;  // cannot happen; keeps -Wnull-dereference quiet
  r.status = answer->status;
  r.outcome = classify(r.status, std::nullopt);
  if (const std::string* value = answer->header("Retry-After")) r.retry_after = parse_retry_after(*value, now);
  const std::string_view body = trim(answer->body);
  if (r.outcome == DeliveryOutcome::success) {
    if (!body.empty()) r.warning = target.redactor(answer->body);
    return r;
  }
  // Made of redacted parts only (the redacted URL, the body redacted once), so not redacted again.
  std::string message = "HTTP " + std::to_string(r.status) + " from " + target.redacted_url;
  // Redact before cutting: a cut could leave part of a secret that no longer matches.
  if (!body.empty()) message += ": " + printable(target.redactor(body), 512);
  r.error = make_error(ErrorCode::http_status, std::move(message));
  return r;
}

// ---------------------------------------------------------------------------------------------
// 5. The retry loop

RetryEnvironment default_retry_environment() {
  RetryEnvironment env;
  env.steady_now = [] { return std::chrono::steady_clock::now(); };
  env.system_now = [] { return std::chrono::system_clock::now(); };
  env.sleep = [](std::chrono::milliseconds delay) {
    std::this_thread::sleep_for(delay);
    return true;
  };
  env.random01 = [] {
    thread_local std::mt19937_64 generator{
        std::random_device{}() ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
    return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
  };
  return env;
}

DeliveryReport deliver(HttpClient& http, const PreparedRequest& request, const DeliveryTarget& target,
                       const RetryEnvironment& env) {
  using std::chrono::milliseconds;
  DeliveryReport report;
  report.first_index = request.first_index;
  report.events = request.events;
  report.raw_bytes = request.raw.size();
  report.compressed_bytes = request.wire().size();
  report.truncated_events = request.truncated_events;

  HttpRequest http_request;
  http_request.url = target.url;
  http_request.headers = request.headers;
  http_request.body = request.wire();
  http_request.connect_timeout = target.connect_timeout;
  http_request.timeout = target.request_timeout;
  http_request.deadline = env.deadline;
  http_request.cancel = env.cancel;

  const auto start = env.steady_now();
  const auto elapsed = [&] { return std::chrono::duration_cast<milliseconds>(env.steady_now() - start); };
  // `why` is deliver()'s own text and attempt_once() redacted the last error: nothing to redact.
  const auto stop = [&](ErrorCode code, const std::string& why, const std::optional<Error>& last) {
    std::string message = why;
    if (last) message += "; last error: " + last->message;
    report.error = make_error(code, std::move(message));
  };
  const auto cancelled = [&] { return env.cancel != nullptr && env.cancel->load(std::memory_order_acquire); };

  std::optional<Error> last_error;
  for (std::uint32_t attempt = 1;; ++attempt) {
    if (cancelled()) {
      stop(ErrorCode::aborted, "delivery cancelled", last_error);
      break;
    }
    if (env.steady_now() >= env.deadline) {
      stop(ErrorCode::aborted, "deadline reached", last_error);
      break;
    }
    AttemptResult result = attempt_once(http, http_request, target, env.system_now());
    report.attempts = attempt;
    report.final_status = result.status;
    if (env.on_attempt) env.on_attempt(result, attempt);

    if (result.outcome == DeliveryOutcome::success) {
      report.delivered = true;
      report.warning = std::move(result.warning);
      break;
    }
    last_error = std::move(result.error);
    if (result.outcome == DeliveryOutcome::permanent) {
      report.error = last_error;
      break;
    }
    if (last_error && last_error->code == ErrorCode::aborted) {
      report.error = last_error;
      break;
    }
    if (target.retry.max_attempts != 0 && attempt >= target.retry.max_attempts) {
      const ErrorCode code = last_error ? last_error->code : ErrorCode::http_status;
      stop(code, "gave up after " + std::to_string(attempt) + " attempts (retry.max_attempts)", last_error);
      break;
    }
    milliseconds delay = backoff_delay(target.retry, attempt, env.random01());
    if (result.retry_after) delay = std::max(delay, *result.retry_after);
    const milliseconds spent = elapsed();
    const milliseconds remaining = target.retry.budget - spent;
    if (remaining <= milliseconds(0) || (result.retry_after && *result.retry_after > remaining)) {
      stop(ErrorCode::retry_budget_exhausted,
           "retry budget of " + ms(target.retry.budget) + " exhausted after " + std::to_string(attempt) +
               " attempts (" + ms(spent) + ")" +
               (result.retry_after ? ", Retry-After " + ms(*result.retry_after) : std::string()),
           last_error);
      break;
    }
    delay = std::min(delay, remaining);
    if (env.deadline != std::chrono::steady_clock::time_point::max() && env.steady_now() + delay >= env.deadline) {
      stop(ErrorCode::aborted, "deadline reached before the next attempt", last_error);
      break;
    }
    if (!env.sleep(delay)) {
      stop(ErrorCode::aborted, "retry wait interrupted", last_error);
      break;
    }
  }
  report.elapsed = elapsed();
  return report;
}

}  // namespace ilert_sumo::detail
