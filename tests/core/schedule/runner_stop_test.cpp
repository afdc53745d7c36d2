// The engine when something stops it (issue 16 item 6): a signal and its --grace, a lost job
// lock, credentials refused, the ledger failing to take a line or to flush. What finished must
// be on disk and recorded; nothing new may be sent. See runner_fakes.hpp.
#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

#include "core/schedule/runner_fakes.hpp"

using namespace assetgen;
using namespace assetgen::test::engine;
using util::Code;
using Kind = schedule::VariantOutcome::Kind;

namespace {

// Runs the bench on its own thread (the test thread plays the signal and the grace watchdog).
struct Background {
    explicit Background(Bench& b, std::vector<schedule::BatchRow> batch)
        : thread([this, &b, batch = std::move(batch)] { out = b.run(batch); }) {}
    Bench::Outcome join() {
        thread.join();
        return std::move(out);
    }
    Bench::Outcome out;
    std::thread thread;
};

}  // namespace

TEST_CASE(
    "runner: SIGINT stops dispatch; in-flight requests that finish within the grace are recorded",
    "[runner][schedule][signal]") {
    Bench b;
    b.settings.concurrency = 2;
    b.provider.set_default(Answer::hang());
    Background run(b, rows(6));
    REQUIRE(b.provider.wait_hanging(2));
    b.stop.store(SIGINT);
    b.provider.release(2);  // both answer within the grace
    auto out = run.join();
    REQUIRE(out.summary.ok());
    CHECK(out.summary->status == schedule::RunEnd::interrupted);
    CHECK(b.provider.calls().size() == 2);  // nothing new after the signal
    CHECK(out.summary->images_generated == 2);
    CHECK(b.image_files().size() == 2);
    CHECK(b.manifest_lines().size() == 2);
    CHECK(b.ledger_total() == 2 * k_image_cost);
    REQUIRE(out.rows.size() == 6);
    CHECK(out.rows[0].status == "ok");
    CHECK(out.rows[1].status == "ok");
    for (std::size_t i = 2; i < 6; ++i) {
        CHECK(out.rows[i].status == "interrupted");
        CHECK(out.rows[i].variants.at(0).kind == Kind::not_run);
        CHECK(out.rows[i].first_error == Code::cancelled);
    }
    CHECK(out.summary->rows_failed == 0);  // interrupted rows are not failures: a re-run makes them
    CHECK(b.events.of("error").empty());
}

TEST_CASE(
    "runner: after the grace, requests still in flight are abandoned: no image, no charge, the "
    "rest recorded",
    "[runner][schedule][signal]") {
    Bench b;
    b.settings.concurrency = 3;
    b.provider.set_default(Answer::hang());
    Background run(b, rows(5));
    REQUIRE(b.provider.wait_hanging(3));
    b.stop.store(SIGTERM);
    b.provider.release(1);  // one answers within the grace
    b.provider.abandon();   // the grace ran out: the other two are abandoned
    auto out = run.join();
    REQUIRE(out.summary.ok());
    CHECK(out.summary->status == schedule::RunEnd::interrupted);
    CHECK(b.provider.calls().size() == 3);
    CHECK(out.summary->images_generated == 1);
    CHECK(b.image_files().size() == 1);
    CHECK(b.ledger_total() == k_image_cost);
    int abandoned = 0;
    for (const auto& r : out.rows) {
        const auto& v = r.variants.at(0);
        if (v.code == Code::cancelled && v.message.find("abandoned") != std::string::npos) {
            ++abandoned;
            CHECK(r.status == "interrupted");
            CHECK(v.cost == 0);
        }
    }
    CHECK(abandoned == 2);  // what `run` lists as abandoned on stderr
    // The next run makes exactly what is missing.
    b.stop.store(0);
    b.provider.set_default(Answer::image());
    auto again = b.run(rows(5));
    REQUIRE(again.summary.ok());
    CHECK(again.summary->status == schedule::RunEnd::ok);
    CHECK(again.summary->images_skipped == 1);
    CHECK(again.summary->images_generated == 4);
    CHECK(b.ledger_total() == 5 * k_image_cost);
}

TEST_CASE("runner: a stop during a retry's wait ends the wait at once",
          "[runner][schedule][signal]") {
    Bench b;
    b.provider.script("r1", 1, {Answer::rate_limited(5min)});
    b.settings.max_retry_delay = 10min;
    b.provider.on_answer([&](const ScriptedProvider::Call&) { b.stop.store(SIGINT); });
    const auto t0 = b.clock.steady();
    auto out = b.run(rows(2));
    REQUIRE(out.summary.ok());
    CHECK(out.summary->status == schedule::RunEnd::interrupted);
    CHECK(b.provider.calls().size() == 1);
    CHECK(b.clock.steady() - t0 < 1s);  // the 5-minute hint was not waited out
    CHECK(out.rows.at(0).status == "interrupted");
}

TEST_CASE("runner: a lost job lock stops dispatch and ends the run with the lock's error",
          "[runner][schedule]") {
    Bench b;
    b.still_held = [&b]() -> util::Status {
        if (b.provider.calls().size() >= 3) {  // lost while the third image was made
            return util::Status(Code::config,
                                "job lock gs://b/out/job-test/lock.json: taken over by host-b");
        }
        return util::ok_status();
    };
    auto out = b.run(rows(6));
    REQUIRE_FALSE(out.summary.ok());
    CHECK(out.summary.status().code() == Code::config);
    CHECK(out.summary.status().message().find("taken over by host-b") != std::string::npos);
    CHECK(b.provider.calls().size() == 3);
    // What was made before is recorded: images, manifest and ledger agree.
    CHECK(b.image_files().size() == 3);
    CHECK(b.manifest_lines().size() == 3);
    CHECK(b.ledger_total() == 3 * k_image_cost);
}

