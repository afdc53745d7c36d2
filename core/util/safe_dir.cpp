// How this works: the write roots are kept as absolute, lexically normal component lists. A
// path is matched against them component by component (the longest root wins) without
// collapsing "..", so "out/job/../../etc" is refused rather than silently leaving the root. The
// root's descriptor is opened once, at its first use (creating the root then, never before:
// planning a run writes nothing), and kept; everything below it is reached with openat() and
// O_NOFOLLOW, so a symbolic link swapped in anywhere below the root cannot redirect a write.

#include "util/safe_dir.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>

namespace assetgen::util {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_parts(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) {
            slash = path.size();
        }
        std::string_view part = path.substr(start, slash - start);
        if (!part.empty() && part != ".") {
            out.emplace_back(part);
        }
        start = slash + 1;
    }
    return out;
}

std::string current_dir() {
    std::error_code ec;
    auto cwd = fs::current_path(ec);
    return ec ? std::string("/") : cwd.string();
}

// The components of path made absolute against the working folder; ".." is kept.
std::vector<std::string> absolute_parts(const std::string& path) {
    if (!path.empty() && path[0] == '/') {
        return split_parts(path);
    }
    auto parts = split_parts(current_dir());
    for (auto& p : split_parts(path)) {
        parts.push_back(std::move(p));
    }
    return parts;
}

struct Root {
    std::vector<std::string> parts;  // absolute, lexically normal
    std::string shown;               // as the user gave it
    std::mutex mutex;
    UniqueFd fd;  // opened at first use
};

struct Registry {
    std::vector<std::unique_ptr<Root>> roots;
    bool follow_symlinks = false;
};

std::mutex g_mutex;
std::shared_ptr<Registry> g_registry;

std::shared_ptr<Registry> registry() {
    std::lock_guard lock(g_mutex);
    return g_registry;
}

Status make_dirs_plain(const std::string& path) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) {
        return io_error(path + ": cannot create folder", ec.value());
    }
    return ok_status();
}

// The root's descriptor, opened (the root created first when create) at its first use.
Result<int> root_fd(Root& root, bool create) {
    std::lock_guard lock(root.mutex);
    if (root.fd.get() >= 0) {
        return root.fd.get();
    }
    std::string abs;
    for (const auto& p : root.parts) {
        abs += "/" + p;
    }
    if (abs.empty()) {
        abs = "/";
    }
    if (create) {
        TRY(make_dirs_plain(abs));
    }
    int fd = ::open(abs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) {
            return error(Code::not_found, root.shown + ": no such folder");
        }
        return io_error(root.shown + ": cannot open folder", err);
    }
    root.fd = UniqueFd(fd);
    return fd;
}

std::string join_shown(const std::string& base, std::string_view part) {
    if (base.empty() || base == ".") {
        return std::string(part);
    }
    return base.back() == '/' ? base + std::string(part) : base + "/" + std::string(part);
}

// The error for an open of `name` in dir_fd that failed with err.
Status open_error(int dir_fd, const std::string& name, int err, const std::string& shown_path,
                  const std::string& root, bool want_dir) {
    struct stat st {};
    if ((err == ELOOP || err == ENOTDIR || err == EMLINK) &&
        ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        return error(Code::storage_io, symlink_message(shown_path, root));
    }
    if (err == ENOENT) {
        return error(Code::not_found,
                     shown_path + (want_dir ? ": no such folder" : ": no such file"));
    }
    if (err == ENOTDIR) {
        return error(Code::storage_io, shown_path + ": is not a folder");
    }
    return io_error(shown_path + ": cannot open", err);
}

struct Match {
    Root* root = nullptr;
    std::vector<std::string> rest;
};

// The write root path lies below (the longest), or nullptr.
Result<Match> match_root(const Registry& reg, const std::string& path) {
    Match best;
    if (reg.follow_symlinks || reg.roots.empty()) {
        return best;
    }
    const auto parts = absolute_parts(path);
    for (const auto& r : reg.roots) {
        if (r->parts.size() > parts.size() ||
            (best.root != nullptr && r->parts.size() <= best.root->parts.size())) {
            continue;
        }
        if (std::equal(r->parts.begin(), r->parts.end(), parts.begin())) {
            best.root = r.get();
        }
    }
    if (best.root != nullptr) {
        best.rest.assign(parts.begin() + static_cast<std::ptrdiff_t>(best.root->parts.size()),
                         parts.end());
        for (const auto& p : best.rest) {
            if (p == "..") {
                return error(Code::storage_io,
                             path + ": has \"..\" below \"" + best.root->shown +
                                 "\", a path out of the folder assetgen writes to");
            }
        }
    }
    return best;
}

