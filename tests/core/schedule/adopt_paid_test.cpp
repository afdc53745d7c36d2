// The next run's adoption of paid images whose ledger line (with uri and sha256) was written but
// whose manifest line was not (a kill in the group-commit window): adopted when the file is
// whole, made again under a new id when it is not, left alone when recorded or another shard's.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "core/ledger/sample_entries.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/manifest.hpp"
#include "schedule/adopt_paid.hpp"
#include "schedule/runner.hpp"
#include "storage/storage.hpp"
#include "support/temp_dir.hpp"
#include "util/hash.hpp"
#include "util/text.hpp"

using namespace assetgen;

namespace {

// A paid image's ok line as the runner writes it before the manifest line: with its file.
ledger::Entry paid_line(const test::TempDir& dir, const std::string& scene,
                        const std::string& bytes) {
    auto e = test::sample_entry("job1", scene);
    e.uri = dir.file("out/job1/" + scene + "/" + scene + "_v1.png");
    e.sha256 = util::sha256_hex(bytes);
    return e;
}

void write_file(const std::string& path, const std::string& bytes) {
    storage::LocalStorage local;
    REQUIRE(local.put(path, bytes, "image/png").ok());
}

std::vector<ledger::ManifestEntry> read_manifest(const std::string& path) {
    std::vector<ledger::ManifestEntry> out;
    std::vector<ledger::ReadIssue> issues;
    REQUIRE(ledger::read_manifest(
                path, [&](const ledger::ManifestEntry& m) { out.push_back(m); }, &issues)
                .ok());
    return out;
}

schedule::AdoptOptions options(const test::TempDir& dir, const std::string& shard = "") {
    return {"job1",
            shard,
            util::utc_date(test::k_noon_ms),
            util::utc_date(test::k_noon_ms),
            dir.file("out/job1"),
            "dry_run"};
}

}  // namespace

TEST_CASE("adopt: a paid image whole on disk without its manifest line is adopted, once",
          "[schedule][adopt]") {
    test::TempDir dir;
    // Shard 2/2's run: its manifest, its lines.
    const std::string manifest = dir.file("out/job1/shards/2-of-2/manifest.jsonl");
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    auto whole = paid_line(dir, "s1", "image-one");
    whole.shard = "2/2";
    write_file(whole.uri, "image-one");
    REQUIRE(writer.append(whole).ok());
    // Recorded already (its manifest line is there): nothing to do for it.
    auto recorded = paid_line(dir, "s2", "image-two");
    recorded.shard = "2/2";
    write_file(recorded.uri, "image-two");
    REQUIRE(writer.append(recorded).ok());
    {
        auto w = ledger::ManifestWriter::open(manifest);
        REQUIRE(w.ok());
        REQUIRE(w->append(test::sample_manifest_entry(recorded)).ok());
        REQUIRE(w->commit().ok());
    }
    // Another shard's line: left to that shard by a shard run.
    auto other = paid_line(dir, "s3", "image-three");
    other.shard = "1/2";
    write_file(other.uri, "image-three");
    REQUIRE(writer.append(other).ok());
    REQUIRE(writer.flush().ok());

    storage::LocalStorage local;
    auto found = schedule::adopt_paid_images({manifest}, folder, local, options(dir, "2/2"));
    REQUIRE(found.ok());
    REQUIRE(found->adopted.size() == 1);
    CHECK(found->remade.empty());
    const auto lines = read_manifest(manifest);
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].ledger_id == whole.id);  // the ledger line's id: not charged again
    CHECK(lines[1].uri == whole.uri);
    CHECK(lines[1].sha256 == whole.sha256);
    CHECK(lines[1].bytes == 9);
    CHECK(lines[1].cost == whole.cost);

    // Shard 1/2's run adopts its line into its own manifest.
    const std::string shard_manifest = dir.file("out/job1/shards/1-of-2/manifest.jsonl");
    auto one =
        schedule::adopt_paid_images({shard_manifest, manifest}, folder, local, options(dir, "1/2"));
    REQUIRE(one.ok());
    REQUIRE(one->adopted.size() == 1);
    CHECK(one->adopted[0].ledger_id == other.id);
    CHECK(read_manifest(shard_manifest).size() == 1);

    // The next (unsharded) run finds everything recorded: nothing more.
    auto again =
        schedule::adopt_paid_images({manifest, shard_manifest}, folder, local, options(dir));
    REQUIRE(again.ok());
    CHECK(again->adopted.empty());
    CHECK(again->remade.empty());
    CHECK(read_manifest(manifest).size() == 2);
}

TEST_CASE("adopt: an unsharded run adopts a killed shard's paid image", "[schedule][adopt]") {
    test::TempDir dir;
    const std::string manifest = dir.file("out/job1/manifest.jsonl");
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    auto line = paid_line(dir, "s1", "image-one");
    line.shard = "1/2";
    write_file(line.uri, "image-one");
    REQUIRE(writer.append(line).ok());
    REQUIRE(writer.flush().ok());
    storage::LocalStorage local;
    auto found = schedule::adopt_paid_images(
        {manifest, dir.file("out/job1/shards/1-of-2/manifest.jsonl")}, folder, local, options(dir));
    REQUIRE(found.ok());
    REQUIRE(found->adopted.size() == 1);
    CHECK(found->adopted[0].shard == "1/2");
    CHECK(read_manifest(manifest).size() == 1);
}

