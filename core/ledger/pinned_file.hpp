#pragma once
// An append-only file that notices when its path has been replaced (by `ledger compact`,
// which renames a rewritten day file over the old one). It remembers the identity (device,
// inode) of the file it has open and, under the file lock, checks that the path still names
// that file before it lets anyone write; when it does not, the caller reopens and retries.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/append_file.hpp"
#include "util/status.hpp"

namespace assetgen::ledger {

class PinnedFile {
public:
    // Opens path for appending (creating folders and the file) and learns which file it
    // opened. STORAGE_IO on failure, or when the path keeps being replaced while opening.
    static util::Result<PinnedFile> open(const std::string& path);

    // Takes the file lock; if path still names the open file, runs fn (which may call
    // file().append: re-locking the same open file does not block) and returns its status
    // with *replaced = false. Otherwise runs nothing and sets *replaced = true.
    util::Status with_current_lock(const std::function<util::Status()>& fn, bool* replaced);

    // The open file, for append and sync.
    util::AppendFile& file() { return m_file; }
    // The path it was opened by.
    const std::string& path() const { return m_file.path(); }

private:
    util::AppendFile m_file;
    std::uint64_t m_device = 0;
    std::uint64_t m_inode = 0;
};

// Appends lines to the file that path names now: reopens file (when empty or replaced) until
// the lines land in the current file. STORAGE_IO on failure.
util::Status append_to_current(const std::string& path, std::optional<PinnedFile>& file,
                               std::string_view lines);

}  // namespace assetgen::ledger
