// src/delivery/compress.hpp (private): one-shot compression of a whole request body.
//
// Used by the delivery layer (delivery.hpp: prepare_request), i.e. by SumoClient and SumoSender.
// A Compressor is bound to one codec and level and keeps its native context between calls
// (a libdeflate compressor, a zlib z_stream or a ZSTD_CCtx), so compressing a batch allocates
// nothing but the output. Not thread-safe: one Compressor per thread / per sender.
//
// Implementations, fastest available first (see docs/perf/compress.md for the measurements):
//   gzip, deflate  libdeflate when compiled in (ILERT_SUMO_HAVE_LIBDEFLATE), else zlib
//   zstd           libzstd (ILERT_SUMO_HAVE_ZSTD)
//   none           no work: callers send the raw body
// "deflate" is the zlib format (RFC 1950), which is what HTTP's `Content-Encoding: deflate` means.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ilert_sumo/expected.hpp"
#include "ilert_sumo/sumo_config.hpp"

namespace ilert_sumo::detail {

/// Which DEFLATE implementation a gzip/deflate Compressor uses. `automatic` picks libdeflate when
/// compiled in; forcing one is for benchmarks and tests.
enum class DeflateBackend : unsigned char { automatic, zlib, libdeflate };

/// Inclusive range of valid explicit levels for a codec (-1 always means "codec default").
struct LevelRange {
  /// Lowest accepted level.
  int min = 0;
  /// Highest accepted level.
  int max = 0;
};

/// The accepted levels: gzip/deflate 0..12 with libdeflate, 0..9 with zlib only; zstd 1..max
/// (negative "fast" zstd levels are not offered: -1 is the default sentinel); none: 0..0.
LevelRange compression_level_range(Compression codec) noexcept;
/// The level used for -1: gzip/deflate 6, zstd 3, none 0.
int default_compression_level(Compression codec) noexcept;
/// `level`, or the codec's default when it is -1 (the one place that resolves the sentinel).
inline int effective_compression_level(Compression codec, int level) noexcept {
  return level == -1 ? default_compression_level(codec) : level;
}
/// True when libdeflate was compiled in.
bool have_libdeflate() noexcept;

/// A reusable compressor for one codec and level.
class Compressor {
 public:
  /// Validates the codec (compiled in) and level; allocates the native context.
  /// Errors: unsupported_compression, invalid_config (level out of range), compression_failed.
  static Expected<Compressor> create(Compression codec, int level = -1,
                                     DeflateBackend backend = DeflateBackend::automatic);

  Compressor(Compressor&&) noexcept;
  Compressor& operator=(Compressor&&) noexcept;
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  ~Compressor();

  /// Replaces `out` with the compressed form of `in` (for Compression::none: a copy of `in`;
  /// callers normally skip the call for none). Errors: compression_failed.
  Expected<void> compress(std::string_view in, std::string& out);

  /// The codec.
  Compression codec() const noexcept;
  /// The effective level (never -1).
  int level() const noexcept;
  /// "libdeflate 1.14", "zlib 1.2.13", "zstd 1.5.4" or "none".
  std::string implementation() const;

 private:
  struct Impl;
  explicit Compressor(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ilert_sumo::detail
