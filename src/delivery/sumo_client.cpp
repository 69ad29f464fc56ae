// src/delivery/sumo_client.cpp: the pure retry policy (classify, parse_retry_after, backoff_delay) and the
// synchronous SumoClient, which strings the delivery.hpp pieces together: lines -> batches ->
// compressed once -> POST with retries, one DeliveryReport per request, in input order. Requests
// are compressed ahead by a small thread pool while the calling thread POSTs (see Pipeline).
#include "ilert_sumo/sumo_client.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <utility>

#include "delivery/compress.hpp"
#include "delivery/delivery.hpp"
#include "util/civil_time.hpp"
#include "util/ascii.hpp"
#include "util/errors.hpp"

namespace ilert_sumo {

// ---------------------------------------------------------------------------------------------
// Policy

const char* to_string(DeliveryOutcome outcome) noexcept {
  switch (outcome) {
    case DeliveryOutcome::success: return "success";
    case DeliveryOutcome::retry: return "retry";
    case DeliveryOutcome::permanent: return "permanent";
  }
  return "permanent";
}

DeliveryOutcome classify(int http_status, std::optional<ErrorCode> transport_error) noexcept {
  if (transport_error) {
    switch (*transport_error) {
      case ErrorCode::transport:
      case ErrorCode::timeout:
      // Not the data's fault: the caller (deadline/shutdown) stopped it; deliver() does not retry
      // an aborted attempt itself, but whoever holds the data may send it again later.
      case ErrorCode::aborted: return DeliveryOutcome::retry;
      default: return DeliveryOutcome::permanent;
    }
  }
  if (http_status >= 200 && http_status <= 299) return DeliveryOutcome::success;
  switch (http_status) {
    case 408:  // Sumo: accepted but timed out processing
    case 429:  // Sumo: throttled, data dropped, must re-send
    case 500:
    case 502:
    case 503:
    case 504: return DeliveryOutcome::retry;
    default: break;
  }
  // Not an HTTP status at all: a broken response, treated like a transport error.
  if (http_status < 100 || http_status > 599) return DeliveryOutcome::retry;
  return DeliveryOutcome::permanent;
}

namespace {

bool parse_uint(std::string_view s, int& out) noexcept {
  if (s.empty() || s.size() > 4) return false;
  int v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

int month_index(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == name) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool is_day_name(std::string_view name, bool long_form) noexcept {
  static constexpr std::array<std::string_view, 7> kShort = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 7> kLong = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                            "Friday", "Saturday", "Sunday"};
  for (std::size_t i = 0; i < kShort.size(); ++i) {
    if ((long_form ? kLong[i] : kShort[i]) == name) return true;
  }
  return false;
}

/// "HH:MM:SS" -> seconds of the day.
bool parse_clock(std::string_view s, int& seconds) noexcept {
  int h = 0;
  int m = 0;
  int sec = 0;
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return false;
  if (!parse_uint(s.substr(0, 2), h) || !parse_uint(s.substr(3, 2), m) || !parse_uint(s.substr(6, 2), sec))
    return false;
  if (h > 23 || m > 59 || sec > 60) return false;
  seconds = h * 3600 + m * 60 + sec;
  return true;
}

std::optional<std::chrono::system_clock::time_point> make_time(int year, int month, int day, int seconds) noexcept {
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[static_cast<std::size_t>(month - 1)]) return std::nullopt;
  const std::int64_t days = detail::days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return std::chrono::system_clock::time_point(std::chrono::seconds(days * 86400 + seconds));
}

/// RFC 9110 HTTP-date: IMF-fixdate, RFC 850 date, or asctime date.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) noexcept {
  int day = 0;
  int year = 0;
  int seconds = 0;
  const std::size_t comma = s.find(',');
  if (comma == 3) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (s.size() != 29 || !is_day_name(s.substr(0, 3), false) || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s.substr(25) != " GMT") {
      return std::nullopt;
    }
    const int month = month_index(s.substr(8, 3));
    if (!parse_uint(s.substr(5, 2), day) || month == 0 || !parse_uint(s.substr(12, 4), year) ||
        !parse_clock(s.substr(17, 8), seconds)) {
      return std::nullopt;
    }
    return make_time(year, month, day, seconds);
  }
  if (comma != std::string_view::npos) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    if (!is_day_name(s.substr(0, comma), true)) return std::nullopt;
    const std::string_view r = s.substr(comma + 1);
    if (r.size() != 23 || r[0] != ' ' || r[3] != '-' || r[7] != '-' || r[10] != ' ' || r.substr(19) != " GMT") {
      return std::nullopt;
    }
    const int month = month_index(r.substr(4, 3));
    if (!parse_uint(r.substr(1, 2), day) || month == 0 || !parse_uint(r.substr(8, 2), year) ||
        !parse_clock(r.substr(11, 8), seconds)) {
      return std::nullopt;
    }
    year += year < 70 ? 2000 : 1900;
    return make_time(year, month, day, seconds);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (s.size() != 24 || !is_day_name(s.substr(0, 3), false) || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' ||
      s[19] != ' ') {
    return std::nullopt;
  }
  const int month = month_index(s.substr(4, 3));
  const std::string_view day_text = s[8] == ' ' ? s.substr(9, 1) : s.substr(8, 2);
  if (month == 0 || !parse_uint(day_text, day) || !parse_clock(s.substr(11, 8), seconds) ||
      !parse_uint(s.substr(20, 4), year)) {
    return std::nullopt;
  }
  return make_time(year, month, day, seconds);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  using std::chrono::milliseconds;
  const std::string_view v = detail::trim(value, detail::kHttpOws);
  if (v.empty()) return std::nullopt;
  if (v.find_first_not_of("0123456789") == std::string_view::npos) {
    // delta-seconds; absurdly large values saturate at ~31 years.
    constexpr std::int64_t kMaxSeconds = 1'000'000'000;
    std::int64_t seconds = 0;
    for (const char c : v) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > kMaxSeconds) {
        seconds = kMaxSeconds;
        break;
      }
    }
    return milliseconds(seconds * 1000);
  }
  const auto when = parse_http_date(v);
  if (!when) return std::nullopt;
  if (*when <= now) return milliseconds(0);
  return std::chrono::ceil<milliseconds>(*when - now);
}

