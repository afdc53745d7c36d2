#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "core/ledger/sample_entries.hpp"
#include "ledger/audit.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/manifest.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;

namespace {

constexpr const char* k_day_file = "ledger/2025-11-24.jsonl";

void write_ledger(const std::string& folder, const std::vector<ledger::Entry>& entries) {
    ledger::LocalLedgerWriter writer(folder);
    for (const auto& e : entries) {
        REQUIRE(writer.append(e).ok());
    }
    REQUIRE(writer.flush().ok());
}

void write_manifest(const std::string& path, const std::vector<ledger::ManifestEntry>& lines) {
    auto writer = ledger::ManifestWriter::open(path);
    REQUIRE(writer.ok());
    for (const auto& m : lines) {
        REQUIRE(writer->append(m).ok());
    }
    REQUIRE(writer->commit().ok());
}

// Three images of job1 in the ledger and the same three in its manifest.
struct ConsistentJob {
    std::vector<ledger::Entry> entries;
    std::vector<ledger::ManifestEntry> manifest;
    ConsistentJob() {
        for (const char* scene : {"a", "b", "c"}) {
            entries.push_back(test::sample_entry("job1", scene));
            manifest.push_back(test::sample_manifest_entry(entries.back()));
        }
        // A refused request is in the ledger but has no image.
        auto refused = test::sample_entry("job1", "d");
        refused.status = "BUDGET_EXCEEDED";
        refused.error_code = "BUDGET_EXCEEDED";
        refused.images = 0;
        refused.cost = 0;
        entries.push_back(refused);
    }
};

std::vector<ledger::Finding> verify_ok(const std::string& folder,
                                       const std::vector<std::string>& manifests) {
    auto findings = ledger::verify(folder, manifests);
    REQUIRE(findings.ok());
    for (const auto& f : *findings) {
        UNSCOPED_INFO(ledger::finding_kind_name(f.kind) << " " << f.to_string());
    }
    return *findings;
}

std::vector<ledger::Finding> of_kind(const std::vector<ledger::Finding>& all,
                                     ledger::FindingKind kind) {
    std::vector<ledger::Finding> out;
    for (const auto& f : all) {
        if (f.kind == kind) {
            out.push_back(f);
        }
    }
    return out;
}

std::map<std::string, int> id_counts(const std::string& folder) {
    std::map<std::string, int> counts;
    std::vector<ledger::ReadIssue> issues;
    REQUIRE(ledger::read_ledger(
                folder, {}, [&](const ledger::Entry& e) { ++counts[e.id]; }, &issues)
                .ok());
    CHECK(issues.empty());
    return counts;
}

}  // namespace

TEST_CASE("ledger: a filter selects by day, user, job, model, mode and status", "[ledger]") {
    auto e = test::sample_entry("job1", "s");
    CHECK(ledger::matches(e, {}));
    CHECK(ledger::matches(
        e, {"2025-11-24", "2025-11-24", "ops", "job1", "gemini-2.5-flash-image", "dry_run", "ok"}));
    CHECK_FALSE(ledger::matches(e, {"2025-11-25", "", "", "", "", "", ""}));
    CHECK_FALSE(ledger::matches(e, {"", "2025-11-23", "", "", "", "", ""}));
    CHECK_FALSE(ledger::matches(e, {"", "", "bob", "", "", "", ""}));
    CHECK_FALSE(ledger::matches(e, {"", "", "", "job2", "", "", ""}));
    CHECK_FALSE(ledger::matches(e, {"", "", "", "", "gemini-3-pro-image", "", ""}));
    CHECK_FALSE(ledger::matches(e, {"", "", "", "", "", "live", ""}));
    CHECK_FALSE(ledger::matches(e, {"", "", "", "", "", "", "BLOCKED"}));
    // Ten hours east of UTC, 12:00Z is still the 24th; 22:00Z is the 25th.
    auto plus_10h = [](std::int64_t ts) { return util::utc_date(ts + 10 * 3'600'000); };
    CHECK(ledger::matches(e, {"2025-11-24", "2025-11-24", "", "", "", "", ""}, plus_10h));
    e.ts += 10 * 3'600'000;
    CHECK(ledger::matches(e, {"2025-11-25", "2025-11-25", "", "", "", "", ""}, plus_10h));
}

