// tests/test_crc32c.cpp: CRC-32C (src/util/crc32c.hpp) against published check values, and the SSE4.2
// path against the table path on every length and alignment.
#include <cstdint>
#include <string>
#include <vector>

#include "util/crc32c.hpp"
#include "support/catch.hpp"

using ilert_sumo::detail::crc32c;
using ilert_sumo::detail::crc32c_portable;

TEST_CASE("crc32c: standard check values", "[unit][spool][crc32c]") {
  CHECK(crc32c(std::string_view("123456789")) == 0xE3069283u);
  CHECK(crc32c_portable("123456789", 9) == 0xE3069283u);
  CHECK(crc32c(std::string_view("")) == 0u);
  // RFC 3720 (iSCSI) B.4 vectors.
  std::vector<unsigned char> zeros(32, 0x00);
  std::vector<unsigned char> ones(32, 0xFF);
  std::vector<unsigned char> inc(32);
  std::vector<unsigned char> dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[static_cast<std::size_t>(i)] = static_cast<unsigned char>(i);
    dec[static_cast<std::size_t>(i)] = static_cast<unsigned char>(31 - i);
  }
  CHECK(crc32c(zeros.data(), zeros.size()) == 0x8A9136AAu);
  CHECK(crc32c(ones.data(), ones.size()) == 0x62A8AB43u);
  CHECK(crc32c(inc.data(), inc.size()) == 0x46DD794Eu);
  CHECK(crc32c(dec.data(), dec.size()) == 0x113FDB5Cu);
  CHECK(crc32c_portable(inc.data(), inc.size()) == 0x46DD794Eu);
}

TEST_CASE("crc32c: hardware and table paths agree, chaining equals one pass", "[unit][spool][crc32c]") {
  std::string data;
  std::uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 1103515245u + 12345u;
    data.push_back(static_cast<char>(x >> 24));
  }
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t len = 0; len < 300; len += (len < 40 ? 1 : 37)) {
      const char* p = data.data() + offset;
      REQUIRE(crc32c(p, len) == crc32c_portable(p, len));
    }
  }
  const std::uint32_t whole = crc32c(data.data(), data.size());
  for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{1000}, data.size()}) {
    const std::uint32_t first = crc32c(data.data(), split);
    CHECK(crc32c(data.data() + split, data.size() - split, first) == whole);
    CHECK(crc32c_portable(data.data() + split, data.size() - split, crc32c_portable(data.data(), split)) == whole);
  }
  INFO("hardware crc32c: " << ilert_sumo::detail::crc32c_hardware());
}
