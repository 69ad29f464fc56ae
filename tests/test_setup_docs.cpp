// tests/test_setup_docs.cpp [content]: docs/SUMO_SETUP.md cannot drift from the programs and files
// it describes.
//
// - Every `--flag` it names exists in the --help of the program it belongs to (a line that names
//   ilert-sumo-report or sumo-emulator: that program; any other line: ilert-sumo-relay).
// - Every sumo/ file it tells the user to import exists and is JSON, every JSON file in sumo/ is
//   named, every relative link resolves, every [text][ref] citation has its URL.
// - The category it sets (`--category`) is the one every query in sumo/ and the demo use.
// - Its relay command block runs: the built relay with exactly those flags (the listen address and
//   spool directory swapped for a test port and a temp dir) takes every sample webhook and delivers
//   them to a local Sumo emulator; every message carries that category, the X-Sumo-Fields names are
//   exactly the Fields the page says to create, the page's timestamp locator, format and boundary
//   regex match every line; and ilert-sumo-report on what arrived gives the lifecycle table the demo
//   ends with, whose numbers are computed here by hand from examples/samples:
//     alert 8532156 (Prometheus Alertmanager (production)): reportTime 09:26:53.589, first
//       acceptedAt 09:29:12.004 -> MTTA 138.415 s; resolvedOn 10:02:48.376 -> MTTR 2154.787 s;
//     alert 2187734 (legacy incident-created, Uptime monitor: shop): created, never accepted;
//     the other samples' alerts have no alert-created line; one malformed body (invalid payload).
#include <httplib.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/fixtures.hpp"
#include "support/process.hpp"
#include "support/sumo_emulator.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ilert_sumo::test::ChildProcess;
using ilert_sumo::test::repo_path;
using ilert_sumo::test::SumoEmulator;

namespace {

std::vector<std::string> doc_lines() {
  const std::string text = ilert_sumo::test::read_file(repo_path("docs/SUMO_SETUP.md"));
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return lines;
}

// The `code spans` of a line, in order.
std::vector<std::string> code_spans(const std::string& line) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    const auto open = line.find('`', pos);
    if (open == std::string::npos) break;
    const auto close = line.find('`', open + 1);
    if (close == std::string::npos) break;
    out.push_back(line.substr(open + 1, close - open - 1));
    pos = close + 1;
  }
  return out;
}

// The first code span of the table row whose first cell starts with `label`.
std::string table_value(const std::vector<std::string>& lines, const std::string& label) {
  for (const auto& line : lines) {
    if (line.rfind("| " + label, 0) == 0) {
      const auto cells_start = line.find('|', 2);
      REQUIRE(cells_start != std::string::npos);
      const auto spans = code_spans(line.substr(cells_start));
      REQUIRE_FALSE(spans.empty());
      return spans.front();
    }
  }
  FAIL("docs/SUMO_SETUP.md has no table row '" << label << "'");
  return "";
}

// Everything a program prints on stdout for `args`; it must exit 0.
std::string program_output(const std::string& program, const std::vector<std::string>& args) {
  ChildProcess child(ilert_sumo::test::bin_path(program), args);
  std::string out;
  while (auto line = child.read_line(20s)) out += *line + "\n";
  const auto status = child.wait(20s);
  REQUIRE(status.has_value());
  INFO(program << " exited: " << status->to_string());
  REQUIRE(status->ok());
  return out;
}

std::set<std::string> long_flags(const std::string& text) {
  static const std::regex flag(R"((^|[^A-Za-z0-9_-])(--[a-z][a-z0-9-]*))");
  std::set<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), flag), end; it != end; ++it) out.insert((*it)[2].str());
  return out;
}