std::chrono::milliseconds backoff_delay(const RetryOptions& retry, std::uint32_t attempt, double random01) noexcept {
  const std::int64_t max = std::max<std::int64_t>(0, retry.max_backoff.count());
  std::int64_t cap = std::max<std::int64_t>(0, retry.initial_backoff.count());
  for (std::uint32_t i = 1; i < attempt && cap < max; ++i) cap = cap > max / 2 ? max : cap * 2;
  cap = std::min(cap, max);
  double r = random01;
  if (!(r >= 0.0)) r = 0.0;  // also NaN
  if (r > 1.0) r = 1.0;
  const double scaled = std::floor(r * static_cast<double>(cap));
  if (scaled >= static_cast<double>(cap)) return std::chrono::milliseconds(cap);  // also avoids overflow
  return std::chrono::milliseconds(static_cast<std::int64_t>(scaled));
}

// ---------------------------------------------------------------------------------------------
// SumoClient

namespace detail {
std::function<void(std::size_t first_index)> on_request_compressed_for_tests;
}  // namespace detail

namespace {

/// Starts the message of every request that request_stop() ended or kept from being sent.
constexpr const char* kStoppedPrefix = "stopped by SumoClient::request_stop(): ";

/// One request on its way through the pipeline.
struct PipelineJob {
  detail::Batch batch;
  /// Set by the worker that compressed it (under CompressionPool's mutex).
  std::optional<Expected<detail::PreparedRequest>> result;
};

/// Threads that compress batches ahead of the sending thread. Each worker owns its Compressor
/// (they are not thread-safe), made with the plan's codec and effective level, and gives every
/// request the plan's headers. Jobs complete in any order; the caller waits for the one it needs.
/// `plan` must outlive the pool (SumoClient::Impl holds the config that owns it).
class CompressionPool {
 public:
  CompressionPool(const detail::DeliveryPlan& plan, unsigned threads) : plan_(plan) {
    threads_.reserve(threads);
    try {
      for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
    } catch (...) {
      stop_and_join();
      throw;
    }
  }
  ~CompressionPool() { stop_and_join(); }
  CompressionPool(const CompressionPool&) = delete;
  CompressionPool& operator=(const CompressionPool&) = delete;

