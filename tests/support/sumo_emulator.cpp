// tests/support/sumo_emulator.cpp: see sumo_emulator.hpp.
//
// Built on cpp-httplib 0.11 (Debian's libcpp-httplib). Two details of httplib shape this file:
// - httplib inflates gzip/deflate request bodies itself, without an output bound and without telling
//   gzip from zlib. The handler therefore uses the ContentReader form and removes Content-Encoding
//   from the request before reading the body, so the raw bytes arrive here and decode_body() decodes
//   them strictly and with a bounded output (libdeflate when available, else zlib; zstd).
// - httplib does not expose a connection's socket to handlers. An injected reset finds the server
//   side socket by its (local port, peer port) pair and sends a TCP RST (SO_LINGER 0 + disconnect).
#include "support/sumo_emulator.hpp"

#include <httplib.h>
#include <zlib.h>
#ifdef ILERT_SUMO_HAVE_ZSTD
#include <zstd.h>
#endif
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>
#include <utility>

namespace ilert_sumo::test {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

DecodeResult fail(int status, std::string error) {
  DecodeResult r;
  r.status = status;
  r.error = std::move(error);
  return r;
}

[[maybe_unused]] DecodeResult inflate_body(std::string_view wire, bool gzip, std::size_t max) {
  z_stream zs{};
  if (inflateInit2(&zs, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK) return fail(500, "inflateInit2 failed");
  struct Guard {
    z_stream* zs;
    ~Guard() { inflateEnd(zs); }
  } guard{&zs};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(wire.data()));
  zs.avail_in = static_cast<uInt>(wire.size());
  DecodeResult r;
  char buf[64 * 1024];
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t produced = sizeof buf - zs.avail_out;
    if (r.body.size() + produced > max) return fail(413, "body larger than the limit after decoding");
    r.body.append(buf, produced);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return r;
      // gzip allows several members back to back; zlib allows nothing after the stream.
      if (!gzip) return fail(400, "data after the end of the deflate stream");
      if (inflateReset(&zs) != Z_OK) return fail(500, "inflateReset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) return fail(400, "truncated compressed stream");
    if (rc != Z_OK) return fail(400, std::string("corrupt compressed stream: ") + (zs.msg ? zs.msg : "?"));
  }
}

#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
// The same, with libdeflate (2-3x faster than zlib's inflate): whole-buffer decoding into an output
// of exactly max+1 bytes, so more than `max` is "insufficient space" -> 413, whatever the input.
DecodeResult libdeflate_body(std::string_view wire, bool gzip, std::size_t max) {
  struct Decompressor {
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    ~Decompressor() {
      if (d) libdeflate_free_decompressor(d);
    }
  };
  thread_local Decompressor dec;
  if (!dec.d) return fail(500, "libdeflate_alloc_decompressor failed");
  DecodeResult r;
  r.body.resize(max + 1);
  std::size_t in_pos = 0;
  std::size_t out_pos = 0;
  do {
    std::size_t in_used = 0;
    std::size_t out_made = 0;
    const libdeflate_result rc =
        gzip ? libdeflate_gzip_decompress_ex(dec.d, wire.data() + in_pos, wire.size() - in_pos, &r.body[out_pos],
                                             r.body.size() - out_pos, &in_used, &out_made)
             : libdeflate_zlib_decompress_ex(dec.d, wire.data() + in_pos, wire.size() - in_pos, &r.body[out_pos],
                                             r.body.size() - out_pos, &in_used, &out_made);
    if (rc == LIBDEFLATE_INSUFFICIENT_SPACE) return fail(413, "body larger than the limit after decoding");
    if (rc != LIBDEFLATE_SUCCESS) {
      return fail(400, in_pos == 0
                           ? "corrupt or truncated compressed stream"
                           : (gzip ? "corrupt data after a gzip member" : "data after the end of the deflate stream"));
    }
    in_pos += in_used;
    out_pos += out_made;
    if (out_pos > max) return fail(413, "body larger than the limit after decoding");
  } while (gzip && in_pos < wire.size());  // gzip allows several members back to back
  if (in_pos != wire.size()) return fail(400, "data after the end of the deflate stream");
  r.body.resize(out_pos);
  return r;
}
#endif

#ifdef ILERT_SUMO_HAVE_ZSTD
DecodeResult zstd_body(std::string_view wire, std::size_t max) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (!dctx) return fail(500, "ZSTD_createDCtx failed");
  struct Guard {
    ZSTD_DCtx* d;
    ~Guard() { ZSTD_freeDCtx(d); }
  } guard{dctx};
  // Bound the window a frame may ask for (16 MiB): a request never needs more.
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 24);
  ZSTD_inBuffer in{wire.data(), wire.size(), 0};
  DecodeResult r;
  char buf[64 * 1024];
  std::size_t last = 0;
  if (wire.empty()) return fail(400, "empty zstd body");
  while (in.pos < in.size || last != 0) {
    ZSTD_outBuffer out{buf, sizeof buf, 0};
    const std::size_t before = in.pos;
    last = ZSTD_decompressStream(dctx, &out, &in);
    if (ZSTD_isError(last)) return fail(400, std::string("corrupt zstd stream: ") + ZSTD_getErrorName(last));
    if (r.body.size() + out.pos > max) return fail(413, "body larger than the limit after decoding");
    r.body.append(buf, out.pos);
    if (last != 0 && in.pos == in.size && out.pos < out.size && in.pos == before) {
      return fail(400, "truncated zstd stream");
    }
  }
  return r;
}
#endif

