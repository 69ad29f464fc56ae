// src/util/civil_time.hpp (private): proleptic Gregorian calendar arithmetic, the library's one
// copy (ISO 8601 times in model/time.cpp, HTTP dates of Retry-After in delivery/sumo_client.cpp).
#pragma once

#include <cstdint>

namespace ilert_sumo::detail {

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil,
/// https://howardhinnant.github.io/date_algorithms.html); m 1..12, d 1..31.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace ilert_sumo::detail
