#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/safe_dir.hpp"

namespace assetgen::util {
namespace {

Status write_all(int fd, std::string_view data, const std::string& path) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error(path + ": write failed", errno);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return ok_status();
}

}  // namespace

Status make_dirs(const std::string& path) {
    return open_dir(path, true).status();
}

Status fsync_dir(const std::string& path) {
    TRY_ASSIGN(UniqueFd fd, open_dir(path, false));
    if (::fsync(fd.get()) != 0) {
        return io_error(path + ": fsync failed", errno);
    }
    return ok_status();
}

Status write_file_atomic(const std::string& path, std::string_view data, RenameLock lock,
                         Durability durability) {
    return write_file_atomic_with(
        path, [&](int fd) { return write_all(fd, data, path); }, lock, durability);
}

Status copy_file_atomic(const std::string& path, int from, RenameLock lock, Durability durability) {
    const auto fill = [&](int fd) -> Status {
        std::string buf(1 << 16, '\0');
        off_t at = 0;
        for (;;) {
            const ssize_t n = ::pread(from, buf.data(), buf.size(), at);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return io_error(path + ": reading its temp copy failed", errno);
            }
            if (n == 0) {
                return ok_status();
            }
            TRY(write_all(fd, std::string_view(buf.data(), static_cast<std::size_t>(n)), path));
            at += n;
        }
    };
    return write_file_atomic_with(path, fill, lock, durability);
}

Status write_file_atomic_with(const std::string& path, const std::function<Status(int fd)>& fill,
                              RenameLock lock, Durability durability) {
    const bool sync = durability == Durability::synced;
    static std::atomic<unsigned> counter{0};
    // The temp file sits beside the target, in the same folder descriptor, so the rename
    // cannot be sent elsewhere by a link swapped in meanwhile. Its name is what
    // remove_orphan_temps looks for: "<name>.tmp.<pid>.<n>".
    TRY_ASSIGN(FileSlot slot, open_parent(path, true));
    const std::string tmp = slot.name + ".tmp." + std::to_string(::getpid()) + "." +
                            std::to_string(counter.fetch_add(1));
    int fd = ::openat(slot.dir.get(), tmp.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        return io_error(path + ": cannot create", errno);
    }
    Status st = fill(fd);
    if (st.ok() && sync && ::fsync(fd) != 0) {
        st = io_error(path + ": fsync failed", errno);
    }
    ::close(fd);
    if (st.ok() && lock == RenameLock::folder) {
        // Released when slot.dir is closed, on return (after the folder's fsync).
        while (::flock(slot.dir.get(), LOCK_EX) != 0) {
            if (errno != EINTR) {
                st = io_error(path + ": cannot lock its folder", errno);
                break;
            }
        }
    }
    if (st.ok() && slot.confined) {
        // Renaming over a link would replace the link, not write through it; still, a link
        // here was put by someone else, and is refused as everywhere below a root.
        struct stat target {};
        if (::fstatat(slot.dir.get(), slot.name.c_str(), &target, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(target.st_mode)) {
            st = error(Code::storage_io, symlink_message(path, slot.root));
        }
    }
    if (st.ok() &&
        ::renameat(slot.dir.get(), tmp.c_str(), slot.dir.get(), slot.name.c_str()) != 0) {
        st = io_error(path + ": rename failed", errno);
    }
    if (!st.ok()) {
        ::unlinkat(slot.dir.get(), tmp.c_str(), 0);
        return st;
    }
    if (sync && ::fsync(slot.dir.get()) != 0) {
        return io_error(path + ": fsync of its folder failed", errno);
    }
    return ok_status();
}

Result<std::string> read_file(const std::string& path) {
    TRY_ASSIGN(UniqueFd file, open_file(path, O_RDONLY));
    const int fd = file.get();
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error(path + ": read failed", errno);
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

}  // namespace assetgen::util
