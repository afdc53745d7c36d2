// `ledger verify` against a gs:// output folder: the published manifests are found with one
// list (<job>/manifest.jsonl and <job>/shards/I-of-N/manifest.jsonl) and read from the bucket, so
// an ok ledger line with no image (unrecorded_image) and a manifest line with no ledger line are
// found as for a local folder.

#include <catch2/catch.hpp>

#include "core/ledger/gcs_ledger_test_support.hpp"
#include "ledger/audit.hpp"
#include "ledger/gcs_manifests.hpp"

using namespace assetgen;
using test::GcsLedgerFixture;
using test::sample_entry;
using test::sample_manifest_entry;

namespace {

void put(GcsLedgerFixture& f, const std::string& object, const std::string& text) {
    REQUIRE(
        f.store->client()
            .upload(storage::GcsUrl{test::k_ledger_bucket, object}, text, "application/x-ndjson")
            .ok());
}

std::string manifest_line(const ledger::Entry& e) {
    return ledger::to_line(sample_manifest_entry(e));
}

}  // namespace

TEST_CASE("ledger verify: gs:// manifests are found and checked against a gs:// ledger",
          "[ledger][integration][verify]") {
    GcsLedgerFixture f;
    {
        auto w = ledger::GcsLedgerWriter::open(*f.store, f.clock, f.writer_options());
        REQUIRE(w.ok());
        REQUIRE((*w)->append(sample_entry("job", "s1")).ok());
        REQUIRE((*w)->append(sample_entry("job", "s2")).ok());  // paid, but no image recorded
        REQUIRE((*w)->flush().ok());
    }
    const std::string out = "gs://" + test::k_ledger_bucket + "/out";
    // s1 is in both; s3's image has no ledger line.
    put(f, "out/job/manifest.jsonl",
        manifest_line(sample_entry("job", "s1")) + manifest_line(sample_entry("job", "s3")));
    put(f, "out/job/s1/s1_v1.png", "png");
    // A shard's records are the job's too (read with its manifest, each image once): s1 again,
    // and s4, whose ledger line is missing.
    put(f, "out/job/shards/0-of-2/manifest.jsonl",
        manifest_line(sample_entry("job", "s1")) + manifest_line(sample_entry("job", "s4")));
    put(f, "out/job/shards/x-of-2/manifest.jsonl", "");  // no shard's folder name
    put(f, "out/job/s1/manifest.jsonl", "");             // nor a job's
    put(f, "outer/job/manifest.jsonl", "");              // another folder sharing the prefix

    auto found = ledger::find_gcs_manifests(f.store->client(), out);
    REQUIRE(found.ok());
    REQUIRE(*found == std::vector<std::string>{out + "/job/manifest.jsonl",
                                               out + "/job/shards/0-of-2/manifest.jsonl"});

    ledger::VerifyOptions options;
    options.manifests_gcs = &f.store->client();
    auto report = ledger::verify_report(ledger::LedgerLocation(f.location(), &f.store->client()),
                                        *found, options);
    REQUIRE(report.ok());
    CHECK(report->manifest_lines == 4);
    std::map<std::string, std::vector<ledger::Finding>> by_kind;
    for (const auto& finding : report->findings) {
        by_kind[std::string(ledger::finding_kind_name(finding.kind))].push_back(finding);
    }
    REQUIRE(by_kind["unrecorded_image"].size() == 1);
    CHECK(by_kind["unrecorded_image"][0].message ==
          "ok line \"job/s2/v1\" has no image in " + out +
              "/job/manifest.jsonl and 1 shard manifest under " + out + "/job/shards/");
    REQUIRE(by_kind["missing_ledger_entry"].size() == 2);
    CHECK(by_kind["missing_ledger_entry"][0].where == out + "/job/manifest.jsonl:2");
    CHECK(by_kind["missing_ledger_entry"][1].where == out + "/job/shards/0-of-2/manifest.jsonl:2");
    CHECK(by_kind["duplicate_id"].empty());  // s1 in both: one image

    // Without a client a gs:// manifest is refused, not read as an empty local file.
    auto refused =
        ledger::verify_report(ledger::LedgerLocation(f.location(), &f.store->client()), *found);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == util::Code::config);

    // A torn last line in the bucket's copy is a finding too.
    put(f, "out/job/manifest.jsonl", manifest_line(sample_entry("job", "s1")) + "{\"ts\":1");
    auto torn = ledger::verify_report(ledger::LedgerLocation(f.location(), &f.store->client()),
                                      *found, options);
    REQUIRE(torn.ok());
    bool seen = false;
    for (const auto& finding : torn->findings) {
        seen = seen || finding.where == out + "/job/manifest.jsonl:2";
    }
    CHECK(seen);
}
