// tests/test_config.cpp [config]: finalize() as a table of good and bad configs with their exact
// error codes and the setting each message names; codec names; metadata equality; redact_url,
// redact and to_string, and that no secret (URL code, token, passwords) appears in any message.
#include <functional>
#include <string>
#include <vector>

#include "delivery/compress.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "support/catch.hpp"

using namespace ilert_sumo;
using namespace std::chrono_literals;

namespace {

constexpr const char* kCode = "ZaVnC4dhaV39Tn37ZZ1RHd6wKw1pdmOQz1I0FjXZ8vFHu4IlC2lmvfJQdRPQ9qw==";
constexpr const char* kToken = "tok-3f9a1c77e0b24d6a8b5c";
constexpr const char* kKeyPassword = "k3yPa55w0rd!";
constexpr const char* kProxyPassword = "pr0xyPa55";

std::string presigned_url() {
  return std::string("https://endpoint4.collection.sumologic.com/receiver/v1/http/") + kCode;
}

SumoConfig base() {
  SumoConfig c;
  c.url = presigned_url();
  return c;
}

struct Case {
  const char* name;
  std::function<void(SumoConfig&)> change;
  ErrorCode expected;            // ErrorCode::ok = must finalize
  const char* message_contains;  // for failures: the setting named
};

void require_no_secret(const std::string& text) {
  INFO(text);
  CHECK(text.find(kCode) == std::string::npos);
  CHECK(text.find(std::string(kCode).substr(2, 20)) == std::string::npos);
  CHECK(text.find(kToken) == std::string::npos);
  CHECK(text.find(kKeyPassword) == std::string::npos);
  CHECK(text.find(kProxyPassword) == std::string::npos);
}

std::vector<SumoField> n_fields(std::size_t n) {
  std::vector<SumoField> f;
  for (std::size_t i = 0; i < n; ++i) f.push_back({"k" + std::to_string(i), "v"});
  return f;
}

}  // namespace

