#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/temp_dir.hpp"
#include "util/user_dirs.hpp"

using namespace assetgen;

namespace {

util::UserDirEnv env_in(const test::TempDir& dir) {
    util::UserDirEnv env;
    env.home = dir.file("home");
    env.tmpdir = dir.file("tmp");
    std::filesystem::create_directories(env.tmpdir);
    return env;
}

}  // namespace

TEST_CASE("user dirs: XDG first, then HOME, created when writable, without a notice", "[util]") {
    test::TempDir dir;
    util::UserDirEnv env = env_in(dir);
    auto home = util::resolve_user_dir(util::UserDirKind::state, "assetgen/spool", env);
    REQUIRE(home.ok());
    CHECK(home->path == dir.file("home/.local/state/assetgen/spool"));
    CHECK(home->notice.empty());
    CHECK(std::filesystem::is_directory(home->path));
    env.xdg = dir.file("xdg");
    auto xdg = util::resolve_user_dir(util::UserDirKind::cache, "assetgen/refs", env);
    REQUIRE(xdg.ok());
    CHECK(xdg->path == dir.file("xdg/assetgen/refs"));
    env.xdg = "relative/xdg";  // the XDG spec: relative paths are ignored
    CHECK(util::preferred_user_dir(util::UserDirKind::cache, "assetgen/refs", env) ==
          dir.file("home/.cache/assetgen/refs"));
}

TEST_CASE("user dirs: HOME unset or unusable → a private per-user folder in TMPDIR, with a notice",
          "[util]") {
    test::TempDir dir;
    util::UserDirEnv env = env_in(dir);
    const std::string root = dir.file("tmp") + "/assetgen-" + std::to_string(::getuid());
    env.home.clear();
    auto unset = util::resolve_user_dir(util::UserDirKind::state, "assetgen/spool", env);
    REQUIRE(unset.ok());
    CHECK(unset->path == root + "/state/assetgen/spool");
    CHECK(unset->notice ==
          "HOME and XDG_STATE_HOME are not set; using " + root + "/state/assetgen/spool");
    struct stat st {};
    REQUIRE(::stat(root.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    // A HOME that is a file cannot hold folders (as a root-owned HOME cannot for another uid).
    env.home = dir.write("home-file", "x");
    auto blocked = util::resolve_user_dir(util::UserDirKind::cache, "assetgen/refs", env);
    REQUIRE(blocked.ok());
    CHECK(blocked->path == root + "/cache/assetgen/refs");
    CHECK(blocked->notice.find("$HOME/.cache is not writable (\"" + env.home +
                               "/.cache/assetgen/refs\"") == 0);
    CHECK(std::filesystem::is_directory(blocked->path));
}

TEST_CASE("user dirs: a temp folder that is a link or another user's is refused, naming it",
          "[util]") {
    test::TempDir dir;
    util::UserDirEnv env = env_in(dir);
    env.home.clear();
    const std::string root = util::user_temp_root(env);
    std::filesystem::create_directory_symlink(dir.path(), root);
    auto link = util::resolve_user_dir(util::UserDirKind::state, "assetgen/spool", env);
    REQUIRE_FALSE(link.ok());
    CHECK(link.status().code() == util::Code::permission_denied);
    CHECK(link.status().message().find(root + ": not a folder") == 0);
    std::filesystem::remove(root);
    if (::getuid() != 0) {
        return;  // only root can give a folder to another uid
    }
    std::filesystem::create_directory(root);
    REQUIRE(::chown(root.c_str(), 10002, 10002) == 0);
    auto other = util::resolve_user_dir(util::UserDirKind::state, "assetgen/spool", env);
    REQUIRE_FALSE(other.ok());
    CHECK(other.status().message().find(
              root + ": the folder belongs to uid 10002, not to this user (uid 0)") == 0);
}
