// A pending batch's reservation counts against the day's budget of every other run, local and
// gs:// (issue 17 item 3): the day's spend is paid lines + what open reservations hold, on the
// day of the reservation; a settlement gives the rest back.

#include <catch2/catch.hpp>

#include "budget/gcs_lease_budget.hpp"
#include "budget/gcs_spend.hpp"
#include "budget/ledger_budget.hpp"
#include "budget/spend.hpp"
#include "core/ledger/gcs_ledger_test_support.hpp"
#include "core/ledger/sample_entries.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/reservations.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using test::k_noon_ms;
using test::sample_entry;

namespace {

constexpr std::int64_t k_hour_ms = 3'600'000;

ledger::Reservation batch_of(const std::string& job, util::Micros amount, std::int64_t ts) {
    ledger::Reservation r;
    r.id = job + "/batch/0";
    r.user_id = "ops";
    r.job_id = job;
    r.model = "gemini-2.5-flash-image";
    r.mode = "dry_run";
    r.batch = "assetgen-" + job + "-0";
    r.requests = 10;
    r.amount = amount;
    r.ts = ts;
    return r;
}

ledger::Entry paid_under(const ledger::Reservation& r, const std::string& scene,
                         std::int64_t now_ms) {
    auto e = sample_entry(r.job_id, scene, 1, now_ms);
    e.tier = "batch";
    ledger::bind_to_reservation(e, r, now_ms);
    return e;
}

budget::SpendQuery query(std::int64_t now_ms) {
    budget::SpendQuery q;
    q.user = "ops";
    q.mode = ledger::RunMode::dry_run;
    q.now_ms = now_ms;
    return q;
}

}  // namespace

