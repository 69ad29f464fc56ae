// src/delivery/compress.cpp: the Compressor of compress.hpp over libdeflate, zlib and libzstd.
#include "delivery/compress.hpp"

#include <zlib.h>

#include <climits>
#include <cstdint>
#include <limits>
#include <utility>

#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif
#ifdef ILERT_SUMO_HAVE_ZSTD
#include <zstd.h>
#endif

#include "util/errors.hpp"

namespace ilert_sumo::detail {

namespace {

constexpr int kZlibMaxLevel = 9;
constexpr int kLibdeflateMaxLevel = 12;

Error compression_error(std::string message) { return make_error(ErrorCode::compression_failed, std::move(message)); }

}  // namespace

bool have_libdeflate() noexcept {
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
  return true;
#else
  return false;
#endif
}

LevelRange compression_level_range(Compression codec) noexcept {
  switch (codec) {
    case Compression::gzip:
    case Compression::deflate: return {0, have_libdeflate() ? kLibdeflateMaxLevel : kZlibMaxLevel};
    case Compression::zstd:
#ifdef ILERT_SUMO_HAVE_ZSTD
      return {1, ZSTD_maxCLevel()};
#else
      return {1, 19};
#endif
    case Compression::none: break;
  }
  return {0, 0};
}

int default_compression_level(Compression codec) noexcept {
  switch (codec) {
    case Compression::gzip:
    case Compression::deflate: return 6;
    case Compression::zstd: return 3;
    case Compression::none: break;
  }
  return 0;
}

struct Compressor::Impl {
  Compression codec = Compression::none;
  int level = 0;
  bool use_libdeflate = false;
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
  libdeflate_compressor* ld = nullptr;
#endif
#ifdef ILERT_SUMO_HAVE_ZSTD
  ZSTD_CCtx* zstd = nullptr;
#endif
  bool zlib_ready = false;
  z_stream zs{};

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
    libdeflate_free_compressor(ld);
#endif
#ifdef ILERT_SUMO_HAVE_ZSTD
    ZSTD_freeCCtx(zstd);
#endif
    if (zlib_ready) deflateEnd(&zs);
  }

  Expected<void> compress_zlib(std::string_view in, std::string& out) {
    if (deflateReset(&zs) != Z_OK) return compression_error("zlib: deflateReset failed");
    const uLong bound = deflateBound(&zs, static_cast<uLong>(in.size()));
    out.resize(static_cast<std::size_t>(bound));
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    std::size_t in_left = in.size();
    std::size_t out_left = out.size();
    constexpr std::size_t kChunk = std::numeric_limits<uInt>::max();
    int rc = Z_OK;
    do {
      const std::size_t in_now = in_left < kChunk ? in_left : kChunk;
      const std::size_t out_now = out_left < kChunk ? out_left : kChunk;
      zs.avail_in = static_cast<uInt>(in_now);
      zs.avail_out = static_cast<uInt>(out_now);
      rc = deflate(&zs, in_left == in_now ? Z_FINISH : Z_NO_FLUSH);
      in_left -= in_now - zs.avail_in;
      out_left -= out_now - zs.avail_out;
      if (rc == Z_STREAM_ERROR) return compression_error("zlib: deflate failed");
      if (rc != Z_STREAM_END && out_left == 0) return compression_error("zlib: output bound exceeded");
    } while (rc != Z_STREAM_END);
    out.resize(out.size() - out_left);
    return {};
  }
};

