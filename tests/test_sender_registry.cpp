// tests/test_sender_registry.cpp: the sender's metadata registry (src/sender/metadata_registry.hpp)
// alone: ids in registration order with 0 first, an equal set gets its id back, sets that differ
// only in how their parts split get different ids, the two caps (user sets, all ids) and lock-free
// lookup of what was published.
#include <string>

#include "sender/metadata_registry.hpp"
#include "support/catch.hpp"

using namespace ilert_sumo;
using ilert_sumo::detail::MetadataRegistry;

namespace {

SumoMetadata meta(const std::string& category, const std::string& name = "n") {
  SumoMetadata m;
  m.category = category;
  m.name = name;
  m.host = "h";
  m.fields = {{"env", "prod"}};
  return m;
}

}  // namespace

TEST_CASE("sender registry: ids in registration order, an equal set gets the same id", "[unit][sender]") {
  MetadataRegistry reg;
  CHECK(reg.count() == 0);
  CHECK(reg.get(0) == nullptr);
  auto a = reg.intern(meta("a"), false);  // the default set
  REQUIRE(a.has_value());
  CHECK(*a == 0);
  auto b = reg.intern(meta("b"), true);
  REQUIRE(b.has_value());
  CHECK(*b == 1);
  auto a2 = reg.intern(meta("a"), true);
  REQUIRE(a2.has_value());
  CHECK(*a2 == 0);
  CHECK(reg.count() == 2);
  REQUIRE(reg.get(1) != nullptr);
  CHECK(reg.get(1)->category == "b");
  CHECK(reg.get(2) == nullptr);
  CHECK(reg.get(MetadataRegistry::kCapacity) == nullptr);
  CHECK(reg.get(0xffffffffu) == nullptr);
}

TEST_CASE("sender registry: the key cannot be fooled by moving text between parts", "[unit][sender]") {
  MetadataRegistry reg;
  SumoMetadata x = meta("ab", "c");
  SumoMetadata y = meta("a", "bc");
  CHECK(MetadataRegistry::key(x) != MetadataRegistry::key(y));
  SumoMetadata f1 = meta("a");
  f1.fields = {{"k", "v1"}, {"k2", "v2"}};
  SumoMetadata f2 = meta("a");
  f2.fields = {{"k", "v1k2"}, {"", "v2"}};
  CHECK(MetadataRegistry::key(f1) != MetadataRegistry::key(f2));
  CHECK(*reg.intern(x, true) != *reg.intern(y, true));
  CHECK(*reg.intern(f1, true) != *reg.intern(f2, true));
}

TEST_CASE("sender registry: user sets are capped, recovered sets fill the rest of the ids", "[unit][sender]") {
  MetadataRegistry reg;
  REQUIRE(reg.intern(meta("default"), false).has_value());  // id 0 counts as a user set
  for (std::size_t i = 1; i < MetadataRegistry::kMaxUserSets; ++i) {
    REQUIRE(reg.intern(meta("u" + std::to_string(i)), true).has_value());
  }
  auto refused = reg.intern(meta("one-too-many"), true);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::invalid_config);
  CHECK(refused.error().message.find("1024") != std::string::npos);
  // A set already known is still found when the cap is reached.
  auto again = reg.intern(meta("u7"), true);
  REQUIRE(again.has_value());
  CHECK(*again == 7);
  // Sets recovered from the spool (user = false) are not counted against the user cap.
  std::size_t next = MetadataRegistry::kMaxUserSets;
  for (; next < MetadataRegistry::kCapacity; ++next) {
    auto id = reg.intern(meta("r" + std::to_string(next)), false);
    REQUIRE(id.has_value());
    CHECK(*id == next);
  }
  CHECK(reg.count() == MetadataRegistry::kCapacity);
  CHECK_FALSE(reg.intern(meta("no-id-left"), false).has_value());
  REQUIRE(reg.get(MetadataRegistry::kCapacity - 1) != nullptr);
  CHECK(reg.get(MetadataRegistry::kCapacity - 1)->category == "r" + std::to_string(MetadataRegistry::kCapacity - 1));
}
