// tests/test_repo_conventions.cpp: fresh-machine truths (issue 11, point 7) that would otherwise drift:
//   * one list of system packages (.ci/packages.txt), with make and ca-certificates, installed by
//     .ci/deps.sh, which the demo and CI use; no other script installs packages of its own;
//   * a doc that builds into the README's directory (`build`, a Makefile build) uses no other
//     generator there (a second `-G Ninja` over it fails);
//   * cmake_minimum_required is at least what the commands in the docs need (ctest --test-dir: 3.20);
//   * a .clang-format at the top, and CI checks the format;
//   * every TEST_CASE in tests/test_*.cpp has exactly one level tag, [unit], [component],
//     [integration] or [program] (hidden [.] cases none), the ctest labels of docs/TESTING.md.
#include <algorithm>
#include <cstddef>
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

TEST_CASE("one list of system packages, used by the demo and CI", "[unit][conventions]") {
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

TEST_CASE("docs build into the README's directory only the README's way", "[unit][conventions]") {
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

TEST_CASE("cmake_minimum_required covers the commands the docs use", "[unit][conventions]") {
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

namespace {

/// One TEST_CASE as written: where it starts, its name and its tags (the literals as in the source).
struct WrittenCase {
  std::string file;
  std::size_t line = 0;
  std::string name;
  std::string tags;
  /// False when its arguments are not string literals (the check cannot read them).
  bool readable = true;
};

/// Every `TEST_CASE(` at the start of a line of `text`; adjacent literals ("a" "b") are joined.
std::vector<WrittenCase> written_cases(const std::string& file, const std::string& text) {
  std::vector<WrittenCase> out;
  const std::string open = std::string("TEST_CASE") + '(';  // not one literal: CMake's ';' check reads those
  for (std::size_t pos = text.find(open); pos != std::string::npos; pos = text.find(open, pos + 1)) {
    if (pos != 0 && text[pos - 1] != '\n') continue;
    WrittenCase c;
    c.file = file;
    const auto begin = text.begin();
    c.line = 1 + static_cast<std::size_t>(std::count(begin, begin + static_cast<std::ptrdiff_t>(pos), '\n'));
    std::vector<std::string> args(1);
    std::size_t i = pos + open.size();
    while (i < text.size()) {
      const char ch = text[i];
      if (ch == ' ' || ch == '\n' || ch == '\t') {
        ++i;
      } else if (ch == '"') {
        for (++i; i < text.size() && text[i] != '"'; ++i) {
          if (text[i] == '\\') args.back() += text[i++];
          args.back() += text[i];
        }
        ++i;
      } else if (ch == ',') {
        args.emplace_back();
        ++i;
      } else {
        c.readable = ch == ')';
        break;
      }
    }
    c.name = args[0];
    if (args.size() > 1) c.tags = args[1];
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

TEST_CASE("every TEST_CASE has exactly one level tag, the ctest label it runs under", "[unit][conventions]") {
  const std::set<std::string> levels = {"unit", "component", "integration", "program"};
  // tests/CMakeLists.txt discovers one level at a time (TEST_SPEC "[level]") and labels it: a case
  // with no level would never run under ctest, one with two would run twice.
  const std::string cmake = read_file((kRoot / "tests" / "CMakeLists.txt").string());
  CHECK(cmake.find("foreach(_level IN ITEMS unit component integration program)") != std::string::npos);
  CHECK(cmake.find("TEST_SPEC \"[${_level}]\"") != std::string::npos);
  CHECK(cmake.find("LABELS ${_level}") != std::string::npos);

  std::vector<std::string> problems;
  std::size_t checked = 0;
  for (const auto& e : fs::directory_iterator(kRoot / "tests")) {
    const std::string file = e.path().filename().string();
    if (!e.is_regular_file() || file.rfind("test_", 0) != 0 || e.path().extension() != ".cpp") continue;
    for (const WrittenCase& c : written_cases(file, read_file(e.path().string()))) {
      ++checked;
      const std::string where = c.file + ":" + std::to_string(c.line) + " \"" + c.name + "\" " + c.tags;
      if (!c.readable) {
        problems.push_back(where + ": arguments are not string literals");
        continue;
      }
      std::size_t level_tags = 0;
      bool hidden = false;
      for (std::size_t open = c.tags.find('['); open != std::string::npos; open = c.tags.find('[', open + 1)) {
        const std::size_t close = c.tags.find(']', open);
        if (close == std::string::npos) break;
        const std::string tag = c.tags.substr(open + 1, close - open - 1);
        if (levels.count(tag) != 0) ++level_tags;
        if (!tag.empty() && tag[0] == '.') hidden = true;
      }
      // A hidden case runs only when named, and `ilert_sumo_tests "[unit]"` must not name it.
      if (hidden && level_tags != 0) problems.push_back(where + ": hidden, yet has a level tag");
      if (!hidden && level_tags == 0) problems.push_back(where + ": no level tag");
      if (level_tags > 1) problems.push_back(where + ": more than one level tag");
    }
  }
  CHECK(checked > 200);  // the whole suite was read
  std::string all;
  for (const std::string& p : problems) all += "\n  " + p;
  INFO("level tags: [unit], [component], [integration] or [program] (docs/TESTING.md):" << all);
  CHECK(problems.empty());
}

TEST_CASE("a .clang-format at the top, and CI checks every C++ file against it", "[unit][conventions]") {
  const fs::path config = kRoot / ".clang-format";
  REQUIRE(fs::is_regular_file(config));
  const std::string style = read_file(config.string());
  CHECK(style.find("BasedOnStyle: Google") != std::string::npos);
  CHECK(style.find("ColumnLimit: 120") != std::string::npos);
  // CI fails on any tracked .cpp/.hpp that clang-format would change, before it builds anything.
  const std::string ci = read_file((kRoot / ".ci" / "run").string());
  const std::size_t check = ci.find("clang-format --dry-run --Werror");
  CHECK(check != std::string::npos);
  CHECK(ci.find("git ls-files '*.cpp' '*.hpp'") != std::string::npos);
  CHECK(check < ci.find("cmake -S . -B build"));
  // clang-format itself comes from the one package list (the developer part).
  bool listed = false;
  for (const std::string& line : lines_of(kRoot / ".ci" / "packages-dev.txt"))
    listed = listed || line == "clang-format";
  CHECK(listed);
}
