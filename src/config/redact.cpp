// src/config/redact.cpp: redaction, the library's one redactor (redact.hpp): redact_url() and
// redact() of sumo_config.hpp, detail::Redactor (the URL code, token, passwords and proxy
// credentials of one config, masked where they occur as secrets, never inside ordinary words),
// split_url() and presigned_code(). docs/DESIGN.md, "Secrets and redaction".
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/redact.hpp"
#include "ilert_sumo/sumo_config.hpp"
#include "util/ascii.hpp"

namespace ilert_sumo {

using detail::iequals;
using detail::is_alpha;
using detail::is_digit;

// ---------------------------------------------------------------------------------------------
// Redaction helpers (shared by redact_url and detail::Redactor)

namespace detail {
namespace {

bool is_alnum(unsigned char c) noexcept { return is_alpha(c) || is_digit(c); }

/// One of the segments of Sumo's documented path /receiver/v1/http (or an empty one).
bool is_sumo_segment(std::string_view segment) noexcept {
  return segment.empty() || segment == "receiver" || segment == "v1" || segment == "http";
}

/// Appends `rest` (the path, query and fragment of a URL) with its secrets masked: the presigned
/// code (mask_code), each other path segment as `segment(s)` returns it, every query value and
/// the fragment.
template <class Segment>
void append_masked_tail(std::string& out, std::string_view rest, const Segment& segment) {
  const std::string_view path = rest.substr(0, rest.find_first_of("?#"));
  const std::string_view code = presigned_code(path);
  if (!code.empty()) {
    out.append(path.substr(0, path.size() - code.size()));
    out += mask_code(code);
  } else {
    std::size_t start = 0;
    while (start < path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string_view::npos) end = path.size();
      out += segment(path.substr(start, end - start));
      if (end < path.size()) out += '/';
      start = end + 1;
    }
    if (!path.empty() && path.back() == '/' && (out.empty() || out.back() != '/')) out += '/';
  }
  rest = rest.substr(path.size());
  if (!rest.empty() && rest.front() == '?') {
    const std::size_t hash = rest.find('#');
    const std::string_view query = rest.substr(1, hash == std::string_view::npos ? std::string_view::npos : hash - 1);
    out += '?';
    std::size_t start = 0;
    while (start <= query.size()) {
      std::size_t amp = query.find('&', start);
      if (amp == std::string_view::npos) amp = query.size();
      const std::string_view param = query.substr(start, amp - start);
      const std::size_t eq = param.find('=');
      if (eq != std::string_view::npos) {
        out.append(param.substr(0, eq + 1));
        if (eq + 1 < param.size()) out += "***";
      } else if (!param.empty()) {
        out += "***";
      }
      if (amp == query.size()) break;
      out += '&';
      start = amp + 1;
    }
    rest = hash == std::string_view::npos ? std::string_view{} : rest.substr(hash);
  }
  if (!rest.empty() && rest.front() == '#') out += rest.size() > 1 ? "#***" : "#";
}

/// Calls `f(item)` for each '&'-separated query item and each non-Sumo path segment of a URL's
/// path+query, i.e. the parts redact_url masks besides the code and the user-info.
template <class F>
void for_each_masked_part(std::string_view path, std::string_view query, const F& f) {
  if (presigned_code(path).empty()) {
    std::size_t start = 0;
    while (start < path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string_view::npos) end = path.size();
      const std::string_view segment = path.substr(start, end - start);
      if (!is_sumo_segment(segment)) f(segment);
      start = end + 1;
    }
  }
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view param = query.substr(start, amp - start);
    const std::size_t eq = param.find('=');
    f(eq == std::string_view::npos ? param : param.substr(eq + 1));
    start = amp + 1;
  }
}

bool is_scheme_char(unsigned char c) noexcept { return is_alnum(c) || c == '+' || c == '-' || c == '.'; }

/// Characters that end a URL in running text: whitespace, controls, quotes and the characters
/// RFC 3986 does not allow in a URL.
bool ends_url(unsigned char c) noexcept {
  return c <= 0x20 || c == 0x7F || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' ||
         c == '|' || c == '\\' || c == '^';
}

/// End of the URL-like run that starts at `from` (exclusive), without trailing sentence
/// punctuation; never before `min_end`.
std::size_t url_run_end(std::string_view text, std::size_t from, std::size_t min_end) noexcept {
  std::size_t end = from;
  while (end < text.size() && !ends_url(static_cast<unsigned char>(text[end]))) ++end;
  const std::string_view run = text.substr(from, end - from);
  const bool has_open_paren = run.find('(') != std::string_view::npos;
  while (end > min_end) {
    const char c = text[end - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || (c == ')' && !has_open_paren)) {
      --end;
    } else {
      break;
    }
  }
  return end;
}

