// The engine's callbacks (issue 16 item 8): on_row, on_progress, the event sink and still_held
// run with no runner lock held, so a slow one (the results file, the contact sheet, stderr)
// never holds up the workers; rows are still reported in input order and never two at once.
// The bench is runner_fakes.hpp; threads meet on named gates, each wait bounded by k_patience
// (a wait that runs out fails the test instead of hanging it).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/schedule/runner_fakes.hpp"

using namespace assetgen;
using namespace assetgen::test::engine;
using util::Code;

namespace {

// Named gates the test opens; a thread waiting on one gives up after k_patience (false).
class Gates {
public:
    void open(const std::string& name) {
        std::lock_guard lock(m_mutex);
        m_open.insert(name);
        m_changed.notify_all();
    }
    bool wait(const std::string& name) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, k_patience, [&] { return m_open.count(name) > 0; });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::set<std::string> m_open;
};

// The highest images_done the progress callback has seen.
class ProgressSeen {
public:
    void note(std::uint64_t done) {
        std::lock_guard lock(m_mutex);
        m_done = std::max(m_done, done);
        m_changed.notify_all();
    }
    bool wait_at_least(std::uint64_t n) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, k_patience, [&] { return m_done >= n; });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::uint64_t m_done = 0;
};

// For each kind of callback: how often it ran, and how often a runner lock was held then.
class LockProbe {
public:
    void note(const std::string& what) {
        const bool held = schedule::runner_locks_held() > 0;
        std::lock_guard lock(m_mutex);
        auto& c = m_seen[what];
        ++c.first;
        c.second += held ? 1 : 0;
    }
    int calls(const std::string& what) {
        std::lock_guard lock(m_mutex);
        return m_seen[what].first;
    }
    int under_lock(const std::string& what) {
        std::lock_guard lock(m_mutex);
        return m_seen[what].second;
    }
    void wire(Bench& b) {
        b.on_row = [this](const schedule::RowResult&) { note("on_row"); };
        b.on_progress = [this](const schedule::Progress&) { note("on_progress"); };
        b.events.on_emit = [this](const std::string& event) { note("event " + event); };
        b.still_held = [this]() {
            note("still_held");
            return util::ok_status();
        };
    }

private:
    std::mutex m_mutex;
    std::map<std::string, std::pair<int, int>> m_seen;
};

}  // namespace

TEST_CASE("runner: no runner lock is held while on_row, on_progress, events and still_held run",
          "[runner][schedule][callbacks]") {
    LockProbe probe;
    SECTION("rows finished by the workers, with retries and failures") {
        Bench b;
        b.settings.concurrency = 3;
        b.settings.max_retry_delay = 60s;
        probe.wire(b);
        b.provider.script("r2", 1, {Answer::rate_limited(2s)});
        b.provider.script("r3", 2, {Answer::error(Code::model_error, "400 INVALID_ARGUMENT")});
        b.provider.script("r4", 1, {Answer::rate_limited(2h)});
        auto out = b.run(rows(6, 2));
        REQUIRE(out.summary.ok());
        REQUIRE(out.rows.size() == 6);
        CHECK(out.rows[2].status == "partial");
        for (const char* what : {"on_row", "on_progress", "still_held", "event item_complete",
                                 "event retry", "event error", "event retry_refused"}) {
            CAPTURE(what);
            CHECK(probe.calls(what) > 0);
            CHECK(probe.under_lock(what) == 0);
        }
    }
    SECTION("rows an earlier run made, reported by the dispatcher") {
        Bench b;
        b.settings.concurrency = 2;
        REQUIRE(b.run(rows(3, 2)).summary.ok());
        probe.wire(b);
        auto out = b.run(rows(5, 2));  // r1..r3 are done: skipped inside next_item
        REQUIRE(out.summary.ok());
        REQUIRE(out.rows.size() == 5);
        CHECK(out.summary->images_skipped == 6);
        CHECK(probe.calls("on_row") == 5);
        CHECK(probe.under_lock("on_row") == 0);
        CHECK(probe.under_lock("event item_complete") == 0);
    }
    SECTION("rows not run, reported after the workers stopped (the budget ran out)") {
        Bench b(2 * k_image_cost);
        b.settings.concurrency = 2;
        probe.wire(b);
        auto out = b.run(rows(6));
        REQUIRE(out.summary.ok());
        CHECK(out.summary->status == schedule::RunEnd::budget_exceeded);
        REQUIRE(out.rows.size() == 6);
        CHECK(out.rows[5].status == "budget_exceeded");
        CHECK(probe.calls("on_row") == 6);
        CHECK(probe.under_lock("on_row") == 0);
        CHECK(probe.calls("event budget") > 0);
        CHECK(probe.under_lock("event budget") == 0);
    }
}

