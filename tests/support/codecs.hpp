// tests/support/codecs.hpp: bare compressors (zlib, zstd) for tests and benchmarks.
//
// Independent of the library's own codec code (src/delivery/compress.*), so a test that compresses with these
// and decodes in the emulator checks the emulator, and a benchmark can compare the library's
// delivery throughput against the bare compressor at the same level.
#pragma once

#include <string>
#include <string_view>

namespace ilert_sumo::test {

/// gzip (RFC 1952) of `data` at zlib `level` (1..9).
std::string gzip_compress(std::string_view data, int level = 6);
/// zlib (RFC 1950, HTTP "deflate") of `data` at `level` (1..9).
std::string zlib_compress(std::string_view data, int level = 6);
/// Raw deflate (RFC 1951, no zlib header): what HTTP "deflate" must NOT be.
std::string raw_deflate_compress(std::string_view data, int level = 6);
/// True when zstd support was compiled in.
bool have_zstd() noexcept;
/// One zstd frame of `data` at `level`; throws std::runtime_error without zstd support.
std::string zstd_compress(std::string_view data, int level = 3);

}  // namespace ilert_sumo::test
