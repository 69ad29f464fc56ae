// tests/test_snippets.cpp: every C++ snippet in the README and the docs is a complete program kept
// in examples/ (issue 11, point 1; issue 13, point 4), and those programs work as shown:
//   * each ```cpp block of README.md, docs/*.md and examples/*/README.md must be, byte for byte,
//     the main.cpp of one examples/<name>/ program (built by the project as example-<name>);
//   * example-parse-webhook prints the event and its Sumo line, and fails cleanly on a bad body;
//   * example-send-to-sumo delivers the samples to a real local Sumo source (the test emulator)
//     through real libcurl, and refuses to start without SUMO_URL.
// Expected<T>::value() on an error aborts with a message in every build type (checked in a child).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ilert_sumo/parse.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using ilert_sumo::test::bin_path;
using ilert_sumo::test::ChildProcess;
using ilert_sumo::test::read_file;

namespace {

const fs::path kRoot = fs::path(ilert_sumo::test::repo_path());

struct Snippet {
  std::string file;  // where it is shown
  std::string code;  // the block's text, ending in '\n'
};

std::vector<Snippet> cpp_blocks(const fs::path& doc) {
  std::vector<Snippet> out;
  std::ifstream in(doc);
  std::string line;
  std::optional<std::string> block;
  while (std::getline(in, line)) {
    if (!block && (line == "```cpp" || line == "```c++")) {
      block.emplace();
    } else if (block && line == "```") {
      out.push_back({doc.lexically_relative(kRoot).string(), *block});
      block.reset();
    } else if (block) {
      *block += line + "\n";
    }
  }
  return out;
}

struct Ran {
  ilert_sumo::test::ExitStatus status;
  std::vector<std::string> out;
  std::string err;
};

Ran run(const std::string& program, const std::vector<std::string>& args,
        const std::map<std::string, std::optional<std::string>>& env = {}) {
  ilert_sumo::test::TempDir dir("ilert-sumo-snippet");
  ChildProcess child(bin_path(program), args, env, dir / "stderr");
  Ran r;
  while (auto line = child.read_line(std::chrono::seconds(20))) r.out.push_back(*line);
  const auto status = child.wait(std::chrono::seconds(20));
  REQUIRE(status.has_value());
  r.status = *status;
  r.err = read_file(dir / "stderr");
  return r;
}

}  // namespace

TEST_CASE("every C++ snippet in the README and docs is an example program, byte for byte", "[unit][snippets]") {
  std::vector<fs::path> docs = {kRoot / "README.md"};
  for (const auto& dir : {kRoot / "docs", kRoot / "examples"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".md") docs.push_back(entry.path());
    }
  }
  std::map<std::string, std::string> programs;  // main.cpp text -> example name
  for (const auto& entry : fs::directory_iterator(kRoot / "examples")) {
    const fs::path main = entry.path() / "main.cpp";
    if (fs::exists(main)) programs[read_file(main.string())] = entry.path().filename().string();
  }
  std::size_t readme_blocks = 0;
  for (const fs::path& doc : docs) {
    for (const Snippet& s : cpp_blocks(doc)) {
      INFO(s.file << ": the block starting\n" << s.code.substr(0, 200));
      const auto it = programs.find(s.code);
      CHECK(it != programs.end());  // paste the example's main.cpp whole, or change the example
      if (s.file == "README.md") ++readme_blocks;
    }
  }
  CHECK(readme_blocks == 2);  // "Parsing a webhook" and "Sending to Sumo Logic"
}

TEST_CASE("example-parse-webhook: the README's parsing example", "[program][snippets][cli]") {
  const std::string samples = (kRoot / "examples" / "samples").string();
  const Ran resolved = run("example-parse-webhook", {samples + "/06-alert-resolved.json"});
  INFO(resolved.err);
  CHECK(resolved.status.ok());
  REQUIRE(resolved.out.size() == 2);
  CHECK(resolved.out[0] == "resolved 8532156");
  CHECK(resolved.out[1].rfind("{\"time\":\"", 0) == 0);
  CHECK(resolved.out[1].find("\"eventType\":\"alert-resolved\"") != std::string::npos);

  const Ran bad = run("example-parse-webhook", {samples + "/14-malformed-truncated.json"});
  CHECK(bad.status.exited);
  CHECK(bad.status.code == 1);
  CHECK(bad.out.empty());
  CHECK(bad.err.rfind("syntax at ", 0) == 0);

  const Ran missing = run("example-parse-webhook", {samples + "/no-such-file.json"});
  CHECK(missing.status.code == 2);
  CHECK(missing.err.find("cannot open") != std::string::npos);
}

TEST_CASE("example-send-to-sumo: the README's sending example delivers to a local Sumo source",
          "[program][snippets][cli]") {
  ilert_sumo::test::SumoEmulator sumo;
  const int port = sumo.start();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/receiver/v1/http/emulator-test-code";
  const std::string samples = (kRoot / "examples" / "samples").string();
  const std::vector<std::string> files = {samples + "/01-alert-created.json", samples + "/02-alert-acknowledged.json",
                                          samples + "/06-alert-resolved.json"};

  const Ran sent = run("example-send-to-sumo", files, {{"SUMO_URL", url}, {"SUMO_ALLOW_HTTP", "1"}});
  INFO(sent.err);
  CHECK(sent.status.ok());
  REQUIRE(sent.out.size() == 1);
  CHECK(sent.out[0] == "delivered 3, dropped 0, spooled 0, invalid 0");
  REQUIRE(sumo.wait_for_messages(3, std::chrono::seconds(10)));
  const auto messages = sumo.messages();
  REQUIRE(messages.size() == 3);
  for (const auto& m : messages) CHECK(m.category == "webhook/ilert");

  SECTION("without SUMO_URL: a usage error, nothing sent") {
    const Ran r = run("example-send-to-sumo", files, {{"SUMO_URL", std::nullopt}});
    CHECK(r.status.code == 2);
    CHECK(r.err.find("SUMO_URL") != std::string::npos);
    CHECK(sumo.count() == 3);
  }
  SECTION("http:// without SUMO_ALLOW_HTTP: refused by finalize, the URL's code redacted") {
    const Ran r = run("example-send-to-sumo", files, {{"SUMO_URL", url}, {"SUMO_ALLOW_HTTP", std::nullopt}});
    CHECK(r.status.code == 2);
    CHECK(r.err.find("insecure_url") != std::string::npos);
    CHECK(r.err.find("emulator-test-code") == std::string::npos);
    CHECK(sumo.count() == 3);
  }
}

TEST_CASE("Expected::value() on an error aborts with the error, in every build type", "[component][snippets]") {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: stderr into a pipe-less file would need a path; dup it to /dev/null is not
    // wanted either (the message is the point), so it goes to a temp file named by pid.
    const std::string path = "/tmp/ilert-sumo-expected-" + std::to_string(::getpid());
    if (std::freopen(path.c_str(), "w", stderr) == nullptr) ::_exit(3);
    auto bad = ilert_sumo::parse_event("{");
    const auto& event = bad.value();  // must not return
    (void)event;
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  const std::string path = "/tmp/ilert-sumo-expected-" + std::to_string(pid);
  const std::string err = read_file(path);
  std::remove(path.c_str());
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(err.find("Expected::value() called on an error: syntax") != std::string::npos);
}
