// LocalStorage's deferred durability: put_unsynced writes a whole file (temp + rename, no
// fsync), sync_puts makes all of them durable with one syncfs(2) per filesystem. Why syncfs and
// not an fdatasync per file: one call covers the bytes of every file written, their renames
// and the folders made for them (the journal commit), so a group of N images costs one sync
// instead of 2N (the file and its folder). What it costs: syncfs also writes back other dirty
// data of the same filesystem, so on a busy machine one call may take longer; a group commit
// then simply collects more images per call, and no worker waits for it (the hand-off,
// durable_log.hpp). Measured on the shared 2-core machine (README, Benchmarks): a group of 20
// tiny images took 0.9 ms (median) with one syncfs, 32 ms with an fdatasync per file and an
// fsync per folder (2 syncs an image, never below issue 18's 0.2). Since Linux 5.8 syncfs reports
// writeback errors that happened since the descriptor was opened (or last synced), which is why the
// descriptor of each filesystem is opened before its first deferred write and kept.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include "storage/storage.hpp"
#include "util/atomic_file.hpp"
#include "util/safe_dir.hpp"

namespace assetgen::storage {

struct LocalStorage::Unsynced {
    struct Filesystem {
        util::UniqueFd fd;   // a folder on it, opened before its first deferred write
        std::string folder;  // that folder (for messages)
    };
    std::mutex mutex;
    std::map<dev_t, Filesystem> filesystems;  // every filesystem put_unsynced wrote to
};

LocalStorage::LocalStorage() : m_unsynced(std::make_unique<Unsynced>()) {}
LocalStorage::~LocalStorage() = default;

util::Status LocalStorage::put_unsynced(const std::string& location, std::string_view data,
                                        const std::string&) {
    const std::filesystem::path parent = std::filesystem::path(location).parent_path();
    const std::string folder = parent.empty() ? std::string(1, '.') : parent.string();
    // The folder's filesystem is known (and its descriptor open) before the bytes are written,
    // so the next sync_puts covers this file and reports its writeback errors.
    TRY(util::make_dirs(folder));
    struct stat st {};
    if (::stat(folder.c_str(), &st) != 0) {
        return util::io_error(folder + ": cannot stat", errno);
    }
    {
        std::lock_guard lock(m_unsynced->mutex);
        if (m_unsynced->filesystems.count(st.st_dev) == 0) {
            const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) {
                return util::io_error(folder + ": cannot open", errno);
            }
            m_unsynced->filesystems.emplace(st.st_dev,
                                            Unsynced::Filesystem{util::UniqueFd(fd), folder});
        }
    }
    return util::write_file_atomic(location, data, util::RenameLock::folder,
                                   util::Durability::deferred);
}

util::Status LocalStorage::sync_puts() {
    // Every filesystem ever written to, not only those since the last call: a concurrent
    // caller's write may be covered by a syncfs that another caller started, which must not let
    // either return before its own writes are durable.
    std::vector<std::pair<int, std::string>> targets;
    {
        std::lock_guard lock(m_unsynced->mutex);
        for (const auto& [dev, fs] : m_unsynced->filesystems) {
            targets.emplace_back(fs.fd.get(), fs.folder);
        }
    }
    for (const auto& [fd, folder] : targets) {
        if (::syncfs(fd) != 0) {
            return util::io_error(folder +
                                      ": syncfs failed (images written there are not known "
                                      "to be on disk)",
                                  errno);
        }
    }
    return util::ok_status();
}

}  // namespace assetgen::storage