// A Java SimpleDateFormat pattern of the tokens Sumo documents (yyyy MM dd HH mm ss SSS, 'literal')
// as an ECMAScript regex matching exactly such a timestamp.
std::string date_format_regex(const std::string& format) {
  static const std::map<std::string, int> digits = {{"yyyy", 4}, {"MM", 2}, {"dd", 2}, {"HH", 2},
                                                    {"mm", 2},   {"ss", 2}, {"SSS", 3}};
  std::string re;
  for (std::size_t i = 0; i < format.size();) {
    const char c = format[i];
    if (c == '\'') {
      const auto close = format.find('\'', i + 1);
      REQUIRE(close != std::string::npos);
      for (char l : format.substr(i + 1, close - i - 1)) re += std::string("\\") + l;
      i = close + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < format.size() && format[j] == c) ++j;
      const auto it = digits.find(format.substr(i, j - i));
      INFO("token " << format.substr(i, j - i) << " in " << format);
      REQUIRE(it != digits.end());
      re += "[0-9]{" + std::to_string(it->second) + "}";
      i = j;
    } else {
      re += std::string("\\") + c;
      ++i;
    }
  }
  return re;
}

// The relay command block: `export NAME='value'` lines and the ilert-sumo-relay command's argv.
struct RelayCommand {
  std::map<std::string, std::string> env;
  std::vector<std::string> args;
};

RelayCommand relay_command(const std::vector<std::string>& lines) {
  std::size_t i = 0;
  while (i < lines.size() && lines[i].find("checked by tests/test_setup_docs.cpp") == std::string::npos) ++i;
  REQUIRE(i < lines.size());
  ++i;
  REQUIRE(i < lines.size());
  REQUIRE(lines[i] == "```sh");
  std::vector<std::string> commands;
  std::string current;
  for (++i; i < lines.size() && lines[i] != "```"; ++i) {
    std::string l = lines[i];
    const bool continued = !l.empty() && l.back() == '\\';
    if (continued) l.pop_back();
    current += l + " ";
    if (!continued) {
      commands.push_back(current);
      current.clear();
    }
  }
  REQUIRE(i < lines.size());
  RelayCommand rc;
  for (const auto& cmd : commands) {
    std::vector<std::string> words;
    std::string word;
    bool quoted = false, any = false;
    for (char c : cmd) {
      if (c == '\'') {
        quoted = !quoted;
        any = true;
      } else if (!quoted && (c == ' ' || c == '\t')) {
        if (any) words.push_back(word);
        word.clear();
        any = false;
      } else {
        word += c;
        any = true;
      }
    }
    REQUIRE_FALSE(quoted);
    if (words.empty()) continue;
    if (words[0] == "export") {
      REQUIRE(words.size() == 2);
      const auto eq = words[1].find('=');
      REQUIRE(eq != std::string::npos);
      rc.env[words[1].substr(0, eq)] = words[1].substr(eq + 1);
    } else {
      REQUIRE(words[0] == "ilert-sumo-relay");
      REQUIRE(rc.args.empty());
      rc.args.assign(words.begin() + 1, words.end());
    }
  }
  REQUIRE_FALSE(rc.args.empty());
  return rc;
}

std::optional<std::string> flag_value(const std::vector<std::string>& args, const std::string& flag) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) return args[i + 1];
  }
  return std::nullopt;
}

// Every string member named `name` anywhere under `v`.
void collect_strings(const rapidjson::Value& v, const char* name, std::vector<std::string>& out) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      if (it->value.IsString() && std::string(it->name.GetString()) == name) out.emplace_back(it->value.GetString());
      collect_strings(it->value, name, out);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_strings(e, name, out);
  }
}

