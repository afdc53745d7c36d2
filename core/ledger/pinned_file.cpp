#include "ledger/pinned_file.hpp"

// How this works: AppendFile does not expose its descriptor, so the identity of the open file
// is learnt from the path: stat, open, stat again. When both stats name the same inode, the
// open in between got that inode too, because the only thing that replaces a day file is a
// rename of a freshly created file, and the old inode cannot come back to the path while we
// hold it open. Under the lock, "the path still names our inode" then means no compaction has
// replaced the file, and none can until we let go of the lock, since compaction holds the lock
// of the old file while it renames the new one over it.

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace assetgen::ledger {
namespace {

constexpr int k_max_attempts = 100;

struct Identity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    bool operator==(const Identity&) const = default;
};

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
    for (int attempt = 0; attempt < k_max_attempts; ++attempt) {
        const auto before = identity_of(path);
        TRY_ASSIGN(auto file, util::AppendFile::open(path));
        const auto after = identity_of(path);
        // A file we just created has no "before": the next round pins it.
        if (before && after && *before == *after) {
            PinnedFile pinned;
            pinned.m_file = std::move(file);
            pinned.m_device = after->device;
            pinned.m_inode = after->inode;
            return pinned;
        }
    }
    return util::error(util::Code::storage_io,
                       path + ": cannot open: the file keeps being replaced");
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

util::Status append_to_current(const std::string& path, std::optional<PinnedFile>& file,
                               std::string_view lines) {
    for (int attempt = 0; attempt < k_max_attempts; ++attempt) {
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
