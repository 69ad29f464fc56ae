// examples/ilert-sumo-report/main.cpp: `ilert-sumo-report [--by source|policy|priority] [--json]
// [FILE...]`, the "iLert alert lifecycle" dashboard's core table without Sumo (README.md here).
//
// Reads lines (NDJSON: one Sumo line per line, or sumo-emulator --record objects whose "message"
// holds the line) from FILEs or standard input and prints, per alert source / escalation policy /
// priority: alerts created, MTTA mean and p90 (ttaMs of each alert's first accept), MTTR mean and
// p90 (ttrMs of each alert's final resolve). A dedupId seen before is skipped; invalid-payload
// lines and lines without id/dedupId are skipped and counted. Exit: 0 ok, 1 unreadable file, 2 usage.
// Command line: CLI11, with the convention of examples/common/cli.hpp (--help, --version).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <ilert_sumo/version.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "../common/cli.hpp"

namespace {

constexpr const char* kProgram = "ilert-sumo-report";

struct Alert {
  std::optional<std::string> group;  // from the first counted line that has it
  bool created = false;
  std::optional<std::int64_t> tta;  // smallest ttaMs of its accepts (= the first accept)
  std::optional<std::int64_t> ttr;  // largest ttrMs of its resolves (= the final resolve)
};

struct Counts {
  std::uint64_t read = 0, counted = 0, duplicates = 0, invalid = 0, skipped = 0;
};

struct Stats {
  std::uint64_t n = 0;
  std::int64_t mean = 0, p90 = 0;  // milliseconds
};

// Mean rounded to the nearest millisecond (halves up); p90 nearest-rank: the value at rank
// ceil(0.9 * n) of the ascending list (1-based).
Stats stats_of(std::vector<std::int64_t> v) {
  Stats s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  long double sum = 0;
  for (auto x : v) sum += static_cast<long double>(x);
  const long double mean = sum / static_cast<long double>(v.size());
  s.mean = static_cast<std::int64_t>(mean + 0.5L);
  const std::size_t rank = (90 * v.size() + 99) / 100;
  s.p90 = v[rank - 1];
  return s;
}

std::optional<std::string> string_at(const rapidjson::Value& o, const char* key, const char* sub = nullptr) {
  if (!o.IsObject()) return std::nullopt;
  auto it = o.FindMember(key);
  if (it == o.MemberEnd()) return std::nullopt;
  const rapidjson::Value* v = &it->value;
  if (sub) {
    if (!v->IsObject()) return std::nullopt;
    auto jt = v->FindMember(sub);
    if (jt == v->MemberEnd()) return std::nullopt;
    v = &jt->value;
  }
  if (!v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

std::optional<std::int64_t> int_at(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

class Report {
 public:
  explicit Report(std::string by) : by_(std::move(by)) {}

  void add_line(const std::string& text) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) return;
    ++counts_.read;
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    if (d.HasParseError() || !d.IsObject()) return skip();
    if (!d.HasMember("eventType")) {  // a sumo-emulator --record object
      auto msg = string_at(d, "message");
      if (!msg) return skip();
      rapidjson::Document inner;
      inner.Parse(msg->data(), msg->size());
      if (inner.HasParseError() || !inner.IsObject()) return skip();
      return add(inner);
    }
    add(d);
  }

  const Counts& counts() const { return counts_; }

  // Rows by group (byte order), then the total.
  std::vector<std::pair<std::string, std::vector<Stats>>> rows() const {
    std::map<std::string, std::vector<const Alert*>> groups;
    std::vector<const Alert*> all;
    for (const auto& [id, a] : alerts_) {
      groups[a.group.value_or("(none)")].push_back(&a);
      all.push_back(&a);
    }
    std::vector<std::pair<std::string, std::vector<Stats>>> out;
    for (const auto& [g, list] : groups) out.emplace_back(g, row(list));
    out.emplace_back("(all)", row(all));
    return out;
  }

 private:
  void skip() { ++counts_.skipped; }

  static std::vector<Stats> row(const std::vector<const Alert*>& list) {
    std::vector<std::int64_t> tta, ttr;
    Stats created;
    for (const auto* a : list) {
      if (a->created) ++created.n;
      if (a->tta) tta.push_back(*a->tta);
      if (a->ttr) ttr.push_back(*a->ttr);
    }
    return {created, stats_of(tta), stats_of(ttr)};
  }

  void add(const rapidjson::Value& line) {
    const auto type = string_at(line, "eventType");
    if (type && *type == "ilert-sumo-invalid-payload") {
      ++counts_.invalid;
      return;
    }
    const auto id = string_at(line, "id");
    const auto dedup = string_at(line, "dedupId");
    if (!type || !id || !dedup) return skip();
    if (!seen_.insert(*dedup).second) {
      ++counts_.duplicates;
      return;
    }
    ++counts_.counted;
    Alert& a = alerts_[*id];
    if (!a.group) {
      if (by_ == "source")
        a.group = string_at(line, "alertSource", "name");
      else if (by_ == "policy")
        a.group = string_at(line, "escalationPolicy", "name");
      else
        a.group = string_at(line, "priority");
    }
    if (*type == "alert-created") a.created = true;
    if (*type == "alert-acknowledged") {
      if (auto v = int_at(line, "ttaMs")) a.tta = a.tta ? std::min(*a.tta, *v) : *v;
    }
    if (*type == "alert-resolved" || *type == "alert-auto-resolved") {
      if (auto v = int_at(line, "ttrMs")) a.ttr = a.ttr ? std::max(*a.ttr, *v) : *v;
    }
  }

  std::string by_;
  Counts counts_;
  std::set<std::string> seen_;
  std::map<std::string, Alert> alerts_;
};

std::string seconds(const Stats& s, bool p90) {
  if (s.n == 0) return "-";
  const std::int64_t ms = p90 ? s.p90 : s.mean;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03llds", static_cast<long long>(ms / 1000), static_cast<long long>(ms % 1000));
  return buf;
}

void print_text(const Report& r, const std::string& by) {
  const auto rows = r.rows();
  std::size_t w = by.size();
  for (const auto& row : rows) w = std::max(w, row.first.size());
  const int kw = static_cast<int>(w);
  std::printf("%-*s  %7s  %8s  %10s  %10s  %8s  %10s  %10s\n", kw, by.c_str(), "created", "accepted", "mtta_mean",
              "mtta_p90", "resolved", "mttr_mean", "mttr_p90");
  for (const auto& [g, s] : rows) {
    std::printf("%-*s  %7llu  %8llu  %10s  %10s  %8llu  %10s  %10s\n", kw, g.c_str(),
                static_cast<unsigned long long>(s[0].n), static_cast<unsigned long long>(s[1].n),
                seconds(s[1], false).c_str(), seconds(s[1], true).c_str(), static_cast<unsigned long long>(s[2].n),
                seconds(s[2], false).c_str(), seconds(s[2], true).c_str());
  }
  const Counts& c = r.counts();
  std::printf("lines: %llu read, %llu counted, %llu duplicates, %llu invalid payloads, %llu skipped\n",
              static_cast<unsigned long long>(c.read), static_cast<unsigned long long>(c.counted),
              static_cast<unsigned long long>(c.duplicates), static_cast<unsigned long long>(c.invalid),
              static_cast<unsigned long long>(c.skipped));
}

void print_json(const Report& r, const std::string& by) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto stat = [&](const char* n, const char* mean, const char* p90, const Stats& s) {
    w.Key(n);
    w.Uint64(s.n);
    w.Key(mean);
    if (s.n)
      w.Int64(s.mean);
    else
      w.Null();
    w.Key(p90);
    if (s.n)
      w.Int64(s.p90);
    else
      w.Null();
  };
  w.StartObject();
  w.Key("by");
  w.String(by.c_str());
  w.Key("rows");
  w.StartArray();
  for (const auto& [g, s] : r.rows()) {
    w.StartObject();
    w.Key("key");
    w.String(g.c_str(), static_cast<rapidjson::SizeType>(g.size()));
    w.Key("created");
    w.Uint64(s[0].n);
    stat("accepted", "mttaMeanMs", "mttaP90Ms", s[1]);
    stat("resolved", "mttrMeanMs", "mttrP90Ms", s[2]);
    w.EndObject();
  }
  w.EndArray();
  const Counts& c = r.counts();
  w.Key("lines");
  w.StartObject();
  w.Key("read");
  w.Uint64(c.read);
  w.Key("counted");
  w.Uint64(c.counted);
  w.Key("duplicates");
  w.Uint64(c.duplicates);
  w.Key("invalid");
  w.Uint64(c.invalid);
  w.Key("skipped");
  w.Uint64(c.skipped);
  w.EndObject();
  w.EndObject();
  std::printf("%s\n", buf.GetString());
}

}  // namespace

