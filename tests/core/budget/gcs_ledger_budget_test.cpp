// LedgerBudget on a gs:// ledger: spend is the day objects plus this machine's spool lines,
// each entry once; day objects are read incrementally and again from the start when replaced.

#include <catch2/catch.hpp>

#include "budget/gcs_spend.hpp"
#include "budget/ledger_budget.hpp"
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

    budget::LedgerBudgetOptions options;
    options.ledger_folder = f.location();
    options.user = "ops";
    options.mode = "dry_run";
    options.limit = 10'000'000;
    options.gcs = f.store.get();
    options.spool_dir = f.dir.file("spool");
    options.gcs_refresh = std::chrono::seconds(2);
    auto opened = budget::LedgerBudget::open(options, f.clock);
    REQUIRE(opened.ok());
    auto& budget = **opened;
    CHECK(budget.spent() == 4 * 39'000);

    // c reaches GCS: still counted once. f, from another machine, shows once the day objects
    // are read again (every gcs_refresh).
    REQUIRE(here->flush().ok());
    REQUIRE(elsewhere->append(sample_entry("job2", "f")).ok());
    REQUIRE(elsewhere->flush().ok());
    REQUIRE(budget.reserve(39'000));
    budget.settle(39'000, 0);
    CHECK(budget.spent() == 4 * 39'000);
    f.clock.advance(std::chrono::seconds(2));
    REQUIRE(budget.reserve(39'000));
    budget.settle(39'000, 0);
    CHECK(budget.spent() == 5 * 39'000);
    CHECK(f.dir.read("spool/.budget/ops.dry_run.jsonl").find("\"held\"") != std::string::npos);
    f.clock.advance(std::chrono::seconds(2));
    REQUIRE(budget.reserve(39'000));  // nothing new anywhere
    budget.settle(39'000, 0);
    CHECK(budget.spent() == 5 * 39'000);

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
    REQUIRE(budget.reserve(39'000));
    budget.settle(39'000, 0);
    CHECK(budget.spent() == 6 * 39'000);

    budget::SpendQuery query{"ops", "dry_run", "UTC", f.clock.unix_ms()};
    auto once = budget::spent_today_gcs(*f.store, f.dir.file("spool"), query, f.clock);
    REQUIRE(once.ok());
    // A fresh look sees what is there now: g, b, a in the object, c (and a, b) in the spool.
    CHECK(once->spent == 4 * 39'000);
    CHECK(once->entries == 4);
}

TEST_CASE("budget: a gs:// ledger needs its store and the spool folder", "[budget]") {
    test::FakeClock clock(test::k_noon_ms);
    budget::LedgerBudgetOptions options;
    options.ledger_folder = "gs://bucket/ledger";
    options.user = "ops";
    options.mode = "dry_run";
    options.limit = 1'000'000;
    CHECK(budget::LedgerBudget::open(options, clock).status().code() == util::Code::config);
}
