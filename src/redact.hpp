// src/redact.hpp (private): URL splitting and secret masking shared by the delivery layer.
//
// sumo_config.cpp implements it (next to redact_url / redact of the public API); finalize() uses
// split_url() to check the endpoint, and every message that may carry a secret goes through a
// Redactor: SumoClient/SumoSender build one from the config, the curl client one from the URL.
//
// What is secret: the presigned URL's code (the path after `/receiver/v1/http/`), the token, the
// password of `user:password@` (or the whole user-info when it has no password), the client-key
// password and the proxy's password. Query strings and fragments are masked inside URLs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ilert_sumo/sumo_config.hpp"

namespace ilert_sumo::detail {

/// The parts of `scheme://[userinfo@]host[:port][/path][?query][#fragment]`, as views into the URL.
struct UrlParts {
  /// Scheme as written (compare case-insensitively).
  std::string_view scheme;
  /// User-info without the '@' (empty when absent).
  std::string_view userinfo;
  /// True when the URL has a user-info part (even an empty one).
  bool has_userinfo = false;
  /// Host, IPv6 literals with their brackets.
  std::string_view host;
  /// Port digits (empty when absent).
  std::string_view port;
  /// Path, starting with '/' (empty when absent).
  std::string_view path;
  /// Query without the '?'.
  std::string_view query;
  /// True when a '?' is present.
  bool has_query = false;
  /// Fragment without the '#'.
  std::string_view fragment;
  /// True when a '#' is present.
  bool has_fragment = false;
};

/// Splits an absolute URL; nullopt when there is no `scheme://`.
std::optional<UrlParts> split_url(std::string_view url) noexcept;

/// The presigned code in a path: what follows `/receiver/v1/http/` (case-insensitive match), or an
/// empty view when the path has no such segment.
std::string_view presigned_code(std::string_view path) noexcept;

/// The masked form of a presigned code: the first 2 characters + "***" when the code has at
/// least 16 characters (real Sumo codes are ~100), else "***".
std::string mask_code(std::string_view code);

/// Replaces every occurrence of known secrets in a text. Cheap to copy; build once per config.
class Redactor {
 public:
  /// Knows nothing: returns texts unchanged.
  Redactor() = default;
  /// Secrets of a config: URL (and its code/password), token, client-key password, proxy password.
  explicit Redactor(const SumoConfig& config);
  /// Secrets derivable from one URL (the curl client only knows the request URL).
  static Redactor for_url(std::string_view url);

  /// `text` with the whole URL(s) replaced by redact_url() and each secret by its mask.
  std::string operator()(std::string_view text) const;

 private:
  void add_url(std::string_view url);
  void add(std::string secret, std::string replacement);
  void sort();
  /// (secret, replacement), longest secret first.
  std::vector<std::pair<std::string, std::string>> replacements_;
};

}  // namespace ilert_sumo::detail
