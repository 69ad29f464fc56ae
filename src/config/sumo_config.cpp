// src/config/sumo_config.cpp: SumoConfig validation (finalize), codec names and the redacted
// to_string (redaction itself: redact.cpp).
//
// Rules finalize() applies, each failure naming the setting:
// - url: absolute, no whitespace/control characters; https, or http only with allow_insecure_http;
//   a host; a valid port; without a token the presigned form `.../receiver/v1/http/<code>`; with a
//   token any path (the endpoint URL's path is not ours to police).
// - token, metadata.category/name/host, http.user_agent: header-safe: valid UTF-8, no control
//   characters (CR/LF would split the header), no leading/trailing whitespace (HTTP strips it),
//   at most 1024 bytes.
// - metadata.fields (X-Sumo-Fields), after Sumo's documented limits: at most 30 per request, key at
//   most 255 characters, value at most 200. Keys: ASCII letters, digits, '_', '-', '.', starting
//   with a letter or '_' (no "..", no trailing '.'), unique ignoring case. Values: non-empty,
//   header-safe, and without ',' or '=': Sumo's header format `k1=v1,k2=v2` has no escape (Sumo's
//   own OpenTelemetry exporter substitutes the characters instead), so such a value is rejected
//   with invalid_field rather than silently split by Sumo.
// - max_line_bytes: kMinMaxLineBytes (4 KiB) .. 1 MiB (the batch ceiling). A smaller
//   batch.max_bytes is not an error: a line and its '\n' never exceed one request, so the smaller
//   of the two is the cap (delivery.hpp's line_budget); the default, 64 KiB, is where Sumo starts
//   slicing messages.
// - limits: batch.max_bytes 1..1 MiB, batch.max_events >= 1, batch.max_age 1 ms..1 h; retry
//   initial_backoff >= 1 ms, max_backoff >= initial_backoff and <= 1 h, budget >= 0 (0 = one
//   attempt only); connect_timeout 1 ms..60 s (effectively at most request_timeout, which bounds
//   the whole request); request_timeout 1 ms..60 s (Sumo cuts a
//   request off after ~30 s; 60 s leaves room to upload 1 MiB over a slow link, and beyond that
//   an attempt cannot succeed, so the time is better spent on a retry); compression level in the
//   codec's range; queue/spool values consistent.
//
// A config that passes also gets its detail::DeliveryPlan (delivery/delivery.hpp), computed here
// once: the target with the Redactor the checks used, the default request headers, the effective
// compression level and threads. Copies of the FinalizedSumoConfig share it.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "delivery/compress.hpp"
#include "delivery/delivery.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "config/redact.hpp"
#include "util/ascii.hpp"
#include "util/errors.hpp"
#include "util/text_util.hpp"

namespace ilert_sumo {

using detail::iequals;
using detail::is_alpha;
using detail::is_digit;
using detail::make_error;
using detail::printable;

namespace {

constexpr std::size_t kMaxBatchBytes = 1024 * 1024;
constexpr std::size_t kMaxFields = 30;
constexpr std::size_t kMaxFieldKeyChars = 255;
constexpr std::size_t kMaxFieldValueChars = 200;
constexpr std::size_t kMaxHeaderValueBytes = 1024;
constexpr std::chrono::milliseconds kMaxRequestTimeout{60000};
constexpr std::chrono::milliseconds kMaxBackoff{std::chrono::hours(1)};
constexpr std::chrono::milliseconds kMaxAge{std::chrono::hours(1)};
constexpr std::chrono::milliseconds kMaxEnqueueTimeout{std::chrono::minutes(1)};
constexpr int kMaxCompressionThreads = 64;
constexpr std::uint64_t kMinSegmentBytes = 4096;

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

/// Why `value` cannot be an HTTP header value, or empty when it can.
std::string header_value_problem(std::string_view value) {
  if (!detail::is_valid_utf8(value)) return "is not valid UTF-8";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7F) {
      return "contains the control character " + hex_byte(c) + " at byte " + std::to_string(i) +
             " (a header value cannot carry it)";
    }
  }
  if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) {
    return "has leading or trailing spaces, which HTTP strips in transit";
  }
  if (value.size() > kMaxHeaderValueBytes) {
    return "is " + std::to_string(value.size()) + " bytes long (at most " + std::to_string(kMaxHeaderValueBytes) + ")";
  }
  return {};
}

