// The run-time version function (include/ilert_sumo/version.hpp.in, src/model/version.cpp).
#include <cstring>
#include <string>

#include "ilert_sumo/version.hpp"
#include "support/catch.hpp"

TEST_CASE("version() is the library's version, the headers' kVersion and the parts", "[unit][version]") {
  const char* v = ilert_sumo::version();
  REQUIRE(v != nullptr);
  CHECK(std::string(v) == ILERT_SUMO_VERSION_STRING);
  CHECK(std::strcmp(v, ilert_sumo::kVersion) == 0);
  const std::string expected = std::to_string(ILERT_SUMO_VERSION_MAJOR) + "." +
                               std::to_string(ILERT_SUMO_VERSION_MINOR) + "." +
                               std::to_string(ILERT_SUMO_VERSION_PATCH);
  CHECK(std::string(v) == expected);
}
