// tests/support/fixtures.hpp: locate and read files under tests/fixtures.
#pragma once

#include <string>
#include <vector>

namespace ilert_sumo::test {

/// Absolute path of tests/fixtures/<relative>.
std::string fixture_path(const std::string& relative);
/// Absolute path of <repository root>/<relative> (README.md, docs/, examples/samples, ...).
std::string repo_path(const std::string& relative = "");
/// Whole file as bytes; throws std::runtime_error when it cannot be read.
std::string read_file(const std::string& path);
/// Sorted absolute paths of the regular files in tests/fixtures/<dir> whose name ends in `suffix`.
std::vector<std::string> list_fixtures(const std::string& dir, const std::string& suffix = ".json");
/// Absolute path of a program built into <build>/bin.
std::string bin_path(const std::string& program);

}  // namespace ilert_sumo::test
