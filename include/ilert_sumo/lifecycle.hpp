// ilert_sumo/lifecycle.hpp: the alert lifecycle measures one event carries (time to accept, time
// to resolve).
//
// The one computation of the Sumo line's `ttaMs`/`ttrMs` (sumo_line.cpp writes what this returns)
// and of ilert-sumo-relay's time-to-accept/time-to-resolve histograms, so the line and the metrics
// can never disagree. Computed from the one payload only, with no state across events: any number
// of relays behind a load balancer give the same values. Rules: docs/SUMO_LINE.md, "Lifecycle
// measures".
#pragma once

#include <cstdint>
#include <optional>

#include "ilert_sumo/events.hpp"
#include "ilert_sumo/export.hpp"

namespace ilert_sumo {

/// Whole milliseconds; each instant is taken to the millisecond (rounded down) before subtracting.
struct LifecycleMeasures {
  /// Accept events (AlertAccepted) only: the earliest valid `responders[].acceptedAt` (else the
  /// event's time, event_time()) minus `reportTime`.
  std::optional<std::int64_t> tta_ms;
  /// Resolve events (AlertResolved, manual or automatic) only: `resolvedOn` when valid (else the
  /// event's time) minus `reportTime`.
  std::optional<std::int64_t> ttr_ms;
};

/// The measures of one event. Each is empty for other kinds, when `reportTime` is missing or not a
/// valid time, and when the difference would be negative (clock skew, a hand-built event).
ILERT_SUMO_EXPORT LifecycleMeasures lifecycle_measures(const Event& event) noexcept;

}  // namespace ilert_sumo
