#include <catch2/catch.hpp>

#include "budget/ledger_budget.hpp"
#include "core/ledger/sample_entries.hpp"
#include "ledger/audit.hpp"
#include "ledger/ledger_folder.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;

TEST_CASE("budget: spend read from the ledger stays right when the day file is compacted",
          "[budget]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    test::FakeClock clock(test::k_noon_ms);
    ledger::LocalLedgerWriter writer(folder);
    const auto a = test::sample_entry("job1", "a");
    REQUIRE(writer.append(a).ok());
    REQUIRE(writer.append(a).ok());  // a duplicate line: counted until compacted away
    REQUIRE(writer.append(test::sample_entry("job1", "b")).ok());
    REQUIRE(writer.flush().ok());

    budget::LedgerBudgetOptions options;
    options.ledger_folder = folder;
    options.user = "ops";
    options.mode = "dry_run";
    options.limit = 10'000'000;
    auto opened = budget::LedgerBudget::open(options, clock);
    REQUIRE(opened.ok());
    auto& budget = **opened;
    CHECK(budget.spent() == 3 * 39'000);

    // Compaction replaces the file with a shorter one; more lines then make it longer than
    // the offset the budget had read to, so only noticing the replacement gives the right sum.
    auto compacted = ledger::compact(folder, "2025-11-24");
    REQUIRE(compacted.ok());
    CHECK(compacted->dropped == 1);
    for (const char* scene : {"c", "d", "e"}) {
        REQUIRE(writer.append(test::sample_entry("job1", scene)).ok());
    }
    REQUIRE(writer.flush().ok());
    REQUIRE(budget.reserve(39'000));
    CHECK(budget.spent() == 5 * 39'000);
    budget.settle(39'000, 0);
}
