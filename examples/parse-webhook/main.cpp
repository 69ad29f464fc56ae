// Parse one iLert webhook body (a file, or stdin) and print what it is and its Sumo line.
#include <ilert_sumo/parse.hpp>
#include <ilert_sumo/sumo_line.hpp>

#include <fstream>
#include <iostream>
#include <string>
#include <type_traits>
#include <variant>

int main(int argc, char** argv) {
  std::ifstream file;
  if (argc > 1) file.open(argv[1], std::ios::binary);
  std::istream& in = argc > 1 ? file : std::cin;
  if (!in) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 2;
  }
  const ilert_sumo::ParseOptions options;              // max_body_bytes: 4 MiB
  std::string body(options.max_body_bytes + 1, '\0');  // read at most one byte past the limit
  in.read(body.data(), static_cast<std::streamsize>(body.size()));
  body.resize(static_cast<std::size_t>(in.gcount()));

  auto event = ilert_sumo::parse_event(body, options);
  if (!event) {
    // e.g. "duplicate_key at alertSource.name (byte 231): duplicate key \"name\""
    std::cerr << event.error().to_string() << "\n";
    return 1;
  }
  std::visit(
      [](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ilert_sumo::AlertCreated>) {
          std::cout << "new alert " << e.alert.id << ": " << e.alert.summary.value_or("") << "\n";
        } else if constexpr (std::is_same_v<T, ilert_sumo::AlertResolved>) {
          std::cout << "resolved " << e.alert.id << (e.automatic ? " (automatically)" : "") << "\n";
        } else if constexpr (std::is_same_v<T, ilert_sumo::UnknownEvent>) {
          std::cout << "event type we don't know yet: " << e.received_type << "\n";
        } else {
          std::cout << ilert_sumo::struct_name(ilert_sumo::Event{e}) << " for alert " << e.alert.id << "\n";
        }
      },
      *event);
  std::cout << ilert_sumo::to_sumo_line(*event) << "\n";  // what goes to Sumo
  return 0;
}
