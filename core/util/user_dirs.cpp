// How this works: the preferred folder is created (mkdir -p) and kept when this uid can write
// and enter it (access(2), so a read-only HOME is seen even when the folder already exists).
// Otherwise the per-user temp root is created with mode 0700 and checked with lstat: it must be
// a real folder owned by this uid (a folder another user made first in a shared /tmp could be
// read or swapped by them), and a mode wider than 0700 is narrowed.
#include "util/user_dirs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace assetgen::util {
namespace {

bool absolute(const std::string& p) {
    return !p.empty() && p.front() == '/';
}

// The XDG/HOME candidate and how to name it in a notice; "" when neither is set.
std::string candidate(UserDirKind kind, const std::string& sub, const UserDirEnv& env,
                      std::string& said) {
    const bool state = kind == UserDirKind::state;
    if (absolute(env.xdg)) {
        said = state ? "$XDG_STATE_HOME" : "$XDG_CACHE_HOME";
        return env.xdg + "/" + sub;
    }
    if (!env.home.empty()) {
        said = state ? "$HOME/.local/state" : "$HOME/.cache";
        return env.home + (state ? "/.local/state/" : "/.cache/") + sub;
    }
    said = state ? "HOME and XDG_STATE_HOME are not set" : "HOME and XDG_CACHE_HOME are not set";
    return "";
}

// "" when path is (now) a folder this uid can write into, else why not.
std::string try_folder(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) {
        return ec.message();
    }
    if (::access(path.c_str(), W_OK | X_OK) != 0) {
        return std::strerror(errno);
    }
    return "";
}

Result<std::string> private_root(const UserDirEnv& env) {
    const std::string root = user_temp_root(env);
    if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) {
        return io_error(root + ": cannot create folder", errno);
    }
    struct stat st {};
    if (::lstat(root.c_str(), &st) != 0) {
        return io_error(root + ": cannot read folder", errno);
    }
    const auto uid = ::getuid();
    if (!S_ISDIR(st.st_mode)) {
        return error(
            Code::permission_denied,
            root +
                ": not a folder (a symbolic link or a file is in the way); remove it, or set "
                "--spool-dir / ASSETGEN_SPOOL_DIR and XDG_STATE_HOME / XDG_CACHE_HOME to folders "
                "of yours");
    }
    if (st.st_uid != uid) {
        return error(
            Code::permission_denied,
            root + ": the folder belongs to uid " + std::to_string(st.st_uid) +
                ", not to this user (uid " + std::to_string(uid) +
                "); remove it, or set --spool-dir / ASSETGEN_SPOOL_DIR and XDG_STATE_HOME / "
                "XDG_CACHE_HOME to folders of yours");
    }
    if ((st.st_mode & 077) != 0 && ::chmod(root.c_str(), 0700) != 0) {
        return io_error(root + ": cannot make the folder private", errno);
    }
    return root;
}

}  // namespace

UserDirEnv UserDirEnv::from(UserDirKind kind,
                            const std::function<std::string(const std::string&)>& get) {
    UserDirEnv env;
    env.xdg = get(kind == UserDirKind::state ? "XDG_STATE_HOME" : "XDG_CACHE_HOME");
    env.home = get("HOME");
    env.tmpdir = get("TMPDIR");
    return env;
}

std::string user_temp_root(const UserDirEnv& env) {
    std::string base = absolute(env.tmpdir) ? env.tmpdir : std::string("/tmp");
    while (base.size() > 1 && base.back() == '/') {
        base.pop_back();
    }
    return base + "/assetgen-" + std::to_string(::getuid());
}

std::string preferred_user_dir(UserDirKind kind, const std::string& sub, const UserDirEnv& env) {
    std::string said;
    std::string path = candidate(kind, sub, env, said);
    if (!path.empty()) {
        return path;
    }
    return user_temp_root(env) + (kind == UserDirKind::state ? "/state/" : "/cache/") + sub;
}

Result<UserDir> resolve_user_dir(UserDirKind kind, const std::string& sub, const UserDirEnv& env) {
    std::string said;
    const std::string preferred = candidate(kind, sub, env, said);
    std::string why;
    if (!preferred.empty()) {
        why = try_folder(preferred);
        if (why.empty()) {
            return UserDir{preferred, ""};
        }
    }
    TRY_ASSIGN(const std::string root, private_root(env));
    const std::string path = root + (kind == UserDirKind::state ? "/state/" : "/cache/") + sub;
    if (std::string failed = try_folder(path); !failed.empty()) {
        return error(Code::storage_io, path + ": cannot create folder: " + failed);
    }
    std::string notice =
        preferred.empty() ? said : said + " is not writable (\"" + preferred + "\": " + why + ")";
    notice += "; using " + path;
    return UserDir{path, notice};
}

}  // namespace assetgen::util
