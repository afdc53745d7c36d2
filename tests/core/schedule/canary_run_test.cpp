// The canary's stage driver (schedule/canary_run.hpp) on a dry run: JobSession with the
// synthetic provider and the fake clock, in a temp folder; no sockets, no sleeps. What a user
// notices: the decision, which stages ran, which rows were made and paid for (images on disk,
// ledger lines), the per-stage records (report, "canary_stage" events, summary.json).
#include <catch2/catch.hpp>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "canary/stages.hpp"
#include "report/run_status.hpp"
#include "schedule/canary_run.hpp"
#include "schedule/session.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/test_context.hpp"

using namespace assetgen;
using namespace std::chrono_literals;

namespace {

constexpr int k_rows = 40;

std::string scene(int i) {
    return "S-" + std::to_string(i);
}

// 40 rows of one variant each.
std::string batch_csv() {
    std::string csv = "scene_id,prompt,variants\n";
    for (int i = 1; i <= k_rows; ++i) {
        csv += scene(i) + ",a chair #" + std::to_string(i) + ",1\n";
    }
    return csv;
}

// One canary command: a session on the temp folder, prepared and opened, and the driver's
// options. `simulate` is the dry run's --simulate.
struct Canary {
    test::TempDir& dir;
    test::FakeClock clock;
    test::TestContext ctx{clock};
    std::atomic<int> stop{0};
    schedule::CanaryOptions options;
    std::string simulate;
    std::unique_ptr<schedule::JobSession> session;

    Canary(test::TempDir& d, std::vector<int> stages, std::string sim = "") : dir(d) {
        options.stages = std::move(stages);
        options.gates.min_samples = 1;
        simulate = std::move(sim);
    }

    schedule::SessionOptions session_options() const {
        schedule::SessionOptions o;
        o.input = dir.file("batch.csv");
        o.out = dir.file("out");
        o.ledger = dir.file("ledger");
        o.spool_dir = dir.file("spool");
        o.events = dir.file("events.jsonl");
        o.user = "tester";
        o.mode = ledger::RunMode::dry_run;
        o.daily_limit = 20'000'000;
        o.plan.model = "gemini-3.1-flash-image";
        o.run.concurrency = 1;
        o.run.retry.max_attempts = 1;  // a simulated fault ends its image: errors are errors
        o.provider.simulate = simulate;
        o.refs.cache_dir = "";
        o.checkpoint_every = 30s;
        return o;
    }

    schedule::CanaryOutcome run(const schedule::CanaryCallbacks& callbacks = {}) {
        auto prepared = schedule::JobSession::prepare(session_options(), ctx.get(), stop, {});
        REQUIRE(prepared.ok());
        session = std::move(*prepared);
        REQUIRE(session->open().ok());
        auto outcome = schedule::run_canary_stages(*session, options, callbacks);
        if (outcome.decision != schedule::CanaryDecision::error) {
            REQUIRE(schedule::finish_canary(*session, outcome).ok());
        }
        return outcome;
    }

    std::string job_dir() const { return dir.file("out/" + session->job_id()); }
    bool made(const std::string& id) const {
        return std::filesystem::exists(job_dir() + "/" + id + "/" + id + "_v1.png");
    }
};

// The stage (0-based) of each row under these stages; rows in none are left out.
std::map<std::string, std::size_t> stage_rows(const std::vector<int>& stages) {
    std::map<std::string, std::size_t> out;
    for (int i = 1; i <= k_rows; ++i) {
        if (auto s = canary::stage_of(scene(i), "", stages)) {
            out[scene(i)] = *s;
        }
    }
    return out;
}

std::set<std::string> rows_of_stage(const std::vector<int>& stages, std::size_t stage) {
    std::set<std::string> out;
    for (const auto& [id, s] : stage_rows(stages)) {
        if (s == stage) {
            out.insert(id);
        }
    }
    return out;
}

// Every ledger line of the folder, parsed.
std::vector<nlohmann::json> ledger_lines(const test::TempDir& dir) {
    std::vector<nlohmann::json> out;
    for (const auto& e : std::filesystem::directory_iterator(dir.file("ledger"))) {
        if (e.path().extension() != ".jsonl") {
            continue;
        }
        std::ifstream in(e.path());
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty()) {
                out.push_back(nlohmann::json::parse(line));
            }
        }
    }
    return out;
}

std::vector<nlohmann::json> events_named(const test::TempDir& dir, const std::string& name) {
    std::vector<nlohmann::json> out;
    std::ifstream in(dir.file("events.jsonl"));
    std::string line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line);
        if (j.value("event", "") == name) {
            out.push_back(j);
        }
    }
    return out;
}

