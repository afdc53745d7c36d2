#pragma once
// CRC-32 (the zlib/PNG polynomial) at memory speed: the PNG check (image_check.cpp) verifies
// the CRC of every chunk, i.e. of the whole 1.5 MB of a real image. zlib 1.2.13's crc32 reads
// ~4 GB/s here (~0.35 ms an image, an eighth of the floor); on x86 CPUs with PCLMULQDQ this
// folds 64 bytes per step with carry-less multiplies (Intel's "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ", as Chromium's zlib does) and hands the tail and other CPUs to
// zlib. Same values as zlib's crc32 (tests/core/provider/crc32_fast_test.cpp).

#include <cstdint>
#include <string_view>

namespace assetgen::provider {

// zlib's crc32(crc, data): 0 to start, or a previous result to continue.
std::uint32_t crc32_fast(std::uint32_t crc, std::string_view data);

}  // namespace assetgen::provider
