// The worker hands off (issue 18): once an image is stored and its manifest line queued, its
// worker takes the next request, so a slow group commit does not lower the requests in flight;
// the image counts as done (its row reported) only once its group has committed, its ledger
// line is written before it waits, and a failed group charges each of its images once. The
// commit's files are the job's real manifest behind a layer that holds or fails the image sync
// at will (no sleeps).
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runner_fakes.hpp"

using namespace assetgen;
using namespace assetgen::test::engine;

namespace {

// The job's manifest writer, with an image sync that can be held (until released) or failed.
class HeldFiles final : public schedule::GroupFiles {
public:
    struct State {
        std::mutex mutex;
        std::condition_variable cv;
        bool holding = false;
        bool in_hold = false;
        bool fail = false;
        int image_syncs = 0;
    };
    HeldFiles(State& s, ledger::ManifestWriter w) : m(s), m_writer(std::move(w)) {}
    bool syncs_images_of(const storage::Storage&) const override { return false; }
    util::Status sync_ledger() override { return util::ok_status(); }
    util::Status sync_images() override {
        std::unique_lock lock(m.mutex);
        ++m.image_syncs;
        m.in_hold = m.holding;
        m.cv.notify_all();
        m.cv.wait(lock, [&] { return !m.holding; });
        m.in_hold = false;
        if (m.fail) {
            return util::Status(util::Code::storage_io, "fake: syncfs failed");
        }
        return util::ok_status();
    }
    util::Status append_manifest(std::string_view lines) override {
        return m_writer.append_lines(lines);
    }
    util::Status sync_manifest() override { return m_writer.commit(); }

private:
    State& m;
    ledger::ManifestWriter m_writer;
};

}  // namespace

TEST_CASE("runner: a held group commit does not lower the requests in flight",
          "[runner][durable_log][schedule]") {
    Bench b;
    b.settings.concurrency = 4;
    HeldFiles::State s;
    s.holding = true;  // the first group's image sync waits until released
    b.group_files = [&](ledger::ManifestWriter w) {
        return std::make_unique<HeldFiles>(s, std::move(w));
    };
    // Each call waits until 4 are in flight at once: all 12 calls are made only if all 4
    // workers keep sending while the first group is held.
    b.provider.gather(4, 12);
    std::atomic<int> rows_seen{0};
    std::atomic<int> ledger_appends{0};
    std::mutex ledger_mutex;
    std::condition_variable ledger_cv;
    std::atomic<std::uint64_t> done_seen{0};
    b.ledger.after_append = [&](const ledger::Entry&) {
        {
            std::lock_guard lock(ledger_mutex);
            ++ledger_appends;
        }
        ledger_cv.notify_all();
        return util::ok_status();
    };
    b.on_row = [&](const schedule::RowResult&) { ++rows_seen; };
    b.on_progress = [&](const schedule::Progress& p) {
        std::uint64_t prev = done_seen.load();
        while (p.images_done > prev && !done_seen.compare_exchange_weak(prev, p.images_done)) {
        }
    };
    Bench::Outcome out;
    std::thread run([&] { out = b.run(rows(12)); });
    bool held = false;
    {
        std::unique_lock lock(s.mutex);
        held = s.cv.wait_for(lock, k_patience, [&] { return s.in_hold; });
    }
    const bool all_sent = b.provider.wait_calls(12);
    // While the first group is held, each paid request gets its ledger line: a kill now would
    // leave every payment recorded (the commit window, README "Resuming").
    bool all_charged = false;
    {
        std::unique_lock lock(ledger_mutex);
        all_charged =
            ledger_cv.wait_for(lock, k_patience, [&] { return ledger_appends.load() == 12; });
    }
    // While the first group is held: every request was sent, none counted done.
    const int rows_while_held = rows_seen.load();
    const std::uint64_t done_while_held = done_seen.load();
    const std::size_t manifest_while_held = b.manifest_lines().size();
    {
        std::lock_guard lock(s.mutex);
        s.holding = false;
        s.cv.notify_all();
    }
    run.join();
    CHECK(held);
    CHECK(all_sent);
    CHECK(b.provider.max_in_flight() == 4);
    CHECK(rows_while_held == 0);
    CHECK(done_while_held == 0);
    CHECK(manifest_while_held == 0);
    CHECK(all_charged);
    // Then each image once, each charge once, every row reported in input order.
    REQUIRE(out.summary.ok());
    CHECK(out.summary->images_generated == 12);
    CHECK(b.manifest_lines().size() == 12);
    CHECK(b.ledger_lines().size() == 12);
    CHECK(b.ledger_total() == 12 * k_image_cost);
    CHECK(b.image_files().size() == 12);
    REQUIRE(out.rows.size() == 12);
    for (int i = 0; i < 12; ++i) {
        CHECK(out.rows[static_cast<std::size_t>(i)].scene_id == "r" + std::to_string(i + 1));
        CHECK(out.rows[static_cast<std::size_t>(i)].status == "ok");
    }
    CHECK(s.image_syncs >= 2);  // the first group, then the rest (at most one group each)
    CHECK(s.image_syncs <= 12);
}

TEST_CASE("runner: a failed group commit charges each of its images once and stops the run",
          "[runner][durable_log][schedule]") {
    Bench b;
    b.settings.concurrency = 2;
    HeldFiles::State s;
    s.fail = true;  // every image sync fails: no manifest line is ever written
    b.group_files = [&](ledger::ManifestWriter w) {
        return std::make_unique<HeldFiles>(s, std::move(w));
    };
    auto out = b.run(rows(6));
    REQUIRE_FALSE(out.summary.ok());
    CHECK(out.summary.status().code() == util::Code::storage_io);
    CHECK_THAT(out.summary.status().message(), Catch::Contains("syncfs failed"));
    CHECK(b.manifest_lines().empty());
    // Each request that was paid has exactly one line: its ok line, written with the image's
    // file and hash before the manifest line was queued, and no failure line besides.
    const auto calls = b.provider.calls().size();
    CHECK(calls >= 1);
    const auto lines = b.ledger_lines();
    CHECK(lines.size() == calls);
    CHECK(b.ledger_total() == static_cast<util::Micros>(calls) * k_image_cost);
    for (const auto& e : lines) {
        CHECK(e.images == 1);
        CHECK(e.status == "ok");
        CHECK_FALSE(e.uri.empty());
        CHECK(e.sha256.size() == 64);
    }
    CHECK(s.image_syncs == 1);  // a failed sync is not retried
    // The next session adopts those images from their lines (adopt_paid_test.cpp, e2e
    // kill-in-commit-window): no request, no second charge.
}
