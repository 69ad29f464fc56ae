// tests/support/codecs.cpp: see codecs.hpp.
#include "support/codecs.hpp"

#include <zlib.h>
#ifdef ILERT_SUMO_HAVE_ZSTD
#include <zstd.h>
#endif

#include <stdexcept>

namespace ilert_sumo::test {

namespace {

std::string deflate_with(std::string_view data, int level, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const auto produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  out.resize(produced);
  return out;
}

}  // namespace

std::string gzip_compress(std::string_view data, int level) { return deflate_with(data, level, 16 + MAX_WBITS); }
std::string zlib_compress(std::string_view data, int level) { return deflate_with(data, level, MAX_WBITS); }
std::string raw_deflate_compress(std::string_view data, int level) { return deflate_with(data, level, -MAX_WBITS); }

bool have_zstd() noexcept {
#ifdef ILERT_SUMO_HAVE_ZSTD
  return true;
#else
  return false;
#endif
}

std::string zstd_compress(std::string_view data, int level) {
#ifdef ILERT_SUMO_HAVE_ZSTD
  std::string out;
  out.resize(ZSTD_compressBound(data.size()));
  const std::size_t n = ZSTD_compress(&out[0], out.size(), data.data(), data.size(), level);
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("ZSTD_compress: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
#else
  (void)data;
  (void)level;
  throw std::runtime_error("zstd support not compiled in");
#endif
}

}  // namespace ilert_sumo::test