// A failing gate's canary: one stage judged, its gate named, and nothing of the later stages
// made or paid for.
void check_stopped_after_first_stage(const Canary& c, const schedule::CanaryOutcome& outcome,
                                     const std::string& gate) {
    CHECK(outcome.decision == schedule::CanaryDecision::no_go);
    REQUIRE(outcome.report.stages_run.size() == 1);
    REQUIRE(outcome.report.failed_gate() != nullptr);
    CHECK(outcome.report.failed_gate()->name == gate);
    const auto first = rows_of_stage(c.options.stages, 0);
    for (const auto& line : ledger_lines(c.dir)) {
        CHECK(first.count(line["scene_id"].get<std::string>()) == 1);
    }
    for (const auto& [id, stage] : stage_rows(c.options.stages)) {
        if (stage > 0) {
            CHECK_FALSE(c.made(id));
        }
    }
    CHECK(events_named(c.dir, "canary_stage").size() == 1);
}

}  // namespace

TEST_CASE("canary driver: a clean canary runs every stage once and decides go",
          "[canary][schedule]") {
    test::TempDir dir;
    dir.write("batch.csv", batch_csv());
    Canary c(dir, {10, 25, 50, 100});
    std::vector<std::pair<std::size_t, canary::Next>> judged;
    schedule::CanaryCallbacks callbacks;
    callbacks.stage_judged = [&](const canary::StageReport& s, canary::Next next) {
        judged.emplace_back(s.index, next);
    };
    const auto outcome = c.run(callbacks);

    CHECK(outcome.decision == schedule::CanaryDecision::go);
    CHECK_FALSE(outcome.stopped_by.has_value());
    CHECK(outcome.report.verdict == canary::Verdict::pass);
    REQUIRE(outcome.report.stages_run.size() == 4);
    using N = canary::Next;
    CHECK(judged ==
          std::vector<std::pair<std::size_t, N>>{
              {0, N::next_stage}, {1, N::next_stage}, {2, N::next_stage}, {3, N::finish_pass}});
    CHECK(outcome.total.images_generated == k_rows);
    CHECK(ledger_lines(dir).size() == k_rows);  // each image made and paid for once
    for (int i = 1; i <= k_rows; ++i) {
        CHECK(c.made(scene(i)));
    }
}

TEST_CASE("canary driver: each stage records its new rows, the running totals and an event",
          "[canary][schedule]") {
    test::TempDir dir;
    dir.write("batch.csv", batch_csv());
    Canary c(dir, {10, 25, 50, 100});
    const auto outcome = c.run();
    REQUIRE(outcome.report.stages_run.size() == 4);
    const auto events = events_named(dir, "canary_stage");
    REQUIRE(events.size() == 4);
    std::uint64_t so_far = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const auto& s = outcome.report.stages_run[i];
        const auto expected_new = rows_of_stage(c.options.stages, i).size();
        so_far += expected_new;
        CHECK(s.index == i);
        CHECK(s.percent == c.options.stages[i]);
        CHECK(s.new_rows == expected_new);
        CHECK(s.stats.rows == so_far);  // the gates judge every row run so far
        CHECK(s.stats.images == so_far);
        CHECK(events[i]["stage"] == i + 1);
        CHECK(events[i]["percent"] == c.options.stages[i]);
        CHECK(events[i]["newRows"] == expected_new);
    }
    CHECK(so_far == k_rows);
    // summary.json holds every stage's images, as one run would.
    auto summary = nlohmann::json::parse(dir.read("out/" + c.session->job_id() + "/summary.json"));
    CHECK(summary["imagesGenerated"] == k_rows);
}

TEST_CASE("canary driver: an error rate over the gate stops after the first stage, unspent",
          "[canary][schedule]") {
    test::TempDir dir;
    dir.write("batch.csv", batch_csv());
    Canary c(dir, {50, 100}, "error_rate=0.5,seed=1");
    const auto outcome = c.run();
    check_stopped_after_first_stage(c, outcome, "error_rate");
    CHECK(outcome.report.stages_run[0].stats.errors > 0);
}

TEST_CASE("canary driver: a p95 latency over the gate stops after the first stage, unspent",
          "[canary][schedule]") {
    test::TempDir dir;
    dir.write("batch.csv", batch_csv());
    Canary c(dir, {25, 100}, "latency=300ms");
    c.options.gates.max_p95_ms = 100;
    const auto outcome = c.run();
    check_stopped_after_first_stage(c, outcome, "p95_ms");
}

TEST_CASE("canary driver: a cost per image over the gate stops after the first stage, unspent",
          "[canary][schedule]") {
    test::TempDir dir;
    dir.write("batch.csv", batch_csv());
    Canary c(dir, {25, 100});
    c.options.gates.max_cost_per_image = 0.01;
    const auto outcome = c.run();
    check_stopped_after_first_stage(c, outcome, "cost_per_image");
    // What was spent is the first stage's images, no more.
    util::Micros spent = 0;
    for (const auto& line : ledger_lines(dir)) {
        spent += util::Micros(std::llround(line["cost"].get<double>() * 1e6));
    }
    CHECK(spent == outcome.total.actual_cost);
    CHECK(outcome.total.images_generated == rows_of_stage(c.options.stages, 0).size());
}