TEST_CASE("finalize accepts and rejects configs by table", "[unit][config]") {
  const std::vector<Case> cases = {
      {"defaults with a presigned URL", [](SumoConfig&) {}, ErrorCode::ok, ""},
      {"endpoint URL with token",
       [](SumoConfig& c) {
         c.url = "https://endpoint4.collection.sumologic.com/receiver/v1/http";
         c.token = kToken;
       },
       ErrorCode::ok, ""},
      {"any path with a token",
       [](SumoConfig& c) {
         c.url = "https://collect.example.com:8443/";
         c.token = kToken;
       },
       ErrorCode::ok, ""},
      {"http loopback when allowed",
       [](SumoConfig& c) {
         c.url = "http://127.0.0.1:8080/receiver/v1/http/abc";
         c.allow_insecure_http = true;
       },
       ErrorCode::ok, ""},
      {"IPv6 host",
       [](SumoConfig& c) {
         c.url = "http://[::1]:9000/receiver/v1/http/abc";
         c.allow_insecure_http = true;
       },
       ErrorCode::ok, ""},
      {"upper-case scheme", [](SumoConfig& c) { c.url = std::string("HTTPS://h.example/receiver/v1/http/") + kCode; },
       ErrorCode::ok, ""},
      {"full metadata",
       [](SumoConfig& c) {
         c.metadata = {"prod/ilert",
                       "ilert-webhooks",
                       "relay-1",
                       {{"env", "prod"}, {"team_name", "sre"}, {"svc.tier-1", "gold"}, {"_origin", "Zürich ☃"}}};
       },
       ErrorCode::ok, ""},
      {"30 fields", [](SumoConfig& c) { c.metadata.fields = n_fields(30); }, ErrorCode::ok, ""},
      {"max batch and levels",
       [](SumoConfig& c) {
         c.batch.max_bytes = 1024 * 1024;
         c.compression = Compression::deflate;
         c.compression_level = 1;
       },
       ErrorCode::ok, ""},
      {"no compression", [](SumoConfig& c) { c.compression = Compression::none; }, ErrorCode::ok, ""},
      {"budget zero = one attempt", [](SumoConfig& c) { c.retry.budget = 0ms; }, ErrorCode::ok, ""},
      {"connect_timeout above request_timeout",
       [](SumoConfig& c) {
         c.connect_timeout = 2s;
         c.request_timeout = 250ms;
       },
       ErrorCode::ok, ""},
      {"proxy",
       [](SumoConfig& c) { c.http.proxy = std::string("http://user:") + kProxyPassword + "@proxy.local:3128"; },
       ErrorCode::ok, ""},
      {"spool with dir",
       [](SumoConfig& c) {
         c.spool.dir = "/tmp/x";
         c.spool.mode = SpoolMode::write_ahead;
         c.queue.overflow = OverflowPolicy::spill;
       },
       ErrorCode::ok, ""},

      {"empty url", [](SumoConfig& c) { c.url.clear(); }, ErrorCode::invalid_url, "url is empty"},
      {"not a URL", [](SumoConfig& c) { c.url = "endpoint4.collection.sumologic.com/receiver/v1/http/abc"; },
       ErrorCode::invalid_url, "absolute URL"},
      {"ftp scheme", [](SumoConfig& c) { c.url = "ftp://h.example/receiver/v1/http/abc"; }, ErrorCode::invalid_url,
       "scheme must be https"},
      {"http without flag", [](SumoConfig& c) { c.url = "http://h.example/receiver/v1/http/abc"; },
       ErrorCode::insecure_url, "allow_insecure_http"},
      {"no host", [](SumoConfig& c) { c.url = "https:///receiver/v1/http/abc"; }, ErrorCode::invalid_url, "no host"},
      {"bad port", [](SumoConfig& c) { c.url = "https://h.example:99999/receiver/v1/http/abc"; },
       ErrorCode::invalid_url, "port"},
      {"space in URL", [](SumoConfig& c) { c.url = "https://h.example/receiver/v1/http/ab c"; }, ErrorCode::invalid_url,
       "whitespace"},
      {"not presigned and no token", [](SumoConfig& c) { c.url = "https://h.example/receiver/v1/http"; },
       ErrorCode::invalid_url, "presigned"},
      {"empty code", [](SumoConfig& c) { c.url = "https://h.example/receiver/v1/http/"; }, ErrorCode::invalid_url,
       "presigned"},
      {"token with newline", [](SumoConfig& c) { c.token = std::string(kToken) + "\r\nX: y"; },
       ErrorCode::invalid_header_value, "token"},
      {"category with LF", [](SumoConfig& c) { c.metadata.category = "a\nb"; }, ErrorCode::invalid_header_value,
       "metadata.category"},
      {"name with NUL", [](SumoConfig& c) { c.metadata.name = std::string("a\0b", 3); },
       ErrorCode::invalid_header_value, "metadata.name"},
      {"host not UTF-8", [](SumoConfig& c) { c.metadata.host = "h\xff"; }, ErrorCode::invalid_header_value,
       "metadata.host"},
      {"category trailing space", [](SumoConfig& c) { c.metadata.category = "prod "; }, ErrorCode::invalid_header_value,
       "metadata.category"},
      {"31 fields", [](SumoConfig& c) { c.metadata.fields = n_fields(31); }, ErrorCode::too_many_fields,
       "metadata.fields"},
      {"key with space",
       [](SumoConfig& c) {
         c.metadata.fields = {{"ok", "1"}, {"ok2", "2"}, {"ok3", "3"}, {"a b", "v"}};
       },
       ErrorCode::invalid_field, "metadata.fields[3].key \"a b\""},
      {"empty key",
       [](SumoConfig& c) {
         c.metadata.fields = {{"", "v"}};
       },
       ErrorCode::invalid_field, "metadata.fields[0].key"},
      {"key starts with digit",
       [](SumoConfig& c) {
         c.metadata.fields = {{"1abc", "v"}};
       },
       ErrorCode::invalid_field, "metadata.fields[0].key \"1abc\""},
      {"key with =",
       [](SumoConfig& c) {
         c.metadata.fields = {{"a=b", "v"}};
       },
       ErrorCode::invalid_field, "metadata.fields[0].key"},
      {"key too long",
       [](SumoConfig& c) {
         c.metadata.fields = {{std::string(256, 'k'), "v"}};
       },
       ErrorCode::invalid_field, "255"},
      {"duplicate key ignoring case",
       [](SumoConfig& c) {
         c.metadata.fields = {{"Env", "a"}, {"env", "b"}};
       },
       ErrorCode::invalid_field, "metadata.fields[1].key \"env\""},
      {"value with comma",
       [](SumoConfig& c) {
         c.metadata.fields = {{"env", "a,b"}};
       },
       ErrorCode::invalid_field, "metadata.fields[0].value of \"env\""},
      {"value with equals",
       [](SumoConfig& c) {
         c.metadata.fields = {{"env", "a=b"}};
       },
       ErrorCode::invalid_field, "no escape"},
      {"empty value",
       [](SumoConfig& c) {
         c.metadata.fields = {{"env", ""}};
       },
       ErrorCode::invalid_field, "metadata.fields[0].value"},
      {"value with CR",
       [](SumoConfig& c) {
         c.metadata.fields = {{"env", "a\rb"}};
       },
       ErrorCode::invalid_field, "metadata.fields[0].value"},
      {"value too long",
       [](SumoConfig& c) {
         c.metadata.fields = {{"env", std::string(201, 'v')}};
       },
       ErrorCode::invalid_field, "200"},
      {"batch.max_bytes 0", [](SumoConfig& c) { c.batch.max_bytes = 0; }, ErrorCode::invalid_config, "batch.max_bytes"},
      {"batch.max_bytes over 1 MiB", [](SumoConfig& c) { c.batch.max_bytes = 1024 * 1024 + 1; },
       ErrorCode::invalid_config, "batch.max_bytes"},
      {"batch.max_events 0", [](SumoConfig& c) { c.batch.max_events = 0; }, ErrorCode::invalid_config,
       "batch.max_events"},
      {"batch.max_age 0", [](SumoConfig& c) { c.batch.max_age = 0ms; }, ErrorCode::invalid_config, "batch.max_age"},
      {"initial_backoff 0", [](SumoConfig& c) { c.retry.initial_backoff = 0ms; }, ErrorCode::invalid_config,
       "retry.initial_backoff"},
      {"max_backoff below initial", [](SumoConfig& c) { c.retry.max_backoff = 100ms; }, ErrorCode::invalid_config,
       "retry.max_backoff"},
      {"negative budget", [](SumoConfig& c) { c.retry.budget = -1ms; }, ErrorCode::invalid_config, "retry.budget"},
      {"request_timeout 0", [](SumoConfig& c) { c.request_timeout = 0ms; }, ErrorCode::invalid_config,
       "request_timeout"},
      {"request_timeout 61s", [](SumoConfig& c) { c.request_timeout = 61s; }, ErrorCode::invalid_config,
       "request_timeout"},
      {"connect_timeout 61s", [](SumoConfig& c) { c.connect_timeout = 61s; }, ErrorCode::invalid_config,
       "connect_timeout"},
      {"connect_timeout 0", [](SumoConfig& c) { c.connect_timeout = 0ms; }, ErrorCode::invalid_config,
       "connect_timeout"},
      {"gzip level 13", [](SumoConfig& c) { c.compression_level = 13; }, ErrorCode::invalid_config,
       "compression_level"},
      {"gzip level -2", [](SumoConfig& c) { c.compression_level = -2; }, ErrorCode::invalid_config,
       "compression_level"},
      {"zstd level 23",
       [](SumoConfig& c) {
         c.compression = Compression::zstd;
         c.compression_level = 23;
       },
       compression_available(Compression::zstd) ? ErrorCode::invalid_config : ErrorCode::unsupported_compression,
       "compression"},
      {"queue.max_bytes 0", [](SumoConfig& c) { c.queue.max_bytes = 0; }, ErrorCode::invalid_config, "queue.max_bytes"},
      {"enqueue_timeout negative", [](SumoConfig& c) { c.queue.enqueue_timeout = -1ms; }, ErrorCode::invalid_config,
       "queue.enqueue_timeout"},
      {"spool mode without dir", [](SumoConfig& c) { c.spool.mode = SpoolMode::overflow; }, ErrorCode::invalid_config,
       "spool.dir"},
      {"spill without spool", [](SumoConfig& c) { c.queue.overflow = OverflowPolicy::spill; },
       ErrorCode::invalid_config, "queue.overflow"},
      {"tiny segment", [](SumoConfig& c) { c.spool.segment_bytes = 100; }, ErrorCode::invalid_config,
       "spool.segment_bytes"},
      {"spool cap below segment", [](SumoConfig& c) { c.spool.max_bytes = 1024; }, ErrorCode::invalid_config,
       "spool.max_bytes"},
      {"user agent with LF", [](SumoConfig& c) { c.http.user_agent = "ua\n"; }, ErrorCode::invalid_header_value,
       "http.user_agent"},
      {"proxy bad scheme", [](SumoConfig& c) { c.http.proxy = std::string("ftp://u:") + kProxyPassword + "@p:1"; },
       ErrorCode::invalid_url, "http.proxy"},
      {"proxy not a URL", [](SumoConfig& c) { c.http.proxy = "proxy.local"; }, ErrorCode::invalid_url, "http.proxy"},
  };
  for (const Case& tc : cases) {
    SECTION(tc.name) {
      SumoConfig c = base();
      c.http.client_key_password = kKeyPassword;
      tc.change(c);
      const auto finalized = finalize(c);
      if (tc.expected == ErrorCode::ok) {
        INFO((finalized ? std::string() : finalized.error().to_string()));
        REQUIRE(finalized.has_value());
        CHECK(finalized->config().url == c.url);
        require_no_secret(finalized->redacted_url());
      } else {
        REQUIRE_FALSE(finalized.has_value());
        const Error& e = finalized.error();
        INFO(e.message);
        CHECK(e.code == tc.expected);
        CHECK(e.message.find(tc.message_contains) != std::string::npos);
        require_no_secret(e.message);
        require_no_secret(e.to_string());
      }
    }
  }
}

