// The engine after a crash (issue 16 item 6). An image goes through four durable steps: the
// answer arrives, the image is stored, its manifest line is made durable, its ledger line is
// written. A crash is simulated at each step of the second of three images: from that instant
// every write fails as if the process were gone, so the disk holds exactly what a kill would
// leave. A second run on the same files (reconciliation, then the runner, as JobSession::open
// and execute do) must leave every image stored once and charged once in the ledger.
#include <catch2/catch.hpp>

#include <map>

#include "core/schedule/runner_fakes.hpp"

using namespace assetgen;
using namespace assetgen::test::engine;
using util::Code;

namespace {

const util::Status k_dead(Code::storage_io, "the process is gone");

enum class CrashAt { answer_received, image_stored, manifest_line, ledger_line };

const char* name(CrashAt at) {
    switch (at) {
        case CrashAt::answer_received:
            return "answer received";
        case CrashAt::image_stored:
            return "image stored";
        case CrashAt::manifest_line:
            return "manifest line durable";
        case CrashAt::ledger_line:
            return "ledger line written";
    }
    return "?";
}

// Arms the bench so that the process "dies" at `at` for scene r2.
void crash_at(Bench& b, CrashAt at, std::atomic<bool>& dead) {
    auto is_r2 = [](const std::string& s) { return s.find("r2") != std::string::npos; };
    b.provider.on_answer([&dead, at](const ScriptedProvider::Call& c) {
        if (at == CrashAt::answer_received && c.scene_id == "r2") {
            dead = true;
        }
    });
    b.storage.before_put = [&dead](const std::string&) {
        return dead ? k_dead : util::ok_status();
    };
    b.storage.after_put = [&dead, at, is_r2](const std::string& where) {
        if (at == CrashAt::image_stored && is_r2(where)) {
            dead = true;
        }
        return dead ? k_dead : util::ok_status();
    };
    b.ledger.before_append = [&dead, at](const ledger::Entry& e) {
        if (at == CrashAt::manifest_line && e.scene_id == "r2" && e.status == "ok") {
            dead = true;
        }
        return dead ? k_dead : util::ok_status();
    };
    b.ledger.after_append = [&dead, at](const ledger::Entry& e) {
        if (at == CrashAt::ledger_line && e.scene_id == "r2" && e.status == "ok") {
            dead = true;
        }
        return dead ? k_dead : util::ok_status();
    };
}

void disarm(Bench& b) {
    b.provider.on_answer(nullptr);
    b.storage.before_put = nullptr;
    b.storage.after_put = nullptr;
    b.ledger.before_append = nullptr;
    b.ledger.after_append = nullptr;
}

}  // namespace

TEST_CASE(
    "runner: a crash at any step of an image, then a re-run: each image stored once, charged once",
    "[runner][schedule][resume]") {
    const CrashAt at = GENERATE(CrashAt::answer_received, CrashAt::image_stored,
                                CrashAt::manifest_line, CrashAt::ledger_line);
    INFO("crash at: " << name(at));
    Bench b;
    std::atomic<bool> dead{false};
    crash_at(b, at, dead);
    auto first = b.run(rows(3));
    REQUIRE(dead);
    REQUIRE_FALSE(first.summary.ok());      // the "process" died mid-run
    CHECK(b.provider.calls().size() == 2);  // r3 was never sent
    const bool r2_recorded = at == CrashAt::manifest_line || at == CrashAt::ledger_line;

    // The next run, on the same files.
    disarm(b);
    const std::size_t restored = b.reconcile();
    CHECK(restored == (at == CrashAt::manifest_line ? 1u : 0u));
    auto second = b.run(rows(3));
    REQUIRE(second.summary.ok());
    CHECK(second.summary->status == schedule::RunEnd::ok);
    CHECK(second.summary->images_skipped == (r2_recorded ? 2u : 1u));
    // r2 is asked again only when its manifest line never became durable.
    CHECK(b.provider.calls_for("r2", 1).size() == (r2_recorded ? 1u : 2u));
    CHECK(b.provider.calls_for("r1", 1).size() == 1);
    CHECK(b.provider.calls_for("r3", 1).size() == 1);

    CHECK(b.image_files() ==
          std::vector<std::string>{"r1/r1_v1.png", "r2/r2_v1.png", "r3/r3_v1.png"});
    std::map<std::string, int> manifest;
    for (const auto& m : b.manifest_lines()) {
        ++manifest[m.scene_id];
    }
    CHECK(manifest == std::map<std::string, int>{{"r1", 1}, {"r2", 1}, {"r3", 1}});
    std::map<std::string, int> charged;
    for (const auto& e : b.ledger_lines()) {
        if (e.cost > 0) {
            ++charged[e.id];
        }
    }
    CHECK(charged == std::map<std::string, int>{
                         {"job-test/r1/v1", 1}, {"job-test/r2/v1", 1}, {"job-test/r3/v1", 1}});
    CHECK(b.ledger_total() == 3 * k_image_cost);
}

TEST_CASE(
    "runner: a ledger line that failed once after its manifest line is charged once after the "
    "re-run",
    "[runner][schedule][resume][ledger]") {
    Bench b;
    bool failed_once = false;
    b.ledger.before_append = [&](const ledger::Entry& e) -> util::Status {
        if (e.scene_id == "r2" && e.status == "ok" && !failed_once) {
            failed_once = true;  // a transient failure: the next line goes through
            return util::Status(Code::storage_io, "ledger: Input/output error");
        }
        return util::ok_status();
    };
    auto first = b.run(rows(3));
    REQUIRE_FALSE(first.summary.ok());
    CHECK(first.summary.status().code() == Code::storage_io);
    b.ledger.before_append = nullptr;
    b.reconcile();
    auto second = b.run(rows(3));
    REQUIRE(second.summary.ok());
    CHECK(b.provider.calls().size() == 3);  // r2 was durable in the manifest: not asked again
    // One answer, one charge: the manifest's line restores r2's ledger line, and nothing else
    // may have charged r2's answer already.
    CHECK(b.ledger_total() == 3 * k_image_cost);
}

TEST_CASE("runner: a re-run after a finished run sends nothing and charges nothing",
          "[runner][schedule][resume]") {
    Bench b;
    auto first = b.run(rows(4, 2));
    REQUIRE(first.summary.ok());
    const auto lines = b.ledger_lines().size();
    CHECK(b.reconcile() == 0);
    auto second = b.run(rows(4, 2));
    REQUIRE(second.summary.ok());
    CHECK(b.provider.calls().size() == 8);
    CHECK(second.summary->requests == 0);
    CHECK(second.summary->images_skipped == 8);
    CHECK(second.summary->actual_cost == 0);
    CHECK(b.ledger_lines().size() == lines);
    CHECK(second.rows.at(3).status == "ok");
}
