// tests/support/fake_http.hpp: the one in-memory HttpClient of the tests and benchmarks (no
// network), for SumoClient, SumoSender and detail::deliver.
//
// FakeHttp answers each POST from a script (FakeReply: a status with body and headers, a transport
// Error, a transfer that hangs, or a throw), then from a default (200 unless set). It records every
// request (URL, headers, body, timeouts, deadline, thread, arrival time, what it was answered) and
// keeps counts (requests, body bytes, aborted transfers, the most posts in progress at once). A
// closed gate holds every request, like a hanging reply, until it opens. Both honour the contract
// of ilert_sumo/http_client.hpp: a held transfer ends as ErrorCode::aborted as soon as the
// request's `cancel` flag is set or its `deadline` passes. A hook runs inside each post (on the
// calling thread, without the fake's lock), so a test can act while a request is on the wire.
//
// Mode::null is for benchmarks: every POST is answered 200 at once, nothing is recorded, only the
// request count and body bytes are kept (atomics, no lock), so the figure is the library's own cost.
//
// Thread-safe: the sender's thread posts while the test reads requests() and opens the gate.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ilert_sumo/expected.hpp"
#include "ilert_sumo/http_client.hpp"

namespace ilert_sumo::test {

/// One scripted answer.
struct FakeReply {
  /// HTTP status answered (when there is no `error`, and the transfer neither hangs nor throws).
  int status = 200;
  /// Response body.
  std::string body;
  /// Response headers.
  std::vector<HttpHeader> headers;
  /// Returned instead of a response: a transport failure (transport, timeout, aborted).
  std::optional<Error> error;
  /// Never answer: hold the transfer until it is cancelled or its deadline passes (then aborted).
  bool hang = false;
  /// Throw std::runtime_error with this message instead of returning (a misbehaving client).
  std::optional<std::string> throw_message;

  /// `status` with this body and these headers.
  static FakeReply http(int status, std::string body = {}, std::vector<HttpHeader> headers = {});
  /// `status` with a Retry-After header of `retry_after` (none when empty).
  static FakeReply retry_after(int status, const std::string& retry_after);
  /// A transport failure: an Error with this code and message, no HTTP status.
  static FakeReply failure(ErrorCode code, std::string message);
  /// A transfer that never answers (see `hang`).
  static FakeReply hanging();
  /// A post that throws std::runtime_error(message).
  static FakeReply throwing(std::string message);
};

/// One request as the fake saw it.
struct FakeRequest {
  /// 0-based arrival index.
  std::size_t index = 0;
  /// When post() was entered.
  std::chrono::steady_clock::time_point at;
  /// The thread that called post().
  std::thread::id thread;
  std::string url;
  std::vector<HttpHeader> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds timeout{0};
  std::chrono::steady_clock::time_point deadline;
  /// The HTTP status answered; 0 while held, and for errors, aborts and throws.
  int status = 0;
  /// True when the transfer was held and ended as ErrorCode::aborted (cancel or deadline).
  bool aborted = false;

  /// The value of the first header named exactly `name`, or "" when there is none.
  std::string header(const std::string& name) const;
};

class FakeHttp final : public HttpClient {
 public:
  enum class Mode {
    /// Scripted answers, every request recorded.
    record,
    /// 200 at once, nothing recorded (benchmarks): only request_count() and body_bytes() count.
    null,
  };
  /// Called inside each post with the request's index, after it was recorded and before it is
  /// answered (or held), on the posting thread, without the fake's lock held.
  using PostHook = std::function<void(std::size_t index)>;

  explicit FakeHttp(Mode mode = Mode::record) : mode_(mode) {}

  Expected<HttpResponse> post(const HttpRequest& request) override;

  // --- the script (record mode) ---
  /// Appends `times` copies of `reply` to the script.
  void push(const FakeReply& reply, std::size_t times = 1);
  /// Replaces the script with `replies`, answered in order.
  void script(std::vector<FakeReply> replies);
  /// The answer once the script is used up (default: 200, empty body).
  void otherwise(FakeReply reply);
  /// Sets (or, with nullptr, clears) the hook.
  void on_post(PostHook hook);
  /// Holds every request arriving or in progress until open_gate() (or its cancel/deadline).
  void close_gate();
  void open_gate();

  // --- what was seen (thread-safe copies) ---
  std::vector<FakeRequest> requests() const;
  /// Requests that reached post() (also the ones still held).
  std::size_t request_count() const { return count_.load(); }
  /// Body bytes over all requests.
  std::uint64_t body_bytes() const { return bytes_.load(); }
  /// Held transfers that ended aborted.
  std::size_t aborted_count() const;
  /// The most post() calls in progress at one time.
  std::size_t max_concurrent() const { return max_in_flight_.load(); }
  /// The lines ('\n'-terminated) of the requests answered 2xx, in arrival order.
  std::vector<std::string> delivered_lines() const;

 private:
  const Mode mode_;
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> max_in_flight_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FakeReply> script_;
  FakeReply otherwise_;
  PostHook hook_;
  std::vector<FakeRequest> requests_;
  bool gate_closed_ = false;
  std::size_t aborted_ = 0;
};

}  // namespace ilert_sumo::test
