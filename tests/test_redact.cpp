// tests/test_redact.cpp [redact]: the one redactor (src/config/redact.hpp) masks secrets where they stand
// as secrets, never inside ordinary words: with one- and two-character codes, tokens and
// passwords, ordinary messages ("receiver", "retry_budget_exhausted", "Couldn't connect") come
// out intact while the secret is masked in its URL, header and credential positions; long secrets
// are still masked anywhere; URL credentials and header values are masked even when unknown;
// masking twice changes nothing; real libcurl errors through SumoClient stay readable.
#include <string>
#include <vector>

#include "config/redact.hpp"
#include "ilert_sumo/sumo_client.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "support/catch.hpp"
#include "support/net.hpp"

using namespace ilert_sumo;
using namespace std::chrono_literals;

namespace {

/// Text that a substring replacement of any of the short secrets below would mangle.
const std::string kOrdinary =
    "retry_budget_exhausted: HTTP 503 from receiver; Couldn't connect to server, "
    "x-sumo-fields accepted, about absent abilities, a bad request, code c, passwords";

SumoConfig short_secrets(const std::string& code, const std::string& token = "", const std::string& password = "") {
  SumoConfig c;
  c.url = "https://collectors.example.com/receiver/v1/http/" + code;
  c.token = token;
  c.http.client_key_password = password;
  if (!password.empty()) c.http.proxy = "http://proxyuser:" + password + "@proxy.example:3128";
  return c;
}

}  // namespace

TEST_CASE("redact: one- and two-character secrets never mangle ordinary words", "[unit][redact]") {
  for (const std::string secret : {"c", "e", "x", "a", "ab", "re", "ss"}) {
    INFO("secret: " << secret);
    const SumoConfig c = short_secrets(secret, secret, secret);
    CHECK(redact(kOrdinary, c) == kOrdinary);
    CHECK(redact("receiver", c) == "receiver");
    CHECK(redact(secret, c) == secret);  // a bare word is not a secret position
  }
}

TEST_CASE("redact: a short secret is masked in its URL, header and credential positions", "[unit][redact]") {
  const SumoConfig c = short_secrets("c", "x", "ab");
  SECTION("the code in the presigned URL, and around it the message intact") {
    const std::string text = "POST https://collectors.example.com/receiver/v1/http/c: HTTP 503 from receiver";
    CHECK(redact(text, c) == "POST https://collectors.example.com/receiver/v1/http/***: HTTP 503 from receiver");
  }
  SECTION("the code after /receiver/v1/http/ without a scheme") {
    CHECK(redact("collectors.example.com/receiver/v1/http/c (retry_budget_exhausted)", c) ==
          "collectors.example.com/receiver/v1/http/*** (retry_budget_exhausted)");
  }
  SECTION("the code as a whole path segment of another URL, not as part of one") {
    CHECK(redact("see https://h.example/c/receiver and https://h.example/cc", c) ==
          "see https://h.example/***/receiver and https://h.example/cc");
  }
  SECTION("the token as a header value") {
    CHECK(redact("sent x-sumo-token: x to the receiver", c) == "sent x-sumo-token: *** to the receiver");
    CHECK(redact("X-Sumo-Token:x", c) == "X-Sumo-Token:***");
  }
  SECTION("the proxy password in the proxy URL, also as libcurl quotes it") {
    CHECK(redact("Unsupported proxy syntax in 'http://proxyuser:ab@proxy.example:3128': about absent", c) ==
          "Unsupported proxy syntax in 'http://proxyuser:***@proxy.example:3128': about absent");
  }
  SECTION("to_string shows every setting readable and no secret") {
    const std::string s = to_string(c);
    INFO(s);
    CHECK(s.find("url=\"https://collectors.example.com/receiver/v1/http/***\"") != std::string::npos);
    CHECK(s.find("token=***") != std::string::npos);
    CHECK(s.find("client_key_password=***") != std::string::npos);
    CHECK(s.find("proxy=\"http://proxyuser:***@proxy.example:3128\"") != std::string::npos);
    CHECK(s.find("compression=gzip") != std::string::npos);
    CHECK(s.find("overflow=block") != std::string::npos);
  }
}

TEST_CASE("redact: finalize's messages stay readable with one-character secrets", "[unit][redact]") {
  SumoConfig c = short_secrets("s", "e");
  c.url = "ftp://collectors.example.com/receiver/v1/http/s";
  auto r = finalize(c);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "url \"ftp://collectors.example.com/receiver/v1/http/***\": scheme must be https");

  c = short_secrets("s", "e");
  c.http.user_agent = "agent\x01";
  r = finalize(c);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("http.user_agent \"agent\\x01\": contains the control character 0x01 at byte 5") == 0);

  c = short_secrets("s", "e", "pw");
  c.http.proxy = "http://u:pw@proxy.example:3128/path";
  r = finalize(c);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("http.proxy \"http://u:***@proxy.example:3128/***\": a proxy URL is") == 0);
  CHECK(r.error().message.find(":pw@") == std::string::npos);
}

