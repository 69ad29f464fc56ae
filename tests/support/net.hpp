// tests/support/net.hpp: loopback network helpers shared by the fault-injection tests.
#pragma once

namespace ilert_sumo::test {

/// A 127.0.0.1 TCP port that was free a moment ago and has no listener now: connections to it are
/// refused, like a Sumo source that is down. Throws std::runtime_error if no port can be had.
int closed_loopback_port();

}  // namespace ilert_sumo::test
