// src/sumo_config.cpp: SumoConfig validation (finalize), codec names, redaction (redact_url,
// redact, Redactor of redact.hpp) and the redacted to_string.
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
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "compress.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "redact.hpp"
#include "text_util.hpp"

namespace ilert_sumo {

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

Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message), {}, Error::npos};
}

// ASCII-only character classes: <cctype> depends on the process locale.
bool is_alpha(unsigned char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

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
    return "is " + std::to_string(key.size()) + " characters long (Sumo allows " + std::to_string(kMaxFieldKeyChars) + ")";
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
      return make_error(ErrorCode::invalid_url, prefix + "contains whitespace, a control or a non-ASCII character "
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
                      prefix + "is not a presigned source URL (https://<endpoint>/receiver/v1/http/<code>); "
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
    return make_error(ErrorCode::invalid_config,
                      "compression_level " + std::to_string(c.compression_level) + " is out of range for " +
                          to_string(c.compression) + " (" + std::to_string(range.min) + ".." +
                          std::to_string(range.max) + ", or -1 for the default)");
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
    return invalid("connect_timeout " + ms(c.connect_timeout) + " is out of range (1ms.." + ms(kMaxRequestTimeout) + ")");
  }
  if (c.compression_threads < -1 || c.compression_threads > kMaxCompressionThreads) {
    return invalid("compression_threads " + std::to_string(c.compression_threads) + " is out of range (-1 = automatic, 0.." +
                   std::to_string(kMaxCompressionThreads) + ")");
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
  const std::pair<const char*, const std::string*> paths[] = {
      {"http.ca_file", &h.ca_file}, {"http.ca_path", &h.ca_path},
      {"http.client_cert", &h.client_cert}, {"http.client_key", &h.client_key}};
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
    return make_error(ErrorCode::too_many_fields,
                      "metadata.fields has " + std::to_string(m.fields.size()) + " entries; Sumo accepts at most " +
                          std::to_string(kMaxFields) + " per request and drops the rest");
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
  const detail::Redactor redactor(config);
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
  std::string redacted = redact_url(config.url);
  return FinalizedSumoConfig(std::move(config), std::move(redacted));
}

// ---------------------------------------------------------------------------------------------
// Redaction helpers (shared by redact_url and detail::Redactor)

namespace detail {
namespace {

bool is_alnum(unsigned char c) noexcept { return is_alpha(c) || is_digit(c); }

/// One of the segments of Sumo's documented path /receiver/v1/http (or an empty one).
bool is_sumo_segment(std::string_view segment) noexcept {
  return segment.empty() || segment == "receiver" || segment == "v1" || segment == "http";
}

/// Appends `rest` (the path, query and fragment of a URL) with its secrets masked: the presigned
/// code (mask_code), each other path segment as `segment(s)` returns it, every query value and
/// the fragment.
template <class Segment>
void append_masked_tail(std::string& out, std::string_view rest, const Segment& segment) {
  const std::string_view path = rest.substr(0, rest.find_first_of("?#"));
  const std::string_view code = presigned_code(path);
  if (!code.empty()) {
    out.append(path.substr(0, path.size() - code.size()));
    out += mask_code(code);
  } else {
    std::size_t start = 0;
    while (start < path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string_view::npos) end = path.size();
      out += segment(path.substr(start, end - start));
      if (end < path.size()) out += '/';
      start = end + 1;
    }
    if (!path.empty() && path.back() == '/' && (out.empty() || out.back() != '/')) out += '/';
  }
  rest = rest.substr(path.size());
  if (!rest.empty() && rest.front() == '?') {
    const std::size_t hash = rest.find('#');
    const std::string_view query = rest.substr(1, hash == std::string_view::npos ? std::string_view::npos : hash - 1);
    out += '?';
    std::size_t start = 0;
    while (start <= query.size()) {
      std::size_t amp = query.find('&', start);
      if (amp == std::string_view::npos) amp = query.size();
      const std::string_view param = query.substr(start, amp - start);
      const std::size_t eq = param.find('=');
      if (eq != std::string_view::npos) {
        out.append(param.substr(0, eq + 1));
        if (eq + 1 < param.size()) out += "***";
      } else if (!param.empty()) {
        out += "***";
      }
      if (amp == query.size()) break;
      out += '&';
      start = amp + 1;
    }
    rest = hash == std::string_view::npos ? std::string_view{} : rest.substr(hash);
  }
  if (!rest.empty() && rest.front() == '#') out += rest.size() > 1 ? "#***" : "#";
}

/// Calls `f(item)` for each '&'-separated query item and each non-Sumo path segment of a URL's
/// path+query, i.e. the parts redact_url masks besides the code and the user-info.
template <class F>
void for_each_masked_part(std::string_view path, std::string_view query, const F& f) {
  if (presigned_code(path).empty()) {
    std::size_t start = 0;
    while (start < path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string_view::npos) end = path.size();
      const std::string_view segment = path.substr(start, end - start);
      if (!is_sumo_segment(segment)) f(segment);
      start = end + 1;
    }
  }
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view param = query.substr(start, amp - start);
    const std::size_t eq = param.find('=');
    f(eq == std::string_view::npos ? param : param.substr(eq + 1));
    start = amp + 1;
  }
}