  void submit(std::shared_ptr<PipelineJob> job) {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(job));
    }
    work_cv_.notify_one();
  }

  /// Blocks until `job` is compressed; moves its result out.
  Expected<detail::PreparedRequest> wait(PipelineJob& job) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return job.result.has_value(); });
    Expected<detail::PreparedRequest> result = std::move(*job.result);
    job.result.reset();
    return result;
  }

 private:
  void stop_and_join() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  void run() {
    std::optional<detail::Compressor> compressor;
    std::optional<Error> compressor_error;
    auto made = detail::Compressor::create(plan_.codec, plan_.compression_level);
    if (made) {
      compressor.emplace(std::move(made).value());
    } else {
      compressor_error = made.error();
    }
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;  // the caller waits for nothing any more (it only stops between sends)
      std::shared_ptr<PipelineJob> job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      std::optional<Expected<detail::PreparedRequest>> result;
      const std::size_t first_index = job->batch.first_index;
      try {
        if (compressor) {
          result.emplace(detail::prepare_request(std::move(job->batch), plan_.headers, *compressor));
        } else {
          result.emplace(*compressor_error);
        }
      } catch (const std::bad_alloc&) {
        result.emplace(detail::make_error(ErrorCode::compression_failed, "out of memory while compressing"));
      }
      if (detail::on_request_compressed_for_tests) detail::on_request_compressed_for_tests(first_index);
      lock.lock();
      job->result = std::move(result);
      done_cv_.notify_all();
    }
  }

  const detail::DeliveryPlan& plan_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::shared_ptr<PipelineJob>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

struct SumoClient::Impl {
  FinalizedSumoConfig config;
  // What finalize() computed for delivery (target and Redactor, headers, effective compression
  // level and threads), owned by `config`: used as is, never derived again.
  const detail::DeliveryPlan& plan;
  std::shared_ptr<HttpClient> http;
  std::optional<detail::Compressor> compressor;
  std::optional<Error> compressor_error;
  detail::RetryEnvironment env;
  unsigned compression_threads = 0;       // the plan's, or 0 when the Compressor cannot be made
  std::unique_ptr<CompressionPool> pool;  // started by the first send() with two requests
  // request_stop(): the flag deliver() checks (env.cancel, also handed to each transfer) and the
  // condition variable that ends a retry wait at once.
  std::atomic<bool> stop{false};
  std::mutex stop_mutex;
  std::condition_variable stop_cv;

  Impl(FinalizedSumoConfig cfg, std::shared_ptr<HttpClient> client)
      : config(std::move(cfg)),
        plan(detail::delivery_plan(config)),
        http(std::move(client)),
        env(detail::default_retry_environment()),
        compression_threads(plan.compression_threads) {
    if (!http) http = make_curl_http_client(config.config().http);
    env.cancel = &stop;
    env.sleep = [this](std::chrono::milliseconds delay) {
      std::unique_lock<std::mutex> lock(stop_mutex);
      return !stop_cv.wait_for(lock, delay, [this] { return stop.load(std::memory_order_acquire); });
    };
    auto made = detail::Compressor::create(plan.codec, plan.compression_level);
    if (made) {
      compressor.emplace(std::move(made).value());
    } else {
      compressor_error = made.error();
      compression_threads = 0;  // every request fails the same way; no threads for that
    }
  }

