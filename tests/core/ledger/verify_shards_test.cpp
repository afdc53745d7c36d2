// `ledger verify` on a sharded job: each shard's manifest (<job>/shards/I-of-N/manifest.jsonl)
// is read with the job's, so a shard's image without its ledger line, or a shard's paid line
// without its image, is found before --merge; after --merge (the job's manifest repeats the
// shards' lines) each image counts once.

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "core/ledger/sample_entries.hpp"
#include "ledger/audit.hpp"
#include "ledger/job_manifests.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/manifest.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;

namespace {

void write_ledger(const std::string& folder, const std::vector<ledger::Entry>& entries) {
    ledger::LocalLedgerWriter writer(folder);
    for (const auto& e : entries) {
        REQUIRE(writer.append(e).ok());
    }
    REQUIRE(writer.flush().ok());
}

// Writes path anew with the images' lines.
void write_manifest(const std::string& path, const std::vector<ledger::Entry>& images) {
    std::filesystem::remove(path);
    auto writer = ledger::ManifestWriter::open(path);
    REQUIRE(writer.ok());
    for (const auto& e : images) {
        REQUIRE(writer->append(test::sample_manifest_entry(e)).ok());
    }
    REQUIRE(writer->commit().ok());
}

std::map<std::string, std::vector<ledger::Finding>> verify_out(const test::TempDir& dir) {
    auto manifests = ledger::find_manifests(dir.file("out"));
    REQUIRE(manifests.ok());
    auto findings = ledger::verify(dir.file("ledger"), *manifests);
    REQUIRE(findings.ok());
    std::map<std::string, std::vector<ledger::Finding>> by_kind;
    for (const auto& f : *findings) {
        UNSCOPED_INFO(f.to_string());
        by_kind[std::string(ledger::finding_kind_name(f.kind))].push_back(f);
    }
    return by_kind;
}

}  // namespace

TEST_CASE("ledger verify: a shard's manifest is checked before --merge", "[ledger][verify]") {
    test::TempDir dir;
    const auto a = test::sample_entry("job1", "a");
    const auto b = test::sample_entry("job1", "b");
    const auto c = test::sample_entry("job1", "c");
    const auto d = test::sample_entry("job1", "d");
    const std::string shard0 = dir.file("out/job1/shards/0-of-2/manifest.jsonl");
    const std::string shard1 = dir.file("out/job1/shards/1-of-2/manifest.jsonl");

    // Consistent: two shards, no merged manifest yet.
    write_ledger(dir.file("ledger"), {a, b, c});
    write_manifest(shard0, {a, c});
    write_manifest(shard1, {b});
    auto manifests = ledger::find_manifests(dir.file("out"));
    REQUIRE(manifests.ok());
    CHECK(*manifests == std::vector<std::string>{shard0, shard1});
    CHECK(verify_out(dir).empty());

    // Shard 1 made an image whose ledger line is missing, and a paid line (c) has no image.
    write_manifest(shard1, {b, d});
    write_manifest(shard0, {a});
    auto found = verify_out(dir);
    REQUIRE(found["missing_ledger_entry"].size() == 1);
    CHECK(found["missing_ledger_entry"][0].where == shard1 + ":2");
    REQUIRE(found["unrecorded_image"].size() == 1);
    CHECK(found["unrecorded_image"][0].message ==
          "ok line \"job1/c/v1\" has no image in 2 shard manifests under " +
              dir.file("out/job1/shards/"));
    CHECK(found.size() == 2);  // 3 images and 3 ok lines: the totals agree
}

TEST_CASE("ledger verify: after --merge an image listed twice counts once", "[ledger][verify]") {
    test::TempDir dir;
    const auto a = test::sample_entry("job1", "a");
    const auto b = test::sample_entry("job1", "b");
    const auto c = test::sample_entry("job1", "c");
    write_ledger(dir.file("ledger"), {a, b, c});
    write_manifest(dir.file("out/job1/shards/0-of-2/manifest.jsonl"), {a, c});
    write_manifest(dir.file("out/job1/shards/1-of-2/manifest.jsonl"), {b});
    write_manifest(dir.file("out/job1/manifest.jsonl"), {a, b, c});  // the merged one
    CHECK(verify_out(dir).empty());

    // An image in a shard's manifest only (lost from the merged one) is still counted; its
    // ledger line is there, so nothing is wrong with the money.
    write_manifest(dir.file("out/job1/manifest.jsonl"), {a, b});
    CHECK(verify_out(dir).empty());

    // A line written twice in one manifest is still a duplicate there.
    write_manifest(dir.file("out/job1/manifest.jsonl"), {a, b, c, c});
    auto found = verify_out(dir);
    REQUIRE(found["duplicate_id"].size() == 1);
    CHECK(found["duplicate_id"][0].where == dir.file("out/job1/manifest.jsonl:4"));
    CHECK(found["image_mismatch"].size() == 1);
}

TEST_CASE("ledger verify: shard manifest paths and their job", "[ledger][verify]") {
    CHECK(ledger::job_manifest_of("out/j/shards/0-of-2/manifest.jsonl") == "out/j/manifest.jsonl");
    CHECK(ledger::job_manifest_of("gs://b/o/j/shards/11-of-12/manifest.jsonl") ==
          "gs://b/o/j/manifest.jsonl");
    CHECK(ledger::job_manifest_of("out/j/shards/2-of-2/manifest.jsonl") ==
          "out/j/shards/2-of-2/manifest.jsonl");  // no shard of 2
    CHECK(ledger::job_manifest_of("out/j/manifest.jsonl") == "out/j/manifest.jsonl");
    CHECK(ledger::job_manifest_of("shards/0-of-2/manifest.jsonl") ==
          "shards/0-of-2/manifest.jsonl");
    const auto groups = ledger::group_job_manifests(
        {"o/j/manifest.jsonl", "o/j/shards/0-of-2/manifest.jsonl", "o/k/manifest.jsonl",
         "o/j/shards/1-of-2/manifest.jsonl", "o/j/manifest.jsonl"});
    REQUIRE(groups.size() == 2);
    CHECK(groups[0].paths.size() == 3);
    CHECK(groups[0].name() == "o/j/manifest.jsonl and 2 shard manifests under o/j/shards/");
    CHECK(groups[1].name() == "o/k/manifest.jsonl");
}
