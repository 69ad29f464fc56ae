// ilert_sumo/http_client.hpp: the one seam between delivery logic and the network.
//
// Delivery (SumoClient, SumoSender) talks to an HttpClient: one synchronous `post`. The library
// ships a libcurl implementation (make_curl_http_client); tests inject scripted clients to
// exercise retry and throttling policy without a network. Non-2xx statuses are responses, not
// errors; only transport failures (no HTTP status at all) are Errors.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ilert_sumo/export.hpp"
#include "ilert_sumo/expected.hpp"

namespace ilert_sumo {

/// One HTTP header.
struct HttpHeader {
  std::string name;
  std::string value;
};

/// A POST to make. The body is borrowed: it must outlive the call.
struct HttpRequest {
  /// Full URL (a secret for presigned Sumo URLs: implementations never print it unredacted).
  std::string url;
  /// Request headers (Content-Type, Content-Encoding, X-Sumo-*, x-sumo-token, ...).
  std::vector<HttpHeader> headers;
  /// The bytes to send.
  std::string_view body;
  /// Connection-establishment timeout.
  std::chrono::milliseconds connect_timeout{5000};
  /// Whole-request timeout.
  std::chrono::milliseconds timeout{20000};
  /// Hard deadline: the transfer is aborted (ErrorCode::aborted) when it passes.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  /// When non-null and set to true by another thread, the transfer is aborted promptly.
  const std::atomic<bool>* cancel = nullptr;
};

/// What the server answered.
struct ILERT_SUMO_EXPORT HttpResponse {
  /// HTTP status code (200, 429, ...).
  int status = 0;
  /// Response headers, names as received.
  std::vector<HttpHeader> headers;
  /// Response body (capped by the implementation; Sumo bodies are small).
  std::string body;

  /// The first header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

/// Synchronous HTTP POST. Implementations must be usable from one thread at a time; `post` returns
/// a response for any HTTP status, or an Error with code transport, timeout or aborted.
class ILERT_SUMO_EXPORT HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Expected<HttpResponse> post(const HttpRequest& request) = 0;
};

/// libcurl settings (TLS, proxy, identity).
struct CurlOptions {
  /// Verify the server certificate and host name (leave on in production).
  bool verify_tls = true;
  /// CA bundle file (empty: system default).
  std::string ca_file;
  /// CA directory (empty: system default).
  std::string ca_path;
  /// Client certificate (PEM) for mutual TLS.
  std::string client_cert;
  /// Client private key (PEM).
  std::string client_key;
  /// Password of the client key (a secret: never logged).
  std::string client_key_password;
  /// Proxy URL `scheme://[user:password@]host[:port]`, scheme http, https, socks4, socks4a, socks5
  /// or socks5h; its credentials are secrets (never printed). Empty: libcurl's environment
  /// variables decide, as in curl: https_proxy/HTTPS_PROXY for https:// URLs, http_proxy
  /// (lower case only) for http://, else all_proxy/ALL_PROXY (docs/DESIGN.md "Proxies").
  std::string proxy;
  /// Hosts reached without the proxy: CURLOPT_NOPROXY's comma-separated names, domains and
  /// addresses; "*" means no proxy at all, whatever `proxy` and the environment say. Empty: the
  /// no_proxy/NO_PROXY environment variable decides (it applies to `proxy` too).
  std::string no_proxy;
  /// Tunnel through an HTTP proxy with CONNECT also for http:// URLs (CURLOPT_HTTPPROXYTUNNEL);
  /// https:// URLs are always tunnelled.
  bool proxy_tunnel = false;
  /// User-Agent; empty gives "ilert-sumo/<version> libcurl/<version>".
  std::string user_agent;
};

/// A libcurl-backed client that keeps its connection alive between calls and never sends
/// `Expect: 100-continue`.
ILERT_SUMO_EXPORT std::unique_ptr<HttpClient> make_curl_http_client(const CurlOptions& options = {});

}  // namespace ilert_sumo