/// Header names whose values are credentials, lower case; longest first.
constexpr std::string_view kSecretHeaders[] = {"proxy-authorization", "authorization", "x-sumo-token"};

bool is_header_name_char(unsigned char c) noexcept { return is_alnum(c) || c == '-' || c == '_'; }

/// When a secret header starts at `i` (`Name: value`, any case), the end of its name-and-colon
/// part (including an auth scheme such as "Basic ") and the end of the value to mask.
std::optional<std::pair<std::size_t, std::size_t>> secret_header_at(std::string_view text, std::size_t i) noexcept {
  if (i > 0 && is_header_name_char(static_cast<unsigned char>(text[i - 1]))) return std::nullopt;
  for (const std::string_view name : kSecretHeaders) {
    if (text.size() - i < name.size() || !iequals(text.substr(i, name.size()), name)) continue;
    std::size_t j = i + name.size();
    if (j < text.size() && is_header_name_char(static_cast<unsigned char>(text[j]))) continue;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
    if (j >= text.size() || text[j] != ':') continue;
    ++j;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
    std::size_t value = j;
    if (name != "x-sumo-token") {
      // `Authorization: <scheme> <credentials>`: the scheme is not secret.
      std::size_t k = value;
      while (k < text.size() && is_alpha(static_cast<unsigned char>(text[k]))) ++k;
      if (k > value && k + 1 < text.size() && text[k] == ' ' && static_cast<unsigned char>(text[k + 1]) > 0x20) {
        value = k + 1;
      }
    }
    std::size_t end = value;
    while (end < text.size() && static_cast<unsigned char>(text[end]) > 0x20 && text[end] != '"' && text[end] != '\'') {
      ++end;
    }
    if (end == value) return std::nullopt;
    return std::make_pair(value, end);
  }
  return std::nullopt;
}

}  // namespace
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Redaction

std::string redact_url(std::string_view url) {
  std::string out;
  out.reserve(url.size() + 8);
  std::size_t auth_start = 0;
  std::size_t auth_end = 0;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    auth_start = scheme_end + 3;
    auth_end = url.find_first_of("/?#", auth_start);
    if (auth_end == std::string_view::npos) auth_end = url.size();
  }
  out.append(url.substr(0, auth_start));
  std::string_view authority = url.substr(auth_start, auth_end - auth_start);
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      out.append(userinfo.substr(0, colon + 1));
    }
    out += "***@";
    authority = authority.substr(at + 1);
  }
  out.append(authority);

  std::string_view rest = url.substr(auth_end);
  if (scheme_end == std::string_view::npos) {
    // No scheme: the text cannot be split safely. Keep what comes before the first '/' (a host,
    // as far as we can tell) and treat the rest as a path, masked below.
    const std::size_t slash = url.find_first_of("/?#");
    const std::string_view first = url.substr(0, slash == std::string_view::npos ? url.size() : slash);
    // A host has a dot (or is a bracketed address); anything else may be the code itself.
    const bool host_like = first.find('.') != std::string_view::npos || (!first.empty() && first.front() == '[');
    out.assign(host_like ? first : std::string_view(first.empty() ? "" : "***"));
    rest = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  }
  // Not the presigned form (a wrong path, a typo): any segment may be the code. Only the segments
  // of Sumo's documented paths (/receiver/v1/http[/<code>]) are shown.
  detail::append_masked_tail(out, rest, [](std::string_view segment) {
    return detail::is_sumo_segment(segment) ? std::string(segment) : std::string("***");
  });
  return out;
}

std::string redact(std::string_view text, const SumoConfig& config) { return detail::Redactor(config)(text); }

// ---------------------------------------------------------------------------------------------
// Private helpers of redact.hpp

