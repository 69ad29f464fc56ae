// src/sender/metadata_registry.hpp (private): the sender's registry of metadata sets.
//
// SumoSender::add_metadata() registers a set (category, name, host, fields) and hands back its
// MetadataId; the spool's reader registers the sets of recovered records the same way. An equal
// set gets the same id (dedup by an unambiguous byte key). Id 0 is the config's default set.
//
// Locking: none of its own. intern() must be called under the owner's registry mutex (the
// sender's md_mu_), which serialises writers. get() and count() are lock-free reads for producers
// and the sender thread: a set is published (release) only after it is stored, and a stored set
// never moves or changes (std::deque keeps element addresses on push_back).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "ilert_sumo/expected.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "ilert_sumo/sumo_sender.hpp"

namespace ilert_sumo::detail {

class MetadataRegistry {
 public:
  /// Sets add_metadata() accepts (the default set included).
  static constexpr std::size_t kMaxUserSets = 1024;
  /// Ids available in all, including sets recovered from the spool.
  static constexpr std::size_t kCapacity = 4096;

  MetadataRegistry() noexcept;
  MetadataRegistry(const MetadataRegistry&) = delete;
  MetadataRegistry& operator=(const MetadataRegistry&) = delete;

  /// Registers `md` or finds an equal set. `user`: a set from add_metadata(), counted against
  /// kMaxUserSets (id 0 counts too); recovered sets only against kCapacity. Error invalid_config
  /// when full. Caller holds the registry mutex.
  Expected<MetadataId> intern(const SumoMetadata& md, bool user);

  /// The set of `id`, or nullptr when no such id is registered. Lock-free.
  const SumoMetadata* get(std::uint32_t id) const noexcept {
    if (id >= kCapacity) return nullptr;
    return table_[id].load(std::memory_order_acquire);
  }
  /// Number of registered ids (every id below it is valid). Lock-free.
  std::uint32_t count() const noexcept { return count_.load(std::memory_order_acquire); }

  /// An unambiguous byte key of a set (length-prefixed parts): equal key, equal set.
  static std::string key(const SumoMetadata& md);

 private:
  std::deque<SumoMetadata> store_;
  std::unordered_map<std::string, MetadataId> index_;
  std::size_t user_sets_ = 0;
  std::array<std::atomic<const SumoMetadata*>, kCapacity> table_;
  std::atomic<std::uint32_t> count_{0};
};

}  // namespace ilert_sumo::detail
