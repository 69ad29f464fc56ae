// src/sender/metadata_registry.cpp: see metadata_registry.hpp.
#include "sender/metadata_registry.hpp"
#include "util/errors.hpp"

#include <utility>

namespace ilert_sumo::detail {

MetadataRegistry::MetadataRegistry() noexcept {
  for (auto& slot : table_) slot.store(nullptr, std::memory_order_relaxed);
}

std::string MetadataRegistry::key(const SumoMetadata& md) {
  std::string key;
  auto add = [&key](const std::string& s) {
    key += std::to_string(s.size());
    key += ':';
    key += s;
  };
  add(md.category);
  add(md.name);
  add(md.host);
  for (const auto& f : md.fields) {
    add(f.key);
    add(f.value);
  }
  return key;
}

Expected<MetadataId> MetadataRegistry::intern(const SumoMetadata& md, bool user) {
  std::string k = key(md);
  if (auto it = index_.find(k); it != index_.end()) return it->second;
  const std::size_t id = store_.size();
  if ((user && user_sets_ >= kMaxUserSets) || id >= kCapacity) {
    return make_error(ErrorCode::invalid_config,
                      "too many metadata sets (at most " + std::to_string(kMaxUserSets) + ")");
  }
  store_.push_back(md);
  if (user || id == 0) ++user_sets_;
  index_.emplace(std::move(k), static_cast<MetadataId>(id));
  table_[id].store(&store_.back(), std::memory_order_release);
  count_.store(static_cast<std::uint32_t>(id + 1), std::memory_order_release);
  return static_cast<MetadataId>(id);
}

}  // namespace ilert_sumo::detail