Compressor::Compressor(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Compressor::Compressor(Compressor&&) noexcept = default;
Compressor& Compressor::operator=(Compressor&&) noexcept = default;
Compressor::~Compressor() = default;

Compression Compressor::codec() const noexcept { return impl_->codec; }
int Compressor::level() const noexcept { return impl_->level; }

std::string Compressor::implementation() const {
  switch (impl_->codec) {
    case Compression::gzip:
    case Compression::deflate:
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
      if (impl_->use_libdeflate) return std::string("libdeflate ") + LIBDEFLATE_VERSION_STRING;
#endif
      return std::string("zlib ") + zlibVersion();
    case Compression::zstd:
#ifdef ILERT_SUMO_HAVE_ZSTD
      return std::string("zstd ") + ZSTD_versionString();
#else
      break;
#endif
    case Compression::none: break;
  }
  return "none";
}

Expected<Compressor> Compressor::create(Compression codec, int level, DeflateBackend backend) {
  if (!compression_available(codec)) {
    return make_error(ErrorCode::unsupported_compression,
                      std::string("compression ") + to_string(codec) + " was not compiled in");
  }
  const int effective = effective_compression_level(codec, level);
  const LevelRange range = compression_level_range(codec);
  const bool forced_zlib = backend == DeflateBackend::zlib;
  const int max_level =
      (codec == Compression::gzip || codec == Compression::deflate) && forced_zlib ? kZlibMaxLevel : range.max;
  if (codec != Compression::none && (effective < range.min || effective > max_level)) {
    return make_error(ErrorCode::invalid_config, std::string("compression_level ") + std::to_string(level) +
                                                     " is out of range for " + to_string(codec) + " (" +
                                                     std::to_string(range.min) + ".." + std::to_string(max_level) +
                                                     ", or -1 for the default)");
  }

  auto impl = std::make_unique<Impl>();
  impl->codec = codec;
  impl->level = codec == Compression::none ? 0 : effective;

  switch (codec) {
    case Compression::none: break;
    case Compression::gzip:
    case Compression::deflate: {
      if (backend == DeflateBackend::libdeflate && !have_libdeflate()) {
        return make_error(ErrorCode::unsupported_compression, "libdeflate was not compiled in");
      }
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
      if (!forced_zlib) {
        impl->ld = libdeflate_alloc_compressor(effective);
        if (impl->ld == nullptr) return compression_error("libdeflate: cannot allocate a compressor");
        impl->use_libdeflate = true;
        break;
      }
#endif
      const int window_bits = codec == Compression::gzip ? 15 + 16 : 15;
      if (deflateInit2(&impl->zs, effective, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return compression_error("zlib: deflateInit2 failed");
      }
      impl->zlib_ready = true;
      break;
    }
    case Compression::zstd: {
#ifdef ILERT_SUMO_HAVE_ZSTD
      impl->zstd = ZSTD_createCCtx();
      if (impl->zstd == nullptr) return compression_error("zstd: cannot allocate a context");
      if (ZSTD_isError(ZSTD_CCtx_setParameter(impl->zstd, ZSTD_c_compressionLevel, effective)) != 0U) {
        return compression_error("zstd: cannot set the level");
      }
#endif
      break;
    }
  }
  return Compressor(std::move(impl));
}

Expected<void> Compressor::compress(std::string_view in, std::string& out) {
  Impl& s = *impl_;
  switch (s.codec) {
    case Compression::none: out.assign(in.data(), in.size()); return {};
    case Compression::gzip:
    case Compression::deflate: {
#ifdef ILERT_SUMO_HAVE_LIBDEFLATE
      if (s.use_libdeflate) {
        const bool gzip = s.codec == Compression::gzip;
        const std::size_t bound =
            gzip ? libdeflate_gzip_compress_bound(s.ld, in.size()) : libdeflate_zlib_compress_bound(s.ld, in.size());
        out.resize(bound);
        const std::size_t n = gzip ? libdeflate_gzip_compress(s.ld, in.data(), in.size(), out.data(), bound)
                                   : libdeflate_zlib_compress(s.ld, in.data(), in.size(), out.data(), bound);
        if (n == 0) return compression_error("libdeflate: output bound exceeded");
        out.resize(n);
        return {};
      }
#endif
      return s.compress_zlib(in, out);
    }
    case Compression::zstd: {
#ifdef ILERT_SUMO_HAVE_ZSTD
      const std::size_t bound = ZSTD_compressBound(in.size());
      out.resize(bound);
      const std::size_t n = ZSTD_compress2(s.zstd, out.data(), bound, in.data(), in.size());
      if (ZSTD_isError(n) != 0U) return compression_error(std::string("zstd: ") + ZSTD_getErrorName(n));
      out.resize(n);
      return {};
#else
      break;
#endif
    }
  }
  return compression_error("codec not available");
}

}  // namespace ilert_sumo::detail
