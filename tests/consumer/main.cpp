// Consumer of the installed library: parses a webhook and prints its Sumo line, and checks that the
// library in use at run time is the one whose headers it was compiled with.
#include <cstdio>
#include <cstring>
#include <ilert_sumo/parse.hpp>
#include <ilert_sumo/sumo_line.hpp>
#include <ilert_sumo/version.hpp>

int main() {
  if (std::strcmp(ilert_sumo::version(), ilert_sumo::kVersion) != 0) {
    std::fprintf(stderr, "library %s, headers %s\n", ilert_sumo::version(), ilert_sumo::kVersion);
    return 1;
  }
  auto event = ilert_sumo::parse_event(R"({"id":"42","eventType":"alert-created","summary":"disk full"})");
  if (!event) {
    std::fprintf(stderr, "%s\n", event.error().to_string().c_str());
    return 1;
  }
  if (!std::holds_alternative<ilert_sumo::AlertCreated>(*event)) return 1;
  std::printf("ilert_sumo %s: %s\n", ilert_sumo::version(), ilert_sumo::to_sumo_line(*event).c_str());
  return 0;
}
