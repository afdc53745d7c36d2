#include "util/text_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace assetgen::util {
namespace {

std::string errno_text() {
    return std::strerror(errno);
}

}  // namespace

Result<std::string> read_text_file(const std::string& path, std::uint64_t max_bytes) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        if (e == ENOENT) {
            return error(Code::not_found, path + ": no such file");
        }
        if (e == EACCES || e == EPERM) {
            return error(Code::permission_denied,
                         path + ": permission denied (not readable by this user)");
        }
        return error(Code::storage_io, path + ": cannot open: " + errno_text());
    }
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const std::string why = errno_text();
            ::close(fd);
            return error(errno == EISDIR ? Code::invalid_input : Code::storage_io,
                         path + ": cannot read: " + why);
        }
        if (n == 0) {
            break;
        }
        if (const void* nul = std::memchr(buf, 0, static_cast<size_t>(n))) {
            const auto at = out.size() + static_cast<size_t>(static_cast<const char*>(nul) - buf);
            ::close(fd);
            return error(Code::invalid_input, path + ": not a text file (a NUL byte at byte " +
                                                  std::to_string(at + 1) + ")");
        }
        if (out.size() + static_cast<size_t>(n) > max_bytes) {
            ::close(fd);
            return error(Code::invalid_input,
                         path + ": more than " + std::to_string(max_bytes) +
                             " bytes, the limit for this file; nothing was changed");
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

}  // namespace assetgen::util