std::string joined(const std::vector<std::string>& parts, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += (i == 0 ? "" : "/") + parts[i];
    }
    return out;
}

}  // namespace

UniqueFd::~UniqueFd() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = other.release();
    }
    return *this;
}

int UniqueFd::release() {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
}

std::string symlink_message(const std::string& path, const std::string& root) {
    return path + ": is a symbolic link below \"" + root +
           "\", and assetgen writes only inside the folders it was given; remove the link (or "
           "make it a real folder or file), or pass --follow-symlinks (ASSETGEN_FOLLOW_SYMLINKS=1) "
           "to write through links";
}

Result<UniqueFd> open_dir_below(int root_fd, std::string_view relative, bool create,
                                const std::string& shown) {
    const auto parts = split_parts(relative);
    UniqueFd current(::dup(root_fd));
    if (current.get() < 0) {
        return io_error(shown + ": cannot open folder", errno);
    }
    std::string shown_path = shown;
    for (const auto& part : parts) {
        if (part == "..") {
            return error(Code::storage_io, shown + "/" + std::string(relative) +
                                               ": has \"..\", a path out of \"" + shown + "\"");
        }
        shown_path = join_shown(shown_path, part);
        const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        int fd = ::openat(current.get(), part.c_str(), flags);
        if (fd < 0 && errno == ENOENT && create) {
            if (::mkdirat(current.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
                return io_error(shown_path + ": cannot create folder", errno);
            }
            fd = ::openat(current.get(), part.c_str(), flags);
        }
        if (fd < 0) {
            return open_error(current.get(), part, errno, shown_path, shown, true);
        }
        current = UniqueFd(fd);
    }
    return current;
}

Result<UniqueFd> open_below(int root_fd, std::string_view relative, int flags, mode_t mode,
                            const std::string& shown) {
    auto parts = split_parts(relative);
    if (parts.empty()) {
        return error(Code::storage_io, shown + ": is a folder, not a file");
    }
    const std::string name = parts.back();
    parts.pop_back();
    const std::string dir_rel = joined(parts, parts.size());
    TRY_ASSIGN(UniqueFd dir, open_dir_below(root_fd, dir_rel, (flags & O_CREAT) != 0, shown));
    if (name == "..") {
        return error(Code::storage_io, shown + "/" + std::string(relative) + ": has \"..\"");
    }
    int fd = ::openat(dir.get(), name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        return open_error(dir.get(), name, errno, join_shown(join_shown(shown, dir_rel), name),
                          shown, false);
    }
    return UniqueFd(fd);
}

void confine_writes(const std::vector<std::string>& roots, bool follow_symlinks) {
    auto reg = std::make_shared<Registry>();
    reg->follow_symlinks = follow_symlinks;
    for (const auto& r : roots) {
        if (r.empty() || r.rfind("gs://", 0) == 0) {
            continue;
        }
        auto root = std::make_unique<Root>();
        root->shown = r;
        const std::string abs = r[0] == '/' ? r : current_dir() + "/" + r;
        root->parts = split_parts(fs::path(abs).lexically_normal().string());
        reg->roots.push_back(std::move(root));
    }
    std::lock_guard lock(g_mutex);
    g_registry = std::move(reg);
}

void unconfine_writes() {
    std::lock_guard lock(g_mutex);
    g_registry.reset();
}

Result<FileSlot> open_parent(const std::string& path, bool create) {
    FileSlot slot;
    slot.path = path;
    auto reg = registry();
    Match m;
    if (reg) {
        TRY_ASSIGN(m, match_root(*reg, path));
    }
    if (m.root != nullptr) {
        if (m.rest.empty()) {
            return error(Code::storage_io, path + ": is a folder, not a file");
        }
        slot.name = m.rest.back();
        TRY_ASSIGN(const int rfd, root_fd(*m.root, create));
        TRY_ASSIGN(slot.dir,
                   open_dir_below(rfd, joined(m.rest, m.rest.size() - 1), create, m.root->shown));
        slot.nofollow = O_NOFOLLOW;
        slot.confined = true;
        slot.root = m.root->shown;
        return slot;
    }
    fs::path p(path);
    std::string parent = p.parent_path().string();
    if (parent.empty()) {
        parent = ".";
    }
    slot.name = p.filename().string();
    if (slot.name.empty() || slot.name == "." || slot.name == "..") {
        return error(Code::storage_io, path + ": names a folder, not a file");
    }
    if (create) {
        TRY(make_dirs_plain(parent));
    }
    int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) {
            return error(Code::not_found, path + ": no such file");
        }
        return io_error(parent + ": cannot open folder", err);
    }
    slot.dir = UniqueFd(fd);
    return slot;
}

