// tests/test_sumo_content.cpp [content]: the Sumo Logic content under sumo/ (dashboard, saved
// searches, field extraction rule) and the line (docs/SUMO_LINE.md) cannot drift apart.
//
// Every JSON file under sumo/ is parsed with RapidJSON; every query in it (`queryString`,
// `queryText`, variable `query`, FER `parseExpression`) goes through a small extractor of the
// query-language constructs the content uses (and nothing else: an unknown construct fails):
//   json field=_raw "a.b", "c" [as x, y] [nodrop]     reads key paths a.b and c; defines x, y
//   parse regex field=F "...(?<name>...)" [multi] [nodrop]   reads F; defines name
//   where EXPR                                        reads the identifiers of EXPR
//   timeslice N                                       defines _timeslice
//   AGG [as n], ... [by f, ...]  (count, count_distinct, sum, avg, min, max, pct, first, last)
//                                                     reads args and by-fields; afterwards only
//                                                     the by-fields and the named results exist
//   sort|order by f [asc|desc], ...; limit N; fields [-] f, ...;  transpose row f column g (last)
//   EXPR as NAME                                      reads EXPR's identifiers; defines NAME
// A json key path must be one that real lines contain: lines made with to_sumo_line from every
// parsed fixture in tests/fixtures/valid and examples/samples, plus invalid-payload lines. Any other
// identifier must be defined earlier in the query (or be a built-in field such as _messagetime).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"

namespace fs = std::filesystem;
using namespace ilert_sumo;

namespace {

// ---------------------------------------------------------------------------------------------
// Key paths of real lines: objects add ".key", arrays are transparent (their elements' keys are
// under the array's own path), so "responders[*].user.username" is checked as
// "responders.user.username".

void collect_paths(const rapidjson::Value& v, const std::string& prefix, std::set<std::string>& out) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string path = prefix.empty() ? std::string(it->name.GetString(), it->name.GetStringLength())
                                        : prefix + "." + std::string(it->name.GetString(), it->name.GetStringLength());
      out.insert(path);
      collect_paths(it->value, path, out);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_paths(e, prefix, out);
  }
}

std::set<std::string> line_paths_of(const std::vector<std::string>& lines) {
  std::set<std::string> paths;
  for (const auto& line : lines) {
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    REQUIRE_FALSE(d.HasParseError());
    collect_paths(d, "", paths);
  }
  return paths;
}

std::vector<std::string> real_lines() {
  std::vector<std::string> lines;
  std::vector<std::string> files = test::list_fixtures("valid");
  for (const auto& f : test::list_fixtures("../../examples/samples")) files.push_back(f);
  bool invalid_seen = false;
  for (const auto& file : files) {
    const std::string body = test::read_file(file);
    auto r = parse_event(body);
    if (r) {
      lines.push_back(to_sumo_line(*r));
    } else {
      lines.push_back(to_invalid_payload_line(body, r.error()));
      invalid_seen = true;
    }
  }
  // Always at least one invalid-payload line, whatever the samples hold.
  const std::string broken = R"({"id": "1", "eventType": "alert-cr)";
  auto r = parse_event(broken);
  REQUIRE_FALSE(r);
  lines.push_back(to_invalid_payload_line(broken, r.error()));
  CHECK(invalid_seen);  // examples/samples/14-malformed-truncated.json
  return lines;
}

const std::set<std::string>& line_paths() {
  static const std::set<std::string> paths = line_paths_of(real_lines());
  return paths;
}

// ---------------------------------------------------------------------------------------------
// The extractor.

struct QueryFields {
  std::vector<std::string> json_paths;  // key paths read with `json` (array indexes removed)
  std::vector<std::string> undefined;   // identifiers read but never defined
  std::vector<std::string> dedup_keys;  // by-fields of the first aggregation
  std::vector<std::string> errors;      // unsupported constructs
};

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Splits at `sep` outside double-quoted strings (with backslash escapes) and parentheses.
std::vector<std::string> split_top(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  bool in_str = false;
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_str) {
      cur += c;
      if (c == '\\' && i + 1 < s.size())
        cur += s[++i];
      else if (c == '"')
        in_str = false;
      continue;
    }
    if (c == '"')
      in_str = true;
    else if (c == '(')
      ++depth;
    else if (c == ')')
      --depth;
    if (c == sep && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(trim(cur));
  return out;
}