// The server-side socket of a connection, found by its (local port, peer port) pair; -1 if none.
int find_connection_socket(int local_port, int peer_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd < 0 || fd == dirfd(dir)) continue;
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_len = sizeof local;
    socklen_t peer_len = sizeof peer;
    const int ifd = static_cast<int>(fd);
    if (getsockname(ifd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (getpeername(ifd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    auto port_of = [](const sockaddr_storage& a) -> int {
      if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
      if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
      return -1;
    };
    if (port_of(local) == local_port && port_of(peer) == peer_port) {
      found = ifd;
      break;
    }
  }
  closedir(dir);
  return found;
}

// Aborts a TCP connection with an RST: the peer sees "connection reset", not an HTTP answer.
bool reset_socket(int fd) {
  if (fd < 0) return false;
  linger lg{};
  lg.l_onoff = 1;
  lg.l_linger = 0;
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
#ifdef __linux__
  // connect(AF_UNSPEC) disconnects a TCP socket; with a zero linger Linux sends the RST now, while
  // httplib still owns (and later closes) the descriptor.
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  connect(fd, &unspec, sizeof unspec);
#endif
  shutdown(fd, SHUT_RDWR);
  return true;
}

// Shuts down the reading side of every open server connection on `port`: an idle keep-alive
// connection then sees end-of-file at once instead of keeping httplib's worker (and so stop()) for
// its keep-alive timeout, while an answer being written still goes out.
void shutdown_connections(int port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  std::vector<int> fds;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd < 0 || fd == dirfd(dir)) continue;
    fds.push_back(static_cast<int>(fd));
  }
  closedir(dir);
  for (int fd : fds) {
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_len = sizeof local;
    socklen_t peer_len = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (local.ss_family != AF_INET) continue;
    if (ntohs(reinterpret_cast<const sockaddr_in&>(local).sin_port) != port) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;  // the listener
    shutdown(fd, SHUT_RD);
  }
}

