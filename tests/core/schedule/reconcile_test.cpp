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
#include "schedule/job_files.hpp"
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

// A shard SIGKILLed between an image's manifest line and its ledger line, and never run again:
// the unsharded run (which holds the job exclusively) writes the lost line back, once, as the
// shard would have written it.
TEST_CASE("reconcile: an unsharded run restores the lost line of a killed shard, once",
          "[schedule][reconcile]") {
    test::TempDir dir;
    const std::string out = dir.file("out");
    const std::string folder = dir.file("ledger");
    const auto root = schedule::job_place(out, "job1", dir.file("spool"));
    const auto shard = schedule::job_place(out, "job1", dir.file("spool"), "0-of-2");
    auto e1 = test::sample_entry("job1", "s1");
    auto e2 = test::sample_entry("job1", "s2");
    e1.shard = e2.shard = "0/2";
    {
        auto w = ledger::ManifestWriter::open(shard.manifest());
        REQUIRE(w.ok());
        for (const auto& e : {e1, e2}) {
            auto m = test::sample_manifest_entry(e);
            m.shard = e.shard;
            REQUIRE(w->append(m).ok());
        }
        REQUIRE(w->commit().ok());
    }
    ledger::LocalLedgerWriter writer(folder);
    REQUIRE(writer.append(e1).ok());  // s2's line: lost to the kill
    REQUIRE(writer.flush().ok());

    // Only a run holding the job exclusively looks at the shards' manifests.
    CHECK(schedule::local_shard_manifests(shard).empty());
    const auto shards = schedule::local_shard_manifests(root);
    REQUIRE(shards == std::vector<std::string>{shard.manifest()});

    std::vector<std::string> manifests{root.manifest()};
    manifests.insert(manifests.end(), shards.begin(), shards.end());
    const std::int64_t now = test::k_noon_ms + 60'000;
    auto added = schedule::reconcile_ledger(manifests, folder, writer, now);
    REQUIRE(added.ok());
    CHECK(*added == 1);
    auto lines = read_all(folder);
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].id == e2.id);
    CHECK(lines[1].shard == "0/2");
    CHECK(lines[1].cost == 39'000);

    // A merged manifest repeats the shard's lines: still once each, and nothing the next time.
    {
        auto w = ledger::ManifestWriter::open(root.manifest());
        REQUIRE(w.ok());
        REQUIRE(w->append(test::sample_manifest_entry(e2)).ok());
        REQUIRE(w->commit().ok());
    }
    auto again = schedule::reconcile_ledger(manifests, folder, writer, now + 1000);
    REQUIRE(again.ok());
    CHECK(*again == 0);
    CHECK(read_all(folder).size() == 2);
}