TEST_CASE("redact: longer secrets are masked as whole words, long ones anywhere", "[unit][redact]") {
  SumoConfig c = short_secrets("c");
  c.token = "password";                                // 8: whole words only
  c.http.client_key_password = "0123456789abcdefXYZ";  // 19: anywhere
  CHECK(redact("the password is wrong", c) == "the *** is wrong");
  CHECK(redact("passwords and apassword stay", c) == "passwords and apassword stay");
  CHECK(redact("key=0123456789abcdefXYZ;", c) == "key=***;");
  CHECK(redact("glued0123456789abcdefXYZglued", c) == "glued***glued");
  // A long code is shown with its first two characters, also where it is echoed bare.
  SumoConfig long_code = short_secrets("ZaVnC4dhaV39Tn37ZZ1RHd6wKw1pdmOQz1I0FjXZ8vFHu4IlC2lmvfJQdRPQ9qw==");
  CHECK(redact("invalid code ZaVnC4dhaV39Tn37ZZ1RHd6wKw1pdmOQz1I0FjXZ8vFHu4IlC2lmvfJQdRPQ9qw==", long_code) ==
        "invalid code Za***");
}

TEST_CASE("redact: credentials in any URL or auth header are masked without being known", "[unit][redact]") {
  const detail::Redactor none;
  CHECK(none("proxy http://u:p@127.0.0.1:3128 refused") == "proxy http://u:***@127.0.0.1:3128 refused");
  CHECK(none("(https://tokenonly@h.example/x)") == "(https://***@h.example/x)");
  CHECK(none("GET https://h.example/a?sig=abc&x=1#frag done") == "GET https://h.example/a?sig=***&x=***#*** done");
  CHECK(none("to https://h.example/receiver/v1/http/q, then") == "to https://h.example/receiver/v1/http/***, then");
  CHECK(none("Proxy-Authorization: Basic dXNlcjpwYXNz\r\nAuthorization: Bearer tok") ==
        "Proxy-Authorization: Basic ***\r\nAuthorization: Bearer ***");
  CHECK(none("x1http://u:p@h.example") == "x1http://u:***@h.example");  // a scheme glued to a word
  CHECK(none("an authorization failure, no header") == "an authorization failure, no header");
  CHECK(none("plain text stays plain") == "plain text stays plain");
}

TEST_CASE("redact: masking twice changes nothing", "[unit][redact]") {
  const SumoConfig c = short_secrets("ZaVnC4dhaV39Tn37ZZ1RHd6wKw1pdmOQz1I0FjXZ8vFHu4IlC2lmvfJQdRPQ9qw==", "x", "ab");
  const std::vector<std::string> texts = {
      "POST " + c.url + ": HTTP 401 invalid token x-sumo-token: x",
      "proxy " + c.http.proxy + " said 407",
      to_string(c),
      redact_url(c.url),
  };
  for (const std::string& t : texts) {
    const std::string once = redact(t, c);
    INFO(t << "\n -> " << once);
    CHECK(redact(once, c) == once);
    CHECK(once.find("dhaV39") == std::string::npos);
  }
}

TEST_CASE("redact: a real libcurl error with a one-character code reads as libcurl wrote it", "[integration][redact]") {
  const int port = test::closed_loopback_port();
  SumoConfig c;
  c.url = "http://127.0.0.1:" + std::to_string(port) + "/receiver/v1/http/c";
  c.allow_insecure_http = true;
  c.http.no_proxy = "*";  // straight to the closed port, whatever the environment says
  c.retry.budget = 0ms;   // one attempt
  auto finalized = finalize(c);
  REQUIRE(finalized);
  SumoClient client(std::move(finalized).value());
  const DeliverySummary s = client.send_lines({"one line"});
  REQUIRE(s.requests.size() == 1);
  REQUIRE(s.requests[0].error);
  const std::string message = s.requests[0].error->message;
  INFO(message);
  CHECK(message.find("/receiver/v1/http/***") != std::string::npos);
  CHECK(message.find("/http/c") == std::string::npos);
  // libcurl's own words are whole (the old substring masking gave "Couldn't ***onne***t").
  CHECK(message.find("Couldn't connect to server") != std::string::npos);
  CHECK(message.find("Failed to connect to 127.0.0.1 port " + std::to_string(port)) != std::string::npos);
  CHECK(message.find("retry budget of 0ms exhausted") != std::string::npos);
}
