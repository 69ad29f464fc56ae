// src/util/crc32c.hpp (private): CRC-32C (Castagnoli), the checksum of every spool record.
//
// Used by the spool (spool.hpp) to frame records on disk so that torn or corrupted records are
// detected on replay. crc32c() picks the SSE4.2 `crc32` instruction at run time when the CPU has
// it, and a slicing-by-8 table otherwise; both give identical results (reflected polynomial
// 0x82F63B78, initial value and final xor 0xFFFFFFFF): crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ilert_sumo::detail {

/// CRC-32C of `size` bytes at `data`, continuing from `crc` (0 to start).
/// crc32c(b, crc32c(a)) == crc32c(a + b).
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) noexcept;
/// CRC-32C of a string.
inline std::uint32_t crc32c(std::string_view bytes) noexcept { return crc32c(bytes.data(), bytes.size(), 0); }

/// The portable table implementation (exposed so tests can compare both paths).
std::uint32_t crc32c_portable(const void* data, std::size_t size, std::uint32_t crc = 0) noexcept;
/// True when crc32c() uses the SSE4.2 instruction on this CPU.
bool crc32c_hardware() noexcept;

}  // namespace ilert_sumo::detail
