// Error codes' names and Error::to_string.
#include "ilert_sumo/error.hpp"

namespace ilert_sumo {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok: return "ok";
    case ErrorCode::empty_body: return "empty_body";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::invalid_utf8: return "invalid_utf8";
    case ErrorCode::syntax: return "syntax";
    case ErrorCode::invalid_unicode_escape: return "invalid_unicode_escape";
    case ErrorCode::duplicate_key: return "duplicate_key";
    case ErrorCode::nesting_too_deep: return "nesting_too_deep";
    case ErrorCode::not_an_object: return "not_an_object";
    case ErrorCode::missing_field: return "missing_field";
    case ErrorCode::wrong_type: return "wrong_type";
    case ErrorCode::number_out_of_range: return "number_out_of_range";
    case ErrorCode::invalid_config: return "invalid_config";
    case ErrorCode::invalid_url: return "invalid_url";
    case ErrorCode::insecure_url: return "insecure_url";
    case ErrorCode::invalid_field: return "invalid_field";
    case ErrorCode::too_many_fields: return "too_many_fields";
    case ErrorCode::invalid_header_value: return "invalid_header_value";
    case ErrorCode::unsupported_compression: return "unsupported_compression";
    case ErrorCode::transport: return "transport";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::http_status: return "http_status";
    case ErrorCode::retry_budget_exhausted: return "retry_budget_exhausted";
    case ErrorCode::aborted: return "aborted";
    case ErrorCode::compression_failed: return "compression_failed";
    case ErrorCode::event_too_large: return "event_too_large";
    case ErrorCode::io: return "io";
    case ErrorCode::spool_corrupt: return "spool_corrupt";
    case ErrorCode::closed: return "closed";
    case ErrorCode::queue_full: return "queue_full";
    case ErrorCode::spool_full: return "spool_full";
  }
  return "unknown_error";
}

std::string Error::to_string() const {
  // `<code> at <path> (byte <offset>): <message>`; the document itself is the path `$`.
  std::string out = ilert_sumo::to_string(code);
  if (!path.empty() || offset != npos) {
    out += " at ";
    out += path.empty() ? std::string("$") : path;
  }
  if (offset != npos) {
    out += " (byte ";
    out += std::to_string(offset);
    out += ")";
  }
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

}  // namespace ilert_sumo