rapidjson::Document parse_json_file(const std::string& path) {
  const std::string text = ilert_sumo::test::read_file(path);
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  INFO(path);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::vector<fs::path> sample_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(repo_path("examples/samples"))) {
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("SUMO_SETUP.md: every flag it names is in the --help of its program", "[program][content]") {
  const auto lines = doc_lines();
  const std::map<std::string, std::set<std::string>> help = {
      {"ilert-sumo-relay", long_flags(program_output("ilert-sumo-relay", {"--help"}))},
      {"ilert-sumo-report", long_flags(program_output("ilert-sumo-report", {"--help"}))},
      {"sumo-emulator", long_flags(program_output("sumo-emulator", {"--help"}))},
  };
  REQUIRE(help.at("ilert-sumo-relay").count("--fields-from-event") == 1);  // the help was read
  std::set<std::string> relay_flags;
  for (const auto& line : lines) {
    std::string program = "ilert-sumo-relay";
    if (line.find("ilert-sumo-report") != std::string::npos) program = "ilert-sumo-report";
    if (line.find("sumo-emulator") != std::string::npos) program = "sumo-emulator";
    for (const auto& flag : long_flags(line)) {
      INFO(program << ": " << line);
      CHECK(help.at(program).count(flag) == 1);
      if (program == "ilert-sumo-relay") relay_flags.insert(flag);
    }
  }
  // The page is about these; a rewrite that drops them must fail here.
  for (const char* f : {"--category", "--fields-from-event", "--spool-dir", "--listen"}) {
    INFO(f);
    CHECK(relay_flags.count(f) == 1);
  }
}

TEST_CASE("SUMO_SETUP.md: the files it imports exist, its links resolve, its citations have URLs", "[unit][content]") {
  const auto lines = doc_lines();
  std::string text;
  for (const auto& l : lines) text += l + "\n";

  // sumo/ files named in the page.
  static const std::regex sumo_file(R"(sumo/([A-Za-z0-9_.-]+\.(json|py|md)))");
  std::set<std::string> named;
  for (std::sregex_iterator it(text.begin(), text.end(), sumo_file), end; it != end; ++it) named.insert((*it)[1].str());
  REQUIRE(named.count("generate.py") == 1);
  for (const auto& name : named) {
    INFO("sumo/" << name);
    REQUIRE(fs::is_regular_file(repo_path("sumo/" + name)));
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) parse_json_file(repo_path("sumo/" + name));
  }
  std::size_t json_files = 0;
  for (const auto& e : fs::directory_iterator(repo_path("sumo"))) {
    if (e.path().extension() != ".json") continue;
    ++json_files;
    INFO(e.path().filename().string() << " is in sumo/ but docs/SUMO_SETUP.md does not tell how to import it");
    CHECK(named.count(e.path().filename().string()) == 1);
  }
  CHECK(json_files >= 3);  // dashboard, saved searches, field extraction rule

  // Relative links: [text](path[#anchor]), relative to docs/.
  static const std::regex link(R"(\]\(([^)\s]+)\))");
  std::size_t relative_links = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
    std::string target = (*it)[1].str();
    if (target.rfind("http", 0) == 0 || target.rfind("#", 0) == 0) continue;
    target = target.substr(0, target.find('#'));
    ++relative_links;
    INFO("link " << target);
    CHECK(fs::exists(repo_path("docs/" + target)));
  }
  CHECK(relative_links > 0);

  // Reference-style citations: every [text][ref] has a `[ref]: https://...` line, every definition
  // is used, and every definition points at Sumo Logic's documentation.
  static const std::regex use(R"(\]\[([a-z0-9-]+)\])");
  static const std::regex def(R"(^\[([a-z0-9-]+)\]: (\S+)$)");
  std::set<std::string> used;
  for (std::sregex_iterator it(text.begin(), text.end(), use), end; it != end; ++it) used.insert((*it)[1].str());
  std::map<std::string, std::string> defined;
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_match(l, m, def)) defined[m[1].str()] = m[2].str();
  }
  REQUIRE(used.size() >= 10);
  for (const auto& ref : used) {
    INFO("citation [" << ref << "]");
    CHECK(defined.count(ref) == 1);
  }
  for (const auto& [ref, url] : defined) {
    INFO("[" << ref << "]: " << url);
    CHECK(used.count(ref) == 1);
    CHECK(url.rfind("https://help.sumologic.com/docs/", 0) == 0);
  }
}

