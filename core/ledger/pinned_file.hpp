#pragma once
// An append-only file that notices when its path has been replaced (by `ledger compact`,
// which renames a rewritten day file over the old one). It remembers the identity (device,
// inode) of the file it has open and, under the file lock, checks that the path still names
// that file before it lets anyone write; when it does not, the caller reopens and retries.

#include <chrono>
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
    // opened (from the descriptor itself). STORAGE_IO on failure.
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

// How long to keep trying when the file keeps being replaced. A count of attempts is the
// wrong bound: on a loaded machine a writer can lose the race for the new file's lock to a
// compaction many times in a row (each loss costs one compaction), so an attempt cap turned
// contention into lost appends. Time is the honest bound: a minute of continuous compactions
// is a broken operator loop, and STORAGE_IO then says so.
class ReplacedRetry {
public:
    static constexpr std::chrono::seconds k_patience{60};
    // True for the first attempt and for each further one until the patience runs out.
    bool again();

private:
    int m_attempts = 0;
    std::chrono::steady_clock::time_point m_deadline{};
};

// Appends lines to the file that path names now: reopens file (when empty or replaced) until
// the lines land in the current file. STORAGE_IO on failure.
util::Status append_to_current(const std::string& path, std::optional<PinnedFile>& file,
                               std::string_view lines);

}  // namespace assetgen::ledger
