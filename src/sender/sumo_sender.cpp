// src/sender/sumo_sender.cpp: SumoSender, background delivery with a byte-bounded queue, Sumo-aware
// throttling, deadlines that hold, and the disk spool. The public facade: each call goes to the
// SenderCore (sender_core.hpp) the sender shares with its thread.
#include "ilert_sumo/sumo_sender.hpp"

#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "delivery/compress.hpp"
#include "delivery/delivery.hpp"
#include "sender/sender_core.hpp"
#include "util/errors.hpp"

namespace ilert_sumo {

using detail::make_error;
using detail::SenderCore;

const char* to_string(EnqueueStatus status) noexcept {
  switch (status) {
    case EnqueueStatus::accepted: return "accepted";
    case EnqueueStatus::spilled: return "spilled";
    case EnqueueStatus::dropped_queue_full: return "dropped_queue_full";
    case EnqueueStatus::dropped_too_large: return "dropped_too_large";
    case EnqueueStatus::dropped_bad_metadata: return "dropped_bad_metadata";
    case EnqueueStatus::dropped_spool_error: return "dropped_spool_error";
    case EnqueueStatus::closed: return "closed";
    case EnqueueStatus::refused_spool_full: return "refused_spool_full";
  }
  return "unknown";
}

struct SumoSender::Impl {
  std::shared_ptr<SenderCore> core;
};

SumoSender::SumoSender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Expected<std::unique_ptr<SumoSender>> SumoSender::create(FinalizedSumoConfig config, std::shared_ptr<HttpClient> http,
                                                         ReportCallback on_report, LogCallback on_log) {
  try {
    const SumoConfig& cfg = config.config();
    if (cfg.spool.mode != SpoolMode::off && cfg.spool.dir.empty()) {
      return make_error(ErrorCode::invalid_config, "spool.mode needs spool.dir");
    }
    if (cfg.queue.overflow == OverflowPolicy::spill && (cfg.spool.mode == SpoolMode::off || cfg.spool.dir.empty())) {
      return make_error(ErrorCode::invalid_config, "queue.overflow spill needs a spool");
    }
    const detail::DeliveryPlan& plan = detail::delivery_plan(config);
    auto compressor = detail::Compressor::create(plan.codec, plan.compression_level);
    if (!compressor) return compressor.error();
    if (!http) http = std::shared_ptr<HttpClient>(make_curl_http_client(cfg.http));
    auto core = std::make_shared<SenderCore>(std::move(config), std::move(http), std::move(on_report),
                                             std::move(on_log), std::move(compressor.value()));
    if (auto ok = core->init(); !ok) return ok.error();
    core->start_thread(core);
    auto impl = std::make_unique<Impl>();
    impl->core = std::move(core);
    return std::unique_ptr<SumoSender>(new SumoSender(std::move(impl)));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::io, std::string("cannot start the sender: ") + e.what());
  }
}

SumoSender::~SumoSender() {
  if (impl_ && impl_->core) {
    try {
      impl_->core->shutdown(impl_->core->shutdown_timeout());
    } catch (...) {
    }
  }
}

Expected<MetadataId> SumoSender::add_metadata(const SumoMetadata& metadata) {
  return impl_->core->add_metadata(metadata);
}

EnqueueStatus SumoSender::enqueue(const Event& event, MetadataId metadata) noexcept {
  return impl_->core->enqueue_event(event, metadata);
}

EnqueueStatus SumoSender::enqueue_line(std::string_view line, MetadataId metadata) noexcept {
  return impl_->core->enqueue_line(line, metadata);
}

FlushResult SumoSender::flush(std::chrono::milliseconds timeout) { return impl_->core->flush(timeout); }

FlushResult SumoSender::shutdown(std::chrono::milliseconds timeout) { return impl_->core->shutdown(timeout); }

SenderStats SumoSender::stats() const { return impl_->core->stats(); }

}  // namespace ilert_sumo
