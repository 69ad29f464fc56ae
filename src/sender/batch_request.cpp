// src/sender/batch_request.cpp: a sender batch becomes one request (batch_request.hpp).
#include "sender/batch_request.hpp"

#include <utility>

namespace ilert_sumo::detail {

BatchRequests::Built BatchRequests::build(const std::vector<QueueEntry>& entries, MetadataId id,
                                          const SumoMetadata& metadata) {
  Batch batch;
  std::size_t bytes = 0;
  for (const QueueEntry& e : entries) bytes += e.line.size();
  batch.body.reserve(bytes);
  for (const QueueEntry& e : entries) {
    batch.body += e.line;
    if (e.truncated) ++batch.truncated_events;
  }
  batch.events = entries.size();
  batch.first_index = static_cast<std::size_t>(next_index_);
  next_index_ += entries.size();

  DeliveryReport unsent;
  unsent.first_index = batch.first_index;
  unsent.events = batch.events;
  unsent.raw_bytes = bytes;
  unsent.truncated_events = batch.truncated_events;

  if (headers_.size() <= id) headers_.resize(std::size_t{id} + 1);
  if (!headers_[id]) headers_[id] = build_request_headers(config_, metadata);
  return Built{std::move(unsent), prepare_request(std::move(batch), *headers_[id], compressor_)};
}

}  // namespace ilert_sumo::detail
