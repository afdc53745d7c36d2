#pragma once
// CRC32C (Castagnoli), the checksum Cloud Storage keeps for every object, composite ones
// included (https://cloud.google.com/storage/docs/hashes-etags). Debian has no libcrc32c, so
// this is a small table-driven implementation.

#include <cstdint>
#include <string>
#include <string_view>

namespace assetgen::storage {

// CRC32C of data, continuing from a previous value (0 to start).
std::uint32_t crc32c(std::string_view data, std::uint32_t previous = 0);
// The form GCS uses in "crc32c" fields and x-goog-hash: base64 of the big-endian 4 bytes,
// e.g. "4waSgw==" for "123456789".
std::string crc32c_base64(std::string_view data);
// The same form for a CRC32C already computed (e.g. chained over chunks with crc32c()).
std::string crc32c_value_base64(std::uint32_t value);

}  // namespace assetgen::storage