namespace detail {

std::optional<UrlParts> split_url(std::string_view url) noexcept {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  UrlParts p;
  p.scheme = url.substr(0, scheme_end);
  if (!is_alpha(static_cast<unsigned char>(p.scheme.front()))) return std::nullopt;
  for (const char ch : p.scheme) {
    const auto c = static_cast<unsigned char>(ch);
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return std::nullopt;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::size_t auth_end = rest.find_first_of("/?#");
  if (auth_end == std::string_view::npos) auth_end = rest.size();
  std::string_view hostport = rest.substr(0, auth_end);
  const std::size_t at = hostport.rfind('@');
  if (at != std::string_view::npos) {
    p.has_userinfo = true;
    p.userinfo = hostport.substr(0, at);
    hostport = hostport.substr(at + 1);
  }
  if (!hostport.empty() && hostport.front() == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    p.host = hostport.substr(0, close + 1);
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      p.port = after.substr(1);
      if (p.port.empty()) return std::nullopt;
    }
  } else {
    const std::size_t colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
      p.host = hostport.substr(0, colon);
      p.port = hostport.substr(colon + 1);
      if (p.port.empty()) return std::nullopt;
    } else {
      p.host = hostport;
    }
  }
  rest = rest.substr(auth_end);
  const std::size_t path_end = rest.find_first_of("?#");
  p.path = rest.substr(0, path_end);
  rest = path_end == std::string_view::npos ? std::string_view{} : rest.substr(path_end);
  if (!rest.empty() && rest.front() == '?') {
    p.has_query = true;
    const std::size_t hash = rest.find('#');
    p.query = rest.substr(1, hash == std::string_view::npos ? std::string_view::npos : hash - 1);
    rest = hash == std::string_view::npos ? std::string_view{} : rest.substr(hash);
  }
  if (!rest.empty() && rest.front() == '#') {
    p.has_fragment = true;
    p.fragment = rest.substr(1);
  }
  return p;
}

std::string_view presigned_code(std::string_view path) noexcept {
  static constexpr std::string_view kMarker = "/receiver/v1/http/";
  if (path.size() < kMarker.size()) return {};
  for (std::size_t i = 0; i + kMarker.size() <= path.size(); ++i) {
    if (iequals(path.substr(i, kMarker.size()), kMarker)) return path.substr(i + kMarker.size());
  }
  return {};
}

std::string mask_code(std::string_view code) {
  constexpr std::size_t kShowFrom = 16;
  // Already masked (a redacted URL passing through a Redactor again): keep it.
  if (code.size() <= 5 && code.size() >= 3 && code.substr(code.size() - 3) == "***") return std::string(code);
  if (code.size() >= kShowFrom) return std::string(code.substr(0, 2)) + "***";
  return "***";
}

namespace {
std::atomic<std::uint64_t> redactors_constructed{0};
std::atomic<std::uint64_t> texts_redacted{0};
}  // namespace

std::uint64_t Redactor::constructed() noexcept { return redactors_constructed.load(std::memory_order_relaxed); }

std::uint64_t Redactor::applied() noexcept { return texts_redacted.load(std::memory_order_relaxed); }

Redactor::Redactor(const SumoConfig& config) {
  redactors_constructed.fetch_add(1, std::memory_order_relaxed);
  add_url(config.url);
  add_secret(config.token, "***");
  add_secret(config.http.client_key_password, "***");
  add_url(config.http.proxy);
  sort();
}

Redactor Redactor::for_urls(std::initializer_list<std::string_view> urls) {
  redactors_constructed.fetch_add(1, std::memory_order_relaxed);
  Redactor r;
  for (const std::string_view url : urls) r.add_url(url);
  r.sort();
  return r;
}

void Redactor::add_url(std::string_view url) {
  if (url.empty()) return;
  const auto parts = split_url(url);
  if (parts) {
    urls_.push_back(Known{std::string(url), redact_url(url)});
  } else {
    // Not splittable: no structure to go by, so the whole text is a secret of its own.
    add_secret(url, redact_url(url));
  }
  const std::string_view code = presigned_code(parts ? parts->path : url);
  if (!code.empty()) add_secret(code, mask_code(code));
  if (parts) {
    // What redact_url masks besides the code (segments of a wrong path, query values, the
    // fragment) is masked where it reappears in another URL, too.
    for_each_masked_part(parts->path, parts->query, [this](std::string_view part) { add_secret(part, "***"); });
    add_secret(parts->fragment, "***");
    if (parts->has_userinfo && !parts->userinfo.empty()) {
      const std::size_t colon = parts->userinfo.find(':');
      add_secret(colon == std::string_view::npos ? parts->userinfo : parts->userinfo.substr(colon + 1), "***");
    }
  }
}

void Redactor::add_secret(std::string_view secret, std::string replacement) {
  if (secret.empty() || secret == "***") return;
  secrets_.push_back(Known{std::string(secret), std::move(replacement)});
}

