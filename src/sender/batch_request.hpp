// src/sender/batch_request.hpp (private): a batch the sender took from one set's queue becomes
// one request, compressed once (delivery.hpp's prepare_request), with that set's headers.
//
// The headers of set 0 (the config's own metadata) come from the DeliveryPlan; those of each
// other set are built the first time the set sends and kept (a set's metadata never changes once
// registered). Reports count lines from 0 in the order they were
// sent: `first_index` of a batch is the number of lines in the batches before it.
//
// Locking: none; only the sender thread uses it, without the sender's lock (compression is the
// slow part).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "delivery/compress.hpp"
#include "delivery/delivery.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_sender.hpp"
#include "sender/set_queues.hpp"

namespace ilert_sumo::detail {

class BatchRequests {
 public:
  /// `default_headers`: those of set 0, the config's own metadata (DeliveryPlan::headers).
  BatchRequests(const SumoConfig& config, std::vector<HttpHeader> default_headers, Compressor compressor)
      : config_(config), compressor_(std::move(compressor)) {
    headers_.emplace_back(std::move(default_headers));
  }

  /// What build() made.
  struct Built {
    /// The report of this batch if it is never sent: its lines, bytes and truncated lines.
    DeliveryReport unsent;
    /// The request, or why it could not be made (compression_failed).
    Expected<PreparedRequest> request;
  };

  /// The request for `entries`, all of set `id` whose metadata is `metadata`.
  Built build(const std::vector<QueueEntry>& entries, MetadataId id, const SumoMetadata& metadata);

 private:
  const SumoConfig& config_;
  Compressor compressor_;
  std::vector<std::optional<std::vector<HttpHeader>>> headers_;  // by MetadataId
  std::uint64_t next_index_ = 0;
};

}  // namespace ilert_sumo::detail
