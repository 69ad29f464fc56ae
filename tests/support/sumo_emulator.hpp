// tests/support/sumo_emulator.hpp: a local Sumo Logic HTTP Logs source, for tests, benchmarks and
// the `sumo-emulator` example program (examples/sumo-emulator), which share this one implementation.
//
// SumoEmulator listens on 127.0.0.1 (port 0 picks a free port) and accepts what a Sumo HTTP source
// accepts: `POST /receiver/v1/http/<code>`, or `POST /receiver/v1/http` with an `x-sumo-token`
// header. It checks the code/token (401 otherwise), decodes `Content-Encoding` gzip, deflate (zlib),
// zstd or identity itself (415 for anything else, 400 for a corrupt stream) with a bounded output
// (413 past 1 MiB decoded, so a zip bomb costs nothing), rejects invalid UTF-8 (400), splits the body
// on '\n' and records every message with the request's metadata headers. It does not depend on the
// ilert_sumo library: it is the independent check of what the library sends.
//
// Faults are injected on command and applied to requests in arrival order: a status for the next N
// requests (429 carries `Retry-After`), a status for a time window, a connection reset (a TCP RST
// after the request was read, no answer), a delay before answering, and a 200 that carries a
// warning body. All accessors are thread-safe; stop() never waits for an injected delay.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ilert_sumo::test {

/// How the emulator is started. The defaults suit tests.
struct EmulatorConfig {
  /// Port on 127.0.0.1; 0 picks a free one (see SumoEmulator::port()).
  int port = 0;
  /// The accepted `<code>` of `/receiver/v1/http/<code>`; empty disables that form (always 401).
  std::string code = "emulator-test-code";
  /// The accepted `x-sumo-token` for `/receiver/v1/http`; empty disables that form (always 401).
  std::string token = "emulator-test-token";
  /// Largest accepted body after decoding (Sumo's limit: 1 MiB). Larger -> 413.
  std::size_t max_decoded_bytes = 1024 * 1024;
  /// Largest accepted body on the wire (before decoding). Larger -> 413.
  std::size_t max_wire_bytes = 16 * 1024 * 1024;
  /// Seconds sent in `Retry-After` with an injected 429.
  int retry_after_seconds = 1;
  /// Keep every message and request in memory (messages(), requests()). Off for long-running
  /// programs and benchmarks: the counters and on_accepted still work.
  bool keep_in_memory = true;
  /// Check that the decoded body is valid UTF-8 (400 otherwise). A benchmark sink may turn it off;
  /// bodies are still fully decoded and split into lines.
  bool validate_utf8 = true;
  /// Benchmark sink: answer 200 as soon as an authorised body is read and decode it on a background
  /// thread afterwards (a real Sumo acknowledges before it processes, on other machines). Messages
  /// and counters appear once decoded (wait_for_messages); a body that then fails to decode is
  /// recorded with the status it would have had. Injected faults still apply.
  bool decode_after_answer = false;
  /// Worker threads; each open (keep-alive) connection holds one.
  std::size_t threads = 16;
  /// Requests served on one keep-alive connection before the server closes it.
  std::size_t keep_alive_max_count = 1000000;
  /// Seconds an idle keep-alive connection is kept open.
  int keep_alive_timeout_seconds = 5;
};

/// One message (one line of an accepted request body) with its request's metadata.
struct RecordedMessage {
  /// Sequence number of the request that carried it (1-based, over all requests).
  std::uint64_t seq = 0;
  /// X-Sumo-Category, X-Sumo-Name, X-Sumo-Host, X-Sumo-Fields as received (empty when absent).
  std::string category;
  std::string name;
  std::string host;
  std::string fields;
  /// Content-Encoding as received ("identity" when absent).
  std::string encoding;
  /// The line, without its '\n'.
  std::string message;
};

/// One request, whatever its answer.
struct RecordedRequest {
  /// 1-based arrival sequence number.
  std::uint64_t seq = 0;
  /// When its handler started (after the request headers were read).
  std::chrono::steady_clock::time_point received;
  /// "code" for /receiver/v1/http/<code>, "token" for /receiver/v1/http.
  std::string route;
  std::string category;
  std::string name;
  std::string host;
  std::string fields;
  /// Content-Encoding ("identity" when absent), Content-Type, User-Agent, Expect.
  std::string encoding;
  std::string content_type;
  std::string user_agent;
  std::string expect;
  /// Body bytes on the wire and after decoding (0 when not decoded).
  std::size_t wire_bytes = 0;
  std::size_t decoded_bytes = 0;
  /// Messages recorded from it (0 unless accepted).
  std::size_t lines = 0;
  /// The status answered; 0 when the connection was reset instead.
  int status = 0;
  /// Why it was not accepted ("" when it was), e.g. "injected 429", "bad token".
  std::string reason;
};

