// Two machines (two spool folders) on one gs:// ledger that spooled the same line: machine B
// resumed a job while machine A's spool was not pushed yet, and restored the line from the
// manifest under the same id. Whichever pushes second (A's spool recovered at start, or a run's
// last push) leaves the line out: it ends in the day object once.

#include <catch2/catch.hpp>

#include "core/ledger/gcs_ledger_test_support.hpp"

using namespace assetgen;
using test::GcsLedgerFixture;
using test::id_counts;
using test::sample_entry;

namespace {

std::unique_ptr<ledger::GcsLedgerWriter> writer(GcsLedgerFixture& f, const std::string& spool) {
    auto w = ledger::GcsLedgerWriter::open(*f.store, f.clock, f.writer_options(spool));
    REQUIRE(w.ok());
    return std::move(w).value();
}

}  // namespace

TEST_CASE("gcs ledger: a line spooled on two machines ends in the day object once (recovery)",
          "[ledger][integration][cross_machine]") {
    GcsLedgerFixture f;
    {
        // Machine A spools two lines and dies before pushing them.
        auto a = writer(f, "spool-a");
        REQUIRE(a->append(sample_entry("job", "s1")).ok());
        REQUIRE(a->append(sample_entry("job", "s2")).ok());
    }
    // Machine B resumes the job, restores s1's line from the manifest (same id) and pushes it.
    auto b = writer(f, "spool-b");
    REQUIRE(b->append(sample_entry("job", "s1")).ok());
    REQUIRE(b->flush().ok());
    // Machine A starts again: its dead spool is recovered, without s1 (already there).
    auto again = writer(f, "spool-a");
    CHECK(again->recovery().spools == 1);
    const auto counts = id_counts(f.day_text("2025-11-24"));
    CHECK(counts.at("job/s1/v1") == 1);
    CHECK(counts.at("job/s2/v1") == 1);  // the line only A had still arrives
    CHECK(counts.size() == 2);

    // Recovered again later (nothing left): no change.
    auto third = writer(f, "spool-a");
    CHECK(id_counts(f.day_text("2025-11-24")) == counts);
}

TEST_CASE("gcs ledger: a run's last push leaves out lines another machine pushed meanwhile",
          "[ledger][integration][cross_machine]") {
    GcsLedgerFixture f;
    auto a = writer(f, "spool-a");
    auto b = writer(f, "spool-b");
    REQUIRE(a->append(sample_entry("job", "s1")).ok());
    REQUIRE(b->append(sample_entry("job", "s1")).ok());
    REQUIRE(b->append(sample_entry("job", "s3")).ok());
    REQUIRE(b->flush().ok());
    REQUIRE(a->append(sample_entry("job", "s4")).ok());
    REQUIRE(a->flush_skipping_present().ok());
    const auto counts = id_counts(f.day_text("2025-11-24"));
    CHECK(counts.at("job/s1/v1") == 1);
    CHECK(counts.at("job/s3/v1") == 1);
    CHECK(counts.at("job/s4/v1") == 1);
    CHECK(counts.size() == 3);
}