  static DeliveryReport unsent_report(const detail::Batch& batch) {
    DeliveryReport report;
    report.first_index = batch.first_index;
    report.events = batch.events;
    report.raw_bytes = batch.body.size();
    report.truncated_events = batch.truncated_events;
    return report;
  }

  /// Compresses on the calling thread.
  Expected<detail::PreparedRequest> prepare_here(detail::Batch batch) {
    if (!compressor) return *compressor_error;
    return detail::prepare_request(std::move(batch), plan.headers, *compressor);
  }

  bool stopped() const noexcept { return stop.load(std::memory_order_acquire); }

  /// The report of a request that request_stop() kept from being sent (or compressed).
  static DeliveryReport stopped_report(DeliveryReport unsent) {
    unsent.error = detail::make_error(ErrorCode::aborted, std::string(kStoppedPrefix) + "not sent");
    return unsent;
  }

  /// POSTs a prepared request (with retries) from the calling thread, or reports why it has none.
  void post(DeliveryReport unsent, Expected<detail::PreparedRequest> prepared, DeliverySummary& summary) {
    if (!prepared) {
      unsent.error = prepared.error();
      add(std::move(unsent), summary);
      return;
    }
    // Its error and warning come redacted (delivery.hpp, DeliveryTarget): not redacted again.
    DeliveryReport report = detail::deliver(*http, *prepared, plan.target, env);
    // Aborted because of request_stop() (a cancelled transfer, an interrupted wait): say so.
    if (!report.delivered && report.error && report.error->code == ErrorCode::aborted && stopped()) {
      report.error->message = kStoppedPrefix + report.error->message;
    }
    add(std::move(report), summary);
  }

  DeliveryReport too_large_report(std::size_t index) const {
    DeliveryReport report;
    report.first_index = index;
    report.events = 1;
    report.error =
        detail::make_error(ErrorCode::event_too_large,
                           "line " + std::to_string(index) + " cannot be made to fit max_line_bytes (" +
                               std::to_string(detail::line_budget(config.config()) - 1) + " bytes), even truncated");
    return report;
  }

  static void add(DeliveryReport report, DeliverySummary& summary) {
    if (report.delivered) {
      summary.events_delivered += report.events;
    } else {
      summary.events_failed += report.events;
    }
    summary.retries += report.attempts > 0 ? report.attempts - 1 : 0;
    summary.raw_bytes += report.raw_bytes;
    summary.compressed_bytes += report.compressed_bytes;
    summary.requests.push_back(std::move(report));
  }

  /// What comes next in input order: a request (compressed by the pool once `submitted`), or a
  /// line that could not be made to fit.
  struct Pending {
    std::shared_ptr<PipelineJob> job;  // null: too_large
    DeliveryReport unsent;             // the report skeleton (too_large: the whole report)
    bool submitted = false;
  };

  /// The pipeline of one send(): batches are cut on the calling thread; while it POSTs request n
  /// the pool compresses requests n+1..n+threads. Requests go out one at a time, in order, from the
  /// calling thread (the HttpClient is never used from another thread). The first request is held
  /// back until a second one exists, so a send() that makes one request never touches the pool.
  class Pipeline {
   public:
    Pipeline(Impl& impl, DeliverySummary& summary) : impl_(impl), summary_(summary) {}

