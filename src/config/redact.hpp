// src/config/redact.hpp (private): URL splitting and the one secret masker of the library.
//
// sumo_config.cpp implements it (next to redact_url / redact of the public API); finalize() uses
// split_url() to check the endpoint and the proxy, and every message that may carry a secret goes
// through a Redactor: finalize() builds the config's one, once, and keeps it in the DeliveryPlan
// (delivery/delivery.hpp) that SumoClient and SumoSender use; the curl client builds one from the
// request URL and its proxy URL. The public redact(text, config) is a Redactor too.
//
// What is secret: the presigned URL's code (the path after `/receiver/v1/http/`), the token, the
// password of `user:password@` (or the whole user-info when it has no password), the client-key
// password and the proxy's credentials. Query values and fragments are masked inside URLs.
//
// Secrets are masked where they stand as secrets, never as parts of ordinary words (a one-letter
// code must not turn "receiver" into "re***eiver"):
// - in every URL of the text (found by its `scheme://`; a known URL is replaced by redact_url()):
//   the user-info password, the presigned code, query values, the fragment, and any path segment
//   that is exactly a known secret;
// - after `/receiver/v1/http/` even without a scheme (the code's place);
// - in the value of an `x-sumo-token:`, `Authorization:` or `Proxy-Authorization:` header;
// - anywhere else only when the known secret is long enough not to be a word: from
//   kFreeTextWholeWord (8) bytes where it stands as a whole word (no ASCII letter or digit on
//   either side), from kFreeTextAnywhere (16) bytes wherever it occurs (a random token glued to
//   other text, e.g. a server echoing it). A shorter secret is masked only in the places above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
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
/// least 16 characters (real Sumo codes are ~100), else "***". An already masked code ("***",
/// "Ab***") is returned unchanged, so masking twice changes nothing.
std::string mask_code(std::string_view code);

/// A known secret shorter than this is never masked in free text (only in URL, header and
/// credential positions); from this length on it is masked where it stands as a whole word.
inline constexpr std::size_t kFreeTextWholeWord = 8;
/// A known secret at least this long is masked wherever it occurs, even inside other text.
inline constexpr std::size_t kFreeTextAnywhere = 16;

/// Masks secrets in texts (see the file comment for where). Cheap to copy; build once per config:
/// finalize() builds the config's one and keeps it in the DeliveryPlan (delivery/delivery.hpp).
class Redactor {
 public:
  /// Knows no secret: still masks URL credentials, presigned codes, query values and header values.
  Redactor() = default;
  /// Secrets of a config: URL (its code, password, query), token, client-key password, proxy URL
  /// (its credentials).
  explicit Redactor(const SumoConfig& config);
  /// Secrets derivable from URLs (the curl client knows the request URL and the proxy URL).
  static Redactor for_urls(std::initializer_list<std::string_view> urls);
  /// Secrets derivable from one URL.
  static Redactor for_url(std::string_view url) { return for_urls({url}); }

  /// `text` with every secret masked.
  std::string operator()(std::string_view text) const;

  /// Redactors built from secrets in this process so far (the config constructor and for_urls;
  /// not default ones, not copies). Tests check with it that a config's is built once.
  static std::uint64_t constructed() noexcept;
  /// Texts masked by any Redactor in this process so far (calls of operator()). Tests check with
  /// it that nothing is redacted twice.
  static std::uint64_t applied() noexcept;

 private:
  struct Known {
    std::string text;
    std::string replacement;
  };
  void add_url(std::string_view url);
  void add_secret(std::string_view secret, std::string replacement);
  void sort();
  /// A URL found in a text, masked.
  std::string mask_url(std::string_view url) const;
  /// Known secrets masked in free text only (the length rules above).
  std::string mask_free(std::string_view text) const;
  /// True when `s` is exactly a known secret.
  bool is_secret(std::string_view s) const;
  /// Known URLs (as given, and their redact_url form), longest first.
  std::vector<Known> urls_;
  /// Known secrets and their masks, longest first.
  std::vector<Known> secrets_;
};

}  // namespace ilert_sumo::detail