std::size_t utf8_chars(std::string_view s) noexcept {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

bool is_key_char(unsigned char c) noexcept { return is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.'; }

/// Why `key` is not an X-Sumo-Fields key Sumo accepts, or empty.
std::string field_key_problem(std::string_view key) {
  if (key.empty()) return "is empty";
  if (key.size() > kMaxFieldKeyChars) {
    return "is " + std::to_string(key.size()) + " characters long (Sumo allows " + std::to_string(kMaxFieldKeyChars) +
           ")";
  }
  for (std::size_t i = 0; i < key.size(); ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    if (!is_key_char(c)) {
      return "has the character " + hex_byte(c) + " at byte " + std::to_string(i) +
             "; keys use ASCII letters, digits, '_', '-' and '.'";
    }
  }
  const auto first = static_cast<unsigned char>(key.front());
  if (!is_alpha(first) && first != '_') return "must start with a letter or '_'";
  if (key.find("..") != std::string_view::npos) return "must not contain \"..\"";
  if (key.back() == '.') return "must not end with '.'";
  return {};
}

/// Why `value` is not an X-Sumo-Fields value Sumo reads back unchanged, or empty.
std::string field_value_problem(std::string_view value) {
  if (value.empty()) return "is empty";
  const std::size_t comma_or_equals = value.find_first_of(",=");
  if (comma_or_equals != std::string_view::npos) {
    return std::string("contains '") + value[comma_or_equals] +
           "': X-Sumo-Fields has no escape for ',' or '=' (Sumo would split the value)";
  }
  std::string problem = header_value_problem(value);
  if (!problem.empty()) return problem;
  if (utf8_chars(value) > kMaxFieldValueChars) {
    return "is " + std::to_string(utf8_chars(value)) + " characters long (Sumo allows " +
           std::to_string(kMaxFieldValueChars) + ")";
  }
  return {};
}

/// `s` quoted for a message: secrets masked first (a cut could leave part of one), then escaped.
std::string quoted(std::string_view s, const detail::Redactor& red) { return "\"" + printable(red(s), 200) + "\""; }

Expected<void> check_header(std::string_view setting, std::string_view value, const detail::Redactor& red,
                            bool secret = false) {
  const std::string problem = header_value_problem(value);
  if (problem.empty()) return {};
  std::string message(setting);
  if (!secret) message += " " + quoted(value, red);
  message += ": " + problem;
  return make_error(ErrorCode::invalid_header_value, std::move(message));
}

bool is_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_digit(static_cast<unsigned char>(c)); });
}

/// Checks an absolute URL's shape and splits it into `parts`; `setting` names it in errors ("url",
/// "http.proxy").
Expected<void> check_url_shape(std::string_view setting, std::string_view url, detail::UrlParts& parts,
                               const detail::Redactor& red) {
  const std::string shown = printable(red(redact_url(url)), 200);
  const std::string prefix = std::string(setting) + " \"" + shown + "\": ";
  for (const char ch : url) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F) {
      return make_error(ErrorCode::invalid_url, prefix +
                                                    "contains whitespace, a control or a non-ASCII character "
                                                    "(percent-encode it)");
    }
  }
  const std::optional<detail::UrlParts> split = detail::split_url(url);
  if (!split) return make_error(ErrorCode::invalid_url, prefix + "is not an absolute URL (scheme://host/...)");
  parts = *split;
  if (parts.host.empty() || parts.host == "[]") return make_error(ErrorCode::invalid_url, prefix + "has no host");
  if (!parts.port.empty()) {
    if (!is_digits(parts.port) || parts.port.size() > 5 || std::stoul(std::string(parts.port)) == 0 ||
        std::stoul(std::string(parts.port)) > 65535) {
      return make_error(ErrorCode::invalid_url, prefix + "has an invalid port");
    }
  }
  return {};
}

Expected<void> check_url(const SumoConfig& c, const detail::Redactor& red) {
  if (c.url.empty()) return make_error(ErrorCode::invalid_url, "url is empty");
  detail::UrlParts parts;
  if (auto ok = check_url_shape("url", c.url, parts, red); !ok) return ok;
  const std::string prefix = "url " + quoted(redact_url(c.url), red) + ": ";
  if (iequals(parts.scheme, "http")) {
    if (!c.allow_insecure_http) {
      return make_error(ErrorCode::insecure_url,
                        prefix + "uses http://; use https:// (or set allow_insecure_http for a local test endpoint)");
    }
  } else if (!iequals(parts.scheme, "https")) {
    return make_error(ErrorCode::invalid_url, prefix + "scheme must be https");
  }
  if (c.token.empty() && detail::presigned_code(parts.path).empty()) {
    return make_error(ErrorCode::invalid_url,
                      prefix +
                          "is not a presigned source URL (https://<endpoint>/receiver/v1/http/<code>); "
                          "for an endpoint URL set token");
  }
  return {};
}

