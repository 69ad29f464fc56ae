// examples/ilert-sumo-relay/relay.hpp: what the relay does with a request, free of HTTP plumbing.
//
// Relay turns a webhook body into a response (202/400/503...) and a Sumo line queued on the
// SumoSender; checks Basic credentials in constant time; answers /healthz and /metrics. The HTTP
// server (server.cpp, libmicrohttpd) only moves bytes in and out. Per-event Sumo metadata
// (`--category` with `{eventType}`, `--fields-from-event`) is registered with the sender once per
// distinct set and cached; the cache is bounded so a client cannot grow it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <string>
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

class Relay {
 public:
  Relay(const RelayOptions& options, ilert_sumo::SumoSender& sender, Metrics& metrics, HealthMonitor& health);

  /// True when no credentials are configured, or `authorization` is `Basic <base64(user:password)>`
  /// with the configured pair (compared in constant time).
  bool authorized(std::string_view authorization) const;

  /// Parses, queues, answers. Counts the outcome and the event type. `received_at`: the moment
  /// the body was fully received (the line's receivedAt).
  Reply handle_webhook(std::string_view body, ilert_sumo::UtcTime received_at);
  /// 401 with WWW-Authenticate. Counted.
  Reply unauthorized();
  /// 413. Counted. `close` when the body was left unread.
  Reply too_large(bool close);

  Reply healthz();
  Reply metrics(std::uint64_t log_lines_dropped);

  /// From now on /healthz answers 503 "shutting_down".
  void begin_shutdown() noexcept { shutting_down_.store(true, std::memory_order_relaxed); }

 private:
  ilert_sumo::MetadataId metadata_for(std::string_view type_label, const ilert_sumo::Alert* alert);
  Reply unavailable(Outcome outcome, const char* error, const char* message);

  const RelayOptions& options_;
  ilert_sumo::SumoSender& sender_;
  Metrics& metrics_;
  HealthMonitor& health_;
  ilert_sumo::ParseOptions parse_options_;
  bool per_event_metadata_ = false;
  std::string expected_credentials_;
  std::size_t invalid_index_ = 0;
  std::atomic<bool> shutting_down_{false};

  mutable std::shared_mutex metadata_mutex_;
  std::unordered_map<std::string, ilert_sumo::MetadataId> metadata_cache_;
};

/// Decodes standard base64 (with or without padding); false on any other character.
bool base64_decode(std::string_view in, std::string& out);
/// Equality whose running time depends only on the length of `expected`.
bool constant_time_equal(std::string_view given, std::string_view expected) noexcept;

}  // namespace relay
