// tests/test_repo_conventions.cpp: fresh-machine truths (issue 11, point 7) that would otherwise drift:
//   * one list of system packages (.ci/packages.txt), with make and ca-certificates, installed by
//     .ci/deps.sh, which the demo and CI use; no other script installs packages of its own;
//   * a doc that builds into the README's directory (`build`, a Makefile build) uses no other
//     generator there (a second `-G Ninja` over it fails);
//   * cmake_minimum_required is at least what the commands in the docs need (ctest --test-dir: 3.20);
//   * a .clang-format at the top, and CI checks the format.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using ilert_sumo::test::read_file;

namespace {

const fs::path kRoot = fs::path(ilert_sumo::test::repo_path());

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<fs::path> docs() {
  std::vector<fs::path> out = {kRoot / "README.md"};
  for (const auto& dir : {kRoot / "docs", kRoot / "examples", kRoot / "sumo"}) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file() && e.path().extension() == ".md") out.push_back(e.path());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("one list of system packages, used by the demo and CI", "[conventions]") {
  std::set<std::string> packages;
  for (std::string line : lines_of(kRoot / ".ci" / "packages.txt")) {
    line = line.substr(0, line.find('#'));
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t") + 1);
    if (!line.empty()) packages.insert(line);
  }
  for (const char* needed : {"make", "ca-certificates", "cmake", "g++", "libcurl4-openssl-dev", "rapidjson-dev",
                             "libmicrohttpd-dev", "libcli11-dev", "curl"}) {
    INFO(needed);
    CHECK(packages.count(needed) == 1);
  }
  const std::string demo = read_file((kRoot / "examples" / "demo.sh").string());
  const std::string ci = read_file((kRoot / ".ci" / "run").string());
  CHECK(demo.find(".ci/deps.sh") != std::string::npos);
  CHECK(ci.find(".ci/deps.sh") != std::string::npos);
  // Only deps.sh runs apt-get install.
  for (const auto& e : fs::recursive_directory_iterator(kRoot)) {
    const fs::path& p = e.path();
    if (!e.is_regular_file() || p.extension() != ".sh" || p.string().find("/build") != std::string::npos) continue;
    if (p.filename() == "deps.sh") continue;
    for (const std::string& line : lines_of(p)) {
      const std::size_t first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#' || line.find("echo") != std::string::npos) continue;
      INFO(p.string() << ": " << line);
      CHECK(line.find("apt-get install") == std::string::npos);
    }
  }
}

TEST_CASE("docs build into the README's directory only the README's way", "[conventions]") {
  // The README's `build` is a default-generator (Makefile) tree; configuring it with -G fails.
  const std::regex into_build(R"(cmake\s+(-S\s+\S+\s+)?-B\s+build(\s|$))");
  std::size_t checked = 0;
  for (const fs::path& doc : docs()) {
    for (const std::string& line : lines_of(doc)) {
      if (!std::regex_search(line, into_build)) continue;
      ++checked;
      INFO(doc.lexically_relative(kRoot).string() << ": " << line);
      CHECK(line.find(" -G") == std::string::npos);
    }
  }
  CHECK(checked >= 1);  // at least the README's own command
}

TEST_CASE("cmake_minimum_required covers the commands the docs use", "[conventions]") {
  bool uses_test_dir = false;
  for (const fs::path& doc : docs()) {
    if (read_file(doc.string()).find("ctest --test-dir") != std::string::npos) uses_test_dir = true;
  }
  REQUIRE(uses_test_dir);  // the README's test command
  const std::string top = read_file((kRoot / "CMakeLists.txt").string());
  std::smatch m;
  REQUIRE(std::regex_search(top, m, std::regex(R"(cmake_minimum_required\(VERSION (\d+)\.(\d+))")));
  const int major = std::stoi(m[1]);
  const int minor = std::stoi(m[2]);
  CHECK((major > 3 || (major == 3 && minor >= 20)));  // ctest --test-dir arrived in CMake 3.20
}
