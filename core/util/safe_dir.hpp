#pragma once
// Files the tool writes stay inside the folders it was given. The folders a run writes below
// (--out, --ledger, the spool, the ref cache) are its write roots: each is resolved once (it may
// itself be a symbolic link the user made; that is followed), and every file below it is
// reached by openat() one component at a time with O_NOFOLLOW, so a symbolic link on the way (a
// linked scene folder, ledger day file or manifest) is refused instead of written through,
// unless --follow-symlinks asks for the old behaviour. Paths outside every root (a --results
// file, tests that set no roots) are opened as given.

#include <fcntl.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace assetgen::util {

// An owned file descriptor (closed when it goes away); -1 when empty.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : m_fd(fd) {}
    ~UniqueFd();
    UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    int get() const { return m_fd; }
    // Gives the descriptor up without closing it.
    int release();

private:
    int m_fd = -1;
};

// Opens the folder `relative` ('/'-separated, no "..") below the folder open as root_fd, one
// component at a time with O_NOFOLLOW | O_DIRECTORY, creating missing ones (0755) when create.
// shown is the root as messages name it. STORAGE_IO naming the path for a symbolic link (and
// the fix), NOT_FOUND for a missing component when !create, STORAGE_IO for other failures.
Result<UniqueFd> open_dir_below(int root_fd, std::string_view relative, bool create,
                                const std::string& shown);

// Opens the file `relative` below root_fd: its folders as open_dir_below (created when flags
// has O_CREAT), the file itself with flags | O_NOFOLLOW | O_CLOEXEC. Errors as open_dir_below.
Result<UniqueFd> open_below(int root_fd, std::string_view relative, int flags, mode_t mode,
                            const std::string& shown);

// Sets the process's write roots (local folders; gs:// and empty entries are ignored). Called
// once by the CLI before anything is written; follow_symlinks turns the checks off.
void confine_writes(const std::vector<std::string>& roots, bool follow_symlinks);
// Removes every root (tests).
void unconfine_writes();

// A file's folder, open for *at() calls, and the file's name in it.
struct FileSlot {
    UniqueFd dir;
    std::string name;
    std::string path;  // as given, for messages
    int nofollow = 0;  // O_NOFOLLOW when the file is below a write root
    bool confined = false;
    std::string root;  // the write root it is below ("" when not confined)
};

// The folder of path, opened safely when path is below a write root (created when create),
// else as given (created with its parents when create). NOT_FOUND when the folder is missing
// and !create; STORAGE_IO (naming the link and the fix) for a symbolic link below a root, or
// a ".." below a root.
Result<FileSlot> open_parent(const std::string& path, bool create);

// Opens the folder path (created with its parents when create): below a write root one
// component at a time as open_dir_below, else as given. Errors as open_parent.
Result<UniqueFd> open_dir(const std::string& path, bool create);

// open_parent + openat(name, flags | nofollow | O_CLOEXEC). NOT_FOUND ("<path>: no such file")
// when it does not exist and flags lacks O_CREAT; STORAGE_IO for a symbolic link below a root
// and other failures.
Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode = 0644);

// The message for a symbolic link met at path below root: "<path>: is a symbolic link ..."
// with the fix (remove it, or --follow-symlinks).
std::string symlink_message(const std::string& path, const std::string& root);

// Removes the temp files that write_file_atomic left behind when its process was killed
// ("<name>.tmp.<pid>.<n>") below dir (recursively when recursive): only those last changed
// before `before` (seconds since the epoch) whose writing process no longer runs. Symbolic
// links are neither followed nor removed. Returns how many were removed; a missing dir is 0.
std::size_t remove_orphan_temps(const std::string& dir, std::int64_t before, bool recursive);

// path made absolute with every symbolic link in it resolved (the part that exists; the rest
// lexically), as a local ref must be before it is compared with the folders it may be in.
std::string resolved_path(const std::string& path);
// True when path is dir or lies below it (both resolved_path'd first).
bool is_within(const std::string& path, const std::string& dir);
// The path an open descriptor names now (/proc/self/fd), "" when it cannot be told.
std::string fd_path(int fd);

// True for a name write_file_atomic gives its temp files: "<name>.tmp.<pid>.<n>".
bool is_atomic_temp_name(std::string_view name);

}  // namespace assetgen::util
