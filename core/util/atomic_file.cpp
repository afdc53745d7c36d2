#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace assetgen::util {
namespace {

std::string errno_text() { return std::strerror(errno); }

std::string parent_of(const std::string& path) {
    auto p = std::filesystem::path(path).parent_path().string();
    return p.empty() ? "." : p;
}

Status write_all(int fd, std::string_view data, const std::string& path) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return error(Code::storage_io, path + ": write failed: " + errno_text());
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return ok_status();
}

}  // namespace

Status make_dirs(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) {
        return error(Code::storage_io, path + ": cannot create folder: " + ec.message());
    }
    return ok_status();
}

Status fsync_dir(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return error(Code::storage_io, path + ": cannot open folder: " + errno_text());
    }
    int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) {
        return error(Code::storage_io, path + ": fsync failed: " + errno_text());
    }
    return ok_status();
}

Status write_file_atomic(const std::string& path, std::string_view data) {
    static std::atomic<unsigned> counter{0};
    const std::string dir = parent_of(path);
    TRY(make_dirs(dir));
    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                            std::to_string(counter.fetch_add(1));
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return error(Code::storage_io, path + ": cannot create: " + errno_text());
    }
    Status st = write_all(fd, data, path);
    if (st.ok() && ::fsync(fd) != 0) {
        st = error(Code::storage_io, path + ": fsync failed: " + errno_text());
    }
    ::close(fd);
    if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
        st = error(Code::storage_io, path + ": rename failed: " + errno_text());
    }
    if (!st.ok()) {
        ::unlink(tmp.c_str());
        return st;
    }
    return fsync_dir(dir);
}

Result<std::string> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return error(Code::not_found, path + ": no such file");
        }
        return error(Code::storage_io, path + ": cannot open: " + errno_text());
    }
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ::close(fd);
            return error(Code::storage_io, path + ": read failed: " + errno_text());
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

}  // namespace assetgen::util