TEST_CASE("canary driver: SIGINT between stages stops before the next stage makes anything",
          "[canary][schedule]") {
    test::TempDir dir;
    dir.write("batch.csv", batch_csv());
    Canary c(dir, {25, 50, 100});
    std::vector<std::size_t> stopped;
    std::string stopped_status;
    schedule::CanaryCallbacks callbacks;
    callbacks.stage_judged = [&](const canary::StageReport& s, canary::Next) {
        if (s.index == 0) {
            c.stop = SIGINT;  // as the signal handler does
        }
    };
    callbacks.stage_stopped = [&](std::size_t i, const report::Summary& s) {
        stopped.push_back(i);
        stopped_status = std::string(report::run_status_text(s.status));
    };
    const auto outcome = c.run(callbacks);

    CHECK(outcome.decision == schedule::CanaryDecision::stopped);
    REQUIRE(outcome.stopped_by.has_value());
    CHECK(*outcome.stopped_by == schedule::RunEnd::interrupted);
    CHECK(stopped == std::vector<std::size_t>{1});
    CHECK(stopped_status == "interrupted");
    CHECK(outcome.report.stages_run.size() == 1);  // stage 2 was not judged
    const auto first = rows_of_stage(c.options.stages, 0);
    CHECK(ledger_lines(dir).size() == first.size());
    for (const auto& [id, stage] : stage_rows(c.options.stages)) {
        CHECK(c.made(id) == (stage == 0));
    }
    // The records say how it ended, so a re-run goes on.
    auto summary = nlohmann::json::parse(dir.read("out/" + c.session->job_id() + "/summary.json"));
    CHECK(summary["status"] == "interrupted");
}

TEST_CASE("canary driver: a re-run after a stop counts the earlier images and makes the rest once",
          "[canary][schedule]") {
    test::TempDir dir;
    dir.write("batch.csv", batch_csv());
    const std::vector<int> stages{25, 50, 100};
    const auto first = rows_of_stage(stages, 0);
    {
        Canary c(dir, stages);
        schedule::CanaryCallbacks callbacks;
        callbacks.stage_judged = [&](const canary::StageReport&, canary::Next) { c.stop = SIGINT; };
        REQUIRE(c.run(callbacks).decision == schedule::CanaryDecision::stopped);
    }
    Canary again(dir, stages);
    const auto outcome = again.run();
    CHECK(outcome.decision == schedule::CanaryDecision::go);
    REQUIRE(outcome.report.stages_run.size() == 3);
    const auto& s0 = outcome.report.stages_run[0];
    // Stage 1's images are judged as the first run made them, not made (or counted) again.
    CHECK(s0.stats.earlier == first.size());
    CHECK(s0.stats.images == first.size());
    CHECK(ledger_lines(dir).size() == k_rows);  // every image paid for once across both runs
}

TEST_CASE("canary driver: too few samples at the last stage is inconclusive after every stage",
          "[canary][schedule]") {
    test::TempDir dir;
    dir.write("batch.csv", batch_csv());
    Canary c(dir, {10, 25, 50, 100});
    c.options.gates.min_samples = 1000;
    const auto outcome = c.run();
    CHECK(outcome.decision == schedule::CanaryDecision::inconclusive);
    CHECK(outcome.report.stages_run.size() == 4);
    CHECK(outcome.report.verdict == canary::Verdict::inconclusive);
    CHECK(ledger_lines(dir).size() == k_rows);
}

TEST_CASE("canary driver: rows beyond a last stage below 100% are counted and never run",
          "[canary][schedule]") {
    test::TempDir dir;
    dir.write("batch.csv", batch_csv());
    Canary c(dir, {10, 30});
    const auto outcome = c.run();
    const auto in_stages = stage_rows(c.options.stages);
    REQUIRE(in_stages.size() < k_rows);
    CHECK(outcome.report.rows_beyond == k_rows - in_stages.size());
    CHECK(ledger_lines(dir).size() == in_stages.size());
    for (int i = 1; i <= k_rows; ++i) {
        CHECK(c.made(scene(i)) == (in_stages.count(scene(i)) == 1));
    }
}

TEST_CASE("canary driver: which ends of a stage's run stop the canary before its gates",
          "[canary][schedule]") {
    using schedule::RunEnd;
    for (auto end :
         {RunEnd::interrupted, RunEnd::budget_exceeded, RunEnd::upstream_unavailable,
          RunEnd::quota_daily, RunEnd::spend_cap, RunEnd::billing_cap, RunEnd::auth_failed}) {
        CHECK(schedule::stops_canary(end));
    }
    for (auto end : {RunEnd::ok, RunEnd::failed, RunEnd::error}) {
        CHECK_FALSE(schedule::stops_canary(end));
    }
}

TEST_CASE("canary driver: --baseline is read through storage; a missing one names the flag",
          "[canary][schedule]") {
    test::TempDir dir;
    storage::LocalStorage local;
    auto none = schedule::load_canary_baseline("", local);
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
    auto missing = schedule::load_canary_baseline(dir.file("nope.json"), local);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().message().rfind("--baseline: ", 0) == 0);
}
