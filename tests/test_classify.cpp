// tests/test_classify.cpp [classify]: the pure retry policy as tables: classify() for every status
// that matters and for transport/timeout/aborted, parse_retry_after() for delta-seconds, the three
// HTTP-date forms, past dates and garbage, and backoff_delay() bounds (random 0 and ~1, the cap).
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ilert_sumo/sumo_client.hpp"
#include "support/catch.hpp"

using namespace ilert_sumo;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST_CASE("classify: HTTP statuses", "[unit][classify]") {
  struct Row {
    int status;
    DeliveryOutcome outcome;
  };
  const std::vector<Row> rows = {
      {200, DeliveryOutcome::success},   {201, DeliveryOutcome::success},   {202, DeliveryOutcome::success},
      {204, DeliveryOutcome::success},   {299, DeliveryOutcome::success},   {301, DeliveryOutcome::permanent},
      {302, DeliveryOutcome::permanent}, {400, DeliveryOutcome::permanent}, {401, DeliveryOutcome::permanent},
      {403, DeliveryOutcome::permanent}, {404, DeliveryOutcome::permanent}, {405, DeliveryOutcome::permanent},
      {408, DeliveryOutcome::retry},     {409, DeliveryOutcome::permanent}, {413, DeliveryOutcome::permanent},
      {415, DeliveryOutcome::permanent}, {422, DeliveryOutcome::permanent}, {429, DeliveryOutcome::retry},
      {431, DeliveryOutcome::permanent}, {500, DeliveryOutcome::retry},     {501, DeliveryOutcome::permanent},
      {502, DeliveryOutcome::retry},     {503, DeliveryOutcome::retry},     {504, DeliveryOutcome::retry},
      {505, DeliveryOutcome::permanent}, {507, DeliveryOutcome::permanent}, {511, DeliveryOutcome::permanent},
      {100, DeliveryOutcome::permanent}, {0, DeliveryOutcome::retry},       {42, DeliveryOutcome::retry},
      {600, DeliveryOutcome::retry},     {-1, DeliveryOutcome::retry},
  };
  for (const Row& r : rows) {
    INFO("status " << r.status);
    CHECK(classify(r.status, std::nullopt) == r.outcome);
  }
}

TEST_CASE("classify: transport errors ignore the status", "[unit][classify]") {
  struct Row {
    ErrorCode code;
    DeliveryOutcome outcome;
  };
  const std::vector<Row> rows = {
      {ErrorCode::transport, DeliveryOutcome::retry},
      {ErrorCode::timeout, DeliveryOutcome::retry},
      {ErrorCode::aborted, DeliveryOutcome::retry},
      {ErrorCode::invalid_url, DeliveryOutcome::permanent},
      {ErrorCode::compression_failed, DeliveryOutcome::permanent},
  };
  for (const Row& r : rows) {
    INFO(to_string(r.code));
    CHECK(classify(0, r.code) == r.outcome);
    CHECK(classify(200, r.code) == r.outcome);  // a status next to a transport error is ignored
    CHECK(classify(401, r.code) == r.outcome);
  }
  CHECK(std::string(to_string(DeliveryOutcome::success)) == "success");
  CHECK(std::string(to_string(DeliveryOutcome::retry)) == "retry");
  CHECK(std::string(to_string(DeliveryOutcome::permanent)) == "permanent");
}

TEST_CASE("parse_retry_after: seconds, HTTP dates, past and garbage", "[unit][classify]") {
  // 1994-11-06T08:49:37Z, the RFC's example instant.
  const auto example = std::chrono::system_clock::time_point(std::chrono::seconds(784111777));
  struct Row {
    std::string value;
    std::chrono::system_clock::time_point now;
    std::optional<milliseconds> expected;
  };
  const std::vector<Row> rows = {
      {"0", example, 0ms},
      {"1", example, 1000ms},
      {"120", example, 120000ms},
      {" 7\t", example, 7000ms},
      {"99999999999999999999", example, milliseconds(1'000'000'000LL * 1000)},
      {"Sun, 06 Nov 1994 08:49:37 GMT", example - 5s, 5000ms},
      {"Sun, 06 Nov 1994 08:49:37 GMT", example - 1500ms, 1500ms},
      {"Sunday, 06-Nov-94 08:49:37 GMT", example - 2s, 2000ms},
      {"Sun Nov  6 08:49:37 1994", example - 3s, 3000ms},
      {"Sun, 06 Nov 1994 08:49:37 GMT", example + 10s, 0ms},  // in the past
      {"Sun, 06 Nov 1994 08:49:37 GMT", example, 0ms},
      {"Mon, 29 Feb 2016 00:00:00 GMT", std::chrono::system_clock::time_point(std::chrono::seconds(1456703999)),
       1000ms},
      {"", example, std::nullopt},
      {"soon", example, std::nullopt},
      {"-1", example, std::nullopt},
      {"1.5", example, std::nullopt},
      {"10s", example, std::nullopt},
      {"Sun, 06 Nov 1994 08:49:37 UTC", example, std::nullopt},
      {"Sun, 31 Feb 1994 08:49:37 GMT", example, std::nullopt},
      {"Sun, 06 Foo 1994 08:49:37 GMT", example, std::nullopt},
      {"Sun, 06 Nov 1994 25:49:37 GMT", example, std::nullopt},
      {"Xyz, 06 Nov 1994 08:49:37 GMT", example, std::nullopt},
  };
  for (const Row& r : rows) {
    INFO("Retry-After: \"" << r.value << "\"");
    const auto got = parse_retry_after(r.value, r.now);
    REQUIRE(got.has_value() == r.expected.has_value());
    if (r.expected) CHECK(got->count() == r.expected->count());
  }
}

TEST_CASE("backoff_delay: full jitter under a doubling cap", "[unit][classify]") {
  RetryOptions r;
  r.initial_backoff = 500ms;
  r.max_backoff = 30000ms;
  // random 0 -> 0; random ~1 -> the cap of that attempt (within 1 ms of flooring).
  const std::vector<std::pair<std::uint32_t, long long>> caps = {
      {1, 500},   {2, 1000},  {3, 2000},  {4, 4000},    {5, 8000},
      {6, 16000}, {7, 30000}, {8, 30000}, {100, 30000}, {4000000000U, 30000}};
  for (const auto& [attempt, cap] : caps) {
    INFO("attempt " << attempt);
    CHECK(backoff_delay(r, attempt, 0.0) == 0ms);
    const auto high = backoff_delay(r, attempt, 0.999999).count();
    CHECK(high <= cap);
    CHECK(high >= cap - 1);
    CHECK(backoff_delay(r, attempt, 1.0).count() == cap);
    CHECK(backoff_delay(r, attempt, 0.5).count() == cap / 2);
  }
  // attempt 0 behaves like 1; out-of-range randoms are clamped.
  CHECK(backoff_delay(r, 0, 0.999999).count() <= 500);
  CHECK(backoff_delay(r, 3, -3.0) == 0ms);
  CHECK(backoff_delay(r, 3, 7.0) == 2000ms);
  CHECK(backoff_delay(r, 3, std::nan("")) == 0ms);
  // a huge initial value never overflows and never exceeds max_backoff
  r.initial_backoff = milliseconds(std::numeric_limits<long long>::max() / 2);
  r.max_backoff = milliseconds(std::numeric_limits<long long>::max());
  CHECK(backoff_delay(r, 80, 0.0) == 0ms);
  CHECK(backoff_delay(r, 80, 0.5).count() > 0);
}
