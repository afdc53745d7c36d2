// The group commit (issue 18 item 3): images, manifest lines and ledger lines made durable with
// one sync of each kind per group, a waiter released only after its own group's syncs, a failed
// sync failing its whole group and everything after it. A fake file layer counts the syncs and
// holds a group open at will (no sleeps); the last cases use real files.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/manifest.hpp"
#include "schedule/durable_log.hpp"
#include "storage/storage.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "util/atomic_file.hpp"

using namespace assetgen;
using namespace std::chrono_literals;

namespace {

ledger::ManifestEntry entry(int i) {
    ledger::ManifestEntry m;
    m.ts = 1'764'000'000'000 + i;
    m.job_id = "job-1";
    m.scene_id = "S-" + std::to_string(i);
    m.variant = 1;
    m.uri = "out/job-1/S-" + std::to_string(i) + "/S-" + std::to_string(i) + "_v1.png";
    m.sha256 = std::string(64, 'a');
    m.bytes = 10;
    m.mime = "image/png";
    m.model = "gemini-3.1-flash-image";
    m.mode = "live";
    m.ledger_id = "job-1/S-" + std::to_string(i) + "/v1";
    return m;
}

// (Catch2's assertions are not thread-safe: threads only count, the test thread checks.)
// Counts each kind of sync; `hold()` makes the next sync_images wait until `release()`; a
// failure can be armed for the next sync of one kind. Records which lines were durable when.
class FakeFiles final : public schedule::GroupFiles {
public:
    struct State {
        std::mutex mutex;
        std::condition_variable cv;
        bool holding = false;
        bool in_hold = false;  // a group waits in sync_images
        int ledger_syncs = 0, image_syncs = 0, manifest_appends = 0, manifest_syncs = 0;
        std::string fail_next;         // "images" or "manifest": that sync fails once
        std::string written;           // manifest lines appended
        std::string durable;           // manifest lines made durable
        std::vector<std::string> ops;  // in order
    };
    explicit FakeFiles(State& s) : m(s) {}
    bool syncs_images_of(const storage::Storage&) const override { return true; }
    util::Status sync_ledger() override {
        std::lock_guard lock(m.mutex);
        ++m.ledger_syncs;
        m.ops.push_back("ledger");
        return util::ok_status();
    }
    util::Status sync_images() override {
        std::unique_lock lock(m.mutex);
        ++m.image_syncs;
        m.ops.push_back("images");
        m.in_hold = m.holding;
        m.cv.notify_all();
        m.cv.wait(lock, [&] { return !m.holding; });
        m.in_hold = false;
        return take_failure("images");
    }
    util::Status append_manifest(std::string_view lines) override {
        std::lock_guard lock(m.mutex);
        ++m.manifest_appends;
        m.ops.push_back("append");
        m.written += lines;
        return util::ok_status();
    }
    util::Status sync_manifest() override {
        std::lock_guard lock(m.mutex);
        ++m.manifest_syncs;
        m.ops.push_back("manifest");
        util::Status st = take_failure("manifest");
        if (st.ok()) {
            m.durable = m.written;
        }
        return st;
    }

private:
    util::Status take_failure(const std::string& kind) {
        if (m.fail_next != kind) {
            return util::ok_status();
        }
        m.fail_next.clear();
        return util::error(util::Code::storage_io, "fake: " + kind + " sync failed");
    }
    State& m;
};

void hold(FakeFiles::State& s) {
    std::lock_guard lock(s.mutex);
    s.holding = true;
}
void release(FakeFiles::State& s) {
    std::lock_guard lock(s.mutex);
    s.holding = false;
    s.cv.notify_all();
}
void wait_in_hold(FakeFiles::State& s) {
    std::unique_lock lock(s.mutex);
    s.cv.wait(lock, [&] { return s.in_hold; });
}
// Waits (without sleeping) until n entries have been appended to the commit.
void wait_appended(const schedule::DurableManifest& d, std::uint64_t n) {
    while (d.appended() < n) {
        std::this_thread::yield();
    }
}

}  // namespace