std::size_t count_fields(std::string_view fields) {
  if (trim(fields).empty()) return 0;
  return static_cast<std::size_t>(std::count(fields.begin(), fields.end(), ',')) + 1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

DecodeResult decode_body(std::string_view encoding_header, std::string_view wire, std::size_t max) {
  const std::string encoding = lower(trim(encoding_header));
  if (encoding.empty() || encoding == "identity") {
    if (wire.size() > max) return fail(413, "body larger than the limit");
    DecodeResult r;
    r.body.assign(wire.data(), wire.size());
    return r;
  }
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
  if (encoding == "gzip" || encoding == "x-gzip") return libdeflate_body(wire, true, max);
  if (encoding == "deflate") return libdeflate_body(wire, false, max);
#else
  if (encoding == "gzip" || encoding == "x-gzip") return inflate_body(wire, true, max);
  if (encoding == "deflate") return inflate_body(wire, false, max);
#endif
  if (encoding == "zstd") {
#ifdef ILERT_SUMO_HAVE_ZSTD
    return zstd_body(wire, max);
#else
    return fail(415, "zstd support not compiled in");
#endif
  }
  return fail(415, "unsupported Content-Encoding");
}

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p < end) {
    if (end - p >= 8) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      if ((v & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::ptrdiff_t n;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (std::ptrdiff_t i = 1; i <= n; ++i) {
      const unsigned b = p[i];
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return false;
    if (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) return false;
    p += n + 1;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view text) {
  static const char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

std::string to_ndjson(const RecordedMessage& m) {
  std::string out;
  out.reserve(m.message.size() + 128);
  out += "{\"seq\":";
  out += std::to_string(m.seq);
  const std::pair<const char*, const std::string*> fields[] = {{"category", &m.category}, {"name", &m.name},
                                                               {"host", &m.host},         {"fields", &m.fields},
                                                               {"encoding", &m.encoding}, {"message", &m.message}};
  for (const auto& [key, value] : fields) {
    out += ",\"";
    out += key;
    out += "\":";
    append_json_string(out, *value);
  }
  out.push_back('}');
  return out;
}

namespace {

// A small reader for the flat objects to_ndjson() writes (strings, integers, null, booleans).
class FlatJsonReader {
 public:
  explicit FlatJsonReader(std::string_view s) : s_(s) {}

  bool read(RecordedMessage& m) {
    ws();
    if (!eat('{')) return false;
    ws();
    if (eat('}')) return at_end();
    for (;;) {
      std::string key;
      ws();
      if (!string(key)) return false;
      ws();
      if (!eat(':')) return false;
      ws();
      if (peek() == '"') {
        std::string value;
        if (!string(value)) return false;
        if (key == "category")
          m.category = std::move(value);
        else if (key == "name")
          m.name = std::move(value);
        else if (key == "host")
          m.host = std::move(value);
        else if (key == "fields")
          m.fields = std::move(value);
        else if (key == "encoding")
          m.encoding = std::move(value);
        else if (key == "message")
          m.message = std::move(value);
      } else if (std::isdigit(static_cast<unsigned char>(peek())) != 0) {
        std::uint64_t v = 0;
        while (std::isdigit(static_cast<unsigned char>(peek())) != 0) {
          v = v * 10 + static_cast<std::uint64_t>(s_[i_++] - '0');
        }
        if (key == "seq") m.seq = v;
      } else if (!literal("null") && !literal("true") && !literal("false")) {
        return false;
      }
      ws();
      if (eat('}')) return at_end();
      if (!eat(',')) return false;
    }
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
  }
  bool at_end() {
    ws();
    return i_ == s_.size();
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool hex4(std::uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  bool string(std::string& out) {
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (!literal("\\u") || !hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          put_utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::optional<RecordedMessage> parse_ndjson(std::string_view line) {
  RecordedMessage m;
  FlatJsonReader reader(line);
  if (!reader.read(m)) return std::nullopt;
  return m;
}

std::string to_readable(const RecordedMessage& m) {
  std::string out;
  out.reserve(m.message.size() + m.category.size() + 4);
  out.push_back('[');
  out += m.category.empty() ? std::string("-") : m.category;
  out += "] ";
  out += m.message;
  return out;
}

// ---------------------------------------------------------------------------------------------

struct SumoEmulator::Impl {
  EmulatorConfig cfg;
  httplib::Server server;
  std::thread listener;
  int port = 0;
  std::atomic<bool> listener_done{false};
  bool started = false;
  bool stopped = false;

  mutable std::mutex mu;
  mutable std::condition_variable cv;  // records changed, or stopping
  bool stopping = false;
  std::uint64_t next_seq = 0;
  std::deque<std::pair<Fault, std::size_t>> fault_queue;
  std::vector<int> window_statuses;
  std::chrono::milliseconds window_duration{0};
  std::optional<std::chrono::steady_clock::time_point> window_start;
  std::size_t window_index = 0;
  std::chrono::milliseconds delay{0};
  std::optional<std::string> warning;
  int retry_after = 1;
  std::vector<RecordedMessage> messages;
  std::vector<RecordedRequest> requests;
  EmulatorCounters counters;
  std::size_t answered = 0;

  // decode_after_answer mode: bodies acknowledged but not yet decoded (under mu).
  struct Deferred {
    RecordedRequest rec;
    std::string wire;
  };
  static constexpr std::size_t kMaxDeferredBytes = 64 * 1024 * 1024;
  std::deque<Deferred> deferred;
  std::size_t deferred_bytes = 0;
  bool decoder_stop = false;  // set once no handler can enqueue any more
  std::thread decoder;

  std::mutex callback_mu;  // serialises the callbacks
  AcceptedCallback accepted_cb;
  RequestCallback request_cb;

  // Decides the fault for a request (under mu).
  std::optional<Fault> pick_fault(std::chrono::steady_clock::time_point now) {
    if (!fault_queue.empty()) {
      const Fault f = fault_queue.front().first;
      if (--fault_queue.front().second == 0) fault_queue.pop_front();
      return f;
    }
    if (!window_statuses.empty()) {
      if (!window_start) window_start = now;
      if (now - *window_start < window_duration) {
        return Fault{window_statuses[window_index++ % window_statuses.size()]};
      }
      window_statuses.clear();
      window_start.reset();
    }
    return std::nullopt;
  }

  void finish(RecordedRequest& rec, int status, std::string reason, std::vector<RecordedMessage>* lines) {
    rec.status = status;
    rec.reason = std::move(reason);
    {
      std::lock_guard<std::mutex> lock(mu);
      ++answered;
      ++counters.by_status[status];
      counters.wire_bytes += rec.wire_bytes;
      if (status == 0) ++counters.resets;
      if (lines != nullptr) {
        ++counters.accepted_requests;
        counters.messages += rec.lines;
        counters.decoded_bytes += rec.decoded_bytes;
      }
      if (cfg.keep_in_memory) {
        requests.push_back(rec);
        if (lines != nullptr) {
          messages.insert(messages.end(), lines->begin(), lines->end());
        }
      }
    }
    cv.notify_all();
    if (accepted_cb || request_cb) {
      std::lock_guard<std::mutex> lock(callback_mu);
      if (lines != nullptr && accepted_cb) accepted_cb(rec, *lines);
      if (request_cb) request_cb(rec);
    }
  }

  static void close_after(const httplib::Request& req, httplib::Response& res) {
    // The request object is httplib's own, non-const; its Connection header decides whether the
    // connection is kept after this answer.
    auto& mreq = const_cast<httplib::Request&>(req);
    mreq.headers.erase("Connection");
    mreq.headers.emplace("Connection", "close");
    res.set_header("Connection", "close");
  }

  void handle(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
              bool token_route) {
    RecordedRequest rec;
    rec.received = std::chrono::steady_clock::now();
    rec.route = token_route ? "token" : "code";
    rec.category = req.get_header_value("X-Sumo-Category");
    rec.name = req.get_header_value("X-Sumo-Name");
    rec.host = req.get_header_value("X-Sumo-Host");
    rec.fields = req.get_header_value("X-Sumo-Fields");
    rec.encoding = req.has_header("Content-Encoding") ? req.get_header_value("Content-Encoding") : "identity";
    rec.content_type = req.get_header_value("Content-Type");
    rec.user_agent = req.get_header_value("User-Agent");
    rec.expect = req.get_header_value("Expect");

    // Hide the encoding from httplib so that the raw bytes reach us (see the top of the file).
    const_cast<httplib::Request&>(req).headers.erase("Content-Encoding");

    std::optional<Fault> fault;
    std::chrono::milliseconds delay_ms{0};
    std::optional<std::string> warning_body;
    int retry_after_s = 1;
    {
      std::lock_guard<std::mutex> lock(mu);
      rec.seq = ++next_seq;
      ++counters.requests;
      fault = pick_fault(rec.received);
      delay_ms = delay;
      warning_body = warning;
      retry_after_s = retry_after;
    }

    std::string wire;
    bool too_large = false;
    const bool read_ok = reader([&](const char* data, std::size_t n) {
      if (wire.size() + n > cfg.max_wire_bytes) {
        too_large = true;
        return false;
      }
      wire.append(data, n);
      return true;
    });
    rec.wire_bytes = wire.size();
    if (!read_ok) {
      // The rest of the body is still on the connection: answer and close it.
      const int status = (too_large || res.status == 413) ? 413 : 400;
      close_after(req, res);
      res.status = status;
      res.set_content(status == 413 ? "request body too large\n" : "could not read the request body\n", "text/plain");
      finish(rec, status, status == 413 ? "wire body too large" : "body read failed", nullptr);
      return;
    }

    if (delay_ms.count() > 0) {
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_for(lock, delay_ms, [&] { return stopping; })) {
        lock.unlock();
        close_after(req, res);
        res.status = 503;
        finish(rec, 503, "emulator stopping", nullptr);
        return;
      }
    }

    if (fault) {
      if (fault->status == 0) {
        // Recorded first: the client may look at the records as soon as it sees the reset.
        finish(rec, 0, "injected reset", nullptr);
        reset_socket(find_connection_socket(req.local_port, req.remote_port));
        close_after(req, res);
        res.status = 500;
        return;
      }
      res.status = fault->status;
      if (fault->status == 429) res.set_header("Retry-After", std::to_string(retry_after_s));
      res.set_content("injected " + std::to_string(fault->status) + "\n", "text/plain");
      finish(rec, fault->status, "injected " + std::to_string(fault->status), nullptr);
      return;
    }

    bool authorised;
    if (token_route) {
      authorised =
          !cfg.token.empty() && req.has_header("x-sumo-token") && req.get_header_value("x-sumo-token") == cfg.token;
    } else {
      authorised = !cfg.code.empty() && req.matches.size() > 1 && req.matches[1].str() == cfg.code;
    }
    if (!authorised) {
      res.status = 401;
      res.set_content("Unauthorized\n", "text/plain");
      finish(rec, 401, token_route ? "bad or missing token" : "bad code", nullptr);
      return;
    }

    if (cfg.decode_after_answer) {
      // Benchmark sink: acknowledge now, decode on the background thread (as Sumo acknowledges
      // before it processes). Back-pressure: wait while too much is queued.
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return stopping || deferred_bytes < kMaxDeferredBytes; });
      deferred_bytes += wire.size();
      deferred.push_back(Deferred{std::move(rec), std::move(wire)});
      lock.unlock();
      cv.notify_all();
      res.status = 200;
      return;
    }
    std::string content_type;
    std::string answer;
    res.status = process_body(rec, wire, warning_body, answer, content_type);
    if (!answer.empty()) res.set_content(answer, content_type.c_str());
  }

  // Decodes, checks and splits an authorised body, records it (finish) and returns the status to
  // answer with its body.
  int process_body(RecordedRequest& rec, std::string_view wire, const std::optional<std::string>& warning_body,
                   std::string& answer, std::string& content_type) {
    content_type = "text/plain";
    DecodeResult decoded = decode_body(rec.encoding == "identity" ? std::string_view() : std::string_view(rec.encoding),
                                       wire, cfg.max_decoded_bytes);
    if (decoded.status != 200) {
      answer = decoded.error + "\n";
      finish(rec, decoded.status, decoded.error, nullptr);
      return decoded.status;
    }
    rec.decoded_bytes = decoded.body.size();
    if (cfg.validate_utf8 && !is_valid_utf8(decoded.body)) {
      answer = "body is not valid UTF-8\n";
      finish(rec, 400, "invalid UTF-8", nullptr);
      return 400;
    }

    std::vector<RecordedMessage> lines;
    const std::string_view body(decoded.body);
    std::size_t start = 0;
    std::size_t count = 0;
    const bool need_lines = cfg.keep_in_memory || static_cast<bool>(accepted_cb);
    while (start < body.size()) {
      std::size_t nl = body.find('\n', start);
      if (nl == std::string_view::npos) nl = body.size();
      ++count;
      if (need_lines) {
        RecordedMessage m;
        m.seq = rec.seq;
        m.category = rec.category;
        m.name = rec.name;
        m.host = rec.host;
        m.fields = rec.fields;
        m.encoding = rec.encoding;
        m.message.assign(body.data() + start, nl - start);
        lines.push_back(std::move(m));
      }
      start = nl + 1;
    }
    rec.lines = count;

    if (count_fields(rec.fields) > 30) {
      answer = "{\"warning\":\"X-Sumo-Fields has " + std::to_string(count_fields(rec.fields)) +
               " fields; only the first 30 were kept, the rest were dropped\"}";
      content_type = "application/json";
    } else if (warning_body) {
      answer = *warning_body;
      content_type = "application/json";
    }
    finish(rec, 200, "", &lines);
    return 200;
  }

  // The background decoder of decode_after_answer mode; drains the queue before it returns.
  void deferred_loop() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return decoder_stop || !deferred.empty(); });
      if (deferred.empty()) return;  // stopped and drained
      Deferred d = std::move(deferred.front());
      deferred.pop_front();
      lock.unlock();
      std::string answer;
      std::string content_type;
      process_body(d.rec, d.wire, std::nullopt, answer, content_type);
      lock.lock();
      deferred_bytes -= d.wire.size();
      cv.notify_all();
    }
  }
};

SumoEmulator::SumoEmulator() : impl_(std::make_shared<Impl>()) {}

SumoEmulator::~SumoEmulator() { stop(); }

int SumoEmulator::start(EmulatorConfig config) {
  Impl& im = *impl_;
  if (im.started) throw std::runtime_error("SumoEmulator::start called twice");
  config_ = config;
  im.cfg = config;
  im.retry_after = config.retry_after_seconds;
  const std::size_t threads = std::max<std::size_t>(config.threads, 2);
  im.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  im.server.set_keep_alive_max_count(config.keep_alive_max_count);
  im.server.set_keep_alive_timeout(config.keep_alive_timeout_seconds);
  im.server.set_read_timeout(5, 0);
  im.server.set_write_timeout(5, 0);
  im.server.set_tcp_nodelay(true);
  im.server.set_payload_max_length(config.max_wire_bytes);
  im.server.Post(R"(/receiver/v1/http/([^/]+))",
                 [&im](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                   im.handle(req, res, reader, false);
                 });
  im.server.Post("/receiver/v1/http",
                 [&im](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                   im.handle(req, res, reader, true);
                 });

  int port = config.port;
  if (port == 0) {
    port = im.server.bind_to_any_port("127.0.0.1");
    if (port <= 0) throw std::runtime_error("sumo emulator: cannot bind 127.0.0.1");
  } else if (!im.server.bind_to_port("127.0.0.1", port)) {
    throw std::runtime_error("sumo emulator: cannot bind 127.0.0.1:" + std::to_string(port));
  }
  im.port = port;
  im.started = true;
  if (config.decode_after_answer) im.decoder = std::thread([keep = impl_] { keep->deferred_loop(); });
  // bind_to_*port already listens: connections made from now on wait in the backlog.
  im.listener = std::thread([keep = impl_] {
    keep->server.listen_after_bind();
    keep->listener_done.store(true);
  });
  // httplib's stop() only works once the accept loop runs (is_running()): wait for it, bounded.
  // stop() copes with the rest of that race anyway.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!im.server.is_running() && !im.listener_done.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return port;
}

void SumoEmulator::stop() {
  Impl& im = *impl_;
  if (!im.started || im.stopped) return;
  im.stopped = true;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.stopping = true;
  }
  im.cv.notify_all();
  // httplib's stop() is a no-op until the accept loop runs, so repeat it until the listener thread
  // is done (it returns after joining its workers). Bounded: ~10 s, then the thread is detached
  // rather than hanging the caller.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool server_stopped = false;
  while (!im.listener_done.load()) {
    if (!server_stopped && im.server.is_running()) {
      im.server.stop();
      server_stopped = true;
    }
    shutdown_connections(im.port);
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (im.listener_done.load()) {
    im.listener.join();
  } else {
    // Never expected. The thread holds its own reference to the state, so detaching is safe.
    im.listener.detach();
  }
  if (im.decoder.joinable()) {
    {
      std::lock_guard<std::mutex> lock(im.mu);
      im.decoder_stop = true;
    }
    im.cv.notify_all();
    im.decoder.join();
  }
}

int SumoEmulator::port() const { return impl_->port; }

std::string SumoEmulator::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + "/receiver/v1/http/" + config_.code;
}

std::string SumoEmulator::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + "/receiver/v1/http";
}

void SumoEmulator::on_accepted(AcceptedCallback callback) {
  std::lock_guard<std::mutex> lock(impl_->callback_mu);
  impl_->accepted_cb = std::move(callback);
}

void SumoEmulator::on_request(RequestCallback callback) {
  std::lock_guard<std::mutex> lock(impl_->callback_mu);
  impl_->request_cb = std::move(callback);
}

void SumoEmulator::fail_next(Fault fault, std::size_t count) {
  if (count == 0) return;
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fault_queue.emplace_back(fault, count);
}

void SumoEmulator::fail_for(std::vector<int> statuses, std::chrono::milliseconds duration) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->window_statuses = std::move(statuses);
  impl_->window_duration = duration;
  impl_->window_start.reset();
  impl_->window_index = 0;
}