TEST_CASE("SUMO_SETUP.md: the category it sets is the one sumo/ and the demo read", "[unit][content]") {
  const auto lines = doc_lines();
  const RelayCommand cmd = relay_command(lines);
  const auto category = flag_value(cmd.args, "--category");
  REQUIRE(category.has_value());
  CHECK(*category == table_value(lines, "Source Category"));  // the source and the relay agree
  CHECK(category->find('{') == std::string::npos);            // no per-event category

  const std::string scope = "_sourceCategory=" + *category;
  std::size_t queries = 0;
  for (const char* file : {"sumo/ilert-alert-lifecycle.dashboard.json", "sumo/ilert-alert-lifecycle.searches.json",
                           "sumo/ilert-sdo-alerts.fer.json"}) {
    const auto doc = parse_json_file(repo_path(file));
    std::vector<std::string> found;
    for (const char* member : {"queryString", "queryText", "query", "scope"}) collect_strings(doc, member, found);
    REQUIRE_FALSE(found.empty());
    for (const auto& q : found) {
      ++queries;
      INFO(file << ": " << q.substr(0, 80));
      CHECK(q.rfind(scope, 0) == 0);
      // the category must end there (webhook/ilert, not webhook/ilertX)
      CHECK((q.size() == scope.size() || q[scope.size()] == '\n' || q[scope.size()] == ' '));
    }
  }
  CHECK(queries >= 10);
  const std::string demo = ilert_sumo::test::read_file(repo_path("examples/demo.sh"));
  CHECK(demo.find("--category '" + *category + "'") != std::string::npos);
}