    void add_batch(detail::Batch batch) {
      if (impl_.stopped()) {  // neither compressed nor sent; reported in input order
        DeliveryReport report = stopped_report(unsent_report(batch));
        if (pending_.empty()) {
          add(std::move(report), summary_);
        } else {
          Pending p;
          p.unsent = std::move(report);
          pending_.push_back(std::move(p));
        }
        return;
      }
      if (impl_.compression_threads == 0) {
        DeliveryReport unsent = unsent_report(batch);
        impl_.post(std::move(unsent), impl_.prepare_here(std::move(batch)), summary_);
        return;
      }
      // At most threads + 1 requests compressed or being compressed ahead: bounded memory.
      while (jobs_ >= impl_.compression_threads + 1) post_front();
      Pending p;
      p.unsent = unsent_report(batch);
      p.job = std::make_shared<PipelineJob>();
      p.job->batch = std::move(batch);
      pending_.push_back(std::move(p));
      ++jobs_;
      if (jobs_ >= 2 || started_) start();
    }

    void add_too_large(std::size_t index) {
      if (pending_.empty()) {
        add(impl_.too_large_report(index), summary_);
        return;
      }
      Pending p;
      p.unsent = impl_.too_large_report(index);
      pending_.push_back(std::move(p));
    }

    void finish() {
      while (!pending_.empty()) post_front();
    }

   private:
    /// Hands every held request to the pool.
    void start() {
      if (!impl_.pool) {
        impl_.pool = std::make_unique<CompressionPool>(impl_.plan, impl_.compression_threads);
      }
      started_ = true;
      for (Pending& p : pending_) {
        if (p.job && !p.submitted) {
          impl_.pool->submit(p.job);
          p.submitted = true;
        }
      }
    }

    void post_front() {
      Pending p = std::move(pending_.front());
      pending_.pop_front();
      if (!p.job) {
        add(std::move(p.unsent), summary_);
        return;
      }
      --jobs_;
      if (impl_.stopped()) {
        // Not waited for: a worker busy with it holds its own reference; the result is dropped.
        add(stopped_report(std::move(p.unsent)), summary_);
        return;
      }
      Expected<detail::PreparedRequest> prepared =
          p.submitted ? impl_.pool->wait(*p.job) : impl_.prepare_here(std::move(p.job->batch));
      impl_.post(std::move(p.unsent), std::move(prepared), summary_);
    }

    Impl& impl_;
    DeliverySummary& summary_;
    std::deque<Pending> pending_;
    std::size_t jobs_ = 0;  // requests in pending_
    bool started_ = false;
  };

  template <class Add>
  DeliverySummary run(std::size_t count, Add&& add_item) {
    DeliverySummary summary;
    Pipeline pipeline(*this, summary);
    detail::BatchBuilder builder(config.config().batch, 0, detail::line_budget(config.config()));
    for (std::size_t i = 0; i < count; ++i) {
      detail::BatchBuilder::AddResult result = add_item(builder, i);
      if (result.completed) pipeline.add_batch(std::move(*result.completed));
      if (result.fit == detail::LineFit::too_large) pipeline.add_too_large(i);
    }
    if (auto last = builder.finish()) pipeline.add_batch(std::move(*last));
    pipeline.finish();
    return summary;
  }
};

SumoClient::SumoClient(FinalizedSumoConfig config, std::shared_ptr<HttpClient> http)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(http))) {}

SumoClient::~SumoClient() = default;

DeliverySummary SumoClient::send(const std::vector<Event>& events) {
  return impl_->run(events.size(), [&](detail::BatchBuilder& b, std::size_t i) { return b.add_event(events[i]); });
}

DeliverySummary SumoClient::send_lines(const std::vector<std::string>& lines) {
  return impl_->run(lines.size(), [&](detail::BatchBuilder& b, std::size_t i) { return b.add_line(lines[i]); });
}

void SumoClient::request_stop() noexcept {
  {
    // Set under the wait's mutex, so a retry wait cannot miss it between its check and its sleep.
    std::lock_guard<std::mutex> lock(impl_->stop_mutex);
    impl_->stop.store(true, std::memory_order_release);
  }
  impl_->stop_cv.notify_all();
}

bool SumoClient::stop_requested() const noexcept { return impl_->stop.load(std::memory_order_acquire); }

}  // namespace ilert_sumo