Expected<void> check_compression(const SumoConfig& c) {
  if (!compression_available(c.compression)) {
    return make_error(ErrorCode::unsupported_compression,
                      std::string("compression ") + to_string(c.compression) + " was not compiled into this build");
  }
  if (c.compression == Compression::none || c.compression_level == -1) return {};
  const detail::LevelRange range = detail::compression_level_range(c.compression);
  if (c.compression_level < range.min || c.compression_level > range.max) {
    return make_error(ErrorCode::invalid_config, "compression_level " + std::to_string(c.compression_level) +
                                                     " is out of range for " + to_string(c.compression) + " (" +
                                                     std::to_string(range.min) + ".." + std::to_string(range.max) +
                                                     ", or -1 for the default)");
  }
  return {};
}

Error invalid(std::string message) { return make_error(ErrorCode::invalid_config, std::move(message)); }

Expected<void> check_limits(const SumoConfig& c) {
  const BatchOptions& b = c.batch;
  if (b.max_bytes < 1 || b.max_bytes > kMaxBatchBytes) {
    return invalid("batch.max_bytes " + std::to_string(b.max_bytes) + " is out of range (1.." +
                   std::to_string(kMaxBatchBytes) + ", Sumo's 1 MiB uncompressed limit)");
  }
  if (b.max_events < 1) return invalid("batch.max_events must be at least 1");
  if (c.max_line_bytes < kMinMaxLineBytes || c.max_line_bytes > kMaxBatchBytes) {
    return invalid("max_line_bytes " + std::to_string(c.max_line_bytes) + " is out of range (" +
                   std::to_string(kMinMaxLineBytes) + ".." + std::to_string(kMaxBatchBytes) +
                   ", the batch ceiling; Sumo slices messages over 64 KB)");
  }
  if (b.max_age < std::chrono::milliseconds(1) || b.max_age > kMaxAge) {
    return invalid("batch.max_age " + ms(b.max_age) + " is out of range (1ms.." + ms(kMaxAge) + ")");
  }
  const RetryOptions& r = c.retry;
  if (r.initial_backoff < std::chrono::milliseconds(1)) {
    return invalid("retry.initial_backoff " + ms(r.initial_backoff) + " must be at least 1ms");
  }
  if (r.max_backoff < r.initial_backoff || r.max_backoff > kMaxBackoff) {
    return invalid("retry.max_backoff " + ms(r.max_backoff) + " must be between retry.initial_backoff (" +
                   ms(r.initial_backoff) + ") and " + ms(kMaxBackoff));
  }
  if (r.budget < std::chrono::milliseconds(0)) {
    return invalid("retry.budget " + ms(r.budget) + " must not be negative (0 = a single attempt)");
  }
  if (c.request_timeout < std::chrono::milliseconds(1) || c.request_timeout > kMaxRequestTimeout) {
    return invalid("request_timeout " + ms(c.request_timeout) + " is out of range (1ms.." + ms(kMaxRequestTimeout) +
                   "; Sumo cuts requests off after ~30s)");
  }
  // A connect_timeout above request_timeout is allowed: the whole-request timeout bounds it anyway.
  if (c.connect_timeout < std::chrono::milliseconds(1) || c.connect_timeout > kMaxRequestTimeout) {
    return invalid("connect_timeout " + ms(c.connect_timeout) + " is out of range (1ms.." + ms(kMaxRequestTimeout) +
                   ")");
  }
  if (c.compression_threads < -1 || c.compression_threads > kMaxCompressionThreads) {
    return invalid("compression_threads " + std::to_string(c.compression_threads) +
                   " is out of range (-1 = automatic, 0.." + std::to_string(kMaxCompressionThreads) + ")");
  }
  if (c.shutdown_timeout < std::chrono::milliseconds(0)) {
    return invalid("shutdown_timeout " + ms(c.shutdown_timeout) + " must not be negative");
  }
  const QueueOptions& q = c.queue;
  if (q.max_bytes < 1) return invalid("queue.max_bytes must be at least 1");
  if (q.enqueue_timeout < std::chrono::milliseconds(0) || q.enqueue_timeout > kMaxEnqueueTimeout) {
    return invalid("queue.enqueue_timeout " + ms(q.enqueue_timeout) + " is out of range (0ms.." +
                   ms(kMaxEnqueueTimeout) + ")");
  }
  const SpoolOptions& s = c.spool;
  if (s.mode != SpoolMode::off && s.dir.empty()) {
    return invalid("spool.mode needs spool.dir (the spool directory) to be set");
  }
  if (q.overflow == OverflowPolicy::spill && (s.dir.empty() || s.mode == SpoolMode::off)) {
    return invalid("queue.overflow spill needs a spool (spool.dir and spool.mode other than off)");
  }
  if (s.dir.find('\0') != std::string::npos) return invalid("spool.dir contains a NUL byte");
  if (s.fsync == FsyncPolicy::interval && s.fsync_interval < std::chrono::milliseconds(1)) {
    return invalid("spool.fsync_interval " + ms(s.fsync_interval) + " must be at least 1ms");
  }
  if (s.segment_bytes < kMinSegmentBytes) {
    return invalid("spool.segment_bytes " + std::to_string(s.segment_bytes) + " must be at least " +
                   std::to_string(kMinSegmentBytes));
  }
  if (s.max_bytes < s.segment_bytes) {
    return invalid("spool.max_bytes " + std::to_string(s.max_bytes) + " must be at least spool.segment_bytes (" +
                   std::to_string(s.segment_bytes) + ")");
  }
  return {};
}