bool is_scheme_char(unsigned char c) noexcept { return is_alnum(c) || c == '+' || c == '-' || c == '.'; }

/// Characters that end a URL in running text: whitespace, controls, quotes and the characters
/// RFC 3986 does not allow in a URL.
bool ends_url(unsigned char c) noexcept {
  return c <= 0x20 || c == 0x7F || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '{' ||
         c == '}' || c == '|' || c == '\\' || c == '^';
}

/// End of the URL-like run that starts at `from` (exclusive), without trailing sentence
/// punctuation; never before `min_end`.
std::size_t url_run_end(std::string_view text, std::size_t from, std::size_t min_end) noexcept {
  std::size_t end = from;
  while (end < text.size() && !ends_url(static_cast<unsigned char>(text[end]))) ++end;
  const std::string_view run = text.substr(from, end - from);
  const bool has_open_paren = run.find('(') != std::string_view::npos;
  while (end > min_end) {
    const char c = text[end - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || (c == ')' && !has_open_paren)) {
      --end;
    } else {
      break;
    }
  }
  return end;
}

/// Header names whose values are credentials, lower case; longest first.
constexpr std::string_view kSecretHeaders[] = {"proxy-authorization", "authorization", "x-sumo-token"};

bool is_header_name_char(unsigned char c) noexcept { return is_alnum(c) || c == '-' || c == '_'; }

/// When a secret header starts at `i` (`Name: value`, any case), the end of its name-and-colon
/// part (including an auth scheme such as "Basic ") and the end of the value to mask.
std::optional<std::pair<std::size_t, std::size_t>> secret_header_at(std::string_view text, std::size_t i) noexcept {
  if (i > 0 && is_header_name_char(static_cast<unsigned char>(text[i - 1]))) return std::nullopt;
  for (const std::string_view name : kSecretHeaders) {
    if (text.size() - i < name.size() || !iequals(text.substr(i, name.size()), name)) continue;
    std::size_t j = i + name.size();
    if (j < text.size() && is_header_name_char(static_cast<unsigned char>(text[j]))) continue;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
    if (j >= text.size() || text[j] != ':') continue;
    ++j;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
    std::size_t value = j;
    if (name != "x-sumo-token") {
      // `Authorization: <scheme> <credentials>`: the scheme is not secret.
      std::size_t k = value;
      while (k < text.size() && is_alpha(static_cast<unsigned char>(text[k]))) ++k;
      if (k > value && k + 1 < text.size() && text[k] == ' ' && static_cast<unsigned char>(text[k + 1]) > 0x20) {
        value = k + 1;
      }
    }
    std::size_t end = value;
    while (end < text.size() && static_cast<unsigned char>(text[end]) > 0x20 && text[end] != '"' && text[end] != '\'') {
      ++end;
    }
    if (end == value) return std::nullopt;
    return std::make_pair(value, end);
  }
  return std::nullopt;
}

}  // namespace
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Redaction