/// A fault applied to one request.
struct Fault {
  /// HTTP status to answer; 0 means: reset the connection without an answer.
  int status = 0;
  static Fault reset() { return Fault{0}; }
  static Fault http(int status) { return Fault{status}; }
};

/// Counters (always kept, also when keep_in_memory is off).
struct EmulatorCounters {
  std::uint64_t requests = 0;
  std::uint64_t accepted_requests = 0;
  std::uint64_t messages = 0;
  std::uint64_t wire_bytes = 0;
  std::uint64_t decoded_bytes = 0;
  std::uint64_t resets = 0;
  /// Requests by answered status (0 = reset).
  std::map<int, std::uint64_t> by_status;
};

/// The emulator. start() once, stop() (or the destructor) once.
class SumoEmulator {
 public:
  /// Called for each accepted request, serialised (never two at once), from a server thread.
  using AcceptedCallback = std::function<void(const RecordedRequest&, const std::vector<RecordedMessage>&)>;
  /// Called for every request after its answer was decided (also rejected/faulted ones), serialised.
  using RequestCallback = std::function<void(const RecordedRequest&)>;

  SumoEmulator();
  ~SumoEmulator();
  SumoEmulator(const SumoEmulator&) = delete;
  SumoEmulator& operator=(const SumoEmulator&) = delete;

  /// Binds 127.0.0.1 and starts serving; returns the port, or throws std::runtime_error.
  /// Callbacks must be set before start().
  int start(EmulatorConfig config = {});
  /// Stops serving: wakes delayed handlers, closes the listener, joins the threads. Idempotent.
  void stop();

  /// The bound port (0 before start()).
  int port() const;
  /// `http://127.0.0.1:<port>/receiver/v1/http/<code>`.
  std::string url() const;
  /// `http://127.0.0.1:<port>/receiver/v1/http` (use with the token).
  std::string endpoint() const;
  /// The configuration start() was called with.
  const EmulatorConfig& config() const { return config_; }

  void on_accepted(AcceptedCallback callback);
  void on_request(RequestCallback callback);

  // --- fault injection (thread-safe, effective for the next request) ---
  /// Appends `count` requests answered with `fault` to the fault queue.
  void fail_next(Fault fault, std::size_t count = 1);
  /// From the first request after this call, answer the statuses (cycled per request; 0 = reset)
  /// for `duration`; count-based faults queued by fail_next() come first.
  void fail_for(std::vector<int> statuses, std::chrono::milliseconds duration);
  /// Sleep this long before answering each request (0: off). Interrupted by stop().
  void set_delay(std::chrono::milliseconds delay);
  /// Answer accepted requests with 200 and this body (a warning); nullopt: empty body.
  void set_warning(std::optional<std::string> body);
  /// Clears queued faults, the time window, the delay and the warning.
  void clear_faults();
  /// Seconds sent in Retry-After with 429 from now on.
  void set_retry_after(int seconds);

  // --- what was received (thread-safe copies) ---
  std::vector<RecordedMessage> messages() const;
  /// Just the message texts, in arrival order.
  std::vector<std::string> message_texts() const;
  std::vector<RecordedRequest> requests() const;
  /// Messages recorded so far.
  std::size_t count() const;
  /// Requests received so far (any answer).
  std::size_t request_count() const;
  EmulatorCounters counters() const;
  /// Forgets the recorded messages and requests (counters keep counting).
  void clear_records();

  /// Waits until at least `n` messages were recorded; false on timeout.
  bool wait_for_messages(std::size_t n, std::chrono::milliseconds timeout) const;
  /// Waits until at least `n` requests were answered (or reset); false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  EmulatorConfig config_;
  std::shared_ptr<Impl> impl_;  // shared with the listener thread
};

// --- helpers shared with the program ---

/// Checks strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;
/// Appends `text` as a JSON string literal (with quotes). `text` must be valid UTF-8.
void append_json_string(std::string& out, std::string_view text);
/// One NDJSON object (no trailing newline):
/// {"seq":N,"category":..,"name":..,"host":..,"fields":..,"encoding":..,"message":".."}.
std::string to_ndjson(const RecordedMessage& message);
/// Parses a line written by to_ndjson(); nullopt if it is not one.
std::optional<RecordedMessage> parse_ndjson(std::string_view line);
/// `[category] message` (category `-` when empty): the readable form of a recording.
std::string to_readable(const RecordedMessage& message);

/// Decodes a body as the emulator does. Returns the decoded bytes, or an error with the HTTP status
/// the emulator answers (415 unknown encoding, 400 corrupt, 413 too large).
struct DecodeResult {
  int status = 200;
  std::string body;
  std::string error;
};
DecodeResult decode_body(std::string_view encoding, std::string_view wire, std::size_t max_decoded_bytes);

}  // namespace ilert_sumo::test
