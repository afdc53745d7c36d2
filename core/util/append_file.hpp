#pragma once
// An append-only line file (ledger day files, job manifests). Writers open with O_APPEND and
// take an exclusive flock around each append, so whole lines from several threads or
// processes never interleave; sync() is the flush point (fsync). A file whose last line was
// torn by a crash is sealed with a newline before the first append, so the torn fragment
// stays one bad line that readers report and skip, instead of corrupting the next line.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::util {

class AppendFile {
public:
    AppendFile() = default;
    ~AppendFile();
    AppendFile(AppendFile&& other) noexcept;
    AppendFile& operator=(AppendFile&& other) noexcept;
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;

    // Opens (creating folders and the file) for appending. STORAGE_IO on failure.
    static Result<AppendFile> open(const std::string& path);

    // Appends text, which must be whole lines each ending in '\n', in one write under the
    // file lock. STORAGE_IO on failure, and then none of it stays in the file (a write cut
    // short by a full disk is truncated away).
    Status append(std::string_view lines);
    // fsyncs the file. STORAGE_IO on failure.
    Status sync();
    // Takes the exclusive file lock for the duration of fn (used for read-modify-append
    // critical sections such as budget reservations).
    Status with_lock(const std::function<Status()>& fn);

    // Which file is open (device and inode, from fstat on the descriptor, so it names the
    // file this object writes to even if the path has since been renamed over). STORAGE_IO
    // on failure.
    struct Identity {
        std::uint64_t device = 0;
        std::uint64_t inode = 0;
        bool operator==(const Identity&) const = default;
    };
    Result<Identity> identity() const;

    const std::string& path() const { return m_path; }
    bool is_open() const { return m_fd >= 0; }

private:
    int m_fd = -1;
    std::string m_path;
};

// Reads a line file, calling on_line for each complete line (without '\n'). A last line
// without '\n' is a torn write: it is passed to on_torn instead (when given).
Status read_lines(const std::string& path, const std::function<void(std::string_view)>& on_line,
                  const std::function<void(std::string_view)>& on_torn = {});

}  // namespace assetgen::util