void Redactor::sort() {
  const auto longer = [](const Known& a, const Known& b) { return a.text.size() > b.text.size(); };
  std::stable_sort(urls_.begin(), urls_.end(), longer);
  std::stable_sort(secrets_.begin(), secrets_.end(), longer);
}

bool Redactor::is_secret(std::string_view s) const {
  return std::any_of(secrets_.begin(), secrets_.end(), [s](const Known& k) { return k.text == s; });
}

std::string Redactor::mask_url(std::string_view url) const {
  const std::optional<UrlParts> parts = split_url(url);
  if (!parts) return redact_url(url);  // no structure to go by: the strict form
  std::string out(parts->scheme);
  out += "://";
  if (parts->has_userinfo) {
    const std::size_t colon = parts->userinfo.find(':');
    if (colon != std::string_view::npos) {
      out += mask_free(parts->userinfo.substr(0, colon));
      out += ':';
    }
    out += "***@";
  }
  out += mask_free(parts->host);
  if (!parts->port.empty()) {
    out += ':';
    out += parts->port;
  }
  const std::size_t authority_end = url.find_first_of("/?#", parts->scheme.size() + 3);
  const std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view{} : url.substr(authority_end);
  append_masked_tail(out, tail, [this](std::string_view segment) {
    return is_secret(segment) ? std::string("***") : mask_free(segment);
  });
  return out;
}

namespace {

/// The known secret that free text at `i` shows, by the length rules of redact.hpp, or nullptr.
template <class Known>
const Known* free_secret_at(const std::vector<Known>& secrets, std::string_view text, std::size_t i) noexcept {
  for (const Known& k : secrets) {
    const std::size_t n = k.text.size();
    if (n < kFreeTextWholeWord) break;  // sorted longest first
    if (text.size() - i < n || text.compare(i, n, k.text) != 0) continue;
    if (n >= kFreeTextAnywhere) return &k;
    const bool word_before = i > 0 && is_alnum(static_cast<unsigned char>(text[i - 1]));
    const bool word_after = i + n < text.size() && is_alnum(static_cast<unsigned char>(text[i + n]));
    if (!word_before && !word_after) return &k;
  }
  return nullptr;
}

}  // namespace

std::string Redactor::mask_free(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (const Known* k = free_secret_at(secrets_, text, i)) {
      out += k->replacement;
      i += k->text.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string Redactor::operator()(std::string_view text) const {
  texts_redacted.fetch_add(1, std::memory_order_relaxed);
  static constexpr std::string_view kMarker = "/receiver/v1/http/";
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    // A URL: a run of scheme characters followed by "://" (every "://" is inside one; the scheme
    // starts at the run's first letter), or a "://" without any scheme.
    if ((is_scheme_char(c) || c == ':') && (i == 0 || !is_scheme_char(static_cast<unsigned char>(text[i - 1])))) {
      std::size_t j = i;
      while (j < text.size() && is_scheme_char(static_cast<unsigned char>(text[j]))) ++j;
      if (text.compare(j, 3, "://") == 0) {
        std::size_t start = i;
        while (start < j && !is_alpha(static_cast<unsigned char>(text[start]))) ++start;
        if (start == j) start = i;
        out.append(text.substr(i, start - i));
        const std::size_t end = url_run_end(text, start, j + 3);
        const std::string_view url = text.substr(start, end - start);
        const auto known = std::find_if(urls_.begin(), urls_.end(), [url](const Known& k) { return k.text == url; });
        out += known != urls_.end() ? known->replacement : mask_url(url);
        i = end;
        continue;
      }
    }
    // The code's place in a URL without a scheme.
    if (c == '/' && text.size() - i >= kMarker.size() && iequals(text.substr(i, kMarker.size()), kMarker)) {
      out.append(text.substr(i, kMarker.size()));
      i += kMarker.size();
      std::size_t end = i;
      while (end < text.size() && !ends_url(static_cast<unsigned char>(text[end])) && text[end] != '?' &&
             text[end] != '#') {
        ++end;
      }
      end = url_run_end(text.substr(0, end), i, i);
      if (end > i) out += mask_code(text.substr(i, end - i));
      i = end;
      continue;
    }
    // A credential header's value.
    if (const auto header = secret_header_at(text, i)) {
      out.append(text.substr(i, header->first - i));
      out += "***";
      i = header->second;
      continue;
    }
    if (const Known* k = free_secret_at(secrets_, text, i)) {
      out += k->replacement;
      i += k->text.size();
      continue;
    }
    out += text[i++];
  }
  return out;
}

}  // namespace detail
}  // namespace ilert_sumo
