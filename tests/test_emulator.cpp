// tests/test_emulator.cpp [emulator]: the local Sumo emulator (tests/support/sumo_emulator.*) and
// the sumo-emulator program, driven with a raw httplib::Client, never through the library: decoding
// of each codec, authentication, Sumo's limits, fault injection, clean shutdown, the NDJSON record.
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/catch.hpp"
#include "support/codecs.hpp"
#include "support/fixtures.hpp"
#include "support/sumo_emulator.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using ilert_sumo::test::EmulatorConfig;
using ilert_sumo::test::Fault;
using ilert_sumo::test::SumoEmulator;

namespace {

const char* const kCode = "TestCode-0123456789abcdef==";
const char* const kToken = "test-token-ABCDEF";

EmulatorConfig test_config() {
  EmulatorConfig c;
  c.code = kCode;
  c.token = kToken;
  return c;
}

std::string code_path() { return std::string("/receiver/v1/http/") + kCode; }

struct Poster {
  explicit Poster(int port) : client("127.0.0.1", port) {
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(10, 0);
    client.set_write_timeout(10, 0);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
  }
  httplib::Result post(const std::string& body, httplib::Headers headers = {}, const std::string& path = code_path()) {
    return client.Post(path.c_str(), headers, body, "text/plain");
  }
  httplib::Client client;
};

std::string lines_body(const std::vector<std::string>& lines) {
  std::string body;
  for (const auto& l : lines) {
    body += l;
    body.push_back('\n');
  }
  return body;
}

}  // namespace

TEST_CASE("emulator decodes identity, gzip, deflate and zstd bodies to the lines sent", "[component][emulator]") {
  SumoEmulator emu;
  const int port = emu.start(test_config());
  REQUIRE(port > 0);
  Poster p(port);

  const std::vector<std::string> lines = {R"({"eventType":"alert-created","n":1})", "second line with ünïcödé ✓", "",
                                          "  spaced  ", R"({"n":5})"};
  const std::string body = lines_body(lines);

  struct Case {
    const char* encoding;
    std::string wire;
  };
  std::vector<Case> cases = {{"", body},
                             {"identity", body},
                             {"gzip", ilert_sumo::test::gzip_compress(body, 6)},
                             {"deflate", ilert_sumo::test::zlib_compress(body, 6)}};
  if (ilert_sumo::test::have_zstd()) cases.push_back({"zstd", ilert_sumo::test::zstd_compress(body, 3)});

  for (const auto& c : cases) {
    DYNAMIC_SECTION("encoding '" << c.encoding << "'") {
      httplib::Headers h = {{"X-Sumo-Category", "prod/ilert"},
                            {"X-Sumo-Name", "ilert-webhooks"},
                            {"X-Sumo-Host", "relay-1"},
                            {"X-Sumo-Fields", "team=sre,env=prod"}};
      if (*c.encoding != '\0') h.emplace("Content-Encoding", c.encoding);
      auto res = p.post(c.wire, h);
      REQUIRE(res);
      CHECK(res->status == 200);
      CHECK(emu.message_texts() == lines);
      const auto msgs = emu.messages();
      REQUIRE(msgs.size() == lines.size());
      for (const auto& m : msgs) {
        CHECK(m.seq == 1);
        CHECK(m.category == "prod/ilert");
        CHECK(m.name == "ilert-webhooks");
        CHECK(m.host == "relay-1");
        CHECK(m.fields == "team=sre,env=prod");
        CHECK(m.encoding == (*c.encoding ? std::string(c.encoding) : std::string("identity")));
      }
      const auto reqs = emu.requests();
      REQUIRE(reqs.size() == 1);
      // The raw (compressed) bytes reached the emulator: httplib did not inflate them on the way.
      CHECK(reqs[0].wire_bytes == c.wire.size());
      CHECK(reqs[0].decoded_bytes == body.size());
      CHECK(reqs[0].lines == lines.size());
      CHECK(reqs[0].route == "code");
    }
  }
}

