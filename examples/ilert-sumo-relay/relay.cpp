// examples/ilert-sumo-relay/relay.cpp: see relay.hpp.
#include "relay.hpp"

#include <cstdio>
#include <mutex>

#include "ilert_sumo/sumo_line.hpp"
#include "json_text.hpp"

namespace relay {
namespace {

constexpr std::size_t kMaxMetadataSets = 1024;
constexpr std::size_t kMaxFieldValue = 128;

// X-Sumo-Fields values from the event: a conservative character set, so that no iLert alert
// source name can produce a header Sumo (or validate_metadata) rejects.
std::string field_value(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    if (out.size() >= kMaxFieldValue) break;
    const auto u = static_cast<unsigned char>(c);
    const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == ' ' ||
                    c == '_' || c == '-' || c == '.' || c == ':' || c == '/' || c == '@' || c == '+';
    out.push_back(ok ? c : '_');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string expand_category(const std::string& tmpl, std::string_view type_label) {
  static const std::string kToken = "{eventType}";
  std::string out = tmpl;
  for (auto p = out.find(kToken); p != std::string::npos; p = out.find(kToken, p + type_label.size())) {
    out.replace(p, kToken.size(), type_label.data(), type_label.size());
  }
  return out;
}

}  // namespace

bool base64_decode(std::string_view in, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  out.clear();
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  return bits < 6;  // a single leftover sextet is not valid base64
}

bool constant_time_equal(std::string_view given, std::string_view expected) noexcept {
  unsigned diff = given.size() == expected.size() ? 0u : 1u;
  const std::size_t n = given.size();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto g = n == 0 ? 0u : static_cast<unsigned char>(given[i % n]);
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    const char y = (b[i] >= 'A' && b[i] <= 'Z') ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

Relay::Relay(const RelayOptions& options, ilert_sumo::SumoSender& sender, Metrics& metrics, HealthMonitor& health)
    : options_(options), sender_(sender), metrics_(metrics), health_(health) {
  parse_options_.max_body_bytes = options.max_body;
  per_event_metadata_ = options.fields_from_event || options.category.find("{eventType}") != std::string::npos;
  expected_credentials_ = options.basic_auth;
  invalid_index_ = metrics.event_type_index("invalid");
  // RFC 9110 asks a 401 to name a scheme: Basic; else the scheme word of an `Authorization` header
  // value (`Bearer ...`: the scheme only, never the secret). A custom header has no scheme.
  if (!options.basic_auth.empty()) {
    challenge_ = "Basic realm=\"ilert-sumo-relay\", charset=\"UTF-8\"";
  } else if (!options.auth_header.empty() && equal_ignoring_case(options.auth_header, "Authorization")) {
    const std::string& v = options.auth_header_value;
    const auto space = v.find(' ');
    if (space != std::string::npos && space > 0) challenge_ = v.substr(0, space) + " realm=\"ilert-sumo-relay\"";
  }
}

bool Relay::authorized(const PresentedCredentials& given) const {
  const bool basic = !expected_credentials_.empty();
  const bool header = !options_.auth_header.empty();
  if (!basic && !header) return true;
  if (given.repeated) return false;
  bool ok = true;
  if (header) {
    // Both checks always run (no early return), each in time that depends only on the secret's length.
    ok = given.auth_header.has_value() && constant_time_equal(*given.auth_header, options_.auth_header_value);
  }
  if (basic) ok = basic_matches(given.authorization) && ok;
  return ok;
}

bool Relay::basic_matches(const std::optional<std::string_view>& authorization) const {
  // "Basic <base64>", the scheme name case-insensitive (RFC 7617).
  if (!authorization || authorization->size() < 6 || !equal_ignoring_case(authorization->substr(0, 6), "basic ")) {
    return false;
  }
  std::string_view b64 = authorization->substr(6);
  while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
  while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
  std::string decoded;
  if (!base64_decode(b64, decoded)) return false;
  return constant_time_equal(decoded, expected_credentials_);
}

ilert_sumo::MetadataId Relay::metadata_for(std::string_view type_label, const ilert_sumo::Alert* alert) {
  if (!per_event_metadata_) return 0;
  std::string priority;
  std::string source;
  if (options_.fields_from_event && alert != nullptr) {
    if (alert->priority) priority = field_value(alert->priority->raw);
    if (alert->alert_source && alert->alert_source->name) source = field_value(*alert->alert_source->name);
  }
  for (int pass = 0; pass < 2; ++pass) {
    std::string key;
    key.reserve(type_label.size() + priority.size() + source.size() + 2);
    key.append(type_label.data(), type_label.size());
    key.push_back('\x1f');
    key += priority;
    key.push_back('\x1f');
    key += source;
    {
      std::shared_lock<std::shared_mutex> lock(metadata_mutex_);
      const auto it = metadata_cache_.find(key);
      if (it != metadata_cache_.end()) return it->second;
    }
    std::unique_lock<std::shared_mutex> lock(metadata_mutex_);
    const auto it = metadata_cache_.find(key);
    if (it != metadata_cache_.end()) return it->second;
    if (metadata_cache_.size() >= kMaxMetadataSets) {
      // Bounded: past the cap, fall back to the set without the (open-ended) priority and source.
      if (pass == 0 && (!priority.empty() || !source.empty())) {
        priority.clear();
        source.clear();
        continue;
      }
      return 0;
    }
    ilert_sumo::SumoMetadata md;
    md.category = expand_category(options_.category, type_label);
    md.name = options_.source_name;
    md.host = options_.source_host;
    md.fields = options_.fields;
    if (options_.fields_from_event) {
      md.fields.push_back({"eventType", std::string(type_label)});
      if (!priority.empty()) md.fields.push_back({"priority", priority});
      if (!source.empty()) md.fields.push_back({"alertSource", source});
    }
    auto id = sender_.add_metadata(md);
    const ilert_sumo::MetadataId value = id ? *id : 0;  // invalid set: the default headers still deliver it
    metadata_cache_.emplace(std::move(key), value);
    return value;
  }
  return 0;
}

Reply Relay::unavailable(Outcome outcome, const char* error, const char* message) {
  Reply r;
  r.status = status_of(outcome);
  r.error = error;
  r.body = std::string("{\"error\":\"") + error + "\",\"message\":" + json_string(message) + "}";
  if (r.status == 503) r.headers.emplace_back("Retry-After", std::to_string(options_.retry_after_s));
  metrics_.count_outcome(outcome);
  return r;
}

Reply Relay::unauthorized() {
  Reply r = unavailable(Outcome::unauthorized, "unauthorized", "missing or wrong credentials");
  if (!challenge_.empty()) r.headers.emplace_back("WWW-Authenticate", challenge_);
  return r;
}

Reply Relay::too_large(bool close) {
  const std::string message = "the body exceeds " + std::to_string(options_.max_body) + " bytes";
  Reply r = unavailable(Outcome::too_large, "too_large", message.c_str());
  r.close_connection = close;
  return r;
}

Reply Relay::handle_webhook(std::string_view body, ilert_sumo::UtcTime received_at) {
  ilert_sumo::ParseOptions parse_options = parse_options_;
  parse_options.received_at = received_at;
  auto parsed = ilert_sumo::parse_event(body, parse_options);
  ilert_sumo::EnqueueStatus status;
  Reply r;
  std::size_t type_index = invalid_index_;
  if (parsed) {
    const ilert_sumo::Event& event = *parsed;
    const auto& base = ilert_sumo::base_of(event);
    const std::string_view canonical = ilert_sumo::canonical_event_type(event);
    const bool unknown = ilert_sumo::kind_of(event) == ilert_sumo::EventKind::unknown;
    const std::string_view label = unknown ? std::string_view("unknown") : canonical;
    type_index = metrics_.event_type_index(label);
    r.event_type = log_safe(canonical, 80);
    r.alert_id = std::to_string(base.alert.id);
    status = sender_.enqueue(event, metadata_for(label, &base.alert));
    if (status == ilert_sumo::EnqueueStatus::accepted || status == ilert_sumo::EnqueueStatus::spilled) {
      r.status = 202;
      r.body.reserve(64 + canonical.size());
      r.body += "{\"status\":\"accepted\",\"eventType\":";
      append_json_string(r.body, canonical);
      r.body += ",\"alertId\":\"";
      r.body += r.alert_id;
      r.body += "\"}";
      metrics_.count_outcome(Outcome::accepted);
      metrics_.count_event(type_index);
      metrics_.observe_event(event);
      return r;
    }
  } else {
    const ilert_sumo::Error& error = parsed.error();
    const std::string line = ilert_sumo::to_invalid_payload_line(body, error);
    r.event_type = "invalid";
    r.alert_id = "-";
    status = sender_.enqueue_line(line, metadata_for("invalid", nullptr));
    if (status == ilert_sumo::EnqueueStatus::accepted || status == ilert_sumo::EnqueueStatus::spilled) {
      // Kept (forwarded to Sumo as an invalid-payload line) either way; --invalid-status decides
      // whether the sender hears "your body is wrong" (400, default) or "kept" (202).
      r.status = options_.invalid_status;
      r.error = ilert_sumo::to_string(error.code);
      r.body = r.status == 202 ? "{\"status\":\"accepted\",\"eventType\":\"invalid\",\"error\":" : "{\"error\":";
      append_json_string(r.body, r.error);
      r.body += ",\"path\":";
      append_json_string(r.body, error.path);
      if (error.offset != ilert_sumo::Error::npos) r.body += ",\"offset\":" + std::to_string(error.offset);
      r.body += ",\"message\":";
      append_json_string(r.body, error.message);
      r.body += "}";
      metrics_.count_outcome(Outcome::invalid);
      metrics_.count_event(type_index);
      return r;
    }
  }
  // The sender did not take it: tell the client to come back (nothing was accepted).
  Reply fail;
  switch (status) {
    case ilert_sumo::EnqueueStatus::dropped_queue_full:
      fail = unavailable(Outcome::queue_full, "queue_full", "the relay's queue is full; retry later");
      break;
    case ilert_sumo::EnqueueStatus::dropped_too_large:
      fail = unavailable(Outcome::too_large, "too_large", "the event is larger than the relay's whole queue");
      break;
    case ilert_sumo::EnqueueStatus::dropped_spool_error:
      fail =
          unavailable(Outcome::unavailable, "spool_error", "the event could not be written to the spool; retry later");
      break;
    case ilert_sumo::EnqueueStatus::refused_spool_full:
      // The write-ahead spool is at --spool-max-bytes: refused, never paid for by evicting.
      fail = unavailable(Outcome::unavailable, "spool_full", "the relay's spool is full; retry later");
      break;
    case ilert_sumo::EnqueueStatus::closed:
      fail = unavailable(Outcome::unavailable, "shutting_down", "the relay is shutting down; retry later");
      break;
    default: fail = unavailable(Outcome::error, "internal", "the event could not be queued"); break;
  }
  fail.event_type = std::move(r.event_type);
  fail.alert_id = std::move(r.alert_id);
  return fail;
}

Reply Relay::healthz() {
  const Health h = health_.evaluate(sender_.stats(), shutting_down_.load(std::memory_order_relaxed));
  Reply r;
  r.status = h.healthy ? 200 : 503;
  char buf[256];
  std::snprintf(buf, sizeof buf, "{\"status\":\"%s\",\"secondsSinceSumoSuccess\":%.3f,\"sumoFailing\":%s}",
                h.status.c_str(), h.seconds_since_success, h.failing ? "true" : "false");
  r.body = buf;
  return r;
}

Reply Relay::metrics(std::uint64_t log_lines_dropped) {
  const auto stats = sender_.stats();
  const Health h = health_.evaluate(stats, shutting_down_.load(std::memory_order_relaxed));
  Reply r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.render_prometheus(stats, h, log_lines_dropped);
  return r;
}

}  // namespace relay
