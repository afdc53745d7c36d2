#include "util/append_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/atomic_file.hpp"
#include "util/safe_dir.hpp"

namespace assetgen::util {
namespace {

class FileLock {
public:
    explicit FileLock(int fd) : m_fd(fd) {
        while (::flock(m_fd, LOCK_EX) != 0 && errno == EINTR) {
        }
    }
    ~FileLock() { ::flock(m_fd, LOCK_UN); }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int m_fd;
};

// True when the file (st: its fstat) is non-empty and its last byte is not '\n'.
bool ends_torn(int fd, const struct stat& st) {
    if (st.st_size == 0) {
        return false;
    }
    char last = '\n';
    if (::pread(fd, &last, 1, st.st_size - 1) != 1) {
        return false;
    }
    return last != '\n';
}

// What a non-regular file is, for the message.
const char* file_kind(mode_t mode) {
    return S_ISFIFO(mode)                   ? "a FIFO"
           : S_ISDIR(mode)                  ? "a folder"
           : S_ISSOCK(mode)                 ? "a socket"
           : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
                                            : "not a regular file";
}

// A ledger day file (or any line file) that is a FIFO made every reader and appender wait
// forever for a writer or reader at the other end: `ledger show|sum|verify` and `run` hung.
// Opened without blocking, checked, refused; then blocking again for the reads and writes.
Result<UniqueFd> open_plain_file(const std::string& path, int flags) {
    TRY_ASSIGN(UniqueFd fd, open_file(path, flags | O_NONBLOCK));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return io_error(path + ": cannot stat", errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return error(Code::storage_io, path + ": is " + file_kind(st.st_mode) +
                                           ", not a regular file; move it out of the folder");
    }
    const int fl = ::fcntl(fd.get(), F_GETFL);
    if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0) {
        return io_error(path + ": cannot set blocking mode", errno);
    }
    return fd;
}

}  // namespace

AppendFile::~AppendFile() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

AppendFile::AppendFile(AppendFile&& other) noexcept
    : m_fd(other.m_fd), m_path(std::move(other.m_path)) {
    other.m_fd = -1;
}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = other.m_fd;
        m_path = std::move(other.m_path);
        other.m_fd = -1;
    }
    return *this;
}

Result<AppendFile> AppendFile::open(const std::string& path) {
    TRY_ASSIGN(UniqueFd fd, open_plain_file(path, O_RDWR | O_CREAT | O_APPEND));
    AppendFile f;
    f.m_path = path;
    f.m_fd = fd.release();
    return f;
}

Status AppendFile::append(std::string_view lines) {
    if (m_fd < 0) {
        return error(Code::internal, m_path + ": append on a closed file");
    }
    FileLock lock(m_fd);
    // A write cut short (a full disk) is taken back: a fragment left behind would become a
    // whole line once the next append seals it, and be counted although the caller was told
    // it failed (an image charged twice, a ledger line doubled).
    struct stat before {};
    const bool sized = ::fstat(m_fd, &before) == 0;
    const bool torn = sized && ends_torn(m_fd, before);
    std::string buf;
    std::string_view out = lines;
    if (torn) {
        buf.reserve(lines.size() + 1);
        buf.push_back('\n');
        buf.append(lines);
        out = buf;
    }
    while (!out.empty()) {
        ssize_t n = ::write(m_fd, out.data(), out.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int e = errno;
            if (sized && ::ftruncate(m_fd, before.st_size) != 0) {
                // The fragment stays (rare: truncating frees space rather than taking it).
            }
            return io_error(m_path + ": append failed", e);
        }
        out.remove_prefix(static_cast<size_t>(n));
    }
    return ok_status();
}

Status AppendFile::sync() {
    if (m_fd >= 0 && ::fdatasync(m_fd) != 0) {
        return io_error(m_path + ": fsync failed", errno);
    }
    return ok_status();
}

Result<AppendFile::Identity> AppendFile::identity() const {
    struct stat st {};
    if (m_fd < 0 || ::fstat(m_fd, &st) != 0) {
        return io_error(m_path + ": cannot stat the open file", errno);
    }
    return Identity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

Status AppendFile::with_lock(const std::function<Status()>& fn) {
    if (m_fd < 0) {
        return error(Code::internal, m_path + ": lock on a closed file");
    }
    FileLock lock(m_fd);
    return fn();
}

Status read_lines(const std::string& path, const std::function<void(std::string_view)>& on_line,
                  const std::function<void(std::string_view)>& on_torn) {
    TRY_ASSIGN(UniqueFd file, open_plain_file(path, O_RDONLY));
    std::string pending;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(file.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error(path + ": read failed", errno);
        }
        if (n == 0) {
            break;
        }
        std::string_view chunk(buf, static_cast<size_t>(n));
        for (std::size_t nl = chunk.find('\n'); nl != std::string_view::npos;
             nl = chunk.find('\n')) {
            if (pending.empty()) {
                on_line(chunk.substr(0, nl));
            } else {
                pending.append(chunk.substr(0, nl));
                on_line(pending);
                pending.clear();
            }
            chunk.remove_prefix(nl + 1);
        }
        pending.append(chunk);
    }
    if (!pending.empty() && on_torn) {
        on_torn(pending);  // no '\n' after the last line: a torn write
    }
    return ok_status();
}

}  // namespace assetgen::util