TEST_CASE(
    "runner: rows are reported in input order and never two at once, even when a later "
    "row finishes during on_row",
    "[runner][schedule][callbacks]") {
    Bench b;
    b.settings.concurrency = 3;
    Gates gates;
    ProgressSeen progress;
    // r1 finishes after r2..r5; r6 finishes while r1's on_row runs.
    b.provider.on_answer([&](const ScriptedProvider::Call& c) {
        if (c.scene_id == "r1" || c.scene_id == "r6") {
            gates.wait(c.scene_id);
        }
    });
    b.on_progress = [&](const schedule::Progress& p) {
        progress.note(p.images_done);
        if (p.images_done >= 4) {
            gates.open("r1");
        }
    };
    std::atomic<bool> busy{false};
    std::atomic<bool> overlap{false};
    std::atomic<bool> r6_finished_during_on_row{false};
    std::mutex order_mutex;
    std::vector<std::string> order;
    b.on_row = [&](const schedule::RowResult& r) {
        if (busy.exchange(true)) {
            overlap = true;
        }
        {
            std::lock_guard lock(order_mutex);
            order.push_back(r.row->row.scene_id);
        }
        if (r.row->row.scene_id == "r1") {
            gates.open("r6");
            r6_finished_during_on_row = progress.wait_at_least(6);
        }
        busy = false;
    };
    auto out = b.run(rows(6));
    REQUIRE(out.summary.ok());
    CHECK(out.summary->images_generated == 6);
    CHECK(r6_finished_during_on_row);
    CHECK_FALSE(overlap);
    CHECK(order == std::vector<std::string>{"r1", "r2", "r3", "r4", "r5", "r6"});
    REQUIRE(out.rows.size() == 6);
    CHECK(out.rows.back().scene_id == "r6");
    CHECK(out.rows.back().status == "ok");
}

TEST_CASE("runner: a slow on_row does not hold up the other workers",
          "[runner][schedule][callbacks]") {
    Bench b;
    b.settings.concurrency = 2;
    Gates gates;
    ProgressSeen progress;
    // r1's answer waits until r2 is sent (so r2 is on the other worker); r2's waits until r1 is
    // being reported; r1's on_row waits until r2 has finished.
    b.provider.on_answer([&](const ScriptedProvider::Call& c) {
        if (c.scene_id == "r1") {
            b.provider.wait_calls(2);
        } else if (c.scene_id == "r2") {
            gates.wait("r1 reported");
        }
    });
    b.on_progress = [&](const schedule::Progress& p) { progress.note(p.images_done); };
    std::atomic<bool> r2_finished_during_on_row{false};
    b.on_row = [&](const schedule::RowResult& r) {
        if (r.row->row.scene_id == "r1") {
            gates.open("r1 reported");
            r2_finished_during_on_row = progress.wait_at_least(2);
        }
    };
    auto out = b.run(rows(3));
    REQUIRE(out.summary.ok());
    CHECK(r2_finished_during_on_row);
    CHECK(out.summary->images_generated == 3);
    REQUIRE(out.rows.size() == 3);
    for (std::size_t i = 0; i < out.rows.size(); ++i) {
        CHECK(out.rows[i].scene_id == "r" + std::to_string(i + 1));
        CHECK(out.rows[i].status == "ok");
    }
}
