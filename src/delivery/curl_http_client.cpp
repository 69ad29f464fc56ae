// src/delivery/curl_http_client.cpp: make_curl_http_client (the libcurl HttpClient) and
// HttpResponse::header.
//
// One easy handle, driven through a private multi handle, is reused for every request so the
// connection stays alive (keep-alive, TLS session reuse). Per request: the borrowed body goes out
// with CURLOPT_POSTFIELDS + POSTFIELDSIZE_LARGE (no copy); `Expect:` is removed (no 100-continue
// round trip); headers via a curl_slist. The transfer loop polls at most every 20 ms and checks
// HttpRequest::deadline and *HttpRequest::cancel, so an abort takes effect within ~20 ms even
// while waiting for a silent server (a CURLOPT_XFERINFOFUNCTION check covers the time inside
// libcurl). A deadline or cancel gives ErrorCode::aborted, CURLE_OPERATION_TIMEDOUT gives
// ErrorCode::timeout, everything else ErrorCode::transport; messages are redacted.
//
// Proxy (docs/DESIGN.md "Proxies"): CURLOPT_PROXY is set only when CurlOptions::proxy is given,
// CURLOPT_NOPROXY only when CurlOptions::no_proxy is, so by default libcurl reads its standard
// environment variables per transfer (https_proxy/HTTPS_PROXY, http_proxy, all_proxy/ALL_PROXY,
// no_proxy/NO_PROXY), like curl itself. CurlOptions::proxy_tunnel sets CURLOPT_HTTPPROXYTUNNEL
// (CONNECT also for http:// URLs). Error messages are redacted against the request URL and the
// proxy URL, and structurally for any other URL (libcurl quotes an environment proxy URL, with
// its credentials, in "Unsupported proxy syntax in '...'").
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <utility>

#include "ilert_sumo/http_client.hpp"
#include "ilert_sumo/version.hpp"
#include "config/redact.hpp"
#include "util/errors.hpp"
#include "util/ascii.hpp"

namespace ilert_sumo {

const std::string* HttpResponse::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (h.name.size() != name.size()) continue;
    if (detail::iequals(h.name, name)) return &h.value;  // ASCII case folding: names are tokens
  }
  return nullptr;
}

