#pragma once
// A line file read incrementally: each read() passes on only the complete lines appended since
// the last one. The descriptor stays open between reads, so the inode number cannot be reused
// while it is remembered: "the path names the file we hold" is then a sound test for "not
// replaced" (by `ledger compact`), where comparing inode numbers of a closed file is not.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::budget {

class FileTail {
public:
    FileTail() = default;
    ~FileTail();
    FileTail(const FileTail&) = delete;
    FileTail& operator=(const FileTail&) = delete;

    // Calls on_line for each complete line appended to path since the last call (a partial
    // last line waits for the next one). Starts again from the beginning, calling on_reset
    // first, when path names another file now or the file shrank; when the file is gone,
    // calls on_reset (if anything had been read) and forgets it. STORAGE_IO when it cannot be
    // read.
    util::Status read(const std::string& path, const std::function<void()>& on_reset,
                      const std::function<void(std::string_view)>& on_line);
    // Bytes passed on so far (complete lines only).
    std::uint64_t offset() const { return m_offset; }

private:
    void forget(const std::function<void()>& on_reset);
    int m_fd = -1;
    std::uint64_t m_offset = 0;
};

}  // namespace assetgen::budget
