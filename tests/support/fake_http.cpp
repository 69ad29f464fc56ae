// tests/support/fake_http.cpp: see fake_http.hpp.
#include "support/fake_http.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace ilert_sumo::test {

using Clock = std::chrono::steady_clock;

FakeReply FakeReply::http(int status, std::string body, std::vector<HttpHeader> headers) {
  FakeReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

FakeReply FakeReply::retry_after(int status, const std::string& retry_after) {
  FakeReply r = http(status);
  if (!retry_after.empty()) r.headers.push_back(HttpHeader{"Retry-After", retry_after});
  return r;
}

FakeReply FakeReply::failure(ErrorCode code, std::string message) {
  FakeReply r;
  r.status = 0;
  r.error = Error{code, std::move(message), {}, Error::npos};
  return r;
}

FakeReply FakeReply::hanging() {
  FakeReply r;
  r.hang = true;
  return r;
}

FakeReply FakeReply::throwing(std::string message) {
  FakeReply r;
  r.throw_message = std::move(message);
  return r;
}

std::string FakeRequest::header(const std::string& name) const {
  for (const HttpHeader& h : headers) {
    if (h.name == name) return h.value;
  }
  return "";
}

Expected<HttpResponse> FakeHttp::post(const HttpRequest& request) {
  if (mode_ == Mode::null) {
    count_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(request.body.size(), std::memory_order_relaxed);
    HttpResponse response;
    response.status = 200;
    return response;
  }

  // Leaves the in-flight count on every way out (return or throw).
  struct InFlight {
    std::atomic<std::size_t>& n;
    ~InFlight() { --n; }
  };
  const std::size_t now_in_flight = ++in_flight_;
  const InFlight in_flight{in_flight_};
  std::size_t seen_max = max_in_flight_.load();
  while (now_in_flight > seen_max && !max_in_flight_.compare_exchange_weak(seen_max, now_in_flight)) {
  }

  std::size_t index = 0;
  PostHook hook;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    index = requests_.size();
    FakeRequest seen;
    seen.index = index;
    seen.at = Clock::now();
    seen.thread = std::this_thread::get_id();
    seen.url = request.url;
    seen.headers = request.headers;
    seen.body = std::string(request.body);
    seen.connect_timeout = request.connect_timeout;
    seen.timeout = request.timeout;
    seen.deadline = request.deadline;
    requests_.push_back(std::move(seen));
    count_.fetch_add(1);
    bytes_.fetch_add(request.body.size());
    hook = hook_;
  }
  if (hook) hook(index);

  std::unique_lock<std::mutex> lock(mu_);
  FakeReply reply = otherwise_;
  if (!script_.empty()) {
    reply = std::move(script_.front());
    script_.pop_front();
  }
  // A held transfer polls its cancel flag (an atomic nobody notifies) and deadline every 1 ms.
  const auto aborted = [&] {
    return (request.cancel != nullptr && request.cancel->load()) || Clock::now() >= request.deadline;
  };
  while ((gate_closed_ || reply.hang) && !aborted()) cv_.wait_for(lock, std::chrono::milliseconds(1));
  if (gate_closed_ || reply.hang) {
    requests_[index].aborted = true;
    ++aborted_;
    return Error{ErrorCode::aborted, "aborted by the test's fake HttpClient", {}, Error::npos};
  }
  if (reply.throw_message) throw std::runtime_error(*reply.throw_message);
  if (reply.error) return *reply.error;
  requests_[index].status = reply.status;
  HttpResponse response;
  response.status = reply.status;
  response.body = std::move(reply.body);
  response.headers = std::move(reply.headers);
  return response;
}

void FakeHttp::push(const FakeReply& reply, std::size_t times) {
  const std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < times; ++i) script_.push_back(reply);
}

void FakeHttp::script(std::vector<FakeReply> replies) {
  const std::lock_guard<std::mutex> lock(mu_);
  script_.assign(std::make_move_iterator(replies.begin()), std::make_move_iterator(replies.end()));
}

void FakeHttp::otherwise(FakeReply reply) {
  const std::lock_guard<std::mutex> lock(mu_);
  otherwise_ = std::move(reply);
}

void FakeHttp::on_post(PostHook hook) {
  const std::lock_guard<std::mutex> lock(mu_);
  hook_ = std::move(hook);
}

void FakeHttp::close_gate() {
  const std::lock_guard<std::mutex> lock(mu_);
  gate_closed_ = true;
}

void FakeHttp::open_gate() {
  const std::lock_guard<std::mutex> lock(mu_);
  gate_closed_ = false;
  cv_.notify_all();
}

std::vector<FakeRequest> FakeHttp::requests() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::size_t FakeHttp::aborted_count() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return aborted_;
}

std::vector<std::string> FakeHttp::delivered_lines() const {
  const std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const FakeRequest& r : requests_) {
    if (r.status < 200 || r.status > 299) continue;
    std::size_t pos = 0;
    while (pos < r.body.size()) {
      const std::size_t nl = r.body.find('\n', pos);
      out.push_back(r.body.substr(pos, nl - pos));
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
  }
  return out;
}

}  // namespace ilert_sumo::test
