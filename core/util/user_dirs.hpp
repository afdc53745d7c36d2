#pragma once
// Folders assetgen writes on its own (the spool, the reference cache) that must work for any
// uid: in a container whose HOME belongs to root (Cloud Build's /builder/home), with HOME unset,
// or as a user without a home. The XDG base directory is used when it can be written, else a
// private per-user folder in $TMPDIR (or /tmp) that this uid must own.

#include <functional>
#include <string>

#include "util/status.hpp"

namespace assetgen::util {

enum class UserDirKind { state, cache };

// The environment the choice depends on ("" = unset); from() reads it through a lookup (the
// command line's Context gives the process environment's).
struct UserDirEnv {
    std::string xdg;     // $XDG_STATE_HOME or $XDG_CACHE_HOME, by kind
    std::string home;    // $HOME
    std::string tmpdir;  // $TMPDIR
    static UserDirEnv from(UserDirKind kind,
                           const std::function<std::string(const std::string&)>& get);
};

struct UserDir {
    std::string path;  // the folder, which exists and this user can write
    std::string
        notice;  // "" or one line saying which folder was not usable and what was used instead
};

// The folder the kind's base directory gives for sub (e.g. "assetgen/spool"), without touching
// the disk: $XDG_*_HOME/sub when absolute, else $HOME/.local/state/sub or $HOME/.cache/sub,
// else the per-user temp folder's. For help texts and to tell a default from a chosen folder.
std::string preferred_user_dir(UserDirKind kind, const std::string& sub, const UserDirEnv& env);

// The per-user temp folder: $TMPDIR (when absolute) or /tmp, then /assetgen-<uid>.
std::string user_temp_root(const UserDirEnv& env);

// Creates and returns the preferred folder when it can be written; else <user_temp_root>/
// state|cache/sub, the root made 0700 and refused (PERMISSION_DENIED, naming it and its owner)
// when another uid owns it or it is a symbolic link. STORAGE_IO when no folder can be created.
Result<UserDir> resolve_user_dir(UserDirKind kind, const std::string& sub, const UserDirEnv& env);

}  // namespace assetgen::util