TEST_CASE("ledger: 199 images at $0.039 sum to exactly $7.761000", "[ledger]") {
    test::TempDir dir;
    std::vector<ledger::Entry> entries;
    for (int i = 1; i <= 199; ++i) {
        entries.push_back(test::sample_entry("job1", "BATCH-" + std::to_string(i)));
    }
    write_ledger(dir.file("ledger"), entries);
    auto r = ledger::sum(dir.file("ledger"), {}, ledger::GroupBy::job);
    REQUIRE(r.ok());
    CHECK(r->issues.empty());
    REQUIRE(r->groups.size() == 1);
    CHECK(r->groups[0].key == "job1");
    CHECK(r->groups[0].totals.entries == 199);
    CHECK(r->groups[0].totals.images == 199);
    CHECK(r->groups[0].totals.cost == 7'761'000);
    CHECK(util::format_usd(r->total.cost) == "$7.761000");
    CHECK(r->total.estimated == 7'761'000);
}

TEST_CASE("ledger: sum groups by day, user, job, model and mode in key order", "[ledger]") {
    test::TempDir dir;
    auto a = test::sample_entry("job2", "a");
    auto b = test::sample_entry("job1", "b", 1, test::k_noon_ms + 86'400'000);
    b.user_id = "bob";
    b.model = "gemini-3-pro-image";
    b.mode = "live";
    b.cost = 134'000;
    auto c = test::sample_entry("job1", "c");
    write_ledger(dir.file("ledger"), {a, b, c});

    auto keys_and_costs = [&](ledger::GroupBy by) {
        auto r = ledger::sum(dir.file("ledger"), {}, by);
        REQUIRE(r.ok());
        std::vector<std::pair<std::string, util::Micros>> out;
        for (const auto& g : r->groups) {
            out.emplace_back(g.key, g.totals.cost);
        }
        return out;
    };
    using V = std::vector<std::pair<std::string, util::Micros>>;
    CHECK(keys_and_costs(ledger::GroupBy::day) ==
          V{{"2025-11-24", 78'000}, {"2025-11-25", 134'000}});
    CHECK(keys_and_costs(ledger::GroupBy::user) == V{{"bob", 134'000}, {"ops", 78'000}});
    CHECK(keys_and_costs(ledger::GroupBy::job) == V{{"job1", 173'000}, {"job2", 39'000}});
    CHECK(keys_and_costs(ledger::GroupBy::model) ==
          V{{"gemini-2.5-flash-image", 78'000}, {"gemini-3-pro-image", 134'000}});
    CHECK(keys_and_costs(ledger::GroupBy::mode) == V{{"dry_run", 78'000}, {"live", 134'000}});

    ledger::Filter only_live;
    only_live.mode = "live";
    auto live = ledger::sum(dir.file("ledger"), only_live, ledger::GroupBy::user);
    REQUIRE(live.ok());
    CHECK(live->total.entries == 1);
    CHECK(live->total.cost == 134'000);
    CHECK(ledger::group_by_from_name("model") == ledger::GroupBy::model);
    CHECK_FALSE(ledger::group_by_from_name("week").has_value());
}

TEST_CASE("ledger: sum counts days by the given day function, across UTC day files", "[ledger]") {
    test::TempDir dir;
    // 22:00Z on the 24th (UTC file 2025-11-24) is the 25th ten hours east of UTC.
    auto late = test::sample_entry("job1", "late", 1, test::k_noon_ms + 10 * 3'600'000);
    auto next = test::sample_entry("job1", "next", 1, test::k_noon_ms + 86'400'000);
    write_ledger(dir.file("ledger"), {late, next});
    auto plus_10h = [](std::int64_t ts) { return util::utc_date(ts + 10 * 3'600'000); };
    ledger::Filter the_25th;
    the_25th.from_day = the_25th.to_day = "2025-11-25";
    auto r = ledger::sum(dir.file("ledger"), the_25th, ledger::GroupBy::day, plus_10h);
    REQUIRE(r.ok());
    REQUIRE(r->groups.size() == 1);
    CHECK(r->groups[0].key == "2025-11-25");
    CHECK(r->groups[0].totals.entries == 2);

    auto widened = ledger::read_options_for(the_25th);
    CHECK(widened.from_day == "2025-11-24");
    CHECK(widened.to_day == "2025-11-26");
    ledger::Filter year_end;
    year_end.from_day = "2025-01-01";
    year_end.to_day = "2024-12-31";
    CHECK(ledger::read_options_for(year_end).from_day == "2024-12-31");
    CHECK(ledger::read_options_for(year_end).to_day == "2025-01-01");
    CHECK(ledger::is_day("2024-02-29"));
    CHECK_FALSE(ledger::is_day("2025-02-29"));
    CHECK_FALSE(ledger::is_day("2025-11-24x"));
}

TEST_CASE("ledger: verify finds nothing wrong in a consistent ledger and manifest", "[ledger]") {
    test::TempDir dir;
    ConsistentJob job;
    write_ledger(dir.file("ledger"), job.entries);
    write_manifest(dir.file("out/job1/manifest.jsonl"), job.manifest);
    auto manifests = ledger::find_manifests(dir.file("out"));
    REQUIRE(manifests.ok());
    CHECK(*manifests == std::vector<std::string>{dir.file("out/job1/manifest.jsonl")});
    CHECK(verify_ok(dir.file("ledger"), *manifests).empty());
}

TEST_CASE("ledger: verify finds a duplicate id and names both places", "[ledger]") {
    test::TempDir dir;
    ConsistentJob job;
    auto again = job.entries[1];  // same id, a different line (a retry written twice)
    again.ts += 1;
    again.cost = 0;
    job.entries.push_back(again);
    write_ledger(dir.file("ledger"), job.entries);
    auto findings = verify_ok(dir.file("ledger"), {});
    auto dups = of_kind(findings, ledger::FindingKind::duplicate_id);
    REQUIRE(dups.size() == 1);
    const std::string file = dir.file(k_day_file);
    CHECK(dups[0].where == file + ":5");
    CHECK(dups[0].message == "duplicate id \"job1/b/v1\" (first at " + file + ":2)");
    CHECK(findings.size() == 1);
}

TEST_CASE("ledger: verify finds a torn line", "[ledger]") {
    test::TempDir dir;
    ConsistentJob job;
    write_ledger(dir.file("ledger"), job.entries);
    const auto fragment = ledger::to_line(test::sample_entry("job1", "e")).substr(0, 25);
    dir.write(k_day_file, dir.read(k_day_file) + fragment);
    auto findings = verify_ok(dir.file("ledger"), {});
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].kind == ledger::FindingKind::torn_line);
    CHECK(findings[0].to_string() ==
          dir.file(k_day_file) + ":5: torn last line (a write was cut short)");
}

