#pragma once
// Reading a small text file whole (a config file, a manifest or results file to refresh) with a
// limit, so that an endless or binary input (/dev/zero, a pipe that never ends) stops at once.

#include <cstdint>
#include <string>

#include "util/status.hpp"

namespace assetgen::util {

// Reads a whole text file of at most max_bytes, in one pass (a FIFO or a device works too).
// INVALID_INPUT "<path>: more than <max_bytes> bytes ..." past the limit and "<path>: not a text
// file (a NUL byte at byte N)" at the first NUL, both without reading on; NOT_FOUND when
// missing, PERMISSION_DENIED "permission denied" when unreadable, STORAGE_IO otherwise.
Result<std::string> read_text_file(const std::string& path, std::uint64_t max_bytes);

}  // namespace assetgen::util