namespace {

constexpr std::size_t kMaxResponseBody = 64 * 1024;
constexpr std::size_t kMaxResponseHeaders = 100;
constexpr long kPollIntervalMs = 20;

using Clock = std::chrono::steady_clock;
using detail::make_error;
using detail::trim;

CURLcode global_init() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlOptions options) : options_(std::move(options)) {
    init_error_ = global_init();
    if (init_error_ != CURLE_OK) return;
    easy_ = curl_easy_init();
    multi_ = curl_multi_init();
    if (easy_ == nullptr || multi_ == nullptr) return;
    user_agent_ = options_.user_agent.empty() ? std::string("ilert-sumo/") + ILERT_SUMO_VERSION_STRING + " libcurl/" +
                                                    curl_version_info(CURLVERSION_NOW)->version
                                              : options_.user_agent;
    configured_ = configure();
  }

  ~CurlHttpClient() override {
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
  }

  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Expected<HttpResponse> post(const HttpRequest& request) override {
    // libcurl's messages may quote the URL or the proxy: masked, by a redactor built only when a
    // transfer failed (not once per request).
    const auto redacted = [&](const std::string& text) {
      return detail::Redactor::for_urls({request.url, options_.proxy})(text);
    };
    if (init_error_ != CURLE_OK) {
      return make_error(ErrorCode::transport,
                        std::string("curl_global_init failed: ") + curl_easy_strerror(init_error_));
    }
    if (easy_ == nullptr || multi_ == nullptr || !configured_) {
      return make_error(ErrorCode::transport, "libcurl handle setup failed");
    }
    const Clock::time_point start = Clock::now();
    if (request.cancel != nullptr && request.cancel->load(std::memory_order_acquire)) {
      return make_error(ErrorCode::aborted, "cancelled before the request started");
    }
    if (start >= request.deadline) return make_error(ErrorCode::aborted, "deadline passed before the request started");

    // Whole-request timeout, clamped to the deadline so libcurl itself wakes up at it.
    std::chrono::milliseconds total = request.timeout;
    bool deadline_bound = false;
    if (request.deadline != Clock::time_point::max()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(request.deadline - start);
      if (left < total) {
        total = left;
        deadline_bound = true;
      }
    }
    total = std::max(total, std::chrono::milliseconds(1));
    const std::chrono::milliseconds connect = std::min(request.connect_timeout, total);

    curl_slist* headers = nullptr;
    bool headers_ok = true;
    for (const HttpHeader& h : request.headers) {
      // "Name;" is libcurl's way to send a header with an empty value.
      const std::string line = h.value.empty() ? h.name + ";" : h.name + ": " + h.value;
      curl_slist* next = curl_slist_append(headers, line.c_str());
      if (next == nullptr) {
        headers_ok = false;
        break;
      }
      headers = next;
    }
    if (headers_ok) {
      curl_slist* next = curl_slist_append(headers, "Expect:");
      if (next == nullptr)
        headers_ok = false;
      else
        headers = next;
    }
    if (!headers_ok) {
      curl_slist_free_all(headers);
      return make_error(ErrorCode::transport, "out of memory building request headers");
    }

    HttpResponse response;
    current_ = Transfer{&request, &response, false, false};
    error_buffer_[0] = '\0';
    static const char kEmpty[] = "";
    const char* body = request.body.empty() ? kEmpty : request.body.data();
    curl_easy_setopt(easy_, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
    curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect.count()));

    CURLcode result = run_transfer();

    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
    curl_slist_free_all(headers);

    const bool past_deadline = Clock::now() >= request.deadline;
    if (current_.aborted || result == CURLE_ABORTED_BY_CALLBACK) {
      return make_error(ErrorCode::aborted,
                        current_.cancelled ? "transfer cancelled" : "transfer aborted at the deadline");
    }
    if (result == CURLE_OPERATION_TIMEDOUT) {
      if (deadline_bound && past_deadline) return make_error(ErrorCode::aborted, "transfer aborted at the deadline");
      return make_error(ErrorCode::timeout,
                        redacted(describe(result) + " (connect_timeout " + std::to_string(connect.count()) +
                                 "ms, timeout " + std::to_string(total.count()) + "ms)"));
    }
    if (result != CURLE_OK) return make_error(ErrorCode::transport, redacted(describe(result)));
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

 private:
  using Redactor = detail::Redactor;

  struct Transfer {
    const HttpRequest* request = nullptr;
    HttpResponse* response = nullptr;
    bool aborted = false;
    bool cancelled = false;
  };

  bool configure() {
    bool ok = true;
    const auto set = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };
    set(curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L));
    set(curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_));
    set(curl_easy_setopt(easy_, CURLOPT_POST, 1L));
    set(curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L));
    set(curl_easy_setopt(easy_, CURLOPT_TCP_KEEPALIVE, 1L));
#if LIBCURL_VERSION_NUM >= 0x075500
    set(curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https"));
#else
    set(curl_easy_setopt(easy_, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS)));
