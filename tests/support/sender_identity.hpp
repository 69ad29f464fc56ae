// tests/support/sender_identity.hpp: the accounting identity every SumoSender test checks.
#pragma once

#include "ilert_sumo/sumo_sender.hpp"
#include "support/catch.hpp"

namespace ilert_sumo::test {

/// Every event is in exactly one state: enqueued + recovered = delivered + dropped + pending +
/// spool backlog.
inline void check_identity(const SenderStats& s) {
  INFO("enqueued=" << s.enqueued << " recovered=" << s.recovered << " delivered=" << s.delivered_events << " dropped="
                   << s.dropped_total() << " pending=" << s.queue_events << " backlog=" << s.spool_backlog);
  CHECK(s.enqueued + s.recovered == s.delivered_events + s.dropped_total() + s.queue_events + s.spool_backlog);
}

}  // namespace ilert_sumo::test