Expected<void> check_http(const CurlOptions& h, const detail::Redactor& red) {
  if (!h.user_agent.empty()) {
    if (auto ok = check_header("http.user_agent", h.user_agent, red); !ok) return ok;
  }
  const std::pair<const char*, const std::string*> paths[] = {{"http.ca_file", &h.ca_file},
                                                              {"http.ca_path", &h.ca_path},
                                                              {"http.client_cert", &h.client_cert},
                                                              {"http.client_key", &h.client_key}};
  for (const auto& [name, value] : paths) {
    if (value->find('\0') != std::string::npos) return invalid(std::string(name) + " contains a NUL byte");
  }
  if (h.client_key_password.find('\0') != std::string::npos) {
    return invalid("http.client_key_password contains a NUL byte");
  }
  if (!h.proxy.empty()) {
    detail::UrlParts parts;
    if (auto ok = check_url_shape("http.proxy", h.proxy, parts, red); !ok) return ok;
    static constexpr std::string_view kSchemes[] = {"http", "https", "socks4", "socks4a", "socks5", "socks5h"};
    if (std::none_of(std::begin(kSchemes), std::end(kSchemes),
                     [&](std::string_view s) { return iequals(parts.scheme, s); })) {
      return make_error(ErrorCode::invalid_url, "http.proxy " + quoted(redact_url(h.proxy), red) +
                                                    ": scheme must be http, https, socks4(a) or socks5(h)");
    }
    if ((!parts.path.empty() && parts.path != "/") || parts.has_query || parts.has_fragment) {
      return make_error(ErrorCode::invalid_url, "http.proxy " + quoted(redact_url(h.proxy), red) +
                                                    ": a proxy URL is scheme://[user:password@]host[:port], "
                                                    "without a path, query or fragment");
    }
  }
  for (std::size_t i = 0; i < h.no_proxy.size(); ++i) {
    const auto c = static_cast<unsigned char>(h.no_proxy[i]);
    if (c < 0x20 || c >= 0x7F) {
      return invalid("http.no_proxy has the character " + hex_byte(c) + " at byte " + std::to_string(i) +
                     " (a comma-separated list of host names, domains and addresses, or \"*\")");
    }
  }
  if (h.no_proxy.size() > kMaxHeaderValueBytes) {
    return invalid("http.no_proxy is " + std::to_string(h.no_proxy.size()) + " bytes long (at most " +
                   std::to_string(kMaxHeaderValueBytes) + ")");
  }
  return {};
}

