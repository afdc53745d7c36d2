// Reading a gs:// ledger: the day objects through a GcsClient, with the same tolerance for bad
// and torn lines as a local folder, and `compact` refusing what it has no need to do there.

#include <catch2/catch.hpp>

#include "core/ledger/gcs_ledger_test_support.hpp"
#include "ledger/audit.hpp"

using namespace assetgen;
using test::GcsLedgerFixture;
using test::k_noon_ms;
using test::sample_entry;

TEST_CASE("gcs ledger: show, sum and verify read a gs:// ledger; compact is refused there",
          "[ledger][integration]") {
    GcsLedgerFixture f;
    auto w = ledger::GcsLedgerWriter::open(*f.store, f.clock, f.writer_options());
    REQUIRE(w.ok());
    for (const char* scene : {"a", "b", "c"}) {
        REQUIRE((*w)->append(sample_entry("job1", scene)).ok());
    }
    REQUIRE((*w)->append(sample_entry("job2", "d", 1, k_noon_ms + 86'400'000)).ok());
    REQUIRE((*w)->flush().ok());
    // A day object written by something else, ending in a torn line, and a part left behind.
    const std::string good =
        ledger::to_line(sample_entry("job3", "e", 1, k_noon_ms + 2 * 86'400'000));
    REQUIRE(f.store->client()
                .upload({test::k_ledger_bucket, "ledger/2025-11-26.jsonl"}, good + "{\"ts\":1",
                        "application/x-ndjson")
                .ok());
    REQUIRE(f.store->client()
                .upload({test::k_ledger_bucket, "ledger/.parts/2025-11-24/x-0-9.jsonl"}, good,
                        "application/x-ndjson")
                .ok());

    const ledger::LedgerLocation at(f.location(), &f.store->client());
    auto files = ledger::list_day_files(at, {});
    REQUIRE(files.ok());
    CHECK(*files == std::vector<std::string>{f.location() + "/2025-11-24.jsonl",
                                             f.location() + "/2025-11-25.jsonl",
                                             f.location() + "/2025-11-26.jsonl"});
    CHECK(ledger::list_day_files(at, {"2025-11-25", "2025-11-25"}).value().size() == 1);

    auto sum = ledger::sum(at, ledger::Filter{}, ledger::GroupBy::job);
    REQUIRE(sum.ok());
    CHECK(sum->total.entries == 5);
    CHECK(sum->total.cost == 5 * 39'000);
    REQUIRE(sum->groups.size() == 3);
    CHECK(sum->groups[0].key == "job1");
    CHECK(sum->groups[0].totals.entries == 3);
    REQUIRE(sum->issues.size() == 1);
    CHECK(sum->issues[0].file == f.location() + "/2025-11-26.jsonl");
    CHECK(sum->issues[0].line == 2);
    CHECK(sum->issues[0].message == ledger::k_torn_line_message);

    auto report = ledger::verify_report(at, {});
    REQUIRE(report.ok());
    CHECK(report->files == 3);
    CHECK(report->entries == 5);
    REQUIRE(report->findings.size() == 1);
    CHECK(report->findings[0].kind == ledger::FindingKind::torn_line);

    CHECK(f.store->spool_dir_for("/var/spool") ==
          "/var/spool/ledger-gs%3A%2F%2F" + test::k_ledger_bucket + "%2Fledger");
    CHECK(ledger::compact(f.location(), "2025-11-24").status().code() == util::Code::config);
    CHECK(ledger::read_ledger(
              f.location(), {}, [](const ledger::Entry&) {}, nullptr)
              .code() == util::Code::config);  // no client given
}
