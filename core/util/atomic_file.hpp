#pragma once
// Whole-file writes that are all or nothing: write a temp file beside the target, fsync it,
// rename it over the target, fsync the folder. A crash leaves the old file or the new one,
// never half of either.

#include <functional>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::util {

// Whether the rename is made under an exclusive flock of the target's folder (the lock that
// storage::LocalStorage's conditional writers hold around their check and rename), taken after
// the temp file is filled and fsynced and held until the folder is fsynced.
enum class RenameLock { none, folder };

// Whether the write is durable when it returns (fsync of the temp file, then of the folder), or
// only visible: no fsync at all, for a caller that makes many writes durable at once with one
// syncfs of their filesystem (storage::LocalStorage::put_unsynced). A crash before that sync may
// leave the old file, the new one, or the new name with bytes missing: such a file must not be
// pointed at by a durable record until the sync has returned.
enum class Durability { synced, deferred };

// Writes data to path atomically, creating parent folders. STORAGE_IO on failure.
Status write_file_atomic(const std::string& path, std::string_view data,
                         RenameLock lock = RenameLock::none,
                         Durability durability = Durability::synced);

// The same, with the content written by fill into the temp file's descriptor (a content too
// large to hold in memory, copied from elsewhere). A failing fill leaves the target as it was.
Status write_file_atomic_with(const std::string& path, const std::function<Status(int fd)>& fill,
                              RenameLock lock = RenameLock::none,
                              Durability durability = Durability::synced);

// Copies the whole content of the open file `from` (read with pread from offset 0) to path
// atomically, as write_file_atomic.
Status copy_file_atomic(const std::string& path, int from, RenameLock lock = RenameLock::none,
                        Durability durability = Durability::synced);

// Reads a whole file. NOT_FOUND when it does not exist, STORAGE_IO on other failures.
Result<std::string> read_file(const std::string& path);

// Creates path and its parents (like mkdir -p). STORAGE_IO on failure.
Status make_dirs(const std::string& path);

// fsyncs a folder so that a rename or create inside it is durable.
Status fsync_dir(const std::string& path);

}  // namespace assetgen::util