TEST_CASE("ledger: verify finds a manifest that disagrees with the ledger", "[ledger]") {
    test::TempDir dir;
    ConsistentJob job;
    write_ledger(dir.file("ledger"), job.entries);
    const std::string manifest = dir.file("out/job1/manifest.jsonl");

    SECTION("cost off by one micro-dollar") {
        job.manifest[2].cost += 1;
        write_manifest(manifest, job.manifest);
        auto findings = verify_ok(dir.file("ledger"), {manifest});
        REQUIRE(findings.size() == 1);
        CHECK(findings[0].kind == ledger::FindingKind::cost_mismatch);
        CHECK(findings[0].where == "job job1");
        CHECK(findings[0].message ==
              "manifest " + manifest + " costs $0.117001, the ledger's ok lines $0.117000");
    }
    SECTION("an image whose ledger line is missing") {
        auto extra = test::sample_manifest_entry(test::sample_entry("job1", "z"));
        job.manifest.push_back(extra);
        write_manifest(manifest, job.manifest);
        auto findings = verify_ok(dir.file("ledger"), {manifest});
        auto missing = of_kind(findings, ledger::FindingKind::missing_ledger_entry);
        REQUIRE(missing.size() == 1);
        CHECK(missing[0].where == manifest + ":4");
        auto images = of_kind(findings, ledger::FindingKind::image_mismatch);
        REQUIRE(images.size() == 1);
        CHECK(images[0].message ==
              "manifest " + manifest + " has 4 images, the ledger has 3 ok images");
        CHECK(of_kind(findings, ledger::FindingKind::cost_mismatch).size() == 1);
    }
}