int main(int argc, char** argv) {
  std::string by = "source";
  bool json = false;
  std::vector<std::string> files;
  CLI::App app(
      "Reads ilert-sumo lines (NDJSON, or a sumo-emulator --record file) from FILEs or standard\n"
      "input ('-') and prints per group: alerts created, MTTA mean and p90, MTTR mean and p90.\n"
      "Duplicates (same dedupId) count once; invalid-payload lines are skipped.");
  ilert_sumo_cli::configure(app, kProgram, ilert_sumo::version());
  app.add_option("--by", by,
                 "Group by source (alertSource.name, the default), policy (escalationPolicy.name) or "
                 "priority")
      ->type_name("KEY")
      ->check(CLI::IsMember({"source", "policy", "priority"}).description(""));
  app.add_flag("--json", json, "One JSON object instead of the text table");
  app.add_option("FILE", files, "Input files ('-' or none: standard input)");
  app.footer("Exit status: 0 ok, 1 a file could not be read, 2 usage error.");
  if (const auto exit_code = ilert_sumo_cli::parse(app, argc, argv)) return *exit_code;
  if (files.empty()) files.push_back("-");
  Report report(by);
  int status = 0;
  std::string line;
  for (const auto& f : files) {
    if (f == "-") {
      while (std::getline(std::cin, line)) report.add_line(line);
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s: %s: cannot read\n", kProgram, ilert_sumo_cli::without_controls(f).c_str());
      status = 1;
      continue;
    }
    while (std::getline(in, line)) report.add_line(line);
  }
  if (json)
    print_json(report, by);
  else
    print_text(report, by);
  return status;
}