const char* to_string(OverflowPolicy p) {
  switch (p) {
    case OverflowPolicy::block: return "block";
    case OverflowPolicy::drop_newest: return "drop_newest";
    case OverflowPolicy::drop_oldest: return "drop_oldest";
    case OverflowPolicy::spill: return "spill";
  }
  return "?";
}

const char* to_string(SpoolMode m) {
  switch (m) {
    case SpoolMode::off: return "off";
    case SpoolMode::overflow: return "overflow";
    case SpoolMode::write_ahead: return "write_ahead";
  }
  return "?";
}

const char* to_string(FsyncPolicy f) {
  switch (f) {
    case FsyncPolicy::never: return "never";
    case FsyncPolicy::per_batch: return "per_batch";
    case FsyncPolicy::interval: return "interval";
  }
  return "?";
}

/// validate_metadata with secrets masked in the messages.
Expected<void> check_metadata(const SumoMetadata& m, const detail::Redactor& red) {
  if (auto ok = check_header("metadata.category", m.category, red); !ok) return ok;
  if (auto ok = check_header("metadata.name", m.name, red); !ok) return ok;
  if (auto ok = check_header("metadata.host", m.host, red); !ok) return ok;
  if (m.fields.size() > kMaxFields) {
    return make_error(ErrorCode::too_many_fields, "metadata.fields has " + std::to_string(m.fields.size()) +
                                                      " entries; Sumo accepts at most " + std::to_string(kMaxFields) +
                                                      " per request and drops the rest");
  }
  for (std::size_t i = 0; i < m.fields.size(); ++i) {
    const SumoField& f = m.fields[i];
    const std::string where = "metadata.fields[" + std::to_string(i) + "]";
    std::string problem = field_key_problem(f.key);
    if (!problem.empty()) {
      return make_error(ErrorCode::invalid_field, where + ".key " + quoted(f.key, red) + ": " + problem);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (iequals(m.fields[j].key, f.key)) {
        return make_error(ErrorCode::invalid_field, where + ".key " + quoted(f.key, red) +
                                                        ": duplicates metadata.fields[" + std::to_string(j) +
                                                        "] (field names ignore case)");
      }
    }
    problem = field_value_problem(f.value);
    if (!problem.empty()) {
      return make_error(ErrorCode::invalid_field,
                        where + ".value of " + quoted(f.key, red) + " " + quoted(f.value, red) + ": " + problem);
    }
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Codec names

const char* to_string(Compression c) noexcept {
  switch (c) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::deflate: return "deflate";
    case Compression::zstd: return "zstd";
  }
  return "none";
}

Expected<Compression> parse_compression(std::string_view name) {
  for (const Compression c : {Compression::none, Compression::gzip, Compression::deflate, Compression::zstd}) {
    if (iequals(name, to_string(c))) return c;
  }
  return make_error(ErrorCode::invalid_config,
                    "unknown compression \"" + printable(name) + "\" (expected none, gzip, deflate or zstd)");
}

bool compression_available(Compression c) noexcept {
  switch (c) {
    case Compression::none:
    case Compression::gzip:
    case Compression::deflate: return true;  // zlib is a required dependency
    case Compression::zstd:
#ifdef ILERT_SUMO_HAVE_ZSTD
      return true;
#else
      return false;
#endif
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Metadata

bool operator==(const SumoMetadata& a, const SumoMetadata& b) {
  if (a.category != b.category || a.name != b.name || a.host != b.host) return false;
  if (a.fields.size() != b.fields.size()) return false;
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].key != b.fields[i].key || a.fields[i].value != b.fields[i].value) return false;
  }
  return true;
}

Expected<void> validate_metadata(const SumoMetadata& m) { return check_metadata(m, detail::Redactor()); }

// ---------------------------------------------------------------------------------------------
// finalize

Expected<FinalizedSumoConfig> finalize(SumoConfig config) {
  detail::Redactor redactor(config);  // the config's one: used for the checks, then kept in the plan
  auto fail = [&](const Error& e) {
    Error out = e;
    out.message = redactor(e.message);
    return out;
  };
  if (auto ok = check_url(config, redactor); !ok) return fail(ok.error());
  if (!config.token.empty()) {
    if (auto ok = check_header("token", config.token, redactor, /*secret=*/true); !ok) return fail(ok.error());
  }
  if (auto ok = check_metadata(config.metadata, redactor); !ok) return fail(ok.error());
  if (auto ok = check_compression(config); !ok) return fail(ok.error());
  if (auto ok = check_limits(config); !ok) return fail(ok.error());
  if (auto ok = check_http(config.http, redactor); !ok) return fail(ok.error());
  // Everything delivery needs, computed here once (docs/DESIGN.md, "Config consumed once").
  std::string redacted = redact_url(config.url);
  auto plan =
      std::make_shared<const detail::DeliveryPlan>(detail::make_delivery_plan(config, redacted, std::move(redactor)));
  return FinalizedSumoConfig(std::move(config), std::move(redacted), std::move(plan));
}

