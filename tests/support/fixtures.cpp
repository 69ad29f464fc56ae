// tests/support/fixtures.cpp: see fixtures.hpp.
#include "support/fixtures.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ilert_sumo::test {

std::string fixture_path(const std::string& relative) { return std::string(ILERT_SUMO_FIXTURES_DIR) + "/" + relative; }

std::string repo_path(const std::string& relative) {
  // tests/fixtures is two levels below the root.
  const std::filesystem::path root = std::filesystem::path(ILERT_SUMO_FIXTURES_DIR).parent_path().parent_path();
  return relative.empty() ? root.string() : (root / relative).string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> list_fixtures(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(fixture_path(dir))) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string bin_path(const std::string& program) { return std::string(ILERT_SUMO_BIN_DIR) + "/" + program; }

}  // namespace ilert_sumo::test
