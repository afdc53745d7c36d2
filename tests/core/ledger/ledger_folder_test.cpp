#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "core/ledger/sample_entries.hpp"
#include "ledger/ledger_folder.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;

namespace {

struct ReadBack {
    std::vector<ledger::Entry> entries;
    std::vector<ledger::ReadIssue> issues;
};

ReadBack read_all(const std::string& folder, ledger::ReadOptions options = {}) {
    ReadBack r;
    REQUIRE(ledger::read_ledger(
                folder, options, [&](const ledger::Entry& e) { r.entries.push_back(e); }, &r.issues)
                .ok());
    return r;
}

std::string line_of(const ledger::Entry& e) {
    return ledger::to_line(e);
}

// Every id in `entries`, with how often it occurs.
std::map<std::string, int> id_counts(const std::vector<ledger::Entry>& entries) {
    std::map<std::string, int> counts;
    for (const auto& e : entries) {
        ++counts[e.id];
    }
    return counts;
}

}  // namespace

TEST_CASE("ledger: entries go to the day file of their UTC date", "[ledger]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    constexpr std::int64_t k_midnight = 1'764'028'800'000;  // 2025-11-25T00:00:00.000Z
    ledger::LocalLedgerWriter writer(folder);
    REQUIRE(writer.append(test::sample_entry("j", "late", 1, k_midnight - 1)).ok());
    REQUIRE(writer.append(test::sample_entry("j", "early", 1, k_midnight)).ok());
    REQUIRE(writer.flush().ok());

    CHECK(dir.read("ledger/2025-11-24.jsonl") ==
          line_of(test::sample_entry("j", "late", 1, k_midnight - 1)));
    CHECK(dir.read("ledger/2025-11-25.jsonl") ==
          line_of(test::sample_entry("j", "early", 1, k_midnight)));

    auto only_25 = read_all(folder, {"2025-11-25", "2025-11-25"});
    REQUIRE(only_25.entries.size() == 1);
    CHECK(only_25.entries[0].scene_id == "early");
    auto all = read_all(folder);
    REQUIRE(all.entries.size() == 2);
    CHECK(all.entries[0].scene_id == "late");  // day order
    CHECK(all.issues.empty());
}

TEST_CASE("ledger: a line is written at append, before any flush", "[ledger]") {
    test::TempDir dir;
    ledger::LocalLedgerWriter writer(dir.file("ledger"));
    auto e = test::sample_entry("j", "s");
    REQUIRE(writer.append(e).ok());
    CHECK(dir.read("ledger/2025-11-24.jsonl") == line_of(e));
}

TEST_CASE("ledger: a torn last line is reported and skipped", "[ledger]") {
    test::TempDir dir;
    const auto good = line_of(test::sample_entry("j", "a"));
    const auto torn = line_of(test::sample_entry("j", "b")).substr(0, 40);
    dir.write("ledger/2025-11-24.jsonl", good + torn);
    auto r = read_all(dir.file("ledger"));
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].scene_id == "a");
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].file == dir.file("ledger/2025-11-24.jsonl"));
    CHECK(r.issues[0].line == 2);
    CHECK(r.issues[0].message == "torn last line (a write was cut short)");

    // The next append seals the fragment: it stays one bad line, the new line is intact.
    ledger::LocalLedgerWriter writer(dir.file("ledger"));
    REQUIRE(writer.append(test::sample_entry("j", "c")).ok());
    r = read_all(dir.file("ledger"));
    REQUIRE(r.entries.size() == 2);
    CHECK(r.entries[1].scene_id == "c");
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 2);
    CHECK(r.issues[0].message.rfind("bad JSON: ", 0) == 0);
}

TEST_CASE("ledger: a bad line is reported with its line number and reason", "[ledger]") {
    test::TempDir dir;
    const auto a = line_of(test::sample_entry("j", "a"));
    const auto c = line_of(test::sample_entry("j", "c"));
    dir.write("ledger/2025-11-24.jsonl",
              a + "{\"ts\":1,\"jobId\":\"j\",\"prompt\":\"p\",\"images\":1,\"cost\":1}\n" + c +
                  "not json\n");
    auto r = read_all(dir.file("ledger"));
    CHECK(r.entries.size() == 2);
    REQUIRE(r.issues.size() == 2);
    CHECK(r.issues[0].line == 2);
    CHECK(r.issues[0].message == "userId: missing");
    CHECK(r.issues[1].line == 4);
    CHECK(r.issues[1].message.rfind("bad JSON: ", 0) == 0);
}

