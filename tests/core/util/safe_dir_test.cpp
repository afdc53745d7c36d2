#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "util/append_file.hpp"
#include "util/atomic_file.hpp"
#include "util/safe_dir.hpp"

using namespace assetgen;
namespace fs = std::filesystem;

namespace {

// Sets the process's write roots for one test and removes them after it.
struct Confined {
    Confined(const std::vector<std::string>& roots, bool follow) {
        util::confine_writes(roots, follow);
    }
    ~Confined() { util::unconfine_writes(); }
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

util::UniqueFd open_root(const std::string& path) {
    return util::UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

}  // namespace

TEST_CASE("safe_dir: open_below creates missing folders and the file below the root",
          "[util][safe_dir]") {
    test::TempDir dir;
    fs::create_directories(dir.file("root"));
    auto root = open_root(dir.file("root"));
    auto fd =
        util::open_below(root.get(), "a/b/c/f.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644, "root");
    REQUIRE(fd.ok());
    REQUIRE(::write(fd->get(), "hi", 2) == 2);
    CHECK(dir.read("root/a/b/c/f.txt") == "hi");
    auto missing = util::open_below(root.get(), "x/y.txt", O_RDONLY, 0, "root");
    CHECK(missing.status().code() == util::Code::not_found);
    CHECK_FALSE(fs::exists(dir.file("root/x")));
}

TEST_CASE(
    "safe_dir: a symbolic link at any depth below the root is refused, nothing written through it",
    "[util][safe_dir]") {
    test::TempDir dir;
    fs::create_directories(dir.file("outside"));
    for (const std::string& link : std::vector<std::string>{"a", "a/b", "a/b/c"}) {
        fs::remove_all(dir.file("root"));
        fs::create_directories(dir.file("root/a/b/c"));
        fs::remove_all(dir.file("root/" + link));
        fs::create_directory_symlink(dir.file("outside"), dir.file("root/" + link));
        auto root = open_root(dir.file("root"));
        auto fd = util::open_below(root.get(), "a/b/c/f.txt", O_WRONLY | O_CREAT, 0644, "root");
        INFO(link);
        REQUIRE_FALSE(fd.ok());
        CHECK(fd.status().code() == util::Code::storage_io);
        CHECK(contains(fd.status().message(),
                       "root/" + link + ": is a symbolic link below \"root\""));
        CHECK(contains(fd.status().message(), "--follow-symlinks"));
        CHECK(fs::is_empty(dir.file("outside")));
    }
}

TEST_CASE("safe_dir: the file itself is opened with O_NOFOLLOW", "[util][safe_dir]") {
    test::TempDir dir;
    dir.write("outside/secret.txt", "keep\n");
    fs::create_directories(dir.file("root/a"));
    fs::create_symlink(dir.file("outside/secret.txt"), dir.file("root/a/day.jsonl"));
    fs::create_symlink(dir.file("outside/none.txt"), dir.file("root/a/dangling.jsonl"));
    auto root = open_root(dir.file("root"));
    auto fd =
        util::open_below(root.get(), "a/day.jsonl", O_WRONLY | O_APPEND | O_CREAT, 0644, "root");
    REQUIRE_FALSE(fd.ok());
    CHECK(contains(fd.status().message(), "root/a/day.jsonl: is a symbolic link"));
    auto dangling =
        util::open_below(root.get(), "a/dangling.jsonl", O_WRONLY | O_CREAT, 0644, "root");
    REQUIRE_FALSE(dangling.ok());
    CHECK(contains(dangling.status().message(), "is a symbolic link"));
    CHECK(dir.read("outside/secret.txt") == "keep\n");
    CHECK_FALSE(fs::exists(dir.file("outside/none.txt")));
    auto up = util::open_below(root.get(), "a/../../outside/secret.txt", O_RDONLY, 0, "root");
    CHECK_FALSE(up.ok());
}

TEST_CASE("safe_dir: under write roots, atomic writes, appends and reads refuse links below a root",
          "[util][safe_dir]") {
    test::TempDir dir;
    dir.write("outside/secret.txt", "keep\n");
    fs::create_directories(dir.file("real-out"));
    // The root itself may be a link the user made.
    fs::create_directory_symlink(dir.file("real-out"), dir.file("out"));
    Confined confined({dir.file("out"), "gs://bucket/x", ""}, false);

    REQUIRE(util::write_file_atomic(dir.file("out/job/scene/a.png"), "png").ok());
    CHECK(dir.read("real-out/job/scene/a.png") == "png");
    auto append = util::AppendFile::open(dir.file("out/job/manifest.jsonl"));
    REQUIRE(append.ok());
    REQUIRE(append->append("{}\n").ok());

    fs::create_directory_symlink(dir.file("outside"), dir.file("out/job/linked"));
    auto st = util::write_file_atomic(dir.file("out/job/linked/a.png"), "png");
    CHECK(st.code() == util::Code::storage_io);
    CHECK(contains(st.message(), dir.file("out") + "/job/linked: is a symbolic link below \"" +
                                     dir.file("out") + "\""));
    CHECK(fs::is_regular_file(dir.file("outside/secret.txt")));
    CHECK(std::distance(fs::directory_iterator(dir.file("outside")), fs::directory_iterator()) ==
          1);

    fs::create_symlink(dir.file("outside/secret.txt"), dir.file("out/job/day.jsonl"));
    auto linked_file = util::AppendFile::open(dir.file("out/job/day.jsonl"));
    CHECK(contains(linked_file.status().message(), "day.jsonl: is a symbolic link"));
    auto replaced = util::write_file_atomic(dir.file("out/job/day.jsonl"), "x");
    CHECK(contains(replaced.message(), "is a symbolic link"));
    CHECK(fs::is_symlink(dir.file("out/job/day.jsonl")));
    auto read = util::read_file(dir.file("out/job/day.jsonl"));
    CHECK(contains(read.status().message(), "is a symbolic link"));
    CHECK(dir.read("outside/secret.txt") == "keep\n");
    CHECK(util::make_dirs(dir.file("out/job/linked/deeper")).code() == util::Code::storage_io);

    auto escape = util::write_file_atomic(dir.file("out/job/../../outside/x.txt"), "x");
    CHECK(contains(escape.message(), "has \"..\""));
    CHECK_FALSE(fs::exists(dir.file("outside/x.txt")));

    // Outside every root: as before.
    CHECK(util::write_file_atomic(dir.file("elsewhere/r.csv"), "a\n").ok());
    // No temp file is left beside anything that was written.
    for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
        CHECK_FALSE(util::is_atomic_temp_name(e.path().filename().string()));
    }
}

TEST_CASE("safe_dir: --follow-symlinks writes through links as before", "[util][safe_dir]") {
    test::TempDir dir;
    fs::create_directories(dir.file("out/job"));
    fs::create_directories(dir.file("outside"));
    fs::create_directory_symlink(dir.file("outside"), dir.file("out/job/linked"));
    Confined confined({dir.file("out")}, true);
    REQUIRE(util::write_file_atomic(dir.file("out/job/linked/a.png"), "png").ok());
    CHECK(dir.read("outside/a.png") == "png");
}

TEST_CASE("safe_dir: orphaned temp files of dead writers are removed, nothing else",
          "[util][safe_dir]") {
    test::TempDir dir;
    const std::string dead = "999999999";  // above any pid_max
    const std::string alive = std::to_string(::getpid());
    dir.write("job/a/a_v1.png.tmp." + dead + ".0", "half");
    dir.write("job/state.json.tmp." + dead + ".12", "half");
    dir.write("job/a/a_v2.png.tmp." + alive + ".3", "in progress");
    dir.write("job/a/a_v1.png", "png");
    dir.write("job/notes.tmp", "user file");
    dir.write("job/x.tmp.1", "user file");
    dir.write("outside/o.png.tmp." + dead + ".0", "not ours");
    fs::create_directory_symlink(dir.file("outside"), dir.file("job/link"));
    CHECK(util::is_atomic_temp_name("a.png.tmp.12.0"));
    CHECK_FALSE(util::is_atomic_temp_name(".tmp.12.0"));
    CHECK_FALSE(util::is_atomic_temp_name("a.tmp.x.0"));

    // Written after the run started: kept.
    CHECK(util::remove_orphan_temps(dir.file("job"), std::time(nullptr) - 3600, true) == 0);
    CHECK(util::remove_orphan_temps(dir.file("job"), std::time(nullptr) + 10, false) == 1);
    CHECK(util::remove_orphan_temps(dir.file("job"), std::time(nullptr) + 10, true) == 1);
    CHECK_FALSE(fs::exists(dir.file("job/a/a_v1.png.tmp." + dead + ".0")));
    CHECK_FALSE(fs::exists(dir.file("job/state.json.tmp." + dead + ".12")));
    CHECK(fs::exists(dir.file("job/a/a_v2.png.tmp." + alive + ".3")));
    CHECK(fs::exists(dir.file("job/a/a_v1.png")));
    CHECK(fs::exists(dir.file("job/notes.tmp")));
    CHECK(fs::exists(dir.file("job/x.tmp.1")));
    CHECK(fs::exists(dir.file("outside/o.png.tmp." + dead + ".0")));
    CHECK(util::remove_orphan_temps(dir.file("none"), std::time(nullptr), true) == 0);
}