TEST_CASE("ledger: verify reports schema problems: bad lines, missing fields, unknown versions",
          "[ledger]") {
    test::TempDir dir;
    write_ledger(dir.file("ledger"), {test::sample_entry("job1", "a")});
    auto newer = test::sample_entry("job1", "b");
    newer.v = 7;
    dir.write(k_day_file,
              dir.read(k_day_file) +
                  "{\"ts\":1,\"userId\":\"u\",\"jobId\":\"j\",\"images\":1,\"cost\":1}\n" +
                  "garbage\n" + ledger::to_line(newer));
    auto findings = verify_ok(dir.file("ledger"), {});
    REQUIRE(findings.size() == 3);
    CHECK(findings[0].kind == ledger::FindingKind::bad_line);
    CHECK(findings[0].to_string() == dir.file(k_day_file) + ":2: prompt: missing");
    CHECK(findings[1].kind == ledger::FindingKind::bad_line);
    CHECK(findings[1].where == dir.file(k_day_file) + ":3");
    CHECK(findings[2].kind == ledger::FindingKind::unknown_version);
    CHECK(findings[2].where == dir.file(k_day_file) + ":4");
}

TEST_CASE("ledger: compact drops only exact duplicate lines", "[ledger]") {
    test::TempDir dir;
    const auto a = ledger::to_line(test::sample_entry("job1", "a"));
    const auto b = ledger::to_line(test::sample_entry("job1", "b"));
    auto b_retry = test::sample_entry("job1", "b");
    b_retry.ts += 1;  // same id, other bytes: not an exact duplicate, kept
    const auto b2 = ledger::to_line(b_retry);
    const std::string bad = "not json\n";
    const std::string torn = a.substr(0, 20);
    dir.write(k_day_file, a + b + a + bad + b2 + bad + a + b + torn);

    auto r = ledger::compact(dir.file("ledger"), "2025-11-24");
    REQUIRE(r.ok());
    CHECK(r->lines == 9);
    CHECK(r->dropped == 4);
    CHECK(dir.read(k_day_file) == a + b + bad + b2 + torn);

    // Nothing left to drop: the file is not rewritten.
    auto again = ledger::compact(dir.file("ledger"), "2025-11-24");
    REQUIRE(again.ok());
    CHECK(again->dropped == 0);
    CHECK(dir.read(k_day_file) == a + b + bad + b2 + torn);
}

TEST_CASE("ledger: a writer kept open across a compaction loses nothing", "[ledger]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    ledger::LocalLedgerWriter writer(folder);
    const auto a = test::sample_entry("job1", "a");
    REQUIRE(writer.append(a).ok());
    REQUIRE(writer.append(a).ok());  // an exact duplicate, so compact rewrites the file
    REQUIRE(writer.flush().ok());

    auto r = ledger::compact(folder, "2025-11-24");
    REQUIRE(r.ok());
    CHECK(r->dropped == 1);

    // The writer still has the old (now unlinked) file open; its next line must land in the
    // new file all the same.
    const auto b = test::sample_entry("job1", "b");
    REQUIRE(writer.append(b).ok());
    REQUIRE(writer.flush().ok());
    CHECK(dir.read(k_day_file) == ledger::to_line(a) + ledger::to_line(b));
}

TEST_CASE("ledger: appends racing repeated compactions all land exactly once", "[ledger]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    constexpr int k_threads = 4;
    constexpr int k_per_thread = 400;
    std::atomic<int> failures{0};
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
        threads.emplace_back([&, t] {
            ledger::LocalLedgerWriter writer(folder);  // kept open throughout
            for (int i = 0; i < k_per_thread; ++i) {
                if (!writer.append(test::sample_entry("t" + std::to_string(t), std::to_string(i)))
                         .ok()) {
                    ++failures;
                }
            }
            if (!writer.flush().ok()) {
                ++failures;
            }
        });
    }
    std::thread compactor([&] {
        ledger::LocalLedgerWriter dup_writer(folder);
        const auto dup = test::sample_entry("dup", "x");
        int compactions = 0;
        while (!done || compactions < 5) {
            // Two identical lines, so every compaction really rewrites the file.
            if (!dup_writer.append(dup).ok() || !dup_writer.append(dup).ok()) {
                ++failures;
            }
            auto r = ledger::compact(folder, "2025-11-24");
            if (!r.ok() || r->dropped == 0) {
                ++failures;
            }
            ++compactions;
        }
    });
    for (auto& t : threads) {
        t.join();
    }
    done = true;
    compactor.join();
    CHECK(failures == 0);
    auto counts = id_counts(folder);
    CHECK(counts.size() == k_threads * k_per_thread + 1);
    CHECK(counts["dup/x/v1"] == 1);
    for (const auto& [id, n] : counts) {
        INFO(id);
        CHECK(n == 1);
    }
}