std::string redact_url(std::string_view url) {
  std::string out;
  out.reserve(url.size() + 8);
  std::size_t auth_start = 0;
  std::size_t auth_end = 0;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    auth_start = scheme_end + 3;
    auth_end = url.find_first_of("/?#", auth_start);
    if (auth_end == std::string_view::npos) auth_end = url.size();
  }
  out.append(url.substr(0, auth_start));
  std::string_view authority = url.substr(auth_start, auth_end - auth_start);
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      out.append(userinfo.substr(0, colon + 1));
    }
    out += "***@";
    authority = authority.substr(at + 1);
  }
  out.append(authority);

  std::string_view rest = url.substr(auth_end);
  if (scheme_end == std::string_view::npos) {
    // No scheme: the text cannot be split safely. Keep what comes before the first '/' (a host,
    // as far as we can tell) and treat the rest as a path, masked below.
    const std::size_t slash = url.find_first_of("/?#");
    const std::string_view first = url.substr(0, slash == std::string_view::npos ? url.size() : slash);
    // A host has a dot (or is a bracketed address); anything else may be the code itself.
    const bool host_like = first.find('.') != std::string_view::npos || (!first.empty() && first.front() == '[');
    out.assign(host_like ? first : std::string_view(first.empty() ? "" : "***"));
    rest = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  }
  // Not the presigned form (a wrong path, a typo): any segment may be the code. Only the segments
  // of Sumo's documented paths (/receiver/v1/http[/<code>]) are shown.
  detail::append_masked_tail(out, rest, [](std::string_view segment) {
    return detail::is_sumo_segment(segment) ? std::string(segment) : std::string("***");
  });
  return out;
}

std::string redact(std::string_view text, const SumoConfig& config) { return detail::Redactor(config)(text); }

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
  if (c.compression_level == -1) s += " (default " + std::to_string(detail::default_compression_level(c.compression)) + ")";
  s += ", batch={max_bytes=" + std::to_string(c.batch.max_bytes) + ", max_events=" + std::to_string(c.batch.max_events) +
       ", max_age=" + ms(c.batch.max_age) + "}";
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
  s += ", spool={dir=" + quoted(c.spool.dir) + ", mode=" + to_string(c.spool.mode) + ", fsync=" + to_string(c.spool.fsync) +
       ", fsync_interval=" + ms(c.spool.fsync_interval) + ", max_bytes=" + std::to_string(c.spool.max_bytes) +
       ", segment_bytes=" + std::to_string(c.spool.segment_bytes) + "}";
  s += ", shutdown_timeout=" + ms(c.shutdown_timeout) + "}";
  // Belt and braces: every piece was masked before it was cut; mask the whole once more.
  return red(s);
}

// ---------------------------------------------------------------------------------------------
// Private helpers of redact.hpp

namespace detail {

std::optional<UrlParts> split_url(std::string_view url) noexcept {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  UrlParts p;
  p.scheme = url.substr(0, scheme_end);
  if (!is_alpha(static_cast<unsigned char>(p.scheme.front()))) return std::nullopt;
  for (const char ch : p.scheme) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return std::nullopt;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::size_t auth_end = rest.find_first_of("/?#");
  if (auth_end == std::string_view::npos) auth_end = rest.size();
  std::string_view hostport = rest.substr(0, auth_end);
  const std::size_t at = hostport.rfind('@');
  if (at != std::string_view::npos) {
    p.has_userinfo = true;
    p.userinfo = hostport.substr(0, at);
    hostport = hostport.substr(at + 1);
  }
  if (!hostport.empty() && hostport.front() == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    p.host = hostport.substr(0, close + 1);
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      p.port = after.substr(1);
      if (p.port.empty()) return std::nullopt;
    }
  } else {
    const std::size_t colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
      p.host = hostport.substr(0, colon);
      p.port = hostport.substr(colon + 1);
      if (p.port.empty()) return std::nullopt;
    } else {
      p.host = hostport;
    }
  }
  rest = rest.substr(auth_end);
  const std::size_t path_end = rest.find_first_of("?#");
  p.path = rest.substr(0, path_end);
  rest = path_end == std::string_view::npos ? std::string_view{} : rest.substr(path_end);
  if (!rest.empty() && rest.front() == '?') {
    p.has_query = true;
    const std::size_t hash = rest.find('#');
    p.query = rest.substr(1, hash == std::string_view::npos ? std::string_view::npos : hash - 1);
    rest = hash == std::string_view::npos ? std::string_view{} : rest.substr(hash);
  }
  if (!rest.empty() && rest.front() == '#') {
    p.has_fragment = true;
    p.fragment = rest.substr(1);
  }
  return p;
}

