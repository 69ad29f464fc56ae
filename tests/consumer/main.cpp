// Consumer of the installed library: parses a webhook and prints its Sumo line.
#include <cstdio>
#include <ilert_sumo/parse.hpp>
#include <ilert_sumo/sumo_line.hpp>
#include <ilert_sumo/version.hpp>

int main() {
  auto event = ilert_sumo::parse_event(R"({"id":"42","eventType":"alert-created","summary":"disk full"})");
  if (!event) {
    std::fprintf(stderr, "%s\n", event.error().to_string().c_str());
    return 1;
  }
  if (!std::holds_alternative<ilert_sumo::AlertCreated>(*event)) return 1;
  std::printf("ilert_sumo %s: %s\n", ilert_sumo::kVersion, ilert_sumo::to_sumo_line(*event).c_str());
  return 0;
}