#endif
    set(curl_easy_setopt(easy_, CURLOPT_USERAGENT, user_agent_.c_str()));
    set(curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L));
    set(curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L));
    if (!options_.ca_file.empty()) set(curl_easy_setopt(easy_, CURLOPT_CAINFO, options_.ca_file.c_str()));
    if (!options_.ca_path.empty()) set(curl_easy_setopt(easy_, CURLOPT_CAPATH, options_.ca_path.c_str()));
    if (!options_.client_cert.empty()) set(curl_easy_setopt(easy_, CURLOPT_SSLCERT, options_.client_cert.c_str()));
    if (!options_.client_key.empty()) set(curl_easy_setopt(easy_, CURLOPT_SSLKEY, options_.client_key.c_str()));
    if (!options_.client_key_password.empty()) {
      set(curl_easy_setopt(easy_, CURLOPT_KEYPASSWD, options_.client_key_password.c_str()));
    }
    // Unset options leave the choice to libcurl's proxy environment variables.
    if (!options_.proxy.empty()) set(curl_easy_setopt(easy_, CURLOPT_PROXY, options_.proxy.c_str()));
    if (!options_.no_proxy.empty()) set(curl_easy_setopt(easy_, CURLOPT_NOPROXY, options_.no_proxy.c_str()));
    if (options_.proxy_tunnel) set(curl_easy_setopt(easy_, CURLOPT_HTTPPROXYTUNNEL, 1L));
    set(curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &CurlHttpClient::on_header));
    set(curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this));
    set(curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &CurlHttpClient::on_body));
    set(curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this));
    set(curl_easy_setopt(easy_, CURLOPT_XFERINFOFUNCTION, &CurlHttpClient::on_progress));
    set(curl_easy_setopt(easy_, CURLOPT_XFERINFODATA, this));
    set(curl_easy_setopt(easy_, CURLOPT_NOPROGRESS, 0L));
    return ok;
  }

  /// True when the current transfer must stop now (deadline or cancel).
  bool should_abort() noexcept {
    const HttpRequest& r = *current_.request;
    if (r.cancel != nullptr && r.cancel->load(std::memory_order_acquire)) {
      current_.cancelled = true;
      return true;
    }
    return Clock::now() >= r.deadline;
  }

  CURLcode run_transfer() {
    if (curl_multi_add_handle(multi_, easy_) != CURLM_OK) return CURLE_FAILED_INIT;
    CURLcode result = CURLE_OK;
    bool done = false;
    while (!done) {
      int running = 0;
      if (curl_multi_perform(multi_, &running) != CURLM_OK) {
        result = CURLE_FAILED_INIT;
        break;
      }
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy_) {
          result = msg->data.result;
          done = true;
        }
      }
      if (done) break;
      if (should_abort()) {
        current_.aborted = true;
        break;
      }
      long wait_ms = kPollIntervalMs;
      const Clock::time_point deadline = current_.request->deadline;
      if (deadline != Clock::time_point::max()) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        wait_ms = std::clamp<long>(static_cast<long>(left), 0L, kPollIntervalMs);
      }
      int fds = 0;
#if LIBCURL_VERSION_NUM >= 0x074200
      const CURLMcode polled = curl_multi_poll(multi_, nullptr, 0, static_cast<int>(wait_ms), &fds);
#else
      const CURLMcode polled = curl_multi_wait(multi_, nullptr, 0, static_cast<int>(wait_ms), &fds);
#endif
      if (polled != CURLM_OK) {
        result = CURLE_FAILED_INIT;
        break;
      }
    }
    // Removing a handle mid-transfer aborts it (and closes that connection); after completion
    // the connection stays in the multi handle's cache for the next request.
    curl_multi_remove_handle(multi_, easy_);
    return result;
  }

  std::string describe(CURLcode code) const {
    std::string message = curl_easy_strerror(code);
    if (error_buffer_[0] != '\0') {
      message += ": ";
      message += trim(error_buffer_);
    }
    return message;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* self = static_cast<CurlHttpClient*>(user);
    const std::size_t n = size * count;
    const std::string_view line = trim(std::string_view(data, n));
    HttpResponse& response = *self->current_.response;
    if (line.substr(0, 5) == "HTTP/") {
      response.headers.clear();  // a new response (e.g. after an interim 1xx)
      return n;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || response.headers.size() >= kMaxResponseHeaders) return n;
    response.headers.push_back({std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
    return n;
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* self = static_cast<CurlHttpClient*>(user);
    const std::size_t n = size * count;
    std::string& body = self->current_.response->body;
    if (body.size() < kMaxResponseBody) body.append(data, std::min(n, kMaxResponseBody - body.size()));
    return n;  // the rest is discarded, not an error
  }

  static int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* self = static_cast<CurlHttpClient*>(user);
    return self->current_.request != nullptr && self->should_abort() ? 1 : 0;
  }

  CurlOptions options_;
  std::string user_agent_;
  CURLcode init_error_ = CURLE_OK;
  CURL* easy_ = nullptr;
  CURLM* multi_ = nullptr;
  bool configured_ = false;
  Transfer current_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_http_client(const CurlOptions& options) {
  return std::make_unique<CurlHttpClient>(options);
}

}  // namespace ilert_sumo
