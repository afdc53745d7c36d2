#include <catch2/catch.hpp>

#include <vector>

#include "core/ledger/sample_entries.hpp"
#include "ledger/manifest.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;

namespace {

ledger::ManifestEntry parse_back(const std::string& line) {
    REQUIRE(!line.empty());
    REQUIRE(line.back() == '\n');
    auto m = ledger::parse_manifest_line(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(m.ok());
    return *m;
}

}  // namespace

TEST_CASE("ledger: a manifest line round-trips, every field, money as dollars", "[ledger]") {
    auto m = test::sample_manifest_entry(test::sample_entry("job1", "BATCH-007", 3));
    m.cost = 134'000;
    m.estimated = 240'000;
    m.shard = "1/2";
    const std::string plain = ledger::to_line(m);
    CHECK(plain.find("\"cost\":0.134,\"estimated\":0.24,") != std::string::npos);
    CHECK(plain.find("signed_url") == std::string::npos);  // omitted when there is none
    CHECK(plain.rfind("{\"v\":1,\"ts\":1763985600000,\"job_id\":\"job1\",", 0) == 0);
    CHECK(parse_back(plain) == m);

    m.signed_url = "https://storage.googleapis.com/b/o.png?X-Goog-Signature=abc&x=\"y\"";
    m.signed_url_expires = 1'764'000'000'000;
    const std::string signed_line = ledger::to_line(m);
    CHECK(signed_line.find("\"signed_url_expires\":1764000000000") != std::string::npos);
    CHECK(parse_back(signed_line) == m);
}

TEST_CASE("ledger: a bad manifest line is refused naming the field", "[ledger]") {
    auto m = test::sample_manifest_entry(test::sample_entry("j", "s"));
    std::string line = ledger::to_line(m);
    const auto at = line.find("\"sha256\"");
    const auto end = line.find(',', at);
    line.erase(at, end - at + 1);
    line.pop_back();
    auto r = ledger::parse_manifest_line(line);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "sha256: missing");
}

TEST_CASE("ledger: a manifest writer creates its folders and reads back what it committed",
          "[ledger]") {
    test::TempDir dir;
    const std::string path = dir.file("out/job1/manifest.jsonl");
    auto a = test::sample_manifest_entry(test::sample_entry("job1", "a"));
    auto b = test::sample_manifest_entry(test::sample_entry("job1", "b"));
    {
        auto writer = ledger::ManifestWriter::open(path);
        REQUIRE(writer.ok());
        REQUIRE(writer->append(a).ok());
        REQUIRE(writer->append(b).ok());
        REQUIRE(writer->commit().ok());
    }
    std::vector<ledger::ManifestEntry> read;
    std::vector<ledger::ReadIssue> issues;
    REQUIRE(ledger::read_manifest(
                path, [&](const ledger::ManifestEntry& m) { read.push_back(m); }, &issues)
                .ok());
    CHECK(issues.empty());
    REQUIRE(read.size() == 2);
    CHECK(read[0] == a);
    CHECK(read[1] == b);
}

TEST_CASE("ledger: a missing manifest is empty; bad and torn manifest lines are reported",
          "[ledger]") {
    test::TempDir dir;
    std::vector<ledger::ManifestEntry> read;
    std::vector<ledger::ReadIssue> issues;
    auto collect = [&](const ledger::ManifestEntry& m) { read.push_back(m); };
    REQUIRE(ledger::read_manifest(dir.file("none/manifest.jsonl"), collect, &issues).ok());
    CHECK(read.empty());
    CHECK(issues.empty());

    const auto good = ledger::to_line(test::sample_manifest_entry(test::sample_entry("j", "a")));
    const auto path = dir.write("manifest.jsonl", good + "{oops}\n" + good.substr(0, 30));
    REQUIRE(ledger::read_manifest(path, collect, &issues).ok());
    CHECK(read.size() == 1);
    REQUIRE(issues.size() == 2);
    CHECK(issues[0].line == 2);
    CHECK(issues[0].message.rfind("bad JSON: ", 0) == 0);
    CHECK(issues[1].line == 3);
    CHECK(issues[1].message == ledger::k_torn_line_message);
}
