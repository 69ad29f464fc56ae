// tests/test_compress.cpp [compress]: the private Compressor (src/delivery/compress.hpp). Every codec and
// backend round-trips through an independent decoder (zlib inflate in strict gzip / zlib mode,
// libzstd), emits the right container format, and keeps working when its context is reused.
// Also the hidden [.compress-bench] case that produced docs/perf/compress.md.
#include <zlib.h>
#ifdef ILERT_SUMO_HAVE_ZSTD
#include <zstd.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "delivery/compress.hpp"
#include "ilert_sumo/parse.hpp"
#include "ilert_sumo/sumo_line.hpp"
#include "support/catch.hpp"
#include "support/fixtures.hpp"

using namespace ilert_sumo;
using detail::Compressor;
using detail::DeflateBackend;

namespace {

/// Inflates with zlib; window_bits 15+16 accepts only gzip, 15 only the zlib format.
std::string inflate_strict(const std::string& data, int window_bits) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, window_bits) == Z_OK);
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc != Z_STREAM_END);
  const uLong left = zs.avail_in;
  inflateEnd(&zs);
  REQUIRE(rc == Z_STREAM_END);
  REQUIRE(left == 0);  // no trailing garbage
  return out;
}

std::string decode(Compression codec, const std::string& data) {
  switch (codec) {
    case Compression::gzip: return inflate_strict(data, 15 + 16);
    case Compression::deflate: return inflate_strict(data, 15);
    case Compression::zstd: {
#ifdef ILERT_SUMO_HAVE_ZSTD
      const unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
      REQUIRE(size != ZSTD_CONTENTSIZE_ERROR);
      REQUIRE(size != ZSTD_CONTENTSIZE_UNKNOWN);
      std::string out(static_cast<std::size_t>(size), '\0');
      const std::size_t n = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
      REQUIRE(ZSTD_isError(n) == 0U);
      out.resize(n);
      return out;
#else
      FAIL("zstd not compiled in");
      return {};
#endif
    }
    case Compression::none: return data;
  }
  return {};
}

void check_container(Compression codec, const std::string& out) {
  REQUIRE(out.size() >= 4);
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(out[i]); };
  switch (codec) {
    case Compression::gzip:
      CHECK(b(0) == 0x1f);
      CHECK(b(1) == 0x8b);
      break;
    case Compression::deflate:  // RFC 1950 header: CM=8, check bits
      CHECK((b(0) & 0x0f) == 8);
      CHECK((b(0) * 256 + b(1)) % 31 == 0);
      break;
    case Compression::zstd:
      CHECK(b(0) == 0x28);
      CHECK(b(1) == 0xb5);
      CHECK(b(2) == 0x2f);
      CHECK(b(3) == 0xfd);
      break;
    case Compression::none: break;
  }
}

/// Realistic request bodies: Sumo lines of the valid fixtures, with ids, summaries and details
/// varied (random words, 100..700 bytes) so nothing repeats exactly.
std::string sumo_lines(std::size_t bytes) {
  static const char* const kWords[] = {"disk",    "latency", "p99",     "checkout", "kafka",  "lag",
                                       "orders",  "db-01",   "timeout", "5xx",      "login",  "backup",
                                       "cpu",     "memory",  "pod",     "restart",  "node-7", "eu-west-1",
                                       "payment", "queue",   "depth",   "error",    "rate",   "api-gw"};
  std::vector<Event> events;
  for (const std::string& path : test::list_fixtures("valid")) {
    auto e = parse_event(test::read_file(path));
    if (e) events.push_back(std::move(e).value());
  }
  REQUIRE_FALSE(events.empty());
  std::mt19937_64 rng(42);
  std::string out;
  std::size_t i = 0;
  while (out.size() < bytes) {
    Event e = events[i++ % events.size()];
    std::visit(
        [&](auto& ev) {
          ev.alert.id = static_cast<std::int64_t>(rng() >> 20);
          ev.alert.event_id = std::to_string(rng());
          if (ev.alert.summary) *ev.alert.summary += " #" + std::to_string(i);
          std::string details;
          const std::size_t want = 100 + rng() % 600;
          while (details.size() < want) {
            details += kWords[rng() % (sizeof kWords / sizeof kWords[0])];
            details += rng() % 9 == 0 ? "\n" : " ";
            if (rng() % 5 == 0) details += std::to_string(rng() % 100000);
          }
          ev.alert.details = details;
        },
        e);
    append_sumo_line(out, e);
    out += '\n';
  }
  out.resize(bytes);
  return out;
}

std::string random_bytes(std::size_t n) {
  std::mt19937 rng(7);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

std::vector<Compression> codecs() {
  std::vector<Compression> v = {Compression::gzip, Compression::deflate};
  if (compression_available(Compression::zstd)) v.push_back(Compression::zstd);
  return v;
}

}  // namespace

TEST_CASE("every codec and backend round-trips", "[component][compress]") {
  const std::vector<std::string> inputs = {
      std::string(), "x", "one line\n", sumo_lines(200 * 1024), random_bytes(70000), std::string(1024 * 1024, 'a')};
  for (const Compression codec : codecs()) {
    const detail::LevelRange range = detail::compression_level_range(codec);
    std::vector<DeflateBackend> backends = {DeflateBackend::automatic};
    if (codec != Compression::zstd) {
      backends.push_back(DeflateBackend::zlib);
      if (detail::have_libdeflate()) backends.push_back(DeflateBackend::libdeflate);
    }
    for (const DeflateBackend backend : backends) {
      for (const int level : {-1, 1, range.max}) {
        const int max = backend == DeflateBackend::zlib ? 9 : range.max;
        const int lvl = std::min(level, max);
        auto made = Compressor::create(codec, lvl, backend);
        INFO(to_string(codec) << " level " << lvl << " backend " << static_cast<int>(backend));
        REQUIRE(made);
        Compressor c = std::move(made).value();
        CHECK(c.codec() == codec);
        CHECK(c.level() == (lvl == -1 ? detail::default_compression_level(codec) : lvl));
        std::string out;
        for (int round = 0; round < 2; ++round) {  // the second round reuses the context
          for (const std::string& in : inputs) {
            INFO("input of " << in.size() << " bytes, round " << round);
            REQUIRE(c.compress(in, out));
            check_container(codec, out);
            CHECK(decode(codec, out) == in);
          }
        }
      }
    }
  }
}