TEST_CASE("runner: credentials refused stop the run after the first answer (AUTH_FAILED)",
          "[runner][schedule]") {
    Bench b;
    b.settings.concurrency = 1;
    b.provider.set_default(Answer::error(Code::unauthenticated, "API key not valid"));
    auto out = b.run(rows(5));
    REQUIRE(out.summary.ok());
    CHECK(b.provider.calls().size() == 1);
    CHECK(out.summary->status == schedule::RunEnd::auth_failed);
    CHECK(out.summary->first_error == "API key not valid");
    CHECK(out.rows.at(4).first_error == Code::unauthenticated);
    CHECK(out.rows.at(4).variants.at(0).kind == Kind::not_run);
}

TEST_CASE(
    "runner: the ledger refusing a line ends the run STORAGE_IO; the image and its manifest line "
    "stay",
    "[runner][schedule][ledger]") {
    Bench b;
    int ok_lines = 0;
    b.ledger.before_append = [&](const ledger::Entry& e) -> util::Status {
        // From r2's line on, the disk is full.
        if (e.status == "ok") {
            ++ok_lines;
        }
        if (ok_lines >= 2) {
            return util::Status(Code::storage_io,
                                "ledger/2025-11-24.jsonl: No space left on device");
        }
        return util::ok_status();
    };
    auto out = b.run(rows(4));
    REQUIRE_FALSE(out.summary.ok());
    CHECK(out.summary.status().code() == Code::storage_io);
    CHECK(out.summary.status().message().find("No space left") != std::string::npos);
    CHECK(b.provider.calls().size() == 2);  // nothing sent after the failure
    CHECK(b.image_files().size() == 2);
    // r2's manifest line is durable: the next run restores its ledger line (runner_resume_test).
    CHECK(b.manifest_lines().size() == 2);
    CHECK(b.ledger_lines().size() == 1);
}

TEST_CASE("runner: the ledger's last flush failing ends the run STORAGE_IO naming the ledger",
          "[runner][schedule][ledger]") {
    Bench b;
    b.ledger.on_flush = [] {
        return util::Status(Code::storage_io, "push to gs://b/ledger failed: 503");
    };
    auto out = b.run(rows(2));
    REQUIRE_FALSE(out.summary.ok());
    CHECK(out.summary.status().code() == Code::storage_io);
    CHECK(out.summary.status().message().find("503") != std::string::npos);
    // Everything was made and is in the manifest: a re-run pays for nothing again.
    CHECK(b.image_files().size() == 2);
    CHECK(b.manifest_lines().size() == 2);
    b.ledger.on_flush = nullptr;
    auto again = b.run(rows(2));
    REQUIRE(again.summary.ok());
    CHECK(b.provider.calls().size() == 2);
    CHECK(again.summary->images_skipped == 2);
}

TEST_CASE("runner: a storage failure on an image ends the run; its cost is still in the ledger",
          "[runner][schedule]") {
    Bench b;
    b.storage.after_put = [&](const std::string& where) -> util::Status {
        if (where.find("r2_v1") != std::string::npos) {
            return util::Status(Code::storage_io, where + ": Input/output error");
        }
        return util::ok_status();
    };
    auto out = b.run(rows(4));
    REQUIRE_FALSE(out.summary.ok());
    CHECK(out.summary.status().code() == Code::storage_io);
    CHECK(b.provider.calls().size() == 2);
    CHECK(b.manifest_lines().size() == 1);  // r2 is not done: the next run makes it again
    auto lines = b.ledger_lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].status == "STORAGE_IO");
    CHECK(lines[1].cost == k_image_cost);  // paid for, not stored
}

TEST_CASE(
    "runner: the ledger refusing a billed failure's line ends the run STORAGE_IO; nothing more "
    "is sent",
    "[runner][schedule][ledger]") {
    // A safety block Google billed: its only record is its failure line. Lost, the ledger (and
    // every budget read from it) would miss the money, so the run must not go on spending.
    Bench b;
    b.provider.script("r1", 1, {Answer::blocked()});
    b.ledger.before_append = [](const ledger::Entry& e) -> util::Status {
        if (e.status == "BLOCKED") {
            return util::Status(Code::storage_io,
                                "ledger/2025-11-24.jsonl: No space left on device");
        }
        return util::ok_status();
    };
    auto out = b.run(rows(4));
    REQUIRE_FALSE(out.summary.ok());
    CHECK(out.summary.status().code() == Code::storage_io);
    CHECK(out.summary.status().message().find("No space left") != std::string::npos);
    CHECK(b.provider.calls().size() == 1);  // r2..r4 not sent
    CHECK(b.ledger_lines().empty());
    bool said = false;
    for (const auto& f : b.events.of("error")) {
        said = said ||
               (f.value("scene_id", "") == "r1" &&
                f.value("message", "").find("the ledger line of a failure") != std::string::npos);
    }
    CHECK(said);
}
