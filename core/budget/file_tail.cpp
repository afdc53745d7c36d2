#include "budget/file_tail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/safe_dir.hpp"

namespace assetgen::budget {

FileTail::~FileTail() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

void FileTail::forget(const std::function<void()>& on_reset) {
    if (m_fd >= 0 || m_offset != 0) {
        on_reset();
    }
    if (m_fd >= 0) {
        ::close(m_fd);
    }
    m_fd = -1;
    m_offset = 0;
}

util::Status FileTail::read(const std::string& path, const std::function<void()>& on_reset,
                            const std::function<void(std::string_view)>& on_line) {
    struct stat named {};
    if (::stat(path.c_str(), &named) != 0) {
        if (errno == ENOENT) {
            forget(on_reset);
            return util::ok_status();
        }
        return util::io_error(path + ": cannot stat", errno);
    }
    struct stat held {};
    if (m_fd >= 0 &&
        (::fstat(m_fd, &held) != 0 || held.st_dev != named.st_dev || held.st_ino != named.st_ino)) {
        forget(on_reset);
    }
    if (m_fd < 0) {
        // O_NONBLOCK: a FIFO named like a day file must not make `run` wait forever; it is
        // refused below (a day file is a regular file).
        auto file = util::open_file(path, O_RDONLY | O_NONBLOCK);
        if (!file.ok()) {
            return file.status().code() == util::Code::not_found ? util::ok_status()
                                                                 : file.status();
        }
        m_fd = file->release();
        // The file held now, not the one named a moment ago, gives the size.
        if (::fstat(m_fd, &held) != 0) {
            return util::error(util::Code::storage_io,
                               path + ": cannot stat: " + std::strerror(errno));
        }
        if (!S_ISREG(held.st_mode)) {
            forget(on_reset);
            return util::error(util::Code::storage_io,
                               path + ": not a regular file; move it out of the folder");
        }
    }
    // Else held is the fstat of the file still named path, just taken: its size is current.

    const auto size = static_cast<std::uint64_t>(held.st_size);
    if (size < m_offset) {
        on_reset();
        m_offset = 0;
    }
    if (size > m_offset) {
        std::string buf(size - m_offset, '\0');
        ssize_t n = ::pread(m_fd, buf.data(), buf.size(), static_cast<off_t>(m_offset));
        if (n > 0) {
            buf.resize(static_cast<size_t>(n));
            size_t start = 0;
            for (size_t nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n', start)) {
                on_line(std::string_view(buf).substr(start, nl - start));
                start = nl + 1;
            }
            m_offset += start;  // a partial last line is read again next time
        }
    }
    return util::ok_status();
}

}  // namespace assetgen::budget