TEST_CASE("ledger: compact refuses a malformed day and reports a missing day file", "[ledger]") {
    test::TempDir dir;
    auto bad = ledger::compact(dir.file("ledger"), "2025-13-01");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().code() == util::Code::invalid_input);
    auto missing = ledger::compact(dir.file("ledger"), "2025-11-24");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == util::Code::not_found);
}

TEST_CASE("ledger: select_entries keeps the last matches in ledger order, up to a limit",
          "[ledger]") {
    test::TempDir dir;
    std::vector<ledger::Entry> entries;
    for (int day = 0; day < 3; ++day) {
        for (const char* scene : {"a", "b"}) {
            entries.push_back(test::sample_entry("job" + std::to_string(day), scene, 1,
                                                 test::k_noon_ms + day * 86'400'000LL));
        }
    }
    entries[3].status = "BLOCKED";
    write_ledger(dir.file("ledger"), entries);

    auto all = ledger::select_entries(dir.file("ledger"), {}, ledger::utc_day, 0);
    REQUIRE(all.ok());
    CHECK(all->entries == entries);
    CHECK(all->matched == 6);

    auto last = ledger::select_entries(dir.file("ledger"), {}, ledger::utc_day, 4);
    REQUIRE(last.ok());
    CHECK(last->matched == 6);
    CHECK(last->entries == std::vector<ledger::Entry>(entries.begin() + 2, entries.end()));

    ledger::Filter ok_only;
    ok_only.status = "ok";
    auto two = ledger::select_entries(dir.file("ledger"), ok_only, ledger::utc_day, 2);
    REQUIRE(two.ok());
    CHECK(two->matched == 5);
    CHECK(two->entries == std::vector<ledger::Entry>{entries[4], entries[5]});

    auto none = ledger::select_entries(dir.file("missing"), {}, ledger::utc_day, 3);
    REQUIRE(none.ok());
    CHECK(none->entries.empty());
    CHECK(none->matched == 0);
}

TEST_CASE("ledger: select_entries reports a torn line and still returns the good ones",
          "[ledger]") {
    test::TempDir dir;
    ConsistentJob job;
    write_ledger(dir.file("ledger"), job.entries);
    dir.write(k_day_file, dir.read(k_day_file) + "{\"ts\":17");
    auto r = ledger::select_entries(dir.file("ledger"), {}, ledger::utc_day, 0);
    REQUIRE(r.ok());
    CHECK(r->entries == job.entries);
    REQUIRE(r->issues.size() == 1);
    CHECK(r->issues[0].line == 5);
    CHECK(r->issues[0].message == ledger::k_torn_line_message);
}

TEST_CASE("ledger: local_time writes the wall clock of the zone, to the second", "[ledger]") {
    CHECK(ledger::local_time(test::k_noon_ms + 999, "UTC").value() == "2025-11-24 12:00:00");
    // Los Angeles is on standard time (UTC-8) in November.
    CHECK(ledger::local_time(test::k_noon_ms, "America/Los_Angeles").value() ==
          "2025-11-24 04:00:00");
    CHECK(ledger::local_time(test::k_noon_ms, "Asia/Kolkata").value() == "2025-11-24 17:30:00");
    auto bad = ledger::local_time(test::k_noon_ms, "Mars/Olympus_Mons");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().code() == util::Code::config);
    CHECK(bad.status().message().find("Mars/Olympus_Mons") != std::string::npos);
}

TEST_CASE("ledger: verify_report counts entries, day files and manifest lines", "[ledger]") {
    test::TempDir dir;
    ConsistentJob job;
    job.entries.push_back(test::sample_entry("job2", "z", 1, test::k_noon_ms + 86'400'000));
    write_ledger(dir.file("ledger"), job.entries);
    write_manifest(dir.file("out/job1/manifest.jsonl"), job.manifest);
    auto r = ledger::verify_report(dir.file("ledger"), {dir.file("out/job1/manifest.jsonl")});
    REQUIRE(r.ok());
    CHECK(r->findings.empty());
    CHECK(r->entries == 5);
    CHECK(r->files == 2);
    CHECK(r->manifest_lines == 3);

    auto empty = ledger::verify_report(dir.file("missing"), {});
    REQUIRE(empty.ok());
    CHECK(empty->entries == 0);
    CHECK(empty->files == 0);
}
