// LocalStorage::put and put_from_fd rename under the folder's flock, the lock its conditional
// writers (write, compose, copy) hold around their generation check and rename: while another
// writer holds it, a put waits (its temp file ready) and lands only after, so it can never
// slip between that writer's check and its rename and be lost. No sleeps: the test sees the
// put blocked on the lock in /proc/locks (a waiter's line "N: -> FLOCK ... <dev>:<inode> ...").

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "storage/storage.hpp"
#include "support/temp_dir.hpp"
#include "util/status.hpp"

using namespace assetgen;

namespace {

// True when /proc/locks shows a process waiting for an flock of the inode.
bool flock_waiter_on(ino_t inode) {
    std::ifstream in("/proc/locks");
    const std::string suffix = ":" + std::to_string(inode);
    for (std::string line; std::getline(in, line);) {
        if (line.find("->") == std::string::npos || line.find("FLOCK") == std::string::npos) {
            continue;
        }
        std::istringstream words(line);
        for (std::string w; words >> w;) {
            if (w.size() > suffix.size() &&
                w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0) {
                return true;
            }
        }
    }
    return false;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// Holds the folder's lock as a conditional writer does, runs put on a thread, and checks that
// the put waits for the lock (and lands once it is released).
template <typename Put>
void check_put_waits_for_folder_lock(const test::TempDir& dir, const std::string& target,
                                     Put&& put) {
    if (!std::ifstream("/proc/locks").good()) {
        WARN("no /proc/locks: cannot watch the lock");
        return;
    }
    const int folder = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(folder >= 0);
    struct stat st {};
    REQUIRE(::fstat(folder, &st) == 0);
    REQUIRE(::flock(folder, LOCK_EX) == 0);

    std::atomic<bool> done{false};
    util::Status result = util::ok_status();
    std::thread writer([&] {
        result = put();
        done = true;
    });
    // Either the put waits on the lock (as it must), or it finishes without it (the defect).
    bool waiting = false;
    for (long spins = 0; !waiting && !done && spins < 1'000'000; ++spins) {
        waiting = flock_waiter_on(st.st_ino);
        std::this_thread::yield();
    }
    CHECK(waiting);
    CHECK_FALSE(exists(target));  // not renamed while the lock is held

    ::flock(folder, LOCK_UN);
    ::close(folder);
    writer.join();
    REQUIRE(result.ok());
    CHECK(exists(target));
}

}  // namespace

TEST_CASE("storage: a local put renames only under the folder lock conditional writers hold",
          "[storage][lock]") {
    test::TempDir dir;
    storage::LocalStorage local;
    const std::string target = dir.file("a.png");
    check_put_waits_for_folder_lock(dir, target,
                                    [&] { return local.put(target, "new bytes", "image/png"); });
    CHECK(dir.read("a.png") == "new bytes");
}

TEST_CASE("storage: a local put_from_fd renames only under the folder lock", "[storage][lock]") {
    test::TempDir dir;
    storage::LocalStorage local;
    const std::string source = dir.write("source.bin", "streamed bytes");
    const int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const std::string target = dir.file("b.png");
    check_put_waits_for_folder_lock(dir, target,
                                    [&] { return local.put_from_fd(target, fd, 14, "image/png"); });
    ::close(fd);
    CHECK(dir.read("b.png") == "streamed bytes");
}

TEST_CASE("storage: a put between a conditional writer's reads is seen by its precondition",
          "[storage][lock]") {
    // The outcome the lock guarantees, sequentially: a put changes the generation, so a write
    // under the generation read before the put fails (412) instead of replacing the put's bytes.
    test::TempDir dir;
    storage::LocalStorage local;
    const std::string target = dir.file("c.txt");
    storage::WriteOptions first;
    auto created = local.write(target, "v1", first);
    REQUIRE(created.ok());
    REQUIRE(local.put(target, "put bytes", "text/plain").ok());
    storage::WriteOptions guarded;
    guarded.if_generation_match = created->generation;
    auto lost = local.write(target, "v2", guarded);
    REQUIRE_FALSE(lost.ok());
    CHECK(storage::is_precondition_failed(lost.status()));
    CHECK(dir.read("c.txt") == "put bytes");
}