TEST_CASE("compressor choice, defaults and errors", "[unit][compress]") {
  CHECK(detail::default_compression_level(Compression::gzip) == 6);
  CHECK(detail::default_compression_level(Compression::deflate) == 6);
  CHECK(detail::default_compression_level(Compression::zstd) == 3);

  auto gz = Compressor::create(Compression::gzip);
  REQUIRE(gz);
  CHECK(gz->implementation().rfind(detail::have_libdeflate() ? "libdeflate " : "zlib ", 0) == 0);
  auto forced = Compressor::create(Compression::deflate, 6, DeflateBackend::zlib);
  REQUIRE(forced);
  CHECK(forced->implementation().rfind("zlib ", 0) == 0);

  auto none = Compressor::create(Compression::none);
  REQUIRE(none);
  std::string out;
  REQUIRE(none->compress("abc", out));
  CHECK(out == "abc");

  const auto too_high = Compressor::create(Compression::gzip, 13);
  REQUIRE_FALSE(too_high);
  CHECK(too_high.error().code == ErrorCode::invalid_config);
  const auto zlib_too_high = Compressor::create(Compression::gzip, 10, DeflateBackend::zlib);
  REQUIRE_FALSE(zlib_too_high);
  CHECK(zlib_too_high.error().code == ErrorCode::invalid_config);
  if (compression_available(Compression::zstd)) {
    auto z = Compressor::create(Compression::zstd, -1);
    REQUIRE(z);
    CHECK(z->level() == 3);
    CHECK(z->implementation().rfind("zstd ", 0) == 0);
    CHECK_FALSE(Compressor::create(Compression::zstd, 0));
  } else {
    const auto z = Compressor::create(Compression::zstd);
    REQUIRE_FALSE(z);
    CHECK(z.error().code == ErrorCode::unsupported_compression);
  }
}

// Run on demand (Release build): build-delivery/bin/ilert_sumo_tests "[.compress-bench]" -s
TEST_CASE("compression throughput on Sumo lines", "[.compress-bench]") {
  const std::string corpus = sumo_lines(8 * 1024 * 1024);
  constexpr std::size_t kBatch = 1024 * 1024;  // one request: Sumo's 1 MiB cap
  struct Config {
    Compression codec;
    int level;
    DeflateBackend backend;
  };
  std::vector<Config> configs = {{Compression::gzip, 1, DeflateBackend::zlib},
                                 {Compression::gzip, 6, DeflateBackend::zlib},
                                 {Compression::deflate, 1, DeflateBackend::zlib},
                                 {Compression::deflate, 6, DeflateBackend::zlib}};
  if (detail::have_libdeflate()) {
    configs.push_back({Compression::gzip, 1, DeflateBackend::libdeflate});
    configs.push_back({Compression::gzip, 6, DeflateBackend::libdeflate});
    configs.push_back({Compression::deflate, 1, DeflateBackend::libdeflate});
    configs.push_back({Compression::deflate, 6, DeflateBackend::libdeflate});
  }
  if (compression_available(Compression::zstd)) {
    configs.push_back({Compression::zstd, 1, DeflateBackend::automatic});
    configs.push_back({Compression::zstd, 3, DeflateBackend::automatic});
  }
  std::vector<Compressor> compressors;
  for (const Config& cfg : configs) {
    auto made = Compressor::create(cfg.codec, cfg.level, cfg.backend);
    REQUIRE(made);
    compressors.push_back(std::move(made).value());
  }
  // Round robin: every repetition runs each configuration once, so a noisy neighbour slows all
  // of them alike and the comparison stays fair.
  constexpr int kReps = 15;
  std::vector<std::vector<double>> rates(configs.size());
  std::vector<double> ratios(configs.size());
  std::string out;
  for (int rep = 0; rep < kReps; ++rep) {
    for (std::size_t k = 0; k < compressors.size(); ++k) {
      std::size_t in_total = 0;
      std::size_t out_total = 0;
      const auto start = std::chrono::steady_clock::now();
      for (std::size_t off = 0; off < corpus.size(); off += kBatch) {
        const std::string_view batch = std::string_view(corpus).substr(off, kBatch);
        REQUIRE(compressors[k].compress(batch, out));
        in_total += batch.size();
        out_total += out.size();
      }
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      rates[k].push_back(static_cast<double>(in_total) / 1e6 / took.count());
      ratios[k] = static_cast<double>(in_total) / static_cast<double>(out_total);
    }
  }
  std::printf("%-8s %-5s %-18s %12s %10s %8s\n", "codec", "level", "implementation", "median MB/s", "best MB/s",
              "ratio");
  for (std::size_t k = 0; k < configs.size(); ++k) {
    std::sort(rates[k].begin(), rates[k].end());
    std::printf("%-8s %-5d %-18s %12.1f %10.1f %8.2f\n", to_string(configs[k].codec), configs[k].level,
                compressors[k].implementation().c_str(), rates[k][rates[k].size() / 2], rates[k].back(), ratios[k]);
  }
}
