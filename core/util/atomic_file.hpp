#pragma once
// Whole-file writes that are all or nothing: write a temp file beside the target, fsync it,
// rename it over the target, fsync the folder. A crash leaves the old file or the new one,
// never half of either.

#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::util {

// Writes data to path atomically, creating parent folders. STORAGE_IO on failure.
Status write_file_atomic(const std::string& path, std::string_view data);

// Reads a whole file. NOT_FOUND when it does not exist, STORAGE_IO on other failures.
Result<std::string> read_file(const std::string& path);

// Creates path and its parents (like mkdir -p). STORAGE_IO on failure.
Status make_dirs(const std::string& path);

// fsyncs a folder so that a rename or create inside it is durable.
Status fsync_dir(const std::string& path);

}  // namespace assetgen::util
