#include "util/temp_stream.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace assetgen::util {
Result<int> anonymous_temp_file(const std::string& what, const std::string& dir) {
    int fd = -1;
#ifdef O_TMPFILE
    fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) {
        return fd;
    }
#endif
    std::string tmpl = dir + "/assetgen-XXXXXX";
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) {
        return io_error("cannot create a temp file for " + what + " in " + dir, errno);
    }
    ::unlink(tmpl.c_str());
    return fd;
}

TempStream::Buf::Buf() {
    setp(data.data(), data.data() + data.size());
}

bool TempStream::Buf::drain() {
    const char* at = pbase();
    std::size_t left = static_cast<std::size_t>(pptr() - pbase());
    while (left > 0 && failed.ok()) {
        const ssize_t n = ::write(fd, at, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            failed = io_error("cannot write the temp copy of " + what + " in " + dir, errno);
            break;
        }
        at += n;
        left -= static_cast<std::size_t>(n);
    }
    setp(data.data(), data.data() + data.size());
    return failed.ok();
}

TempStream::Buf::int_type TempStream::Buf::overflow(int_type c) {
    if (!drain()) {
        return traits_type::eof();
    }
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
        *pptr() = traits_type::to_char_type(c);
        pbump(1);
    }
    return traits_type::not_eof(c);
}

int TempStream::Buf::sync() {
    return drain() ? 0 : -1;
}

Result<std::unique_ptr<TempStream>> TempStream::create(const std::string& what,
                                                       const std::string& dir) {
    TRY_ASSIGN(const int fd, anonymous_temp_file(what, dir));
    auto out = std::unique_ptr<TempStream>(new TempStream());
    out->m_buf.fd = fd;
    out->m_buf.what = what;
    out->m_buf.dir = dir;
    return out;
}

TempStream::~TempStream() {
    if (m_buf.fd >= 0) {
        ::close(m_buf.fd);
    }
}

Status TempStream::flush() {
    m_stream.flush();
    return m_buf.failed;
}

Result<std::string> TempStream::read_all() {
    TRY(flush());
    std::string out;
    std::vector<char> chunk(1 << 16);
    off_t at = 0;
    for (;;) {
        const ssize_t n = ::pread(m_buf.fd, chunk.data(), chunk.size(), at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return io_error("cannot read the temp copy of " + m_buf.what, errno);
        }
        if (n == 0) {
            return out;
        }
        out.append(chunk.data(), static_cast<std::size_t>(n));
        at += n;
    }
}

}  // namespace assetgen::util
