// Spend from a gs:// ledger (what its budget leases count): the day objects plus this machine's
// spool lines, each entry once; day objects are read incrementally and again from the start
// when replaced; the part of it under each budget lease.

#include <catch2/catch.hpp>

#include "budget/gcs_spend.hpp"
#include "budget/ledger_budget.hpp"
#include "budget/spend.hpp"
#include "core/ledger/gcs_ledger_test_support.hpp"

using namespace assetgen;
using test::GcsLedgerFixture;
using test::sample_entry;

namespace {

std::unique_ptr<ledger::GcsLedgerWriter> writer(GcsLedgerFixture& f, const std::string& spool) {
    auto options = f.writer_options(spool);
    options.spool_retention = std::chrono::hours(1);
    auto w = ledger::GcsLedgerWriter::open(*f.store, f.clock, options);
    REQUIRE(w.ok());
    return std::move(w).value();
}

}  // namespace

TEST_CASE("budget: spend from a gs:// ledger counts day objects and spool-only lines once",
          "[budget][integration]") {
    GcsLedgerFixture f;
    auto here = writer(f, "spool");
    auto elsewhere = writer(f, "other-machine");  // its spool is not this machine's
    REQUIRE(here->append(sample_entry("job1", "a")).ok());
    REQUIRE(here->append(sample_entry("job1", "b")).ok());
    REQUIRE(here->flush().ok());                            // a, b: spool and GCS
    REQUIRE(here->append(sample_entry("job1", "c")).ok());  // c: spool only
    REQUIRE(elsewhere->append(sample_entry("job2", "e")).ok());
    REQUIRE(elsewhere->flush().ok());  // e: GCS only
    auto other_user = sample_entry("job2", "x");
    other_user.user_id = "someone-else";
    REQUIRE(elsewhere->append(other_user).ok());
    REQUIRE(elsewhere->flush().ok());

    auto day = budget::day_in_zone(f.clock.unix_ms(), "UTC");
    REQUIRE(day.ok());
    budget::GcsSpend spend(*f.store, f.dir.file("spool"),
                           budget::SpendScope{"ops", ledger::RunMode::dry_run, "UTC", *day},
                           f.clock, std::chrono::seconds(2));
    REQUIRE(spend.refresh().ok());
    CHECK(spend.spent() == 4 * 39'000);

    // c reaches GCS: still counted once. f, from another machine, shows once the day objects
    // are read again (every gcs_refresh).
    REQUIRE(here->flush().ok());
    REQUIRE(elsewhere->append(sample_entry("job2", "f")).ok());
    REQUIRE(elsewhere->flush().ok());
    REQUIRE(spend.refresh().ok());
    CHECK(spend.spent() == 4 * 39'000);
    f.clock.advance(std::chrono::seconds(2));
    REQUIRE(spend.refresh().ok());
    CHECK(spend.spent() == 5 * 39'000);
    f.clock.advance(std::chrono::seconds(2));
    REQUIRE(spend.refresh().ok());  // nothing new anywhere
    CHECK(spend.spent() == 5 * 39'000);

    int ranged = 0;
    int unchanged = 0;
    for (const auto& e : f.requests("read")) {
        ranged += e["status"] == 206 ? 1 : 0;
        unchanged += e["status"] == 304 ? 1 : 0;
    }
    CHECK(ranged > 0);     // read on from the last offset
    CHECK(unchanged > 0);  // asked "unless still generation G" and told so

    // Replaced by something that is not an append: read again from the start, new lines
    // counted, old ones not twice.
    const std::string replaced = ledger::to_line(sample_entry("job9", "g")) +
                                 ledger::to_line(sample_entry("job1", "b")) +
                                 ledger::to_line(sample_entry("job1", "a"));
    REQUIRE(f.store->client()
                .upload({test::k_ledger_bucket, "ledger/2025-11-24.jsonl"}, replaced,
                        "application/x-ndjson")
                .ok());
    f.clock.advance(std::chrono::seconds(2));
    REQUIRE(spend.refresh().ok());
    CHECK(spend.spent() == 6 * 39'000);

    budget::SpendQuery query{"ops", ledger::RunMode::dry_run, "UTC", f.clock.unix_ms()};
    auto once = budget::spent_today_gcs(*f.store, f.dir.file("spool"), query, f.clock);
    REQUIRE(once.ok());
    // A fresh look sees what is there now: g, b, a in the object, c (and a, b) in the spool.
    CHECK(once->spent == 4 * 39'000);
    CHECK(once->entries == 4);
}

TEST_CASE("budget: spend under each lease comes from the lines' lease field",
          "[budget][integration]") {
    GcsLedgerFixture f;
    auto here = writer(f, "spool");
    auto a = sample_entry("job1", "a");
    a.lease = "lease-1";
    auto b = sample_entry("job1", "b");
    b.lease = "lease-1";
    auto c = sample_entry("job2", "c");
    c.lease = "lease-2";
    for (const auto& e : {a, b, c, sample_entry("job3", "d")}) {
        REQUIRE(here->append(e).ok());
    }
    REQUIRE(here->flush().ok());
    REQUIRE(here->append(b).ok());  // the same line again: counted once
    auto day = budget::day_in_zone(f.clock.unix_ms(), "UTC");
    REQUIRE(day.ok());
    budget::GcsSpend spend(*f.store, f.dir.file("spool"),
                           budget::SpendScope{"ops", ledger::RunMode::dry_run, "UTC", *day},
                           f.clock, std::chrono::seconds(0));
    REQUIRE(spend.refresh(true).ok());
    CHECK(spend.spent() == 4 * 39'000);
    CHECK(spend.spent_by_lease() ==
          std::map<std::string, util::Micros>{{"lease-1", 78'000}, {"lease-2", 39'000}});
}

TEST_CASE("budget: a gs:// ledger's budget is not a local journal", "[budget]") {
    test::FakeClock clock(test::k_noon_ms);
    budget::LedgerBudgetOptions options;
    options.ledger_folder = "gs://bucket/ledger";
    options.user = "ops";
    options.mode = ledger::RunMode::dry_run;
    options.limit = 1'000'000;
    CHECK(budget::LedgerBudget::open(options, clock).status().code() == util::Code::config);
}