TEST_CASE("emulator accepts several gzip members and several zstd frames in one body", "[component][emulator]") {
  SumoEmulator emu;
  Poster p(emu.start(test_config()));
  const std::string wire = ilert_sumo::test::gzip_compress("a\n") + ilert_sumo::test::gzip_compress("b\n");
  auto res = p.post(wire, {{"Content-Encoding", "gzip"}});
  REQUIRE(res);
  CHECK(res->status == 200);
  if (ilert_sumo::test::have_zstd()) {
    const std::string z = ilert_sumo::test::zstd_compress("c\n") + ilert_sumo::test::zstd_compress("d\n");
    res = p.post(z, {{"Content-Encoding", "zstd"}});
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(emu.message_texts() == std::vector<std::string>{"a", "b", "c", "d"});
  } else {
    CHECK(emu.message_texts() == std::vector<std::string>{"a", "b"});
  }
}

TEST_CASE("emulator checks the URL code and the x-sumo-token", "[component][emulator]") {
  SumoEmulator emu;
  Poster p(emu.start(test_config()));

  struct Case {
    const char* what;
    httplib::Headers headers;
    std::string path;
  };
  const std::vector<Case> refused = {
      {"wrong code", {}, "/receiver/v1/http/not-the-code"},
      {"code with a suffix", {}, code_path() + "x"},
      {"token endpoint without a token", {}, "/receiver/v1/http"},
      {"token endpoint with a wrong token", {{"x-sumo-token", "nope"}}, "/receiver/v1/http"},
      {"the code is not a token", {{"x-sumo-token", kCode}}, "/receiver/v1/http"},
  };
  for (const auto& c : refused) {
    INFO(c.what);
    auto res = p.post("x\n", c.headers, c.path);
    REQUIRE(res);
    CHECK(res->status == 401);
  }
  CHECK(emu.count() == 0);
  for (const auto& q : emu.requests()) CHECK(q.status == 401);

  // The right token is accepted (header name in any case).
  auto res = p.post("x\n", {{"X-Sumo-Token", kToken}}, "/receiver/v1/http");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(emu.count() == 1);
  CHECK(emu.requests().back().route == "token");
}

TEST_CASE("an emulator configured without a token refuses the token endpoint", "[component][emulator]") {
  SumoEmulator emu;
  EmulatorConfig c = test_config();
  c.token.clear();
  Poster p(emu.start(c));
  auto res = p.post("x\n", {{"x-sumo-token", ""}}, "/receiver/v1/http");
  REQUIRE(res);
  CHECK(res->status == 401);
}

