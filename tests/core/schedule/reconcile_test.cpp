// The next run's reconciliation rebuilds a ledger line that a crash lost between an image's
// manifest line and its ledger line: as it was written, tier and reservation included.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/ledger/sample_entries.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/manifest.hpp"
#include "ledger/reservations.hpp"
#include "schedule/job.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;

namespace {

constexpr std::int64_t k_day_ms = 86'400'000;

std::vector<ledger::Entry> read_all(const std::string& folder) {
    std::vector<ledger::Entry> out;
    std::vector<ledger::ReadIssue> issues;
    REQUIRE(ledger::read_ledger(
                folder, {}, [&](const ledger::Entry& e) { out.push_back(e); }, &issues)
                .ok());
    return out;
}

// A batch image collected a day after its reservation was made.
ledger::ManifestEntry batch_image(const std::string& scene) {
    auto e = test::sample_entry("job1", scene, 1, test::k_noon_ms + k_day_ms);
    auto m = test::sample_manifest_entry(e);
    m.tier = "batch";
    m.reservation = "job1/batch/c1";
    m.reservation_ts = test::k_noon_ms;
    return m;
}

}  // namespace

TEST_CASE(
    "reconcile: a batch image's lost ledger line comes back bound to its reservation, on "
    "the reservation's day, at the batch tier",
    "[schedule][reconcile]") {
    test::TempDir dir;
    const std::string manifest = dir.file("out/job1/manifest.jsonl");
    const std::string folder = dir.file("ledger");
    {
        auto w = ledger::ManifestWriter::open(manifest);
        REQUIRE(w.ok());
        REQUIRE(w->append(batch_image("s1")).ok());
        REQUIRE(w->commit().ok());
    }
    ledger::LocalLedgerWriter writer(folder);
    const std::int64_t now = test::k_noon_ms + k_day_ms + 60'000;
    auto added = schedule::reconcile_ledger(manifest, folder, writer, now);
    REQUIRE(added.ok());
    CHECK(*added == 1);
    const auto lines = read_all(folder);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].tier == "batch");
    CHECK(lines[0].reservation == "job1/batch/c1");
    CHECK(lines[0].ts == test::k_noon_ms);  // the reservation's day, as bind_to_reservation
    CHECK(lines[0].recorded_ts == now);
    CHECK(lines[0].cost == 39'000);
    // A settle line now sees it among the reservation's paid lines.
    ledger::ReservationBook book;
    for (const auto& e : lines) {
        book.add(e);
    }
    CHECK(book.states().at("job1/batch/c1").paid == 39'000);

    // Run again: the line is there (on the reservation's day, before the image's): not twice.
    auto again = schedule::reconcile_ledger(manifest, folder, writer, now + 1000);
    REQUIRE(again.ok());
    CHECK(*again == 0);
    CHECK(read_all(folder).size() == 1);
}

TEST_CASE(
    "reconcile: a lost flex line comes back at the flex tier; standard lines stay as they "
    "were written",
    "[schedule][reconcile]") {
    test::TempDir dir;
    const std::string manifest = dir.file("out/job1/manifest.jsonl");
    const std::string folder = dir.file("ledger");
    {
        auto w = ledger::ManifestWriter::open(manifest);
        REQUIRE(w.ok());
        auto flex = test::sample_manifest_entry(test::sample_entry("job1", "s1"));
        flex.tier = "flex";
        REQUIRE(w->append(flex).ok());
        auto standard = test::sample_manifest_entry(test::sample_entry("job1", "s2"));
        standard.tier = "standard";
        const std::string line = ledger::to_line(standard);
        CHECK(line.find("\"tier\"") == std::string::npos);  // manifests of standard runs unchanged
        REQUIRE(w->append(standard).ok());
        REQUIRE(w->commit().ok());
    }
    ledger::LocalLedgerWriter writer(folder);
    auto added = schedule::reconcile_ledger(manifest, folder, writer, test::k_noon_ms + 60'000);
    REQUIRE(added.ok());
    CHECK(*added == 2);
    const auto lines = read_all(folder);
    REQUIRE(lines.size() == 2);
    for (const auto& e : lines) {
        CHECK(e.tier == (e.scene_id == "s1" ? "flex" : "standard"));
        CHECK(e.reservation.empty());
    }
}

TEST_CASE("ledger: a batch image's manifest line round-trips its tier and reservation",
          "[ledger][reconcile]") {
    const auto m = batch_image("s9");
    const std::string line = ledger::to_line(m);
    CHECK(line.find("\"tier\":\"batch\",\"reservation\":\"job1/batch/c1\",\"reservation_ts\":" +
                    std::to_string(test::k_noon_ms)) != std::string::npos);
    auto back = ledger::parse_manifest_line(line);
    REQUIRE(back.ok());
    CHECK(*back == m);
}
