// tests/support/wait.hpp: wait on a condition with a deadline (never sleep-and-hope).
#pragma once

#include <chrono>
#include <thread>

namespace ilert_sumo::test {

/// Polls `condition` every millisecond until it is true (returns true) or `timeout` passes
/// (returns false). Use: REQUIRE(wait_until([&]{ return emulator.count() == 10; }, 10s));
template <class Condition>
bool wait_until(Condition&& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace ilert_sumo::test