std::string_view presigned_code(std::string_view path) noexcept {
  static constexpr std::string_view kMarker = "/receiver/v1/http/";
  if (path.size() < kMarker.size()) return {};
  for (std::size_t i = 0; i + kMarker.size() <= path.size(); ++i) {
    if (iequals(path.substr(i, kMarker.size()), kMarker)) return path.substr(i + kMarker.size());
  }
  return {};
}

std::string mask_code(std::string_view code) {
  constexpr std::size_t kShowFrom = 16;
  // Already masked (a redacted URL passing through a Redactor again): keep it.
  if (code.size() <= 5 && code.size() >= 3 && code.substr(code.size() - 3) == "***") return std::string(code);
  if (code.size() >= kShowFrom) return std::string(code.substr(0, 2)) + "***";
  return "***";
}

Redactor::Redactor(const SumoConfig& config) {
  add_url(config.url);
  add_secret(config.token, "***");
  add_secret(config.http.client_key_password, "***");
  add_url(config.http.proxy);
  sort();
}

Redactor Redactor::for_urls(std::initializer_list<std::string_view> urls) {
  Redactor r;
  for (const std::string_view url : urls) r.add_url(url);
  r.sort();
  return r;
}

void Redactor::add_url(std::string_view url) {
  if (url.empty()) return;
  const auto parts = split_url(url);
  if (parts) {
    urls_.push_back(Known{std::string(url), redact_url(url)});
  } else {
    // Not splittable: no structure to go by, so the whole text is a secret of its own.
    add_secret(url, redact_url(url));
  }
  const std::string_view code = presigned_code(parts ? parts->path : url);
  if (!code.empty()) add_secret(code, mask_code(code));
  if (parts) {
    // What redact_url masks besides the code (segments of a wrong path, query values, the
    // fragment) is masked where it reappears in another URL, too.
    for_each_masked_part(parts->path, parts->query, [this](std::string_view part) { add_secret(part, "***"); });
    add_secret(parts->fragment, "***");
    if (parts->has_userinfo && !parts->userinfo.empty()) {
      const std::size_t colon = parts->userinfo.find(':');
      add_secret(colon == std::string_view::npos ? parts->userinfo : parts->userinfo.substr(colon + 1), "***");
    }
  }
}

void Redactor::add_secret(std::string_view secret, std::string replacement) {
  if (secret.empty() || secret == "***") return;
  secrets_.push_back(Known{std::string(secret), std::move(replacement)});
}

void Redactor::sort() {
  const auto longer = [](const Known& a, const Known& b) { return a.text.size() > b.text.size(); };
  std::stable_sort(urls_.begin(), urls_.end(), longer);
  std::stable_sort(secrets_.begin(), secrets_.end(), longer);
}

bool Redactor::is_secret(std::string_view s) const {
  return std::any_of(secrets_.begin(), secrets_.end(), [s](const Known& k) { return k.text == s; });
}

