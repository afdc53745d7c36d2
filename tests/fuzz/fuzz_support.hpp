#pragma once
// What the fuzz targets share: the input as a file (an in-memory memfd, seen by path as
// /proc/self/fd/N, so readers that open a path read it without touching the disk), and the
// invariant checks. A failed check prints what broke and aborts, which libFuzzer reports as a
// crash with the input saved. Nothing here catches exceptions: one escaping a parser is a
// finding (the CLI would print "internal error ... this is a bug").

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace assetgen::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n%.*s\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

#define FUZZ_CHECK(cond, detail)                     \
    do {                                             \
        if (!(cond))                                 \
            ::assetgen::fuzz::fail(#cond, (detail)); \
    } while (0)

// The bytes as a file that lives as long as this object.
class MemFile {
public:
    MemFile(const std::uint8_t* data, std::size_t size) {
        m_fd = memfd_create("assetgen-fuzz", MFD_CLOEXEC);
        if (m_fd < 0) {
            fail("memfd_create");
        }
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::write(m_fd, data + done, size - done);
            if (n <= 0) {
                fail("write to memfd");
            }
            done += static_cast<std::size_t>(n);
        }
        m_path = "/proc/self/fd/" + std::to_string(m_fd);
    }
    ~MemFile() { ::close(m_fd); }
    MemFile(const MemFile&) = delete;
    MemFile& operator=(const MemFile&) = delete;
    const std::string& path() const { return m_path; }

private:
    int m_fd = -1;
    std::string m_path;
};

// Text that assetgen puts in its JSON files (events, summary, results) must dump with
// nlohmann's default strict handler: it throws type_error.316 on invalid UTF-8, and that
// exception is left to escape.
inline void check_dumps(std::string_view text) {
    (void)nlohmann::json(std::string(text)).dump();
}

}  // namespace assetgen::fuzz
