// Parse iLert webhook bodies (files) and deliver them to a Sumo Logic HTTP source (SUMO_URL).
#include <ilert_sumo/parse.hpp>
#include <ilert_sumo/sumo_sender.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  const char* url = std::getenv("SUMO_URL");  // https://.../receiver/v1/http/<code>: a secret
  if (url == nullptr || *url == '\0') {
    std::cerr << "set SUMO_URL to your Sumo HTTP source URL\n";
    return 2;
  }
  ilert_sumo::SumoConfig config;
  config.url = url;
  config.metadata.category = "webhook/ilert";
  // http:// only for a local test endpoint such as sumo-emulator; Sumo itself is https://.
  config.allow_insecure_http = std::getenv("SUMO_ALLOW_HTTP") != nullptr;
  if (const char* dir = std::getenv("SUMO_SPOOL_DIR")) {
    config.spool.dir = dir;
    config.spool.mode = ilert_sumo::SpoolMode::write_ahead;  // accepted = on disk
  }
  auto finalized = ilert_sumo::finalize(config);  // validates once; errors never show the secret
  if (!finalized) {
    std::cerr << finalized.error().to_string() << "\n";
    return 2;
  }
  auto sender = ilert_sumo::SumoSender::create(std::move(*finalized));
  if (!sender) {
    std::cerr << sender.error().to_string() << "\n";
    return 1;
  }
  int invalid = 0;
  const ilert_sumo::ParseOptions options;  // max_body_bytes: 4 MiB
  for (int i = 1; i < argc; ++i) {
    std::ifstream file(argv[i], std::ios::binary);
    std::string body(options.max_body_bytes + 1, '\0');  // at most one byte past the limit
    file.read(body.data(), static_cast<std::streamsize>(body.size()));
    body.resize(static_cast<std::size_t>(file.gcount()));
    auto event = ilert_sumo::parse_event(body, options);
    if (!event) {
      std::cerr << argv[i] << ": " << (file.is_open() ? event.error().to_string() : "cannot open") << "\n";
      ++invalid;
      continue;
    }
    (*sender)->enqueue(*event);  // never throws, never blocks past its timeout
  }
  auto result = (*sender)->shutdown(std::chrono::seconds(5));  // exact counts, bounded wait
  std::cout << "delivered " << result.delivered << ", dropped " << result.dropped << ", spooled " << result.spooled
            << ", invalid " << invalid << "\n";
  return invalid == 0 && result.dropped == 0 ? 0 : 1;
}
