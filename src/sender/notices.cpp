// src/sender/notices.cpp: the sender's notice queue and failure-run notices (notices.hpp).
#include "sender/notices.hpp"

#include <string>
#include <utility>

#include "util/errors.hpp"

namespace ilert_sumo::detail {

bool NoticeQueue::push(Error notice) {
  ++total_;
  if (pending_.size() >= max_) {
    ++dropped_;
    return false;
  }
  pending_.push_back(std::move(notice));
  return true;
}

std::vector<Error> NoticeQueue::take() noexcept {
  std::vector<Error> out;
  out.swap(pending_);
  return out;
}

std::optional<Error> FailureRun::on_attempt(int status, const std::optional<Error>& error, Clock::time_point now) {
  const bool ok = !error && status >= 200 && status <= 299;
  const auto seconds_since = [&](Clock::time_point t) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - t).count());
  };
  if (ok) {
    std::optional<Error> notice;
    if (since_) {
      notice =
          make_error(ErrorCode::ok, "delivery recovered: Sumo accepted a request after " + std::to_string(failed_) +
                                        " failed attempt(s) over " + seconds_since(*since_) + " s");
    }
    since_.reset();
    failed_ = 0;
    unreported_ = 0;
    return notice;
  }
  const ErrorCode code = error ? error->code : ErrorCode::http_status;
  const std::string reason = error ? error->message : "status " + std::to_string(status);
  ++failed_;
  if (!since_) {
    since_ = now;
    last_notice_ = now;
    return make_error(code, "delivery attempt failed (status " + std::to_string(status) + "): " + reason +
                                "; retrying (further failures: one summary per " + std::to_string(interval_.count()) +
                                " s)");
  }
  ++unreported_;
  if (now - last_notice_ < interval_) return std::nullopt;
  Error notice =
      make_error(code, "delivery still failing: " + std::to_string(unreported_) + " more failed attempt(s), " +
                           std::to_string(failed_) + " in " + seconds_since(*since_) + " s; latest (status " +
                           std::to_string(status) + "): " + reason);
  last_notice_ = now;
  unreported_ = 0;
  return notice;
}

}  // namespace ilert_sumo::detail