TEST_CASE("emulator enforces 1 MiB decoded, without inflating a bomb", "[component][emulator]") {
  SumoEmulator emu;
  Poster p(emu.start(test_config()));
  const std::size_t mib = 1024 * 1024;

  SECTION("exactly 1 MiB identity is accepted") {
    std::string body(mib - 1, 'a');
    body.push_back('\n');
    auto res = p.post(body);
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(emu.count() == 1);
  }
  SECTION("1 MiB + 1 identity -> 413") {
    std::string body(mib, 'a');
    body.push_back('\n');
    auto res = p.post(body);
    REQUIRE(res);
    CHECK(res->status == 413);
  }
  SECTION("a small gzip body that inflates past 1 MiB -> 413") {
    const std::string wire = ilert_sumo::test::gzip_compress(std::string(64 * mib, 'a'), 9);
    CHECK(wire.size() < 128 * 1024);
    auto res = p.post(wire, {{"Content-Encoding", "gzip"}});
    REQUIRE(res);
    CHECK(res->status == 413);
  }
  SECTION("deflate and zstd bodies over 1 MiB decoded -> 413") {
    const std::string big(mib + 10, 'b');
    auto res = p.post(ilert_sumo::test::zlib_compress(big), {{"Content-Encoding", "deflate"}});
    REQUIRE(res);
    CHECK(res->status == 413);
    if (ilert_sumo::test::have_zstd()) {
      res = p.post(ilert_sumo::test::zstd_compress(big), {{"Content-Encoding", "zstd"}});
      REQUIRE(res);
      CHECK(res->status == 413);
    }
  }
  CHECK(emu.count() <= 1);
  // The connection is still usable after a rejection.
  auto res = p.post("after\n");
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("a wire body over the wire limit is refused and the connection closed", "[component][emulator]") {
  SumoEmulator emu;
  EmulatorConfig c = test_config();
  c.max_wire_bytes = 64 * 1024;
  Poster p(emu.start(c));
  auto res = p.post(std::string(200 * 1024, 'z'));
  REQUIRE(res);
  CHECK(res->status == 413);
  res = p.post("ok\n");
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("emulator rejects invalid UTF-8 and corrupt or unknown encodings", "[component][emulator]") {
  SumoEmulator emu;
  Poster p(emu.start(test_config()));

  for (const std::string& bad : {std::string("\xff\n"), std::string("ok\n\xc0\xaf\n"), std::string("\xed\xa0\x80\n"),
                                 std::string("\xf4\x90\x80\x80\n"), std::string("cut \xe2\x82")}) {
    auto res = p.post(bad);
    REQUIRE(res);
    CHECK(res->status == 400);
  }
  const std::string body = "hello\n";
  auto gz = ilert_sumo::test::gzip_compress(body);
  auto truncated = gz.substr(0, gz.size() - 6);
  auto res = p.post(truncated, {{"Content-Encoding", "gzip"}});
  REQUIRE(res);
  CHECK(res->status == 400);
  res = p.post(body, {{"Content-Encoding", "gzip"}});  // not gzip at all
  REQUIRE(res);
  CHECK(res->status == 400);
  res = p.post(ilert_sumo::test::raw_deflate_compress(body), {{"Content-Encoding", "deflate"}});
  REQUIRE(res);
  CHECK(res->status == 400);  // HTTP deflate is zlib-wrapped
  res = p.post(ilert_sumo::test::zlib_compress(body) + "junk", {{"Content-Encoding", "deflate"}});
  REQUIRE(res);
  CHECK(res->status == 400);
  res = p.post(body, {{"Content-Encoding", "br"}});
  REQUIRE(res);
  CHECK(res->status == 415);
  res = p.post(body, {{"Content-Encoding", "gzip, zstd"}});
  REQUIRE(res);
  CHECK(res->status == 415);
  if (ilert_sumo::test::have_zstd()) {
    auto z = ilert_sumo::test::zstd_compress(body);
    res = p.post(z.substr(0, z.size() - 2), {{"Content-Encoding", "zstd"}});
    REQUIRE(res);
    CHECK(res->status == 400);
  }
  CHECK(emu.count() == 0);
  res = p.post(gz, {{"Content-Encoding", "GZIP"}});  // content codings are case-insensitive
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(emu.message_texts() == std::vector<std::string>{"hello"});
}

TEST_CASE("UTF-8 validator", "[unit][emulator]") {
  using ilert_sumo::test::is_valid_utf8;
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii, long enough for the 8-byte fast path"));
  CHECK(is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));                      // U+10FFFF
  CHECK_FALSE(is_valid_utf8("\x80"));
  CHECK_FALSE(is_valid_utf8("\xc1\xbf"));          // overlong
  CHECK_FALSE(is_valid_utf8("\xe0\x9f\xbf"));      // overlong
  CHECK_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf"));  // overlong
  CHECK_FALSE(is_valid_utf8("\xed\xbf\xbf"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  CHECK_FALSE(is_valid_utf8("abcdefgh\xe2\x82"));  // truncated at the end
  CHECK_FALSE(is_valid_utf8("\xe2\x28\xa1"));      // bad continuation
}

TEST_CASE("fault sequences: counted statuses, Retry-After, then success", "[component][emulator]") {
  SumoEmulator emu;
  EmulatorConfig c = test_config();
  c.retry_after_seconds = 7;
  Poster p(emu.start(c));
  emu.fail_next(Fault::http(429), 2);
  emu.fail_next(Fault::http(503), 1);
  emu.fail_next(Fault::http(401), 1);

  auto r1 = p.post("a\n");
  auto r2 = p.post("a\n");
  auto r3 = p.post("a\n");
  auto r4 = p.post("a\n");
  auto r5 = p.post("a\n");
  REQUIRE((r1 && r2 && r3 && r4 && r5));
  CHECK(r1->status == 429);
  CHECK(r1->get_header_value("Retry-After") == "7");
  CHECK(r2->status == 429);
  CHECK(r3->status == 503);
  CHECK(r4->status == 401);
  CHECK(r5->status == 200);
  CHECK(emu.count() == 1);
  const auto reqs = emu.requests();
  REQUIRE(reqs.size() == 5);
  for (std::size_t i = 0; i < reqs.size(); ++i) CHECK(reqs[i].seq == i + 1);
  CHECK(reqs[0].reason == "injected 429");
  const auto counters = emu.counters();
  CHECK(counters.by_status.at(429) == 2);
  CHECK(counters.by_status.at(200) == 1);

  emu.set_retry_after(1);
  emu.fail_next(Fault::http(429));
  auto r6 = p.post("a\n");
  REQUIRE(r6);
  CHECK(r6->get_header_value("Retry-After") == "1");
}

TEST_CASE("time-window fault: statuses cycle for the duration, then success", "[component][emulator]") {
  SumoEmulator emu;
  Poster p(emu.start(test_config()));
  emu.fail_for({429, 503}, 300ms);
  const auto start = std::chrono::steady_clock::now();
  std::vector<int> statuses;
  // Bounded: at most 10 000 requests, stops at the first success.
  for (int i = 0; i < 10000; ++i) {
    auto r = p.post("w\n");
    REQUIRE(r);
    statuses.push_back(r->status);
    if (r->status == 200) break;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(statuses.size() >= 3);
  CHECK(statuses.back() == 200);
  CHECK(statuses[0] == 429);
  CHECK(statuses[1] == 503);
  CHECK(elapsed >= 300ms);
  CHECK(emu.count() == 1);
}

TEST_CASE("injected reset: the client gets a transport error, nothing is recorded", "[component][emulator]") {
  SumoEmulator emu;
  Poster p(emu.start(test_config()));
  emu.fail_next(Fault::reset(), 2);
  auto r1 = p.post("lost\n");
  CHECK_FALSE(r1);
  auto r2 = p.post("lost\n");
  CHECK_FALSE(r2);
  auto r3 = p.post("kept\n");
  REQUIRE(r3);
  CHECK(r3->status == 200);
  CHECK(emu.message_texts() == std::vector<std::string>{"kept"});
  const auto reqs = emu.requests();
  REQUIRE(reqs.size() >= 3);
  CHECK(reqs[0].status == 0);
  CHECK(reqs[0].reason == "injected reset");
  CHECK(emu.counters().resets == 2);
}

TEST_CASE("delay: answers after the delay, stop() interrupts a long delay", "[component][emulator]") {
  SumoEmulator emu;
  Poster p(emu.start(test_config()));
  emu.set_delay(200ms);
  auto t0 = std::chrono::steady_clock::now();
  auto r = p.post("slow\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(std::chrono::steady_clock::now() - t0 >= 200ms);

  emu.set_delay(std::chrono::minutes(10));
  std::thread client([port = emu.port()] {
    Poster q(port);
    auto res = q.post("never answered in time\n");
    (void)res;
  });
  // Wait until the request is inside its delay (it has been counted but not answered).
  REQUIRE(ilert_sumo::test::wait_until([&] { return emu.counters().requests == 2; }, 5s));
  t0 = std::chrono::steady_clock::now();
  emu.stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  client.join();
  CHECK(emu.count() == 1);
}

TEST_CASE("stop() does not wait for idle keep-alive connections", "[component][emulator]") {
  SumoEmulator emu;
  EmulatorConfig c = test_config();
  c.keep_alive_timeout_seconds = 60;
  Poster p(emu.start(c));
  auto r = p.post("x\n");
  REQUIRE(r);
  const auto t0 = std::chrono::steady_clock::now();
  emu.stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
}

TEST_CASE("warnings: a 200 with a body on demand and for more than 30 fields", "[component][emulator]") {
  SumoEmulator emu;
  Poster p(emu.start(test_config()));
  emu.set_warning(std::string(R"({"warning":"test"})"));
  auto r = p.post("w\n");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == R"({"warning":"test"})");
  emu.clear_faults();
  r = p.post("w\n");
  REQUIRE(r);
  CHECK(r->body.empty());

  std::string fields;
  for (int i = 0; i < 31; ++i) fields += (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  r = p.post("w\n", {{"X-Sumo-Fields", fields}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.find("dropped") != std::string::npos);
  CHECK(emu.count() == 3);
}

TEST_CASE("concurrent clients: every message recorded once, sequence numbers unique", "[component][emulator]") {
  SumoEmulator emu;
  const int port = emu.start(test_config());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Poster p(port);
      for (int i = 0; i < kPerThread; ++i) {
        auto r = p.post("t" + std::to_string(t) + "-" + std::to_string(i) + "\n");
        if (r && r->status == 200) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok == kThreads * kPerThread);
  REQUIRE(emu.wait_for_messages(kThreads * kPerThread, 5s));
  const auto texts = emu.message_texts();
  CHECK(std::set<std::string>(texts.begin(), texts.end()).size() == texts.size());
  std::set<std::uint64_t> seqs;
  for (const auto& q : emu.requests()) seqs.insert(q.seq);
  CHECK(seqs.size() == kThreads * kPerThread);
}

TEST_CASE("NDJSON record lines round-trip and render readably", "[unit][emulator]") {
  ilert_sumo::test::RecordedMessage m;
  m.seq = 42;
  m.category = "prod/ilert";
  m.fields = "a=b";
  m.encoding = "gzip";
  m.message = std::string("{\"q\":\"x\\\\y\"} tab\there ctrl\x01 del\x7f é 😀");
  const std::string line = ilert_sumo::test::to_ndjson(m);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.rfind(R"({"seq":42,"category":"prod/ilert",)", 0) == 0);
  const auto back = ilert_sumo::test::parse_ndjson(line);
  REQUIRE(back);
  CHECK(back->seq == 42);
  CHECK(back->category == m.category);
  CHECK(back->fields == m.fields);
  CHECK(back->encoding == m.encoding);
  CHECK(back->message == m.message);
  CHECK(ilert_sumo::test::to_readable(*back) == "[prod/ilert] " + m.message);
  m.category.clear();
  CHECK(ilert_sumo::test::to_readable(m).rfind("[-] ", 0) == 0);
  CHECK_FALSE(ilert_sumo::test::parse_ndjson("not json"));
  CHECK_FALSE(ilert_sumo::test::parse_ndjson(R"({"message":"x"} trailing)"));
  CHECK(ilert_sumo::test::parse_ndjson(R"({"message":"\ud83d\ude00"})")->message == "😀");
  CHECK_FALSE(ilert_sumo::test::parse_ndjson(R"({"message":"\ude00"})"));
}

TEST_CASE("the sumo-emulator program: port line, record file, faults, --exit-after", "[program][emulator]") {
  const std::string bin = ilert_sumo::test::bin_path("sumo-emulator");
  REQUIRE(std::ifstream(bin).good());
  const std::string record =
      (std::filesystem::temp_directory_path() / ("emulator-record-" + std::to_string(::getpid()) + ".ndjson")).string();
  std::remove(record.c_str());
  // `timeout` bounds the run if the program misbehaves.
  const std::string cmd =
      "timeout 60 '" + bin + "' --port 0 --code prog-code --record " + record + " --fail 503x1 --exit-after 2 --quiet";
  FILE* out = popen(cmd.c_str(), "r");
  REQUIRE(out != nullptr);
  char buf[256] = {};
  REQUIRE(std::fgets(buf, sizeof buf, out) != nullptr);
  const std::string first(buf);
  REQUIRE(first.rfind("listening on 127.0.0.1:", 0) == 0);
  const int port = std::atoi(first.c_str() + std::string("listening on 127.0.0.1:").size());
  REQUIRE(port > 0);

  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(10, 0);
  auto r = cli.Post("/receiver/v1/http/prog-code", {{"X-Sumo-Category", "cat"}}, "one\ntwo\n", "text/plain");
  REQUIRE(r);
  CHECK(r->status == 503);
  r = cli.Post("/receiver/v1/http/wrong", "x\n", "text/plain");
  REQUIRE(r);
  CHECK(r->status == 401);
  r = cli.Post("/receiver/v1/http/prog-code", {{"X-Sumo-Category", "cat"}},
               ilert_sumo::test::gzip_compress("one\ntwo\n"), "text/plain");
  // gzip without the header is not UTF-8: 400. Then send it properly.
  REQUIRE(r);
  CHECK(r->status == 400);
  r = cli.Post("/receiver/v1/http/prog-code", {{"X-Sumo-Category", "cat"}, {"Content-Encoding", "gzip"}},
               ilert_sumo::test::gzip_compress("one\ntwo\n"), "text/plain");
  REQUIRE(r);
  CHECK(r->status == 200);
  r = cli.Post("/receiver/v1/http/prog-code", {{"X-Sumo-Name", "n"}}, "three\n", "text/plain");
  REQUIRE(r);
  CHECK(r->status == 200);

  std::string rest;
  while (std::fgets(buf, sizeof buf, out) != nullptr) rest += buf;
  const int status = pclose(out);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  std::ifstream in(record);
  std::vector<ilert_sumo::test::RecordedMessage> got;
  std::string line;
  while (std::getline(in, line)) {
    auto m = ilert_sumo::test::parse_ndjson(line);
    REQUIRE(m);
    got.push_back(*m);
  }
  REQUIRE(got.size() == 3);
  CHECK(got[0].message == "one");
  CHECK(got[0].category == "cat");
  CHECK(got[0].encoding == "gzip");
  CHECK(got[0].seq == 4);
  CHECK(got[1].message == "two");
  CHECK(got[2].message == "three");
  CHECK(got[2].name == "n");
  std::remove(record.c_str());
}

TEST_CASE("the sumo-emulator program rejects bad flags with exit status 2", "[program][emulator]") {
  const std::string bin = ilert_sumo::test::bin_path("sumo-emulator");
  for (const char* args : {"--fail 429", "--fail 99x1", "--fail-for 429", "--delay abc", "--bogus", "--pretty",
                           "--port 70000", "--fail-for 429:5h"}) {
    const std::string cmd = "timeout 20 '" + bin + "' " + args + " >/dev/null 2>&1";
    const int status = std::system(cmd.c_str());
    INFO(args);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
  }
}

TEST_CASE("decode_after_answer: acknowledged at once, decoded afterwards, nothing lost at stop",
          "[component][emulator]") {
  SumoEmulator emu;
  EmulatorConfig c = test_config();
  c.decode_after_answer = true;
  Poster p(emu.start(c));
  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) {
    const std::string body = "r" + std::to_string(i) + "-a\nr" + std::to_string(i) + "-b\n";
    expected.push_back("r" + std::to_string(i) + "-a");
    expected.push_back("r" + std::to_string(i) + "-b");
    auto r = p.post(ilert_sumo::test::gzip_compress(body), {{"Content-Encoding", "gzip"}});
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  // A corrupt body is acknowledged too (like Sumo), and recorded with the status it would have had.
  auto r = p.post("not gzip", {{"Content-Encoding", "gzip"}});
  REQUIRE(r);
  CHECK(r->status == 200);
  // Faults and authentication still apply before the answer.
  emu.fail_next(Fault::http(503));
  r = p.post("x\n");
  REQUIRE(r);
  CHECK(r->status == 503);
  r = p.post("x\n", {}, "/receiver/v1/http/wrong");
  REQUIRE(r);
  CHECK(r->status == 401);

  REQUIRE(emu.wait_for_messages(100, 10s));
  CHECK(emu.message_texts() == expected);
  emu.stop();
  const auto counters = emu.counters();
  CHECK(counters.messages == 100);
  CHECK(counters.by_status.at(400) == 1);
}