TEST_CASE("group commit: N appends while a group is out take one more group, not N",
          "[durable_log][schedule]") {
    FakeFiles::State s;
    test::FakeClock clock;
    schedule::DurableManifest d(std::make_unique<FakeFiles>(s), clock, {});
    constexpr int n = 64;
    std::atomic<int> returned{0};
    std::atomic<int> errors{0};
    std::atomic<int> not_durable_on_return{0};
    auto append = [&](int i) {
        const std::string line = ledger::to_line(entry(i));
        if (!d.append_durable(entry(i)).ok()) {
            ++errors;
        }
        std::lock_guard lock(s.mutex);
        if (s.durable.find(line) == std::string::npos) {
            ++not_durable_on_return;
        }
        ++returned;
    };
    hold(s);
    std::thread first(append, 0);
    wait_in_hold(s);  // the first group is out, holding entry 0 only
    std::vector<std::thread> rest;
    for (int i = 1; i < n; ++i) {
        rest.emplace_back(append, i);
    }
    wait_appended(d, n);
    CHECK(returned.load() == 0);  // nobody returns before its group's syncs
    release(s);
    first.join();
    for (auto& t : rest) {
        t.join();
    }
    CHECK(returned.load() == n);
    CHECK(errors.load() == 0);
    CHECK(not_durable_on_return.load() == 0);
    // Two groups: entry 0, then the 63 that queued meanwhile (≤ ceil(64 / 63)).
    CHECK(d.groups() == 2);
    CHECK(s.image_syncs == 2);
    CHECK(s.manifest_syncs == 2);
    CHECK(s.ledger_syncs == 2);
    CHECK(s.manifest_appends == 2);
    // Each group in order: ledger, images, then the manifest lines, then their sync.
    CHECK(s.ops == std::vector<std::string>{"ledger", "images", "append", "manifest", "ledger",
                                            "images", "append", "manifest"});
    std::set<std::string> lines;
    for (std::size_t at = 0, nl; (nl = s.durable.find('\n', at)) != std::string::npos;
         at = nl + 1) {
        lines.insert(s.durable.substr(at, nl - at));
    }
    CHECK(lines.size() == static_cast<std::size_t>(n));
}

TEST_CASE("group commit: a failed image sync writes no manifest line and fails every waiter",
          "[durable_log][schedule]") {
    FakeFiles::State s;
    test::FakeClock clock;
    schedule::DurableManifest d(std::make_unique<FakeFiles>(s), clock, {});
    REQUIRE(d.append_durable(entry(0)).ok());
    hold(s);
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    // Entry 1's group holds in its image sync, which will fail; 2..9 queue behind it.
    auto append = [&](int i) {
        util::Status st = d.append_durable(entry(i));
        if (st.code() == util::Code::storage_io && st.message() == "fake: images sync failed") {
            ++failed;
        }
    };
    threads.emplace_back(append, 1);
    wait_in_hold(s);
    for (int i = 2; i < 10; ++i) {
        threads.emplace_back(append, i);
    }
    wait_appended(d, 10);
    {
        std::lock_guard lock(s.mutex);
        s.fail_next = "images";
    }
    release(s);
    for (auto& t : threads) {
        t.join();
    }
    CHECK(failed.load() == 9);
    // The failed group wrote no line: only entry 0's is in the manifest, and no group ran after.
    CHECK(s.written == ledger::to_line(entry(0)));
    CHECK(s.image_syncs == 2);
    CHECK(s.manifest_appends == 1);
    // Later appends fail at once, without a sync that could falsely succeed.
    util::Status later = d.append_durable(entry(10));
    CHECK(later.code() == util::Code::storage_io);
    CHECK(s.image_syncs == 2);
    CHECK(d.groups() == 2);
}

TEST_CASE("group commit: a failed manifest sync fails its group; nothing after is durable",
          "[durable_log][schedule]") {
    FakeFiles::State s;
    test::FakeClock clock;
    schedule::DurableManifest d(std::make_unique<FakeFiles>(s), clock, {});
    REQUIRE(d.append_durable(entry(0)).ok());
    // The second group (entry 1, held) succeeds; 2..9 queue behind it for the third group,
    // whose manifest sync fails.
    hold(s);
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    auto append = [&](int i) {
        util::Status st = d.append_durable(entry(i));
        if (st.ok()) {
            ++ok;
        } else if (st.code() == util::Code::storage_io &&
                   st.message() == "fake: manifest sync failed") {
            ++failed;
        }
    };
    threads.emplace_back(append, 1);
    wait_in_hold(s);
    for (int i = 2; i < 10; ++i) {
        threads.emplace_back(append, i);
    }
    wait_appended(d, 10);
    {
        std::lock_guard lock(s.mutex);
        s.fail_next = "manifest";  // the second group's manifest sync is still to come...
    }
    release(s);
    for (auto& t : threads) {
        t.join();
    }
    // ...so it is the second group (entry 1 alone) that fails, and with it the queued 2..9,
    // which then never get a group of their own.
    CHECK(ok.load() == 0);
    CHECK(failed.load() == 9);
    CHECK(s.durable == ledger::to_line(entry(0)));
    CHECK(d.groups() == 2);
    CHECK(d.append_durable(entry(10)).code() == util::Code::storage_io);
    CHECK(s.manifest_syncs == 2);
}

