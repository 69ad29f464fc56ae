// examples/ilert-sumo-relay/relay.hpp: what the relay does with a request, free of HTTP plumbing.
//
// Relay turns a webhook body into a response (202/400/503...) and a Sumo line queued on the
// SumoSender; checks the credentials (Basic and/or a header secret, `--auth-header`) in constant
// time; counts events by type, the lifecycle measures by priority and type mismatches by field;
// answers /healthz and /metrics. The HTTP
// server (server.cpp, libmicrohttpd) only moves bytes in and out. Per-event Sumo metadata
// (`--category` with `{eventType}`, `--fields-from-event`) is registered with the sender once per
// distinct set and cached; the cache is bounded so a client cannot grow it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "metrics.hpp"
#include "options.hpp"

namespace relay {

/// A response to write.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Close the connection after this response (the request body was not read).
  bool close_connection = false;
  /// For the access log: event type label and alert id ("-" when none), error code name.
  std::string event_type;
  std::string alert_id;
  std::string error;
};

/// The credentials a request presents: each header's value when it was sent exactly once.
struct PresentedCredentials {
  /// `Authorization` (Basic).
  std::optional<std::string_view> authorization;
  /// The `--auth-header` header (when one is configured).
  std::optional<std::string_view> auth_header;
  /// True when either header came more than once (never authorized: which one would count?).
  bool repeated = false;
};

class Relay {
 public:
  Relay(const RelayOptions& options, ilert_sumo::SumoSender& sender, Metrics& metrics, HealthMonitor& health);

  /// True when every configured credential is presented: Basic (`Authorization: Basic
  /// <base64(user:password)>`) and/or the `--auth-header` value, each compared in constant time.
  /// True when none is configured.
  bool authorized(const PresentedCredentials& given) const;
  /// The header `--auth-header` names ("" when none), for the server's header scan.
  const std::string& auth_header_name() const noexcept { return options_.auth_header; }

  /// Parses, queues, answers. Counts the outcome and the event type. `received_at`: the moment
  /// the body was fully received (the line's receivedAt).
  Reply handle_webhook(std::string_view body, ilert_sumo::UtcTime received_at);
  /// 401, with WWW-Authenticate for Basic or an `Authorization` header scheme. Counted.
  Reply unauthorized();
  /// 413. Counted. `close` when the body was left unread.
  Reply too_large(bool close);

  Reply healthz();
  Reply metrics(std::uint64_t log_lines_dropped);

  /// From now on /healthz answers 503 "shutting_down".
  void begin_shutdown() noexcept { shutting_down_.store(true, std::memory_order_relaxed); }

 private:
  ilert_sumo::MetadataId metadata_for(std::string_view type_label, const ilert_sumo::Alert* alert);
  bool basic_matches(const std::optional<std::string_view>& authorization) const;
  Reply unavailable(Outcome outcome, const char* error, const char* message);

  const RelayOptions& options_;
  ilert_sumo::SumoSender& sender_;
  Metrics& metrics_;
  HealthMonitor& health_;
  ilert_sumo::ParseOptions parse_options_;
  bool per_event_metadata_ = false;
  std::string expected_credentials_;
  std::string challenge_;
  std::size_t invalid_index_ = 0;
  std::atomic<bool> shutting_down_{false};

  mutable std::shared_mutex metadata_mutex_;
  std::unordered_map<std::string, ilert_sumo::MetadataId> metadata_cache_;
};

/// Decodes standard base64 (with or without padding); false on any other character.
bool base64_decode(std::string_view in, std::string& out);
/// Equality whose running time depends only on the length of `expected`.
bool constant_time_equal(std::string_view given, std::string_view expected) noexcept;
/// ASCII case-insensitive equality (header names, scheme names).
bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept;

}  // namespace relay
