// LedgerBudget::reserve waits only for room that something else can free. When what stays
// (today's spend, pending batches' reservations, a dead run's holdings) leaves no room for the
// request, waiting for this process's own reservations would never end (the thread that holds
// them may be the one waiting, or they settle at their cost and free nothing): it refuses at
// once. The clock below fails the test instead of letting an old build hang.

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "budget/ledger_budget.hpp"
#include "core/ledger/sample_entries.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/reservations.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;

namespace {

// Virtual time, as FakeClock; a reserve() that polls more than max_sleeps times throws, so a
// wait that cannot end fails the test rather than hanging it.
class BoundedClock final : public util::Clock {
public:
    explicit BoundedClock(std::uint64_t max_sleeps) : m_max(max_sleeps) {}
    std::int64_t unix_ms() const override { return m_clock.unix_ms(); }
    util::SteadyTime steady() const override { return m_clock.steady(); }
    void sleep_for(std::chrono::nanoseconds d) override {
        if (m_clock.sleeps() >= m_max) {
            throw std::runtime_error("reserve() is still waiting after " + std::to_string(m_max) +
                                     " polls");
        }
        m_clock.sleep_for(d);
    }
    std::uint64_t sleeps() const { return m_clock.sleeps(); }

private:
    test::FakeClock m_clock{test::k_noon_ms};
    std::uint64_t m_max;
};

budget::LedgerBudgetOptions options_for(const std::string& folder, util::Micros limit) {
    budget::LedgerBudgetOptions o;
    o.ledger_folder = folder;
    o.user = "ops";
    o.mode = ledger::RunMode::dry_run;
    o.limit = limit;
    return o;
}

}  // namespace

TEST_CASE("budget: an overrun past the limit refuses at once instead of waiting on itself",
          "[budget]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    BoundedClock clock(1'000);
    auto opened = budget::LedgerBudget::open(options_for(folder, 100'000), clock);
    REQUIRE(opened.ok());
    auto& budget = **opened;
    REQUIRE(budget.reserve(40'000));
    // The answer billed far past its reservation: its ledger line is written, its settle has not
    // come yet (another worker's, or this one's before the group commit).
    ledger::LocalLedgerWriter writer(folder);
    auto overrun = test::sample_entry("job1", "a");
    overrun.cost = 4'800'000;
    REQUIRE(writer.append(overrun).ok());
    REQUIRE(writer.flush().ok());
    bool granted = true;
    REQUIRE_NOTHROW(granted = budget.reserve(10'000));
    CHECK_FALSE(granted);
    CHECK(clock.sleeps() == 0);
    budget.settle(40'000, 4'800'000);
    CHECK(budget.overshoot() == 4'700'000);
}

TEST_CASE("budget: this process's own pending batch leaves no room: refused, not waited for",
          "[budget][reservations]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    BoundedClock clock(1'000);
    auto opened = budget::LedgerBudget::open(options_for(folder, 1'000'000), clock);
    REQUIRE(opened.ok());
    auto& budget = **opened;
    // A chunk of a batch run: reserved in the run, then held by its reserve line.
    REQUIRE(budget.reserve(700'000));
    ledger::LocalLedgerWriter writer(folder);
    ledger::Reservation r;
    r.id = "job1/batch/0";
    r.user_id = "ops";
    r.job_id = "job1";
    r.model = "gemini-2.5-flash-image";
    r.mode = "dry_run";
    r.batch = "assetgen-job1-0";
    r.requests = 10;
    r.amount = 700'000;
    r.ts = clock.unix_ms();
    REQUIRE(ledger::write_reservation(writer, r).ok());
    // The next chunk is reserved while the first's in-run hold is still there (or by another
    // thread of the same process): the batch holds $0.70 until this process collects it.
    bool granted = true;
    REQUIRE_NOTHROW(granted = budget.reserve(400'000));
    CHECK_FALSE(granted);
    CHECK(clock.sleeps() == 0);
    budget.settle(700'000, 700'000);
    CHECK_FALSE(budget.reserve(400'000));
    REQUIRE(budget.reserve(300'000));  // what is left fits
    budget.settle(300'000, 0);
}

TEST_CASE("budget: a request waits while in-flight reservations can still free its room",
          "[budget]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    BoundedClock clock(1'000'000);
    auto opened = budget::LedgerBudget::open(options_for(folder, 100'000), clock);
    REQUIRE(opened.ok());
    auto& budget = **opened;
    REQUIRE(budget.reserve(60'000));
    // Another worker settles the first request below its reservation once this one waits.
    std::atomic<bool> settled{false};
    std::thread worker([&] {
        while (clock.sleeps() == 0) {
            std::this_thread::yield();
        }
        budget.settle(60'000, 10'000);
        settled = true;
    });
    bool granted = false;
    REQUIRE_NOTHROW(granted = budget.reserve(60'000));
    worker.join();
    CHECK(granted);
    CHECK(settled);
    CHECK(clock.sleeps() > 0);
    budget.settle(60'000, 0);
}