TEST_CASE("SUMO_SETUP.md: its relay command delivers lines its Sumo settings read, and the demo's table",
          "[program][content]") {
  const auto lines = doc_lines();
  RelayCommand cmd = relay_command(lines);
  const auto category = flag_value(cmd.args, "--category");
  REQUIRE(category.has_value());
  REQUIRE(cmd.env.count("ILERT_SUMO_URL") == 1);
  REQUIRE(cmd.env.count("ILERT_SUMO_RELAY_BASIC_AUTH") == 1);
  const std::string basic = cmd.env.at("ILERT_SUMO_RELAY_BASIC_AUTH");
  const auto colon = basic.find(':');
  REQUIRE(colon != std::string::npos);

  // The Fields the page says to create (the line after "once for each of").
  std::set<std::string> doc_fields;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i].find("once for each of") != std::string::npos) {
      for (const auto& f : code_spans(lines[i + 1])) doc_fields.insert(f);
    }
  }
  REQUIRE(doc_fields.size() == 3);
  const std::regex locator(table_value(lines, "Timestamp locator"));
  const std::regex timestamp(date_format_regex(table_value(lines, "Timestamp Format")));
  const std::regex boundary(table_value(lines, "Boundary regex"));

  ilert_sumo::test::TempDir tmp;
  SumoEmulator emulator;
  emulator.start();
  ilert_sumo::test::TempDir spool;
  std::vector<std::string> args = cmd.args;
  bool listen_swapped = false, spool_swapped = false;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--listen") args[i + 1] = "127.0.0.1:0", listen_swapped = true;
    if (args[i] == "--spool-dir") args[i + 1] = spool.path(), spool_swapped = true;
  }
  REQUIRE(listen_swapped);
  REQUIRE(spool_swapped);
  std::map<std::string, std::optional<std::string>> env;
  for (const char* v : {"ILERT_SUMO_URL_FILE", "ILERT_SUMO_ENDPOINT", "ILERT_SUMO_TOKEN", "ILERT_SUMO_TOKEN_FILE",
                        "ILERT_SUMO_RELAY_BASIC_AUTH_FILE", "ILERT_SUMO_RELAY_LISTEN", "ILERT_SUMO_RELAY_SPOOL_DIR",
                        "ILERT_SUMO_RELAY_CATEGORY", "ILERT_SUMO_RELAY_FIELDS_FROM_EVENT"}) {
    env[v] = std::nullopt;
  }
  for (const auto& [k, v] : cmd.env) env[k] = v;
  env["ILERT_SUMO_URL"] = emulator.url();  // the local Sumo instead of the placeholder
  const std::string stderr_path = tmp / "relay.stderr";
  ChildProcess relay(ilert_sumo::test::bin_path("ilert-sumo-relay"), args, env, stderr_path);
  auto relay_log = [&] {
    try {
      return ilert_sumo::test::read_file(stderr_path);
    } catch (...) {
      return std::string();
    }
  };
  const auto first = relay.read_line(20s);
  INFO("relay stderr: " << relay_log());
  REQUIRE(first.has_value());
  const auto port = ilert_sumo::test::parse_listening_port(*first);
  REQUIRE(port.has_value());

  httplib::Client client("127.0.0.1", *port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  client.set_basic_auth(basic.substr(0, colon), basic.substr(colon + 1));
  std::size_t sent = 0;
  for (const auto& file : sample_files()) {
    const auto res = client.Post("/ilert", ilert_sumo::test::read_file(file.string()), "application/json");
    INFO(file.filename().string());
    REQUIRE(res);
    CHECK((res->status == 202 || res->status == 400));  // 400: invalid, still forwarded
    ++sent;
  }
  REQUIRE(sent >= 10);
  REQUIRE(ilert_sumo::test::wait_until([&] { return emulator.count() >= sent; }, 30s));
  relay.signal(SIGTERM);
  const auto status = relay.wait(20s);
  REQUIRE(status.has_value());
  CHECK(status->ok());

  const auto messages = emulator.messages();
  CHECK(messages.size() == sent);
  std::set<std::string> field_names;
  std::ofstream recording(tmp / "received.ndjson");
  for (const auto& m : messages) {
    INFO(m.message.substr(0, 120));
    CHECK(m.category == *category);
    std::size_t pos = 0;
    while (pos < m.fields.size()) {
      auto comma = m.fields.find(',', pos);
      if (comma == std::string::npos) comma = m.fields.size();
      const std::string kv = m.fields.substr(pos, comma - pos);
      field_names.insert(kv.substr(0, kv.find('=')));
      pos = comma + 1;
    }
    // The page's timestamp locator finds the line's `time`, in the page's format.
    std::smatch found;
    REQUIRE(std::regex_search(m.message, found, locator));
    CHECK(found.position(0) == 0);
    CHECK(std::regex_match(found[1].str(), timestamp));
    rapidjson::Document d;
    d.Parse(m.message.c_str(), m.message.size());
    REQUIRE_FALSE(d.HasParseError());
    REQUIRE(d.HasMember("time"));
    CHECK(found[1].str() == d["time"].GetString());
    // The page's boundary regex matches the whole line (Sumo: "the entire first line").
    CHECK(std::regex_match(m.message, boundary));
    recording << ilert_sumo::test::to_ndjson(m) << "\n";
  }
  recording.close();
  CHECK(field_names == doc_fields);

  // The demo's last step on the same recording: hand-computed values (see the top of this file).
  const std::string table = program_output("ilert-sumo-report", {tmp / "received.ndjson"});
  INFO(table);
  static const std::regex all_row(R"((^|\n)\(all\) +2 +1 +138\.415s +138\.415s +1 +2154\.787s +2154\.787s\n)");
  CHECK(std::regex_search(table, all_row));
  static const std::regex prometheus_row(
      R"((^|\n)Prometheus Alertmanager \(production\) +1 +1 +138\.415s +138\.415s +1 +2154\.787s +2154\.787s\n)");
  CHECK(std::regex_search(table, prometheus_row));
  static const std::regex lines_row(
      R"(lines: [0-9]+ read, [0-9]+ counted, 0 duplicates, 1 invalid payloads, 0 skipped\n)");
  CHECK(std::regex_search(table, lines_row));
}
