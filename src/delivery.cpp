// src/delivery.cpp: lines, batches, prepared requests, one attempt and the retry loop of
// delivery.hpp. The policy pieces it calls (classify, parse_retry_after, backoff_delay) are the
// public pure functions of sumo_client.hpp.
#include "delivery.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <random>
#include <thread>
#include <utility>
#include <variant>

#include "ilert_sumo/sumo_line.hpp"
#include "text_util.hpp"

namespace ilert_sumo::detail {

namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

const Alert& alert_of(const Event& event) {
  return std::visit([](const auto& e) -> const Alert& { return e.alert; }, event);
}
Alert& alert_of(Event& event) {
  return std::visit([](auto& e) -> Alert& { return e.alert; }, event);
}

bool has_line_break(std::string_view s) noexcept {
  return std::memchr(s.data(), '\n', s.size()) != nullptr || std::memchr(s.data(), '\r', s.size()) != nullptr;
}

/// Appends `line` with raw CR/LF escaped as \r / \n and non-UTF-8 bytes replaced by U+FFFD.
void append_sanitized(std::string& out, std::string_view line) {
  if (!has_line_break(line) && is_valid_utf8(line)) {  // the common case: two fast scans
    out.append(line);
    return;
  }
  std::size_t run = 0;
  std::size_t i = 0;
  const auto flush = [&](std::size_t end) { out.append(line.data() + run, end - run); };
  while (i < line.size()) {
    const auto c = static_cast<unsigned char>(line[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(line, i);
      if (n != 0) {
        i += n;
        continue;
      }
      flush(i);
      out += kReplacementChar;
      run = ++i;
    } else if (c == '\n' || c == '\r') {
      flush(i);
      out += c == '\n' ? "\\n" : "\\r";
      run = ++i;
    } else {
      ++i;
    }
  }
  flush(line.size());
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

/// The longest prefix of `s` (whole UTF-8 characters) whose append_json_escaped() form has at
/// most `room` bytes.
std::size_t escaped_prefix_fitting(std::string_view s, std::size_t room) noexcept {
  std::size_t cut = 0;
  std::size_t used = 0;
  while (cut < s.size()) {
    std::size_t n = utf8_sequence_length(s, cut);
    if (n == 0) n = 1;
    const std::size_t cost = n == 1 ? json_escaped_size(s.substr(cut, 1)) : n;
    if (used + cost > room) break;
    used += cost;
    cut += n;
  }
  return cut;
}

/// Appends the oversized-line wrapper for `line` (valid UTF-8) and '\n' within `max` bytes.
bool append_wrapper(std::string& out, std::string_view line, std::size_t original_bytes, std::size_t max) {
  std::string head = "{\"time\":\"";
  const std::string_view time = leading_time(line);
  if (!time.empty()) {
    head.append(time);
  } else {
    head += format_iso8601_millis(std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
  }
  head += "\",\"eventType\":\"";
  head += kOversizedLineEventType;
  head += "\",\"";
  head += kTruncatedKey;
  head += "\":{\"field\":\"line\",\"originalBytes\":" + std::to_string(original_bytes) + "},\"rawLinePrefix\":\"";
  constexpr std::size_t kTail = 3;  // "}\n
  if (head.size() + kTail > max) return false;
  const std::size_t cut = escaped_prefix_fitting(line, max - head.size() - kTail);
  out += head;
  append_json_escaped(out, line.substr(0, cut));
  out += "\"}\n";
  return true;
}

/// The `,"dedupId":...}` tail of a Sumo line (to_sumo_line puts it last), or empty.
std::string_view dedup_tail(std::string_view line) noexcept {
  const std::size_t at = line.rfind(",\"dedupId\":");
  return at == std::string_view::npos ? std::string_view{} : line.substr(at);
}

/// Re-renders `event` with its details cut so the line (with marker and '\n') fits `max`.
/// `original_line` is the full line: its dedupId is kept (without an eventId, to_sumo_line hashes
/// the content, and a duplicate must still be recognisable after truncation).
bool append_details_truncated(std::string& out, const Event& event, std::string_view original_line,
                              std::size_t max) {
  const Alert& alert = alert_of(event);
  if (!alert.details || alert.details->empty()) return false;
  const std::string_view original_dedup = dedup_tail(original_line);
  Event copy = event;
  Alert& shortened = alert_of(copy);
  const std::string original = std::move(*shortened.details);
  std::string marker = ",\"";
  marker += kTruncatedKey;
  marker += "\":{\"field\":\"details\",\"originalBytes\":" + std::to_string(original.size()) + "}";

  const std::size_t start = out.size();
  // Renders the event with details[0, keep) at `start`; false when the line is not an object.
  const auto render = [&](std::size_t keep) {
    shortened.details = original.substr(0, keep);
    out.resize(start);
    append_sumo_line(out, copy);
    if (out.size() == start || out.back() != '}') return false;
    const std::string_view dedup = dedup_tail(std::string_view(out).substr(start));
    if (!dedup.empty() && !original_dedup.empty() && dedup != original_dedup) {
      out.replace(out.size() - dedup.size(), dedup.size(), original_dedup);
    }
    out.insert(out.size() - 1, marker);
    return true;
  };

  // What the line costs without details, then the longest details prefix whose JSON form fits
  // the rest; the loop corrects for an escaping that differs from json_escaped_size's.
  bool ok = render(0);
  const std::size_t overhead = out.size() - start;
  if (ok && overhead + 1 <= max) {
    std::size_t keep = escaped_prefix_fitting(original, max - 1 - overhead);
    while ((ok = render(keep))) {
      const std::size_t n = out.size() - start;
      if (n + 1 <= max) break;
      if (keep == 0) {
        ok = false;
        break;
      }
      const std::size_t excess = n + 1 - max;
      keep = utf8_cut(original, keep > excess ? keep - excess : 0);
    }
    if (ok && has_line_break(std::string_view(out).substr(start))) {  // to_sumo_line promises none
      const std::string line = out.substr(start);
      out.resize(start);
      append_sanitized(out, line);
      ok = out.size() - start + 1 <= max;
    }
    if (ok) {
      out += '\n';
      return true;
    }
  }
  out.resize(start);
  return false;
}

Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message), {}, Error::npos};
}

std::string_view trim(std::string_view s) noexcept {
  const std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Lines

LineFit append_event_line(std::string& out, const Event& event, std::size_t max_line_bytes) {
  const std::size_t start = out.size();
  append_sumo_line(out, event);
  if (has_line_break(std::string_view(out).substr(start))) {  // to_sumo_line promises none; enforce it
    const std::string line = out.substr(start);
    out.resize(start);
    append_sanitized(out, line);
  }
  const std::size_t len = out.size() - start;
  if (len + 1 <= max_line_bytes) {
    out += '\n';
    return LineFit::fitted;
  }
  const std::string full = out.substr(start);
  out.resize(start);
  if (append_details_truncated(out, event, full, max_line_bytes)) return LineFit::truncated;
  return append_wrapper(out, full, full.size(), max_line_bytes) ? LineFit::truncated : LineFit::too_large;
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

BatchBuilder::BatchBuilder(const BatchOptions& options, std::size_t first_index)
    : options_(options), next_index_(first_index) {
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
  result.fit = append(current_.body, options_.max_bytes);
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
  return add([&](std::string& out, std::size_t max) {
    if (line_with_newline.size() > max) return LineFit::too_large;
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

DeliveryTarget DeliveryTarget::from(const FinalizedSumoConfig& finalized) {
  const SumoConfig& c = finalized.config();
  DeliveryTarget t;
  t.url = c.url;
  t.redacted_url = finalized.redacted_url();
  t.connect_timeout = c.connect_timeout;
  t.request_timeout = c.request_timeout;
  t.retry = c.retry;
  t.redactor = Redactor(c);
  return t;
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
  std::string message = "HTTP " + std::to_string(r.status) + " from " + target.redacted_url;
  // Redact before cutting: a cut could leave part of a secret that no longer matches.
  if (!body.empty()) message += ": " + printable(target.redactor(body), 512);
  r.error = make_error(ErrorCode::http_status, target.redactor(message));
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
  const auto stop = [&](ErrorCode code, const std::string& why, const std::optional<Error>& last) {
    std::string message = why;
    if (last) message += "; last error: " + last->message;
    report.error = make_error(code, target.redactor(message));
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