TEST_CASE("ledger: only YYYY-MM-DD.jsonl files are read, in day order, within the bounds",
          "[ledger]") {
    test::TempDir dir;
    const auto line = [](const char* scene) { return line_of(test::sample_entry("j", scene)); };
    dir.write("ledger/2025-11-26.jsonl", line("d26"));
    dir.write("ledger/2025-11-24.jsonl", line("d24"));
    dir.write("ledger/2025-11-25.jsonl", line("d25"));
    dir.write("ledger/2025-11-25.jsonl.tmp.99.0", line("temp"));
    dir.write("ledger/notes.jsonl", line("notes"));
    dir.write("ledger/2025-1-25.jsonl", line("short"));
    std::filesystem::create_directories(dir.file("ledger/2025-11-27.jsonl.d"));

    auto scenes = [&](ledger::ReadOptions o) {
        std::vector<std::string> out;
        for (const auto& e : read_all(dir.file("ledger"), o).entries) {
            out.push_back(e.scene_id);
        }
        return out;
    };
    CHECK(scenes({}) == std::vector<std::string>{"d24", "d25", "d26"});
    CHECK(scenes({"2025-11-25", ""}) == std::vector<std::string>{"d25", "d26"});
    CHECK(scenes({"", "2025-11-25"}) == std::vector<std::string>{"d24", "d25"});
    CHECK(ledger::is_day_file_name("2025-11-24.jsonl"));
    CHECK_FALSE(ledger::is_day_file_name("2025-11-24.json"));
}

TEST_CASE("ledger: a missing folder is an empty ledger", "[ledger]") {
    test::TempDir dir;
    auto r = read_all(dir.file("nothing-here"));
    CHECK(r.entries.empty());
    CHECK(r.issues.empty());
}

TEST_CASE("ledger: appends from many threads land exactly once", "[ledger]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    constexpr int k_threads = 8;
    constexpr int k_per_thread = 300;
    ledger::LocalLedgerWriter shared(folder);
    std::atomic<int> failures{0};  // Catch2 assertions are not thread-safe
    std::vector<std::thread> threads;
    for (int t = 0; t < k_threads; ++t) {
        threads.emplace_back([&, t] {
            // Half the threads share one writer, half have their own (as separate jobs would).
            ledger::LocalLedgerWriter own(folder);
            ledger::LedgerWriter& w = t % 2 == 0 ? static_cast<ledger::LedgerWriter&>(shared) : own;
            for (int i = 0; i < k_per_thread; ++i) {
                // Two days, so several files are open at once.
                auto e = test::sample_entry("t" + std::to_string(t), std::to_string(i), 1,
                                            test::k_noon_ms + (i % 2) * 86'400'000);
                if (!w.append(e).ok() || (i % 50 == 0 && !w.flush().ok())) {
                    ++failures;
                }
            }
            if (!w.flush().ok()) {
                ++failures;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(failures == 0);
    auto r = read_all(folder);
    CHECK(r.issues.empty());
    auto counts = id_counts(r.entries);
    CHECK(counts.size() == k_threads * k_per_thread);
    for (const auto& [id, n] : counts) {
        INFO(id);
        CHECK(n == 1);
    }
}

TEST_CASE("ledger: appends from two processes land exactly once", "[ledger]") {
    test::TempDir dir;
    const std::string folder = dir.file("ledger");
    constexpr int k_per_process = 1000;
    auto write_all = [&](const std::string& job) {
        ledger::LocalLedgerWriter writer(folder);
        for (int i = 0; i < k_per_process; ++i) {
            if (!writer.append(test::sample_entry(job, std::to_string(i))).ok()) {
                return false;
            }
        }
        return writer.flush().ok();
    };
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::_exit(write_all("child") ? 0 : 1);  // no Catch2 in the child
    }
    const bool parent_ok = write_all("parent");
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(parent_ok);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);

    auto r = read_all(folder);
    CHECK(r.issues.empty());
    auto counts = id_counts(r.entries);
    CHECK(counts.size() == 2 * k_per_process);
    for (const auto& [id, n] : counts) {
        INFO(id);
        CHECK(n == 1);
    }
}
