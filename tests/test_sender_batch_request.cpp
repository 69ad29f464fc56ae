// tests/test_sender_batch_request.cpp: a sender batch becomes one request
// (src/sender/batch_request.hpp): the body is the lines in queue order, the report counts lines
// from 0 across batches and names the truncated ones, each metadata set gets its own headers,
// and the body is compressed once with the sender's codec.
#include <string>
#include <vector>

#include "delivery/compress.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "sender/batch_request.hpp"
#include "support/catch.hpp"

using namespace ilert_sumo;
using detail::BatchRequests;
using detail::QueueEntry;

namespace {

std::vector<QueueEntry> entries(std::vector<std::string> lines,
                                std::size_t truncated_at = static_cast<std::size_t>(-1)) {
  std::vector<QueueEntry> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    QueueEntry e;
    e.line = std::move(lines[i]);
    e.truncated = i == truncated_at;
    out.push_back(std::move(e));
  }
  return out;
}

const std::string* header(const std::vector<HttpHeader>& headers, const std::string& name) {
  for (const HttpHeader& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

SumoConfig config(Compression codec) {
  SumoConfig c;
  c.url = "https://collectors.sumologic.com/receiver/v1/http/ZaVnC4dhaV1bXr2c3d4e5f6";
  c.compression = codec;
  c.metadata.category = "ilert/alerts";
  return c;
}

}  // namespace

TEST_CASE("sender batch request: lines in order, indexes across batches, truncated lines counted", "[unit][sender]") {
  const SumoConfig cfg = config(Compression::none);
  auto compressor = detail::Compressor::create(Compression::none);
  REQUIRE(compressor);
  BatchRequests requests(cfg, detail::build_request_headers(cfg, cfg.metadata), std::move(compressor.value()));

  auto first = requests.build(entries({"{\"a\":1}\n", "{\"a\":2}\n", "{\"a\":3}\n"}, 1), 0, cfg.metadata);
  REQUIRE(first.request);
  CHECK(first.request->raw == "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  CHECK(first.request->wire() == first.request->raw);
  CHECK(first.request->first_index == 0);
  CHECK(first.request->events == 3);
  CHECK(first.request->truncated_events == 1);
  CHECK(first.unsent.first_index == 0);
  CHECK(first.unsent.events == 3);
  CHECK(first.unsent.raw_bytes == first.request->raw.size());
  CHECK(first.unsent.truncated_events == 1);
  CHECK_FALSE(first.unsent.delivered);

  auto second = requests.build(entries({"{\"b\":1}\n", "{\"b\":2}\n"}), 0, cfg.metadata);
  REQUIRE(second.request);
  CHECK(second.request->first_index == 3);  // after the first batch's three lines
  CHECK(second.unsent.first_index == 3);
  CHECK(second.request->truncated_events == 0);
}

TEST_CASE("sender batch request: each metadata set has its own headers", "[unit][sender]") {
  const SumoConfig cfg = config(Compression::none);
  auto compressor = detail::Compressor::create(Compression::none);
  REQUIRE(compressor);
  BatchRequests requests(cfg, detail::build_request_headers(cfg, cfg.metadata), std::move(compressor.value()));
  SumoMetadata other;
  other.category = "ilert/other";
  other.host = "relay-2";

  auto a = requests.build(entries({"{}\n"}), 0, cfg.metadata);
  auto b = requests.build(entries({"{}\n"}), 1, other);
  auto a2 = requests.build(entries({"{}\n"}), 0, cfg.metadata);
  REQUIRE(a.request);
  REQUIRE(b.request);
  REQUIRE(a2.request);
  REQUIRE(header(a.request->headers, "X-Sumo-Category"));
  CHECK(*header(a.request->headers, "X-Sumo-Category") == "ilert/alerts");
  CHECK(header(a.request->headers, "X-Sumo-Host") == nullptr);
  REQUIRE(header(b.request->headers, "X-Sumo-Category"));
  CHECK(*header(b.request->headers, "X-Sumo-Category") == "ilert/other");
  REQUIRE(header(b.request->headers, "X-Sumo-Host"));
  CHECK(*header(b.request->headers, "X-Sumo-Host") == "relay-2");
  REQUIRE(header(a2.request->headers, "X-Sumo-Category"));
  CHECK(*header(a2.request->headers, "X-Sumo-Category") == "ilert/alerts");
}

TEST_CASE("sender batch request: the body is compressed once with the sender's codec", "[unit][sender]") {
  const SumoConfig cfg = config(Compression::gzip);
  auto compressor = detail::Compressor::create(Compression::gzip, 6);
  REQUIRE(compressor);
  BatchRequests requests(cfg, detail::build_request_headers(cfg, cfg.metadata), std::move(compressor.value()));
  std::vector<std::string> lines(50, std::string(200, 'x') + "\n");
  auto built = requests.build(entries(lines), 0, cfg.metadata);
  REQUIRE(built.request);
  CHECK(built.request->codec == Compression::gzip);
  REQUIRE(built.request->compressed.size() > 2);
  CHECK(static_cast<unsigned char>(built.request->compressed[0]) == 0x1f);  // gzip magic
  CHECK(static_cast<unsigned char>(built.request->compressed[1]) == 0x8b);
  CHECK(built.request->compressed.size() < built.request->raw.size() / 10);
  CHECK(built.request->wire() == built.request->compressed);
  REQUIRE(header(built.request->headers, "Content-Encoding"));
  CHECK(*header(built.request->headers, "Content-Encoding") == "gzip");
}