TEST_CASE("finalize never echoes a secret, wherever it was pasted", "[unit][config]") {
  SumoConfig c = base();
  c.token = kToken;
  c.http.client_key_password = kKeyPassword;
  SECTION("secret inside a bad metadata value") {
    c.metadata.fields = {{"env", std::string(kToken) + ",x"}};
    const auto r = finalize(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::invalid_field);
    require_no_secret(r.error().message);
  }
  SECTION("secret straddling the cut of a long quoted value") {
    c.metadata.fields = {{"env", std::string(190, 'a') + kToken + ","}};
    const auto r = finalize(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::invalid_field);
    CHECK(r.error().message.find(std::string(kToken).substr(0, 8)) == std::string::npos);
  }
  SECTION("bad URL that carries the code") {
    c.url = std::string("http://h.example/receiver/v1/http/") + kCode;
    const auto r = finalize(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::insecure_url);
    CHECK(r.error().message.find("http://h.example/receiver/v1/http/Za***") != std::string::npos);
    require_no_secret(r.error().message);
  }
  SECTION("password in the URL") {
    c.url = std::string("ftp://user:") + kKeyPassword + "@h.example/x";
    const auto r = finalize(c);
    REQUIRE_FALSE(r);
    require_no_secret(r.error().message);
  }
}