bool starts_with_word(const std::string& s, const std::string& w) {
  return s.size() >= w.size() && s.compare(0, w.size(), w) == 0 &&
         (s.size() == w.size() || !(std::isalnum(static_cast<unsigned char>(s[w.size()])) || s[w.size()] == '_'));
}

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Identifiers an expression reads: outside strings, not followed by '(' (functions), not keywords.
std::vector<std::string> expr_identifiers(const std::string& e) {
  static const std::set<std::string> kKeywords = {"and",  "or",    "not",  "in",  "matches",
                                                  "true", "false", "null", "asc", "desc"};
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < e.size();) {
    const char c = e[i];
    if (c == '"') {
      for (++i; i < e.size() && e[i] != '"'; ++i) {
        if (e[i] == '\\') ++i;
      }
      ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < e.size() && (is_ident_char(e[i]) || e[i] == '.')) ++i;
    } else if (is_ident_start(c)) {
      std::size_t j = i;
      while (j < e.size() && is_ident_char(e[j])) ++j;
      std::string id = e.substr(i, j - i);
      std::size_t k = j;
      while (k < e.size() && e[k] == ' ') ++k;
      if (!(k < e.size() && e[k] == '(') && !kKeywords.count(id)) ids.push_back(id);
      i = j;
    } else {
      ++i;
    }
  }
  return ids;
}

// "a.b[*].c" -> "a.b.c"
std::string strip_indexes(const std::string& p) {
  std::string out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '[') {
      while (i < p.size() && p[i] != ']') ++i;
    } else {
      out += p[i];
    }
  }
  return out;
}

// Reads the double-quoted string at s[i] (i on the quote); returns its raw content, moves i past it.
std::string read_quoted(const std::string& s, std::size_t& i) {
  std::string out;
  for (++i; i < s.size() && s[i] != '"'; ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) out += s[i++];
    out += s[i];
  }
  ++i;
  return out;
}

// Splits "X as Y" at the last top-level " as " (outside strings and parentheses).
bool split_as(const std::string& s, std::string& expr, std::string& name) {
  bool in_str = false;
  int depth = 0;
  std::size_t found = std::string::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_str) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_str = false;
      continue;
    }
    if (c == '"')
      in_str = true;
    else if (c == '(')
      ++depth;
    else if (c == ')')
      --depth;
    else if (depth == 0 && s.compare(i, 4, " as ") == 0)
      found = i;
  }
  if (found == std::string::npos) return false;
  expr = trim(s.substr(0, found));
  name = trim(s.substr(found + 4));
  return true;
}