TEST_CASE("group commit: while busy a group waits min_gap; when idle it starts at once",
          "[durable_log][schedule]") {
    FakeFiles::State s;
    test::FakeClock clock;
    schedule::DurableManifest d(std::make_unique<FakeFiles>(s), clock,
                                schedule::GroupOptions{util::Millis(5)});
    const auto t0 = clock.steady();
    REQUIRE(d.append_durable(entry(0)).ok());
    CHECK(clock.steady() == t0);  // the first group: no wait
    clock.advance(1ms);
    REQUIRE(d.append_durable(entry(1)).ok());
    CHECK(clock.steady() == t0 + 5ms);  // 5 ms after the first group started
    clock.advance(1s);
    const auto sleeps = clock.sleeps();
    REQUIRE(d.append_durable(entry(2)).ok());
    CHECK(clock.sleeps() == sleeps);  // idle: at once
    CHECK(d.groups() == 3);
}

TEST_CASE("group commit: the run's end (wait_idle) does not wait out min_gap",
          "[durable_log][schedule]") {
    // Issue 18: the last group of a run used to sleep out the pacing gap (30 ms in a run) with
    // nothing left to collect, and the run's wall time paid it. An hour of gap makes the
    // difference plain on the fake clock: waited out, the clock moves by the whole hour.
    FakeFiles::State s;
    test::FakeClock clock;
    schedule::DurableManifest d(std::make_unique<FakeFiles>(s), clock,
                                schedule::GroupOptions{std::chrono::hours(1)});
    const auto t0 = clock.steady();
    REQUIRE(d.append_durable(entry(0)).ok());  // the first group: no wait
    clock.advance(1ms);
    std::atomic<int> committed{0};
    d.append_then(entry(1), [&](const util::Status& st, bool) { committed += st.ok() ? 1 : 0; });
    d.wait_idle();
    CHECK(committed.load() == 1);
    CHECK(d.groups() == 2);
    CHECK(clock.steady() - t0 < std::chrono::hours(1));
}

TEST_CASE("group commit on real files: images put without a sync, then durable with the line",
          "[durable_log][schedule]") {
    test::TempDir dir;
    storage::LocalStorage store;
    auto writer = ledger::ManifestWriter::open(dir.file("job/manifest.jsonl"));
    REQUIRE(writer.ok());
    test::FakeClock clock;
    schedule::DurableManifest d(
        schedule::make_group_files(&store, std::move(writer).value(), nullptr), clock, {});
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int i = 0; i < 16; ++i) {
        threads.emplace_back([&, i] {
            const std::string uri = dir.file("job/S-" + std::to_string(i) + "/a.png");
            ledger::ManifestEntry m = entry(i);
            m.uri = uri;
            if (!d.put_image(store, uri, "png bytes " + std::to_string(i), "image/png").ok() ||
                !d.append_durable(m).ok()) {
                ++errors;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(errors.load() == 0);
    CHECK(d.groups() <= 16);
    for (int i = 0; i < 16; ++i) {
        CHECK(dir.read("job/S-" + std::to_string(i) + "/a.png") ==
              "png bytes " + std::to_string(i));
    }
    std::vector<ledger::ManifestEntry> read;
    REQUIRE(ledger::read_manifest(
                dir.file("job/manifest.jsonl"),
                [&](const ledger::ManifestEntry& e) { read.push_back(e); }, nullptr)
                .ok());
    CHECK(read.size() == 16);
    // A storage the groups do not sync gets a durable put.
    storage::LocalStorage other;
    REQUIRE(d.put_image(other, dir.file("elsewhere/b.png"), "b", "image/png").ok());
    CHECK(dir.read("elsewhere/b.png") == "b");
}

TEST_CASE("LocalStorage: put_unsynced is visible at once and sync_puts reports a bad folder",
          "[durable_log][storage]") {
    test::TempDir dir;
    storage::LocalStorage store;
    CHECK(store.sync_puts().ok());  // nothing written yet: nothing to sync
    REQUIRE(store.put_unsynced(dir.file("a/b.png"), "bytes", "image/png").ok());
    CHECK(dir.read("a/b.png") == "bytes");
    CHECK(store.sync_puts().ok());
    // A location below a file cannot be written: a clear STORAGE_IO naming it, not a crash.
    dir.write("plain", "x");
    util::Status st = store.put_unsynced(dir.file("plain/c.png"), "bytes", "image/png");
    CHECK(st.code() == util::Code::storage_io);
    CHECK_THAT(st.message(), Catch::Contains("plain"));
}
