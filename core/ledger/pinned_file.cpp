#include "ledger/pinned_file.hpp"

// How this works: the identity of the open file comes from fstat on its descriptor, so it
// names the file we will write to, whatever the path named a moment before or after. (An
// earlier version compared stat(path) before and after open(): two compactions in that window
// could free an inode and hand its number to a newer file, so "before == after" held while the
// descriptor named a third, already unlinked file, and lines written there were lost.) Under
// the lock, "the path names our inode" means no compaction has replaced the file — our open
// descriptor keeps the inode number from being reused — and none can until we let go, since
// compaction holds the lock of the old file while it renames the new one over it.

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace assetgen::ledger {
namespace {

using Identity = util::AppendFile::Identity;

// The identity of the file path names now; std::nullopt when there is none.
std::optional<Identity> identity_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return Identity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace

util::Result<PinnedFile> PinnedFile::open(const std::string& path) {
    TRY_ASSIGN(auto file, util::AppendFile::open(path));
    TRY_ASSIGN(const Identity id, file.identity());
    PinnedFile pinned;
    pinned.m_file = std::move(file);
    pinned.m_device = id.device;
    pinned.m_inode = id.inode;
    return pinned;
}

util::Status PinnedFile::with_current_lock(const std::function<util::Status()>& fn,
                                           bool* replaced) {
    *replaced = false;
    return m_file.with_lock([&]() -> util::Status {
        const auto now = identity_of(m_file.path());
        if (!now || *now != Identity{m_device, m_inode}) {
            *replaced = true;
            return util::ok_status();
        }
        return fn();
    });
}

bool ReplacedRetry::again() {
    const auto now = std::chrono::steady_clock::now();
    if (m_attempts++ == 0) {
        m_deadline = now + k_patience;
        return true;
    }
    if (now >= m_deadline) {
        return false;
    }
    // The file was replaced under us: a compaction holds the new one's lock or is about to.
    // Give it the processor rather than spinning against it.
    std::this_thread::yield();
    return true;
}

util::Status append_to_current(const std::string& path, std::optional<PinnedFile>& file,
                               std::string_view lines) {
    ReplacedRetry retry;
    while (retry.again()) {
        if (!file) {
            TRY_ASSIGN(file, PinnedFile::open(path));
        }
        bool replaced = false;
        TRY(file->with_current_lock([&] { return file->file().append(lines); }, &replaced));
        if (!replaced) {
            return util::ok_status();
        }
        file.reset();
    }
    return util::error(util::Code::storage_io,
                       path + ": cannot append: the file keeps being replaced");
}

}  // namespace assetgen::ledger
