#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

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
    options.mode = ledger::RunMode::dry_run;
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

// Issue 13 (money-property rep 21): a run killed between an image's manifest line and its
// ledger line leaves a paid image that only the next run of the same job place records
// (reconcile_ledger). Its reservation must keep covering that cost until then, or a shard run
// (another place) sees the room and spends it a second time.
TEST_CASE("budget: a dead run's holdings count until a run of its place releases them",
          "[budget]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    std::filesystem::create_directories(folder + "/.budget");
    test::FakeClock clock(test::k_noon_ms);
    const long dead_pid = 2'147'483'000;  // above any pid_max: never a live process
    {
        std::ofstream journal(folder + "/.budget/ops.dry_run.jsonl");
        journal << R"({"pid":)" << dead_pid
                << R"(,"start":7,"held":60000,"day":"2025-11-24","place":"/jobs/j/manifest.jsonl"})"
                << "\n";
        // Another day's leftovers never count.
        journal << R"({"pid":)" << dead_pid + 1
                << R"(,"start":7,"held":90000,"day":"2025-11-23","place":"/jobs/j/manifest.jsonl"})"
                << "\n";
    }
    budget::LedgerBudgetOptions options;
    options.ledger_folder = folder;
    options.user = "ops";
    options.mode = ledger::RunMode::dry_run;
    options.limit = 100'000;

    options.place = "/jobs/j/shards/0-of-2/manifest.jsonl";  // a shard run: another place
    {
        auto shard = budget::LedgerBudget::open(options, clock);
        REQUIRE(shard.ok());
        CHECK((*shard)->reserved() == 60'000);
        CHECK_FALSE((*shard)->reserve(50'000));  // 60,000 may be paid images not yet in the ledger
        REQUIRE((*shard)->reserve(40'000));
        (*shard)->settle(40'000, 0);
    }

    options.place = "/jobs/j/manifest.jsonl";  // the dead run's place: reconciled, so released
    auto same = budget::LedgerBudget::open(options, clock);
    REQUIRE(same.ok());
    CHECK((*same)->reserved() == 0);
    REQUIRE((*same)->reserve(100'000));
    (*same)->settle(100'000, 0);

    options.place = "/jobs/j/shards/0-of-2/manifest.jsonl";  // the release is on disk for all
    auto later = budget::LedgerBudget::open(options, clock);
    REQUIRE(later.ok());
    CHECK((*later)->reserved() == 0);
}

// A shard SIGKILLed with money held and never run again: the unsharded run (or --merge), which
// holds the job exclusively and has restored the shard's lost ledger lines, releases its holdings
// (they would otherwise count until the day ends). A live shard's holdings stay.
TEST_CASE("budget: a run holding the job releases its dead shards' holdings", "[budget]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    std::filesystem::create_directories(folder + "/.budget");
    test::FakeClock clock(test::k_noon_ms);
    const long dead_pid = 2'147'483'000;  // above any pid_max: never a live process
    {
        std::ofstream journal(folder + "/.budget/ops.dry_run.jsonl");
        journal
            << R"({"pid":)" << dead_pid
            << R"(,"start":7,"held":60000,"day":"2025-11-24","place":"/jobs/j/shards/0-of-2/manifest.jsonl"})"
            << "\n";
        journal
            << R"({"pid":)" << dead_pid + 1
            << R"(,"start":7,"held":30000,"day":"2025-11-24","place":"/jobs/other/manifest.jsonl"})"
            << "\n";
    }
    budget::LedgerBudgetOptions options;
    options.ledger_folder = folder;
    options.user = "ops";
    options.mode = ledger::RunMode::dry_run;
    options.limit = 100'000;
    options.place = "/jobs/j/manifest.jsonl";
    {
        auto plain = budget::LedgerBudget::open(options, clock);  // its own place only
        REQUIRE(plain.ok());
        CHECK((*plain)->reserved() == 90'000);
    }
    options.more_places = {"/jobs/j/shards/0-of-2/manifest.jsonl",
                           "/jobs/j/shards/1-of-2/manifest.jsonl"};
    auto unsharded = budget::LedgerBudget::open(options, clock);
    REQUIRE(unsharded.ok());
    CHECK((*unsharded)->reserved() == 30'000);  // another job's dead run still counts
    REQUIRE((*unsharded)->reserve(70'000));     // the whole room the released shard held
    CHECK((*unsharded)->reserved() == 100'000);
    (*unsharded)->settle(70'000, 0);
}

namespace {

// What the journal's last line says this process holds (-1: no line of this process).
long long journal_held_by_self(const std::string& journal) {
    std::ifstream in(journal);
    long long held = -1;
    const std::string me = R"("pid":)" + std::to_string(::getpid()) + ",";
    for (std::string line; std::getline(in, line);) {
        if (line.find(me) == std::string::npos) {
            continue;
        }
        const auto at = line.find(R"("held":)");
        REQUIRE(at != std::string::npos);
        held = std::stoll(line.substr(at + 7));
    }
    return held;
}

}  // namespace

// Issue 18: the group committer settles a group's images in memory and writes the journal once
// per group. Until then the journal may say this process holds more than it does, never less.
TEST_CASE("budget: settle_later writes the journal at flush_settles, never below the truth",
          "[budget]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    test::FakeClock clock(test::k_noon_ms);
    budget::LedgerBudgetOptions options;
    options.ledger_folder = folder;
    options.user = "ops";
    options.mode = ledger::RunMode::dry_run;
    options.limit = 100'000;
    auto opened = budget::LedgerBudget::open(options, clock);
    REQUIRE(opened.ok());
    auto& budget = **opened;
    const std::string journal = folder + "/.budget/ops.dry_run.jsonl";
    REQUIRE(budget.reserve(40'000));
    REQUIRE(budget.reserve(40'000));
    CHECK(journal_held_by_self(journal) == 80'000);
    budget.settle_later(40'000, 0);
    budget.settle_later(40'000, 0);
    CHECK(journal_held_by_self(journal) == 80'000);  // unwritten: more than held, not less
    CHECK(budget.reserved() == 0);                   // this process knows at once
    budget.flush_settles();
    CHECK(journal_held_by_self(journal) == 0);
    REQUIRE(budget.reserve(100'000));  // the whole room again
    CHECK(journal_held_by_self(journal) == 100'000);
    budget.settle(100'000, 0);
    CHECK(journal_held_by_self(journal) == 0);
}

// The journal stays open between writes; a compaction replaces the file, and the next write
// must land in the new one (else other processes would read a stale holding).
TEST_CASE("budget: a journal replaced by another process gets the next line", "[budget]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    test::FakeClock clock(test::k_noon_ms);
    budget::LedgerBudgetOptions options;
    options.ledger_folder = folder;
    options.user = "ops";
    options.mode = ledger::RunMode::dry_run;
    options.limit = 100'000;
    auto opened = budget::LedgerBudget::open(options, clock);
    REQUIRE(opened.ok());
    auto& budget = **opened;
    const std::string journal = folder + "/.budget/ops.dry_run.jsonl";
    REQUIRE(budget.reserve(10'000));
    // Replaced as a compaction does (a new file renamed over), keeping a dead run's holding.
    {
        std::ofstream fresh(journal + ".new");
        fresh << R"({"pid":2147483000,"start":7,"held":30000,"day":"2025-11-24","place":"/p"})"
              << "\n";
    }
    std::filesystem::rename(journal + ".new", journal);
    REQUIRE(budget.reserve(20'000));
    CHECK(journal_held_by_self(journal) == 30'000);
    CHECK(budget.reserved() == 60'000);
    CHECK_FALSE(budget.reserve(80'000));  // the dead run's 30,000 stays: no wait
    budget.settle(30'000, 0);
    CHECK(journal_held_by_self(journal) == 0);
}