TEST_CASE("budget: an open reservation counts on its day until it settles to its actual cost",
          "[budget][reservations]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    REQUIRE(writer.append(sample_entry("job0", "a")).ok());  // $0.039 paid today
    const auto r = batch_of("job1", 390'000, k_noon_ms);
    REQUIRE(ledger::write_reservation(writer, r).ok());

    auto s = budget::spent_today(folder, query(k_noon_ms + k_hour_ms));
    REQUIRE(s.ok());
    CHECK(s->spent == 39'000 + 390'000);
    CHECK(s->reserved_pending == 390'000);

    // Two results arrive the next day: they count on the reservation's day, not on theirs.
    const std::int64_t tomorrow = k_noon_ms + 20 * k_hour_ms;
    REQUIRE(writer.append(paid_under(r, "a", tomorrow)).ok());
    REQUIRE(writer.append(paid_under(r, "b", tomorrow)).ok());
    REQUIRE(writer.flush().ok());
    s = budget::spent_today(folder, query(k_noon_ms + k_hour_ms));
    REQUIRE(s.ok());
    CHECK(s->spent == 39'000 + 390'000);  // paid 78,000 + still held 312,000
    CHECK(s->reserved_pending == 390'000 - 2 * 39'000);
    auto next_day = budget::spent_today(folder, query(tomorrow));
    REQUIRE(next_day.ok());
    CHECK(next_day->spent == 0);

    // Settled: the rest is given back.
    REQUIRE(ledger::write_settlement(writer, r, 2 * 39'000, "", tomorrow).ok());
    s = budget::spent_today(folder, query(k_noon_ms + k_hour_ms));
    REQUIRE(s.ok());
    CHECK(s->spent == 3 * 39'000);
    CHECK(s->reserved_pending == 0);
}

TEST_CASE("budget: a run sharing the ledger cannot spend what a pending batch holds",
          "[budget][reservations]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    test::FakeClock clock(k_noon_ms);
    ledger::LocalLedgerWriter writer(folder);

    budget::LedgerBudgetOptions options;
    options.ledger_folder = folder;
    options.user = "ops";
    options.mode = ledger::RunMode::dry_run;
    options.limit = 1'000'000;
    auto opened = budget::LedgerBudget::open(options, clock);
    REQUIRE(opened.ok());
    auto& budget = **opened;
    CHECK(budget.spent() == 0);

    // Another process reserves a batch of $0.98 after this budget opened.
    const auto r = batch_of("job1", 980'000, k_noon_ms);
    REQUIRE(ledger::write_reservation(writer, r).ok());
    CHECK_FALSE(budget.reserve(39'000));  // $0.02 left
    CHECK(budget.reserve(20'000));
    budget.settle(20'000, 0);
    CHECK(budget.spent() == 980'000);

    // The batch is cancelled: its money comes back.
    REQUIRE(ledger::write_settlement(writer, r, 0, "BATCH_CANCELLED", k_noon_ms).ok());
    REQUIRE(budget.reserve(39'000));
    budget.settle(39'000, 0);
    CHECK(budget.spent() == 0);
}

TEST_CASE("budget: a pending batch in a gs:// ledger holds room in every machine's leases",
          "[budget][reservations][integration]") {
    test::GcsLedgerFixture f;
    auto spool_options = f.writer_options("batch-machine");
    auto batch_writer = ledger::GcsLedgerWriter::open(*f.store, f.clock, spool_options);
    REQUIRE(batch_writer.ok());
    const auto r = batch_of("job1", 950'000, f.clock.unix_ms());
    REQUIRE(ledger::write_reservation(**batch_writer, r).ok());  // flushed: in the day object

    // Another machine (its own spool) sees it through the day objects.
    auto other = f.writer_options("other-machine");
    auto day = budget::day_in_zone(f.clock.unix_ms(), "UTC");
    REQUIRE(day.ok());
    budget::GcsSpend spend(*f.store, other.spool_dir,
                           budget::SpendScope{"ops", ledger::RunMode::dry_run, "UTC", *day},
                           f.clock, std::chrono::seconds(0));
    REQUIRE(spend.refresh(true).ok());
    CHECK(spend.spent() == 950'000);
    CHECK(spend.reserved_pending() == 950'000);
    auto pre =
        budget::spent_today_gcs(*f.store, other.spool_dir, query(f.clock.unix_ms()), f.clock);
    REQUIRE(pre.ok());
    CHECK(pre->spent == 950'000);
    CHECK(pre->reserved_pending == 950'000);

    auto other_writer = ledger::GcsLedgerWriter::open(*f.store, f.clock, other);
    REQUIRE(other_writer.ok());
    budget::LeaseBudgetOptions o;
    o.user = "ops";
    o.mode = ledger::RunMode::dry_run;
    o.limit = 1'000'000;
    o.store = f.store.get();
    o.spool_dir = other.spool_dir;
    o.ttl = std::chrono::seconds(4);
    o.lease_images = 4;
    o.holder = "other-machine";
    o.flush_ledger = [&] { return (*other_writer)->flush(); };
    o.renew_thread = false;
    auto leased = budget::GcsLeaseBudget::open(o, f.clock);
    REQUIRE(leased.ok());
    CHECK_FALSE((*leased)->reserve(60'000));  // $0.05 left
    REQUIRE((*leased)->reserve(39'000));
    (*leased)->settle(39'000, 0);

    // Results and the settlement reach the ledger: what was not used is free again.
    REQUIRE((**batch_writer).append(paid_under(r, "a", f.clock.unix_ms())).ok());
    REQUIRE(ledger::write_settlement(**batch_writer, r, 39'000, "", f.clock.unix_ms()).ok());
    REQUIRE(spend.refresh(true).ok());
    CHECK(spend.spent() == 39'000);
    CHECK(spend.reserved_pending() == 0);
    REQUIRE((*leased)->close().ok());
    // A run that starts now (a refusal is final within one run) has the room.
    auto later = budget::GcsLeaseBudget::open(o, f.clock);
    REQUIRE(later.ok());
    REQUIRE((*later)->reserve(600'000));
    (*later)->settle(600'000, 0);
    REQUIRE((*later)->close().ok());
}

TEST_CASE("budget: a refusal names the pending batches that hold the day and what to do",
          "[budget][reservations]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    const std::int64_t now = k_noon_ms + k_hour_ms;
    // Five pending batches, oldest first a..e; c has used part of its room, d settled.
    for (const char* job : {"a", "b", "c", "d", "e", "f"}) {
        const auto r = batch_of(job, 100'000, k_noon_ms + (job[0] - 'a') * 60'000);
        REQUIRE(ledger::write_reservation(writer, r).ok());
        if (std::string(job) == "c") {
            REQUIRE(writer.append(paid_under(r, "x", now)).ok());  // $0.039 paid
        }
        if (std::string(job) == "d") {
            REQUIRE(ledger::write_settlement(writer, r, 0, "BATCH_CANCELLED", now).ok());
        }
    }
    REQUIRE(writer.flush().ok());

    auto spend = budget::spent_today(folder, query(now));
    REQUIRE(spend.ok());
    CHECK(spend->reserved_pending == 4 * 100'000 + 61'000);
    CHECK(budget::pending_batches_advice(*spend) ==
          " $0.461000 of the day is held by 5 pending batches: \"assetgen-a-0\" (job a, "
          "$0.100000), \"assetgen-b-0\" (job b, $0.100000), \"assetgen-c-0\" (job c, $0.061000) "
          "and 2 more. Wait for them to settle, or cancel them with `assetgen run … --tier batch "
          "--cancel`; `assetgen ledger show --reservations` lists every reservation.");

    // None pending: nothing to add.
    auto none = budget::spent_today(dir.file("empty"), query(now));
    REQUIRE(none.ok());
    CHECK(budget::pending_batches_advice(*none).empty());
}

TEST_CASE(
    "budget: a batch chunk reserved in this machine's lease counts once, as its reserve line, "
    "for this process and every other",
    "[budget][reservations][integration]") {
    test::GcsLedgerFixture f;
    auto mine = f.writer_options("batch-machine");
    auto writer = ledger::GcsLedgerWriter::open(*f.store, f.clock, mine);
    REQUIRE(writer.ok());
    budget::LeaseBudgetOptions o;
    o.user = "ops";
    o.mode = ledger::RunMode::dry_run;
    o.limit = 1'000'000;
    o.store = f.store.get();
    o.spool_dir = mine.spool_dir;
    o.ttl = std::chrono::seconds(4);
    o.lease_images = 1;
    o.holder = "batch-machine";
    o.flush_ledger = [&] { return (*writer)->flush(); };
    o.renew_thread = false;
    auto leased = budget::GcsLeaseBudget::open(o, f.clock);
    REQUIRE(leased.ok());
    budget::Budget& b = **leased;

    // Chunk 1 ($0.60): held in the lease, then its reserve line (naming the lease) holds it.
    REQUIRE(b.reserve(600'000));
    auto r = batch_of("job1", 600'000, f.clock.unix_ms());
    r.lease = b.lease_id();
    REQUIRE(ledger::write_reservation(**writer, r).ok());
    b.settle(600'000, 600'000);
    // Chunk 2 ($0.40) fits what is left, exactly.
    REQUIRE(b.reserve(400'000));
    auto r2 = batch_of("job1", 400'000, f.clock.unix_ms());
    r2.id = "job1/batch/1";
    r2.lease = b.lease_id();
    REQUIRE(ledger::write_reservation(**writer, r2).ok());
    b.settle(400'000, 400'000);
    CHECK_FALSE(b.reserve(1));

    // Another machine sees the day full, and no more: spend plus what leases hold is the limit.
    auto other = f.writer_options("other-machine");
    auto spent =
        budget::spent_today_gcs(*f.store, other.spool_dir, query(f.clock.unix_ms()), f.clock);
    REQUIRE(spent.ok());
    CHECK(spent->reserved_pending == 1'000'000);
    auto day = budget::day_in_zone(f.clock.unix_ms(), "UTC");
    REQUIRE(day.ok());
    auto held = budget::held_by_leases_now(
        *f.store, other.spool_dir, budget::SpendScope{"ops", ledger::RunMode::dry_run, "UTC", *day},
        f.clock, o.ttl);
    REQUIRE(held.ok());
    CHECK(spent->spent + *held == 1'000'000);

    // The batches settle cheaper: what they did not use is free for the other machine.
    REQUIRE((**writer).append(paid_under(r, "a", f.clock.unix_ms())).ok());
    REQUIRE(ledger::write_settlement(**writer, r, 39'000, "", f.clock.unix_ms()).ok());
    REQUIRE(ledger::write_settlement(**writer, r2, 0, "BATCH_CANCELLED", f.clock.unix_ms()).ok());
    REQUIRE(b.close().ok());
    auto other_writer = ledger::GcsLedgerWriter::open(*f.store, f.clock, other);
    REQUIRE(other_writer.ok());
    budget::LeaseBudgetOptions o2 = o;
    o2.spool_dir = other.spool_dir;
    o2.holder = "other-machine";
    o2.flush_ledger = [&] { return (*other_writer)->flush(); };
    auto later = budget::GcsLeaseBudget::open(o2, f.clock);
    REQUIRE(later.ok());
    CHECK_FALSE((*later)->reserve(1'000'000 - 39'000 + 1));
    REQUIRE((*later)->reserve(1'000'000 - 39'000));
    (*later)->settle(1'000'000 - 39'000, 0);
    REQUIRE((*later)->close().ok());
}
