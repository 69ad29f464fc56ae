// src/model/lifecycle.cpp: see include/ilert_sumo/lifecycle.hpp.
#include "ilert_sumo/lifecycle.hpp"

#include <chrono>
#include <variant>

namespace ilert_sumo {
namespace {

std::int64_t floor_ms(UtcTime t) noexcept {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// `to - from` in whole milliseconds (each instant taken to the millisecond, rounded down);
// nullopt when `from` is missing or `to` is before it.
std::optional<std::int64_t> elapsed_ms(const std::optional<Timestamp>& from, UtcTime to) noexcept {
  if (!from || !from->utc || to < *from->utc) return std::nullopt;
  return floor_ms(to) - floor_ms(*from->utc);
}

}  // namespace

LifecycleMeasures lifecycle_measures(const Event& event) noexcept {
  LifecycleMeasures m;
  const EventBase& base = base_of(event);
  const Alert& a = base.alert;
  if (std::holds_alternative<AlertAccepted>(event)) {
    std::optional<UtcTime> first;
    for (const Responder& r : a.responders) {
      if (r.accepted_at && r.accepted_at->utc && (!first || *r.accepted_at->utc < *first)) first = *r.accepted_at->utc;
    }
    m.tta_ms = elapsed_ms(a.report_time, first ? *first : event_time(base));
  } else if (std::holds_alternative<AlertResolved>(event)) {
    const UtcTime end = a.resolved_on && a.resolved_on->utc ? *a.resolved_on->utc : event_time(base);
    m.ttr_ms = elapsed_ms(a.report_time, end);
  }
  return m;
}

}  // namespace ilert_sumo