std::string Redactor::mask_url(std::string_view url) const {
  const std::optional<UrlParts> parts = split_url(url);
  if (!parts) return redact_url(url);  // no structure to go by: the strict form
  std::string out(parts->scheme);
  out += "://";
  if (parts->has_userinfo) {
    const std::size_t colon = parts->userinfo.find(':');
    if (colon != std::string_view::npos) {
      out += mask_free(parts->userinfo.substr(0, colon));
      out += ':';
    }
    out += "***@";
  }
  out += mask_free(parts->host);
  if (!parts->port.empty()) {
    out += ':';
    out += parts->port;
  }
  const std::size_t authority_end = url.find_first_of("/?#", parts->scheme.size() + 3);
  const std::string_view tail = authority_end == std::string_view::npos ? std::string_view{} : url.substr(authority_end);
  append_masked_tail(out, tail, [this](std::string_view segment) {
    return is_secret(segment) ? std::string("***") : mask_free(segment);
  });
  return out;
}

namespace {

/// The known secret that free text at `i` shows, by the length rules of redact.hpp, or nullptr.
template <class Known>
const Known* free_secret_at(const std::vector<Known>& secrets, std::string_view text, std::size_t i) noexcept {
  for (const Known& k : secrets) {
    const std::size_t n = k.text.size();
    if (n < kFreeTextWholeWord) break;  // sorted longest first
    if (text.size() - i < n || text.compare(i, n, k.text) != 0) continue;
    if (n >= kFreeTextAnywhere) return &k;
    const bool word_before = i > 0 && is_alnum(static_cast<unsigned char>(text[i - 1]));
    const bool word_after = i + n < text.size() && is_alnum(static_cast<unsigned char>(text[i + n]));
    if (!word_before && !word_after) return &k;
  }
  return nullptr;
}

}  // namespace

std::string Redactor::mask_free(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (const Known* k = free_secret_at(secrets_, text, i)) {
      out += k->replacement;
      i += k->text.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string Redactor::operator()(std::string_view text) const {
  static constexpr std::string_view kMarker = "/receiver/v1/http/";
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    // A URL: a run of scheme characters followed by "://" (every "://" is inside one; the scheme
    // starts at the run's first letter), or a "://" without any scheme.
    if ((is_scheme_char(c) || c == ':') && (i == 0 || !is_scheme_char(static_cast<unsigned char>(text[i - 1])))) {
      std::size_t j = i;
      while (j < text.size() && is_scheme_char(static_cast<unsigned char>(text[j]))) ++j;
      if (text.compare(j, 3, "://") == 0) {
        std::size_t start = i;
        while (start < j && !is_alpha(static_cast<unsigned char>(text[start]))) ++start;
        if (start == j) start = i;
        out.append(text.substr(i, start - i));
        const std::size_t end = url_run_end(text, start, j + 3);
        const std::string_view url = text.substr(start, end - start);
        const auto known = std::find_if(urls_.begin(), urls_.end(), [url](const Known& k) { return k.text == url; });
        out += known != urls_.end() ? known->replacement : mask_url(url);
        i = end;
        continue;
      }
    }
    // The code's place in a URL without a scheme.
    if (c == '/' && text.size() - i >= kMarker.size() && iequals(text.substr(i, kMarker.size()), kMarker)) {
      out.append(text.substr(i, kMarker.size()));
      i += kMarker.size();
      std::size_t end = i;
      while (end < text.size() && !ends_url(static_cast<unsigned char>(text[end])) && text[end] != '?' &&
             text[end] != '#') {
        ++end;
      }
      end = url_run_end(text.substr(0, end), i, i);
      if (end > i) out += mask_code(text.substr(i, end - i));
      i = end;
      continue;
    }
    // A credential header's value.
    if (const auto header = secret_header_at(text, i)) {
      out.append(text.substr(i, header->first - i));
      out += "***";
      i = header->second;
      continue;
    }
    if (const Known* k = free_secret_at(secrets_, text, i)) {
      out += k->replacement;
      i += k->text.size();
      continue;
    }
    out += text[i++];
  }
  return out;
}

}  // namespace detail
}  // namespace ilert_sumo
