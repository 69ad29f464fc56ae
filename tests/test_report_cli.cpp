// tests/test_report_cli.cpp [cli]: runs the built `ilert-sumo-report` on tests/fixtures/lines and
// compares its exact output with values computed by hand (see the fixture's alerts below).
//
// lifecycle.ndjson: alert 1 (Prometheus, Database on-call, HIGH): created twice (same dedupId),
// accepted twice (ttaMs 60000, 120000: the first accept counts), resolved (ttrMs 300000); alert 2
// (same group): created, accepted (30000), resolved twice with the same dedupId (100000); alert 3
// (same group): created, auto-resolved without accept (50000); alert 4 (Heartbeat, Backups, LOW):
// created, accepted (10000), resolved (20000, inside a sumo-emulator --record object); one
// invalid-payload line; one line that is not JSON.
// Prometheus: created 3; MTTA of {60000, 30000}: mean 45000, p90 rank ceil(0.9*2)=2 -> 60000;
// MTTR of {300000, 100000, 50000}: mean 150000, p90 rank 3 -> 300000. All: MTTA {10000, 30000,
// 60000}: mean 33333.3 -> 33333, p90 rank 3 -> 60000; MTTR {20000, 50000, 100000, 300000}: mean
// 117500, p90 rank ceil(3.6)=4 -> 300000.
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "support/catch.hpp"
#include "support/fixtures.hpp"

using namespace ilert_sumo;

namespace {

struct Run {
  std::string out;
  int status = -1;
};

Run run(const std::string& args) {
  Run r;
  const std::string cmd = "'" + test::bin_path("ilert-sumo-report") + "' " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string fixture() { return "'" + test::fixture_path("lines/lifecycle.ndjson") + "'"; }

}  // namespace

TEST_CASE("ilert-sumo-report: the core table by source, policy, priority", "[program][cli]") {
  SECTION("by source (default)") {
    const Run r = run(fixture());
    CHECK(r.status == 0);
    CHECK(r.out ==
          "source      created  accepted   mtta_mean    mtta_p90  resolved   mttr_mean    mttr_p90\n"
          "Heartbeat         1         1     10.000s     10.000s         1     20.000s     20.000s\n"
          "Prometheus        3         2     45.000s     60.000s         3    150.000s    300.000s\n"
          "(all)             4         3     33.333s     60.000s         4    117.500s    300.000s\n"
          "lines: 16 read, 12 counted, 2 duplicates, 1 invalid payloads, 1 skipped\n");
  }
  SECTION("by policy") {
    const Run r = run("--by policy " + fixture());
    CHECK(r.status == 0);
    CHECK(r.out ==
          "policy            created  accepted   mtta_mean    mtta_p90  resolved   mttr_mean    mttr_p90\n"
          "Backups                 1         1     10.000s     10.000s         1     20.000s     20.000s\n"
          "Database on-call        3         2     45.000s     60.000s         3    150.000s    300.000s\n"
          "(all)                   4         3     33.333s     60.000s         4    117.500s    300.000s\n"
          "lines: 16 read, 12 counted, 2 duplicates, 1 invalid payloads, 1 skipped\n");
  }
  SECTION("by priority, from standard input") {
    const Run r = run("--by priority < " + fixture());
    CHECK(r.status == 0);
    CHECK(r.out ==
          "priority  created  accepted   mtta_mean    mtta_p90  resolved   mttr_mean    mttr_p90\n"
          "HIGH            3         2     45.000s     60.000s         3    150.000s    300.000s\n"
          "LOW             1         1     10.000s     10.000s         1     20.000s     20.000s\n"
          "(all)           4         3     33.333s     60.000s         4    117.500s    300.000s\n"
          "lines: 16 read, 12 counted, 2 duplicates, 1 invalid payloads, 1 skipped\n");
  }
  SECTION("--json, milliseconds") {
    const Run r = run("--json " + fixture());
    CHECK(r.status == 0);
    CHECK(
        r.out ==
        R"J({"by":"source","rows":[)J"
        R"J({"key":"Heartbeat","created":1,"accepted":1,"mttaMeanMs":10000,"mttaP90Ms":10000,"resolved":1,"mttrMeanMs":20000,"mttrP90Ms":20000},)J"
        R"J({"key":"Prometheus","created":3,"accepted":2,"mttaMeanMs":45000,"mttaP90Ms":60000,"resolved":3,"mttrMeanMs":150000,"mttrP90Ms":300000},)J"
        R"J({"key":"(all)","created":4,"accepted":3,"mttaMeanMs":33333,"mttaP90Ms":60000,"resolved":4,"mttrMeanMs":117500,"mttrP90Ms":300000}],)J"
        R"J("lines":{"read":16,"counted":12,"duplicates":2,"invalid":1,"skipped":1}})J"
        "\n");
  }
  SECTION("usage errors and unreadable files") {
    CHECK(run("--by team " + fixture()).status == 2);
    CHECK(run("--bogus").status == 2);
    CHECK(run("/nonexistent/lines.ndjson").status == 1);
  }
}