Result<UniqueFd> open_dir(const std::string& path, bool create) {
    auto reg = registry();
    Match m;
    if (reg) {
        TRY_ASSIGN(m, match_root(*reg, path));
    }
    if (m.root != nullptr) {
        TRY_ASSIGN(const int rfd, root_fd(*m.root, create));
        return open_dir_below(rfd, joined(m.rest, m.rest.size()), create, m.root->shown);
    }
    if (create) {
        TRY(make_dirs_plain(path));
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT) {
            return error(Code::not_found, path + ": no such folder");
        }
        return io_error(path + ": cannot open folder", err);
    }
    return UniqueFd(fd);
}

Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode) {
    auto slot = open_parent(path, (flags & O_CREAT) != 0);
    if (!slot.ok()) {
        if (slot.status().code() == Code::not_found) {
            return error(Code::not_found, path + ": no such file");
        }
        return slot.status();
    }
    int fd =
        ::openat(slot->dir.get(), slot->name.c_str(), flags | slot->nofollow | O_CLOEXEC, mode);
    if (fd < 0) {
        const int err = errno;
        if (slot->confined) {
            return open_error(slot->dir.get(), slot->name, err, path, slot->root, false);
        }
        if (err == ENOENT) {
            return error(Code::not_found, path + ": no such file");
        }
        return io_error(path + ": cannot open", err);
    }
    return UniqueFd(fd);
}

std::string resolved_path(const std::string& path) {
    std::error_code ec;
    fs::path abs = fs::absolute(path, ec);
    if (ec) {
        abs = fs::path(path);
    }
    fs::path out = fs::weakly_canonical(abs, ec);
    return (ec ? abs.lexically_normal() : out).string();
}

bool is_within(const std::string& path, const std::string& dir) {
    const auto p = split_parts(resolved_path(path));
    const auto d = split_parts(resolved_path(dir));
    return d.size() <= p.size() && std::equal(d.begin(), d.end(), p.begin());
}

std::string fd_path(int fd) {
    std::error_code ec;
    auto target = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
    return ec ? std::string() : target.string();
}

bool is_atomic_temp_name(std::string_view name) {
    // "<name>.tmp.<pid>.<n>"
    auto digits_back = [&](std::string_view& s) {
        std::size_t n = 0;
        while (n < s.size() && s[s.size() - 1 - n] >= '0' && s[s.size() - 1 - n] <= '9') {
            ++n;
        }
        if (n == 0) {
            return false;
        }
        s.remove_suffix(n);
        return true;
    };
    std::string_view s = name;
    if (!digits_back(s) || s.empty() || s.back() != '.') {
        return false;
    }
    s.remove_suffix(1);
    if (!digits_back(s)) {
        return false;
    }
    constexpr std::string_view k_mark = ".tmp.";
    return s.size() > k_mark.size() && s.substr(s.size() - k_mark.size()) == k_mark;
}

std::size_t remove_orphan_temps(const std::string& dir, std::int64_t before, bool recursive) {
    std::size_t removed = 0;
    std::error_code ec;
    auto consider = [&](const fs::directory_entry& e) {
        const std::string name = e.path().filename().string();
        if (!is_atomic_temp_name(name)) {
            return;
        }
        struct stat st {};
        if (::lstat(e.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_mtime >= before) {
            return;
        }
        // The writer's pid is in the name: a temp file of a process still running is its
        // write in progress.
        const std::string_view n = name;
        const auto last = n.rfind('.');
        const auto pid_start = n.rfind('.', last - 1) + 1;
        const long pid =
            std::strtol(std::string(n.substr(pid_start, last - pid_start)).c_str(), nullptr, 10);
        if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) {
            return;
        }
        if (::unlink(e.path().c_str()) == 0) {
            ++removed;
        }
    };
    if (recursive) {
        for (auto it = fs::recursive_directory_iterator(dir, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
                consider(*it);
            }
        }
    } else {
        for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
             it.increment(ec)) {
            if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
                consider(*it);
            }
        }
    }
    return removed;
}

}  // namespace assetgen::util