void SumoEmulator::set_delay(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->delay = delay;
}

void SumoEmulator::set_warning(std::optional<std::string> body) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->warning = std::move(body);
}

void SumoEmulator::clear_faults() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fault_queue.clear();
  impl_->window_statuses.clear();
  impl_->window_start.reset();
  impl_->delay = std::chrono::milliseconds(0);
  impl_->warning.reset();
}

void SumoEmulator::set_retry_after(int seconds) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->retry_after = seconds;
}

std::vector<RecordedMessage> SumoEmulator::messages() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->messages;
}

std::vector<std::string> SumoEmulator::message_texts() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<std::string> out;
  out.reserve(impl_->messages.size());
  for (const auto& m : impl_->messages) out.push_back(m.message);
  return out;
}

std::vector<RecordedRequest> SumoEmulator::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

std::size_t SumoEmulator::count() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return static_cast<std::size_t>(impl_->counters.messages);
}

std::size_t SumoEmulator::request_count() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->answered;
}

EmulatorCounters SumoEmulator::counters() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->counters;
}

void SumoEmulator::clear_records() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->messages.clear();
  impl_->requests.clear();
}

bool SumoEmulator::wait_for_messages(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->counters.messages >= n; });
}

bool SumoEmulator::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->answered >= n; });
}

}  // namespace ilert_sumo::test