QueryFields extract(const std::string& query) {
  static const std::set<std::string> kAggregates = {"count", "count_distinct", "sum", "avg", "min", "max",
                                                    "pct",   "first",          "last"};
  static const std::set<std::string> kBuiltins = {"_raw",        "_messagetime", "_receipttime", "_sourceCategory",
                                                  "_sourceHost", "_sourceName"};
  static const std::set<std::string> kOperators = {"json",  "parse", "where",  "timeslice", "sort",
                                                   "order", "limit", "fields", "transpose"};
  QueryFields out;
  std::set<std::string> defined(kBuiltins.begin(), kBuiltins.end());
  bool open = false;  // after transpose: anything goes (it must be last)
  bool aggregated = false;
  auto use = [&](const std::string& id) {
    if (!open && !defined.count(id)) out.undefined.push_back(id);
  };
  auto first_word = [](const std::string& s) {
    std::size_t j = 0;
    while (j < s.size() && is_ident_char(s[j])) ++j;
    return s.substr(0, j);
  };

  std::vector<std::string> stages = split_top(query, '|');
  for (std::size_t n = 0; n < stages.size(); ++n) {
    const std::string st = stages[n];
    const std::string word = first_word(st);
    if (n == 0 && !kOperators.count(word) && !kAggregates.count(word)) continue;  // the scope
    if (open) {
      out.errors.push_back("stage after transpose: " + st);
      continue;
    }
    if (word == "json") {
      std::size_t i = 4;
      while (i < st.size() && st[i] == ' ') ++i;
      if (st.compare(i, 6, "field=") == 0) {
        std::size_t j = i + 6;
        while (j < st.size() && st[j] != ' ') ++j;
        const std::string f = st.substr(i + 6, j - i - 6);
        if (f != "_raw") out.errors.push_back("json field= other than _raw: " + st);
        i = j;
      }
      std::vector<std::string> paths;
      while (true) {
        while (i < st.size() && (st[i] == ' ' || st[i] == ',' || st[i] == '\n')) ++i;
        if (i < st.size() && st[i] == '"')
          paths.push_back(read_quoted(st, i));
        else
          break;
      }
      if (paths.empty()) out.errors.push_back("json without quoted paths (json auto is not used): " + st);
      std::string rest = trim(st.substr(std::min(i, st.size())));
      if (rest.size() >= 6 && rest.compare(rest.size() - 6, 6, "nodrop") == 0)
        rest = trim(rest.substr(0, rest.size() - 6));
      std::vector<std::string> names;
      if (starts_with_word(rest, "as")) {
        for (auto& x : split_top(rest.substr(2), ',')) names.push_back(x);
      } else if (!rest.empty()) {
        out.errors.push_back("json: unexpected '" + rest + "'");
      } else {
        names = paths;
      }
      if (names.size() != paths.size()) out.errors.push_back("json: paths and names differ in number: " + st);
      for (const auto& p : paths) out.json_paths.push_back(strip_indexes(p));
      for (const auto& x : names) defined.insert(x);
    } else if (word == "parse") {
      std::size_t i = 5;
      while (i < st.size() && st[i] == ' ') ++i;
      if (!starts_with_word(st.substr(i), "regex")) {
        out.errors.push_back("only parse regex is supported: " + st);
        continue;
      }
      i += 5;
      while (i < st.size() && st[i] == ' ') ++i;
      if (st.compare(i, 6, "field=") == 0) {
        std::size_t j = i + 6;
        while (j < st.size() && st[j] != ' ') ++j;
        use(st.substr(i + 6, j - i - 6));
        i = j;
      }
      while (i < st.size() && st[i] == ' ') ++i;
      if (i >= st.size() || st[i] != '"') {
        out.errors.push_back("parse regex without a quoted regex: " + st);
        continue;
      }
      const std::string re = read_quoted(st, i);
      for (std::size_t k = re.find("(?<"); k != std::string::npos; k = re.find("(?<", k + 3)) {
        const std::size_t e = re.find('>', k);
        if (e != std::string::npos) defined.insert(re.substr(k + 3, e - k - 3));
      }
      for (const auto& w : split_top(trim(st.substr(std::min(i, st.size()))), ' ')) {
        if (!w.empty() && w != "multi" && w != "nodrop") out.errors.push_back("parse regex: unexpected '" + w + "'");
      }
    } else if (word == "where") {
      for (const auto& id : expr_identifiers(st.substr(5))) use(id);
    } else if (word == "timeslice") {
      defined.insert("_timeslice");
    } else if (word == "sort" || word == "order") {
      std::string rest = trim(st.substr(word.size()));
      if (!starts_with_word(rest, "by")) out.errors.push_back("sort without by: " + st);
      for (const auto& id : expr_identifiers(rest.substr(2))) use(id);
    } else if (word == "limit") {
      // a number
    } else if (word == "fields") {
      std::string rest = trim(st.substr(6));
      if (!rest.empty() && rest[0] == '-') rest = rest.substr(1);
      std::set<std::string> kept;
      for (const auto& id : split_top(rest, ',')) {
        use(id);
        kept.insert(id);
      }
      if (st.find("fields -") == std::string::npos) defined = kept;
    } else if (word == "transpose") {
      const std::vector<std::string> w = split_top(st, ' ');
      if (w.size() != 5 || w[1] != "row" || w[3] != "column")
        out.errors.push_back("transpose row X column Y: " + st);
      else {
        use(w[2]);
        use(w[4]);
      }
      open = true;
    } else if (kAggregates.count(word)) {
      // AGG[(args)] [as n], ... [by f, ...]
      std::string body = st, by;
      const std::size_t b = st.find(" by ");
      if (b != std::string::npos) {
        body = st.substr(0, b);
        by = st.substr(b + 4);
      }
      std::set<std::string> next;
      std::vector<std::string> by_fields;
      for (const auto& f : split_top(by, ',')) {
        if (f.empty()) continue;
        use(f);
        next.insert(f);
        by_fields.push_back(f);
      }
      for (const auto& a : split_top(body, ',')) {
        std::string expr, name;
        if (!split_as(a, expr, name)) {
          expr = a;
          name = "_" + first_word(a);
        }
        const std::string agg = first_word(expr);
        if (!kAggregates.count(agg)) out.errors.push_back("not an aggregate: " + a);
        for (const auto& id : expr_identifiers(expr.substr(agg.size()))) use(id);
        next.insert(name);
      }
      if (!aggregated) out.dedup_keys = by_fields;
      aggregated = true;
      defined = next;
    } else {
      std::string expr, name;
      if (!split_as(st, expr, name) || name.empty() || !is_ident_start(name[0])) {
        out.errors.push_back("unsupported stage: " + st);
        continue;
      }
      for (const auto& id : expr_identifiers(expr)) use(id);
      defined.insert(name);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The content.

struct Query {
  std::string file;
  std::string key;  // queryString, queryText, query, parseExpression
  std::string text;
};

void collect_queries(const rapidjson::Value& v, const std::string& file, std::vector<Query>& out) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      const std::string name = it->name.GetString();
      if (it->value.IsString() &&
          (name == "queryString" || name == "queryText" || name == "query" || name == "parseExpression")) {
        out.push_back({file, name, it->value.GetString()});
      } else {
        collect_queries(it->value, file, out);
      }
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_queries(e, file, out);
  }
}

std::vector<std::string> content_files() {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(test::fixture_path("../../sumo"))) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string describe(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

TEST_CASE("content extractor: the constructs it knows, and what it rejects", "[unit][content]") {
  SECTION("json paths, aliases, where, by") {
    const auto f = extract(
        "_sourceCategory=webhook/ilert\n"
        "| json field=_raw \"dedupId\", \"alertSource.name\" as dedupId, source nodrop\n"
        "| where source matches \"{{source}}\" and !isNull(dedupId)\n"
        "| count as copies by dedupId, source\n"
        "| count as alerts by source\n"
        "| sort by alerts desc");
    CHECK(f.errors.empty());
    CHECK(f.undefined.empty());
    CHECK(f.json_paths == std::vector<std::string>{"dedupId", "alertSource.name"});
    CHECK(f.dedup_keys == std::vector<std::string>{"dedupId", "source"});
  }
  SECTION("an alias never defined is reported") {
    const auto f = extract("_sourceCategory=x | json field=_raw \"id\" as id | where prio = \"HIGH\" | count by id");
    CHECK(f.undefined == std::vector<std::string>{"prio"});
  }
  SECTION("a field dropped by an aggregation is reported") {
    const auto f =
        extract("_sourceCategory=x | json field=_raw \"id\", \"priority\" as id, p | count by id | count by p");
    CHECK(f.undefined == std::vector<std::string>{"p"});
  }
  SECTION("parse regex names, array paths") {
    const auto f = extract(
        "_sourceCategory=x | json field=_raw \"responders[*].user.username\" as r"
        " | parse regex field=r \"\\\"(?<who>[^\\\"]+)\\\"\" multi | count by who");
    CHECK(f.errors.empty());
    CHECK(f.undefined.empty());
    CHECK(f.json_paths == std::vector<std::string>{"responders.user.username"});
  }
  SECTION("unsupported constructs are errors") {
    CHECK_FALSE(extract("_sourceCategory=x | json auto | count by id").errors.empty());
    CHECK_FALSE(extract("_sourceCategory=x | lookup a from b on c=d").errors.empty());
  }
  SECTION("a key path no line has fails the line check") {
    const auto f = extract("_sourceCategory=x | json field=_raw \"alertSrc.name\", \"ttaMs\" as s, t | count by s");
    REQUIRE(f.json_paths.size() == 2);
    CHECK_FALSE(line_paths().count(f.json_paths[0]));  // a typo: no line has it
    CHECK(line_paths().count(f.json_paths[1]));
  }
}

TEST_CASE("real lines hold the keys the content relies on", "[unit][content]") {
  const auto& paths = line_paths();
  for (const char* p :
       {"time", "eventType", "id", "alertSource.name", "escalationPolicy.name", "priority", "responders.user.username",
        "receivedAt", "ttaMs", "ttrMs", "dedupId", "error.code", "error.message", "summary"}) {
    INFO(p);
    CHECK(paths.count(p));
  }
}

TEST_CASE("every query under sumo/ reads only fields real lines have", "[unit][content]") {
  const auto files = content_files();
  REQUIRE(files.size() >= 3);  // dashboard, saved searches, field extraction rule
  std::vector<Query> queries;
  for (const auto& file : files) {
    INFO(file);
    const std::string text = test::read_file(file);
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    REQUIRE_FALSE(d.HasParseError());
    collect_queries(d, fs::path(file).filename().string(), queries);
  }
  REQUIRE(queries.size() >= 20);
  const auto& paths = line_paths();
  for (const auto& q : queries) {
    INFO(q.file << " " << q.key << ":\n" << q.text);
    const auto f = extract(q.text);
    CHECK(describe(f.errors) == "");
    CHECK(describe(f.undefined) == "");
    CHECK_FALSE(f.json_paths.empty());
    for (const auto& p : f.json_paths) {
      INFO("json key path " << p);
      CHECK(paths.count(p));
    }
    // Panels and saved searches drop duplicate deliveries first: the first aggregation groups by
    // dedupId (invalid-payload lines have none: their identical copies share receivedAt).
    if (q.key == "queryString" || q.key == "queryText") {
      const bool invalid = q.text.find("\"ilert-sumo-invalid-payload\"") != std::string::npos;
      const auto& k = f.dedup_keys;
      CHECK(std::find(k.begin(), k.end(), invalid ? "receivedAt" : "dedupId") != k.end());
    }
  }
}

TEST_CASE("the dashboard: panels, variables, every variable it uses is defined", "[unit][content]") {
  const std::string text = test::read_file(test::fixture_path("../../sumo/ilert-alert-lifecycle.dashboard.json"));
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["type"].GetString()) == "DashboardV2SyncDefinition");
  CHECK(std::string(d["title"].GetString()) == "iLert alert lifecycle");
  std::set<std::string> vars;
  for (const auto& v : d["variables"].GetArray()) vars.insert(v["name"].GetString());
  CHECK(vars == std::set<std::string>{"source", "policy", "priority", "eventType"});
  std::set<std::string> layout_keys, panel_keys;
  for (const auto& l : d["layout"]["layoutStructures"].GetArray()) layout_keys.insert(l["key"].GetString());
  REQUIRE(d["panels"].Size() >= 12);
  for (const auto& p : d["panels"].GetArray()) {
    panel_keys.insert(p["key"].GetString());
    REQUIRE(p["queries"].Size() >= 1);
    for (const auto& q : p["queries"].GetArray()) {
      const std::string s = q["queryString"].GetString();
      for (std::size_t k = s.find("{{"); k != std::string::npos; k = s.find("{{", k + 2)) {
        const std::string name = s.substr(k + 2, s.find("}}", k) - k - 2);
        INFO(name);
        CHECK(vars.count(name));
      }
    }
  }
  CHECK(layout_keys == panel_keys);
}