TEST_CASE("compression names and availability", "[unit][config]") {
  CHECK(std::string(to_string(Compression::none)) == "none");
  CHECK(std::string(to_string(Compression::gzip)) == "gzip");
  CHECK(std::string(to_string(Compression::deflate)) == "deflate");
  CHECK(std::string(to_string(Compression::zstd)) == "zstd");
  for (const Compression c : {Compression::none, Compression::gzip, Compression::deflate, Compression::zstd}) {
    const auto parsed = parse_compression(to_string(c));
    REQUIRE(parsed);
    CHECK(*parsed == c);
  }
  CHECK(*parse_compression("GZIP") == Compression::gzip);
  const auto bad = parse_compression("brotli");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::invalid_config);
  CHECK(bad.error().message.find("brotli") != std::string::npos);
  CHECK(compression_available(Compression::none));
  CHECK(compression_available(Compression::gzip));
  CHECK(compression_available(Compression::deflate));
}

TEST_CASE("metadata equality and validate_metadata", "[unit][config]") {
  SumoMetadata a{"cat", "name", "host", {{"k", "v"}}};
  SumoMetadata b = a;
  CHECK(a == b);
  b.fields[0].value = "w";
  CHECK(a != b);
  b = a;
  b.host = "other";
  CHECK(a != b);
  b = a;
  b.fields.push_back({"k2", "v2"});
  CHECK(a != b);
  CHECK(validate_metadata(a));
  CHECK(validate_metadata(SumoMetadata{}));
  const auto bad = validate_metadata(SumoMetadata{"", "", "", {{"a b", "v"}}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::invalid_field);
  CHECK(bad.error().message.rfind("metadata.fields[0].key \"a b\": ", 0) == 0);
}

TEST_CASE("redact_url masks the code, passwords, query values and fragments", "[unit][config]") {
  struct Row {
    std::string in;
    std::string out;
  };
  const std::vector<Row> rows = {
      {presigned_url(), "https://endpoint4.collection.sumologic.com/receiver/v1/http/Za***"},
      {"https://h/receiver/v1/http/short", "https://h/receiver/v1/http/***"},
      {"https://h/RECEIVER/V1/HTTP/abcdefghijklmnopqrstuvwxyz", "https://h/RECEIVER/V1/HTTP/ab***"},
      {"https://h/receiver/v1/http", "https://h/receiver/v1/http"},
      {"https://user:secret@h:8443/p", "https://user:***@h:8443/***"},
      {"https://tokenonly@h/p", "https://***@h/***"},
      {"https://h/p?a=1&b=&c&d=xyz", "https://h/***?a=***&b=&***&d=***"},
      {"https://user:secret@proxy.example:3128", "https://user:***@proxy.example:3128"},
      {"https://collect.example.com:8443/", "https://collect.example.com:8443/"},
      {"https://h/receiver/v1/http/abcdefghijklmnopqrstuvwxyz?x=1#frag", "https://h/receiver/v1/http/ab***?x=***#***"},
      {"no scheme/receiver/v1/http/abcdefghijklmnopqrstuvwxyz", "***/receiver/v1/http/ab***"},
      // Not the presigned form: every segment outside Sumo's documented path is masked.
      {"https://h/receiver/v2/http/abcdefghijklmnopqrstuvwxyz", "https://h/receiver/***/http/***"},
      {"https://h/abcdefghijklmnopqrstuvwxyz/receiver", "https://h/***/receiver"},
      {"h.example/receiver/v1/http/abcdefghijklmnopqrstuvwxyz", "h.example/receiver/v1/http/ab***"},
      {"h.example/x/abcdefghijklmnopqrstuvwxyz", "h.example/***/***"},
      {"abcdefghijklmnopqrstuvwxyz", "***"},
      {"", ""},
  };
  for (const Row& r : rows) {
    INFO(r.in);
    CHECK(redact_url(r.in) == r.out);
  }
}

TEST_CASE("redact and to_string hide every secret", "[unit][config]") {
  SumoConfig c = base();
  c.token = kToken;
  c.http.client_key_password = kKeyPassword;
  c.http.proxy = std::string("http://proxyuser:") + kProxyPassword + "@proxy.local:3128";
  c.metadata.category = "cat";
  const std::string text = std::string("failed POST ") + c.url + " with token " + kToken + " code " + kCode +
                           " keypass " + kKeyPassword + " proxy " + c.http.proxy + " bare " + kProxyPassword;
  const std::string redacted = redact(text, c);
  require_no_secret(redacted);
  CHECK(redacted.find("https://endpoint4.collection.sumologic.com/receiver/v1/http/Za***") != std::string::npos);
  CHECK(redacted.find("proxyuser:***@proxy.local:3128") != std::string::npos);
  CHECK(redact("nothing secret here", c) == "nothing secret here");

  const std::string s = to_string(c);
  INFO(s);
  require_no_secret(s);
  CHECK(s.find("url=\"https://endpoint4.collection.sumologic.com/receiver/v1/http/Za***\"") != std::string::npos);
  CHECK(s.find("token=***") != std::string::npos);
  CHECK(s.find("client_key_password=***") != std::string::npos);
  CHECK(s.find("category=\"cat\"") != std::string::npos);
  CHECK(s.find("compression=gzip") != std::string::npos);

  // A secret pasted into an ordinary setting is masked too.
  c.metadata.name = kToken;
  require_no_secret(to_string(c));

  const auto finalized = finalize(c);
  REQUIRE(finalized);
  CHECK(finalized->redacted_url() == "https://endpoint4.collection.sumologic.com/receiver/v1/http/Za***");
}

TEST_CASE("compression level ranges match the compiled codecs", "[unit][config]") {
  const detail::LevelRange gz = detail::compression_level_range(Compression::gzip);
  CHECK(gz.min == 0);
  CHECK(gz.max == (detail::have_libdeflate() ? 12 : 9));
  SumoConfig c = base();
  c.compression_level = gz.max;
  CHECK(finalize(c));
  c.compression_level = gz.max + 1;
  CHECK_FALSE(finalize(c));
  if (compression_available(Compression::zstd)) {
    c.compression = Compression::zstd;
    c.compression_level = 19;
    CHECK(finalize(c));
    c.compression_level = 0;
    CHECK_FALSE(finalize(c));
  }
}