TEST_CASE("adopt: a paid image not whole on disk is made again, the first payment kept",
          "[schedule][adopt]") {
    test::TempDir dir;
    const std::string manifest = dir.file("out/job1/manifest.jsonl");
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    const auto torn = paid_line(dir, "s1", "image-one");
    write_file(torn.uri, "image-o");                      // other bytes than were paid for
    const auto gone = paid_line(dir, "s2", "image-two");  // no file at all
    REQUIRE(writer.append(torn).ok());
    REQUIRE(writer.append(gone).ok());
    REQUIRE(writer.flush().ok());

    storage::LocalStorage local;
    auto found = schedule::adopt_paid_images({manifest}, folder, local, options(dir));
    REQUIRE(found.ok());
    CHECK(found->adopted.empty());
    CHECK(found->remade ==
          std::vector<std::string>{schedule::done_key("s1", 1), schedule::done_key("s2", 1)});
    CHECK(read_manifest(manifest).empty());  // no line names an image that is not whole

    // The remake (its own id), itself killed in the window: its line is adopted, and the lost
    // first line no longer asks for a remake (the same file holds the remake's bytes).
    auto remake = paid_line(dir, "s1", "image-one-again");
    remake.id += "/remade-1";
    write_file(remake.uri, "image-one-again");
    REQUIRE(writer.append(remake).ok());
    REQUIRE(writer.flush().ok());
    auto next = schedule::adopt_paid_images({manifest}, folder, local, options(dir));
    REQUIRE(next.ok());
    REQUIRE(next->adopted.size() == 1);
    CHECK(next->adopted[0].ledger_id == remake.id);
    CHECK(next->remade == std::vector<std::string>{schedule::done_key("s2", 1)});
}

TEST_CASE("adopt: the same job's lines of another --out or mode are not this folder's",
          "[schedule][adopt]") {
    // The same input run to two output folders is one job id with one ledger: the first
    // folder's paid images are not the second's to adopt (nor to make again), and a dry run's
    // synthetic images are never a live run's.
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    auto elsewhere = test::sample_entry("job1", "s1");
    elsewhere.uri = dir.file("first-out/job1/s1/s1_v1.png");
    elsewhere.sha256 = util::sha256_hex("image-one");
    write_file(elsewhere.uri, "image-one");
    REQUIRE(writer.append(elsewhere).ok());
    auto prefix_only = test::sample_entry("job1", "s2");  // out/job10 is not out/job1
    prefix_only.uri = dir.file("out/job10/s2/s2_v1.png");
    prefix_only.sha256 = util::sha256_hex("image-two");
    write_file(prefix_only.uri, "image-two");
    REQUIRE(writer.append(prefix_only).ok());
    auto dry = paid_line(dir, "s3", "image-three");  // sample lines are dry_run
    write_file(dry.uri, "image-three");
    REQUIRE(writer.append(dry).ok());
    REQUIRE(writer.flush().ok());

    storage::LocalStorage local;
    const std::string manifest = dir.file("out/job1/manifest.jsonl");
    auto live = options(dir);
    live.mode = "live";
    auto found = schedule::adopt_paid_images({manifest}, folder, local, live);
    REQUIRE(found.ok());
    CHECK(found->adopted.empty());
    CHECK(found->remade.empty());
    CHECK(read_manifest(manifest).empty());
    // The dry run of this folder adopts its own line only.
    auto same_mode = schedule::adopt_paid_images({manifest}, folder, local, options(dir));
    REQUIRE(same_mode.ok());
    REQUIRE(same_mode->adopted.size() == 1);
    CHECK(same_mode->adopted[0].scene_id == "s3");
}

TEST_CASE("adopt: a shard run adopts a killed unsharded run's paid image of its rows",
          "[schedule][adopt]") {
    // The unsharded run was killed in the commit window (the job lock kept it and the shards
    // apart); shard 1/2 then runs its rows: the line of its row s1 (shard "") is adopted, not
    // paid again; the line of another shard's row is left to that shard.
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    const auto ours = paid_line(dir, "s1", "image-one");
    const auto theirs = paid_line(dir, "s2", "image-two");
    write_file(ours.uri, "image-one");
    write_file(theirs.uri, "image-two");
    REQUIRE(writer.append(ours).ok());
    REQUIRE(writer.append(theirs).ok());
    REQUIRE(writer.flush().ok());
    storage::LocalStorage local;
    const std::string manifest = dir.file("out/job1/shards/1-of-2/manifest.jsonl");
    auto shard = options(dir, "1/2");
    auto without = schedule::adopt_paid_images({manifest}, folder, local, shard);
    REQUIRE(without.ok());
    CHECK(without->adopted.empty());  // without knowing its rows, a shard takes none
    shard.scene_in_shard = [](const std::string& scene) { return scene == "s1"; };
    auto found = schedule::adopt_paid_images({manifest}, folder, local, shard);
    REQUIRE(found.ok());
    REQUIRE(found->adopted.size() == 1);
    CHECK(found->adopted[0].scene_id == "s1");
    CHECK(found->remade.empty());
    CHECK(read_manifest(manifest).size() == 1);
}