namespace detail {
const DeliveryPlan& delivery_plan(const FinalizedSumoConfig& config) noexcept { return *config.plan_; }
}  // namespace detail

std::string to_string(const SumoConfig& c) {
  const detail::Redactor red(c);
  const auto quoted = [&red](std::string_view v) { return ilert_sumo::quoted(v, red); };
  std::string s = "SumoConfig{url=" + quoted(redact_url(c.url));
  s += ", token=";
  s += c.token.empty() ? "(none)" : "***";
  s += ", allow_insecure_http=";
  s += c.allow_insecure_http ? "true" : "false";
  s += ", metadata={category=" + quoted(c.metadata.category) + ", name=" + quoted(c.metadata.name) +
       ", host=" + quoted(c.metadata.host) + ", fields=[";
  for (std::size_t i = 0; i < c.metadata.fields.size(); ++i) {
    if (i > 0) s += ", ";
    s += printable(red(c.metadata.fields[i].key), 255) + "=" + printable(red(c.metadata.fields[i].value), 200);
  }
  s += "]}, compression=";
  s += to_string(c.compression);
  s += ", compression_level=" + std::to_string(c.compression_level);
  if (c.compression_level == -1)
    s += " (default " + std::to_string(detail::default_compression_level(c.compression)) + ")";
  s += ", batch={max_bytes=" + std::to_string(c.batch.max_bytes) +
       ", max_events=" + std::to_string(c.batch.max_events) + ", max_age=" + ms(c.batch.max_age) + "}";
  s += ", max_line_bytes=" + std::to_string(c.max_line_bytes);
  s += ", compression_threads=" + std::to_string(c.compression_threads);
  if (c.compression_threads == -1) s += " (automatic)";
  s += ", retry={initial_backoff=" + ms(c.retry.initial_backoff) + ", max_backoff=" + ms(c.retry.max_backoff) +
       ", budget=" + ms(c.retry.budget) + ", max_attempts=" + std::to_string(c.retry.max_attempts) + "}";
  s += ", connect_timeout=" + ms(c.connect_timeout) + ", request_timeout=" + ms(c.request_timeout);
  s += ", http={verify_tls=";
  s += c.http.verify_tls ? "true" : "false";
  s += ", ca_file=" + quoted(c.http.ca_file) + ", ca_path=" + quoted(c.http.ca_path) +
       ", client_cert=" + quoted(c.http.client_cert) + ", client_key=" + quoted(c.http.client_key) +
       ", client_key_password=";
  s += c.http.client_key_password.empty() ? "(none)" : "***";
  s += ", proxy=";
  s += c.http.proxy.empty() ? std::string("(environment)") : quoted(redact_url(c.http.proxy));
  s += ", no_proxy=";
  s += c.http.no_proxy.empty() ? std::string("(environment)") : quoted(c.http.no_proxy);
  s += ", proxy_tunnel=";
  s += c.http.proxy_tunnel ? "true" : "false";
  s += ", user_agent=" + quoted(c.http.user_agent) + "}";
  s += ", queue={max_bytes=" + std::to_string(c.queue.max_bytes) + ", overflow=" + to_string(c.queue.overflow) +
       ", enqueue_timeout=" + ms(c.queue.enqueue_timeout) + "}";
  s += ", spool={dir=" + quoted(c.spool.dir) + ", mode=" + to_string(c.spool.mode) +
       ", fsync=" + to_string(c.spool.fsync) + ", fsync_interval=" + ms(c.spool.fsync_interval) +
       ", max_bytes=" + std::to_string(c.spool.max_bytes) + ", segment_bytes=" + std::to_string(c.spool.segment_bytes) +
       "}";
  s += ", shutdown_timeout=" + ms(c.shutdown_timeout) + "}";
  // Belt and braces: every piece was masked before it was cut; mask the whole once more.
  return red(s);
}

}  // namespace ilert_sumo
