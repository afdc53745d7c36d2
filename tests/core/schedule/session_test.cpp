// The job pipeline under unit tests (issue 16 item 6): JobSession on a dry run (no network, no
// money) with the fake clock, in a temp folder; and the checkpoint thread's timer (Periodic),
// driven by the fake clock. The Runner itself: runner_test.cpp and its siblings.
#include <catch2/catch.hpp>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "ledger/ledger_folder.hpp"
#include "schedule/periodic.hpp"
#include "schedule/session.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/test_context.hpp"
#include "util/text.hpp"

using namespace assetgen;
using namespace std::chrono_literals;

namespace {

schedule::SessionOptions dry_run_options(const test::TempDir& dir, const std::string& input) {
    schedule::SessionOptions o;
    o.input = input;
    o.out = dir.file("out");
    o.ledger = dir.file("ledger");
    o.spool_dir = dir.file("spool");
    o.user = "tester";
    o.mode = ledger::RunMode::dry_run;
    o.daily_limit = 20'000'000;
    o.plan.model = "gemini-3.1-flash-image";
    o.run.concurrency = 2;
    o.refs.cache_dir = "";
    o.checkpoint_every = 30s;
    return o;
}

}  // namespace

TEST_CASE("session: a dry run from batch file to records, then a re-run that has nothing to do",
          "[runner][session][schedule]") {
    test::TempDir dir;
    test::FakeClock clock;
    test::TestContext ctx(clock);
    std::atomic<int> stop{0};
    const std::string input =
        dir.write("batch.csv", "scene_id,prompt,variants\nA-1,a red chair,2\nA-2,a blue lamp,1\n");
    std::vector<std::string> errors;
    schedule::SessionLog log{{}, {}, [&](const std::string& m) { errors.push_back(m); }};

    auto prepared =
        schedule::JobSession::prepare(dry_run_options(dir, input), ctx.get(), stop, log);
    REQUIRE(prepared.ok());
    auto& session = **prepared;
    CHECK(session.plan().images == 3);
    CHECK(session.plan().images_to_run == 3);
    REQUIRE(session.open().ok());
    std::vector<std::string> statuses;
    auto summary = session.execute({},
                                   [&](const schedule::RowResult& r) {
                                       statuses.emplace_back(schedule::row_status_name(r.status));
                                   },
                                   {});
    REQUIRE(summary.ok());
    CHECK(summary->status == schedule::RunEnd::ok);
    CHECK(summary->images_generated == 3);
    CHECK(statuses == std::vector<std::string>{"ok", "ok"});
    auto json = session.finish(*summary);
    REQUIRE(json.ok());
    CHECK(session.write_failures().empty());
    CHECK(errors.empty());

    const std::string job = dir.file("out/" + session.job_id());
    CHECK(std::filesystem::exists(job + "/A-1/A-1_v2.png"));
    CHECK(std::filesystem::exists(job + "/summary.json"));
    auto state = nlohmann::json::parse(dir.read("out/" + session.job_id() + "/state.json"));
    CHECK(state["phase"] == "finished");
    CHECK(state["imagesDone"] == 3);

    // The same command again: the job is found finished, nothing is planned to run.
    auto again = schedule::JobSession::prepare(dry_run_options(dir, input), ctx.get(), stop, log);
    REQUIRE(again.ok());
    CHECK((*again)->job_id() == session.job_id());
    CHECK((*again)->plan().images_to_run == 0);
}

TEST_CASE("session: a batch with a bad row is refused before anything is written",
          "[runner][session][schedule]") {
    test::TempDir dir;
    test::FakeClock clock;
    test::TestContext ctx(clock);
    std::atomic<int> stop{0};
    const std::string input =
        dir.write("batch.csv", "scene_id,prompt,variants\nA-1,a red chair,2\nA-2,,9\n");
    std::vector<std::string> errors;
    schedule::SessionLog log{{}, {}, [&](const std::string& m) { errors.push_back(m); }};
    auto prepared =
        schedule::JobSession::prepare(dry_run_options(dir, input), ctx.get(), stop, log);
    REQUIRE_FALSE(prepared.ok());
    CHECK(prepared.status().code() == util::Code::invalid_input);
    REQUIRE_FALSE(errors.empty());
    CHECK(errors[0].find("batch.csv:3:") != std::string::npos);  // the row named
    CHECK_FALSE(std::filesystem::exists(dir.file("out")));
    CHECK_FALSE(std::filesystem::exists(dir.file("ledger")));
}

TEST_CASE(
    "session: a run refused by the budget still restores the ledger line a killed run of its "
    "job never wrote, and its refusal counts it",
    "[runner][session][schedule][money]") {
    test::TempDir dir;
    test::FakeClock clock;
    test::TestContext ctx(clock);
    std::atomic<int> stop{0};
    const std::string input =
        dir.write("batch.csv", "scene_id,prompt,variants\nA-1,a red chair,2\nA-2,a blue lamp,1\n");
    std::vector<std::string> infos;
    std::vector<std::string> errors;
    schedule::SessionLog log{[&](const std::string& m) { infos.push_back(m); },
                             {},
                             [&](const std::string& m) { errors.push_back(m); }};
    const auto ok_lines = [&] {
        std::vector<ledger::Entry> out;
        REQUIRE(ledger::read_ledger(
                    dir.file("ledger"), {},
                    [&](const ledger::Entry& e) {
                        if (e.status == "ok") {
                            out.push_back(e);
                        }
                    },
                    nullptr)
                    .ok());
        return out;
    };

    // A first run makes A-1's two images (A-2 is left for later).
    {
        auto first =
            schedule::JobSession::prepare(dry_run_options(dir, input), ctx.get(), stop, log);
        REQUIRE(first.ok());
        REQUIRE((*first)->open().ok());
        auto summary =
            (*first)->execute([](const batch::Row& row) { return row.scene_id == "A-1"; }, {}, {});
        REQUIRE(summary.ok());
        REQUIRE(summary->images_generated == 2);
        REQUIRE((*first)->finish(*summary).ok());
    }
    const auto paid = ok_lines();
    REQUIRE(paid.size() == 2);
    const util::Micros one = paid[0].cost;
    REQUIRE(one > 0);

    // As a SIGKILL between A-1 v2's manifest line and its ledger line leaves it: the ledger
    // lacks the line that the manifest promises.
    std::string day_file;
    for (const auto& f : std::filesystem::directory_iterator(dir.file("ledger"))) {
        if (f.path().extension() == ".jsonl") {
            day_file = f.path().string();
        }
    }
    REQUIRE_FALSE(day_file.empty());
    {
        std::ifstream in(day_file);
        std::string line, kept;
        int dropped = 0;
        while (std::getline(in, line)) {
            if (dropped == 0 && line.find("\"A-1\"") != std::string::npos &&
                line.find("\"variant\":2") != std::string::npos) {
                ++dropped;
                continue;
            }
            kept += line + "\n";
        }
        REQUIRE(dropped == 1);
        std::ofstream(day_file, std::ios::trunc) << kept;
    }
    REQUIRE(ok_lines().size() == 1);

    // The day's limit is what the ledger now shows spent: the next run is refused. Before it
    // says so, the lost line is back, and the refusal's figure counts both images.
    auto o = dry_run_options(dir, input);
    o.daily_limit = one;
    auto refused = schedule::JobSession::prepare(o, ctx.get(), stop, log);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == util::Code::budget_exceeded);
    const auto after = ok_lines();
    REQUIRE(after.size() == 2);
    CHECK(after[0].cost + after[1].cost == paid[0].cost + paid[1].cost);
    CHECK(refused.status().message().find(util::format_usd(2 * one) + " is already spent") !=
          std::string::npos);
    CHECK(std::count_if(infos.begin(), infos.end(), [](const std::string& m) {
              return m.find("ledger: restored 1 line(s)") != std::string::npos;
          }) == 1);

    // Refused again: nothing more to restore, nothing written twice.
    auto again = schedule::JobSession::prepare(o, ctx.get(), stop, log);
    REQUIRE_FALSE(again.ok());
    CHECK(ok_lines().size() == 2);
}

TEST_CASE(
    "session: images a shard made between an unsharded run's plan and its lock are not made "
    "and paid again",
    "[runner][session][schedule][money]") {
    test::TempDir dir;
    test::FakeClock clock;
    test::TestContext ctx(clock);
    std::atomic<int> stop{0};
    std::string rows = "scene_id,prompt,variants\n";
    for (int i = 1; i <= 8; ++i) {
        rows += "S-" + std::to_string(i) + ",product " + std::to_string(i) + ",2\n";
    }
    const std::string input = dir.write("batch.csv", rows);
    schedule::SessionLog log;

    // The unsharded run plans: nothing is done yet.
    auto unsharded =
        schedule::JobSession::prepare(dry_run_options(dir, input), ctx.get(), stop, log);
    REQUIRE(unsharded.ok());
    REQUIRE((*unsharded)->plan().images_to_run == 16);

    // Before it takes the job, shard 0/2 runs whole and lets the job go.
    auto shard_options = dry_run_options(dir, input);
    shard_options.shard = "0/2";
    std::size_t shard_images = 0;
    {
        auto shard = schedule::JobSession::prepare(shard_options, ctx.get(), stop, log);
        REQUIRE(shard.ok());
        REQUIRE((*shard)->open().ok());
        auto summary = (*shard)->execute({}, {}, {});
        REQUIRE(summary.ok());
        shard_images = summary->images_generated;
        REQUIRE((*shard)->finish(*summary).ok());
    }
    REQUIRE(shard_images > 0);
    REQUIRE(shard_images < 16);

    // The unsharded run now takes the job: it makes only what the shard did not.
    REQUIRE((*unsharded)->open().ok());
    CHECK((*unsharded)->plan().images_to_run == 16 - shard_images);
    auto summary = (*unsharded)->execute({}, {}, {});
    REQUIRE(summary.ok());
    CHECK(summary->images_generated == 16 - shard_images);
    REQUIRE((*unsharded)->finish(*summary).ok());

    std::map<std::pair<std::string, int>, int> charged;
    REQUIRE(ledger::read_ledger(
                dir.file("ledger"), {},
                [&](const ledger::Entry& e) {
                    if (e.status == "ok") {
                        ++charged[{e.scene_id, e.variant}];
                    }
                },
                nullptr)
                .ok());
    CHECK(charged.size() == 16);
    for (const auto& [key, n] : charged) {
        INFO(key.first << " v" << key.second);
        CHECK(n == 1);
    }
}

TEST_CASE("checkpoint thread: runs every period on the clock, never before, and stops at once",
          "[runner][session][schedule]") {
    test::FakeClock clock;
    std::mutex mutex;
    std::condition_variable ran;
    std::vector<util::SteadyTime> at;
    const auto t0 = clock.steady();
    schedule::Periodic periodic(clock, 30s, [&] {
        std::lock_guard lock(mutex);
        at.push_back(clock.steady());
        ran.notify_all();
    });
    periodic.start();
    auto wait_runs = [&](std::size_t n) {
        std::unique_lock lock(mutex);
        return ran.wait_for(lock, 10s, [&] { return at.size() >= n; });
    };
    clock.advance(29s);
    periodic.nudge();
    clock.advance(1s);
    periodic.nudge();
    REQUIRE(wait_runs(1));
    clock.advance(30s);
    periodic.nudge();
    REQUIRE(wait_runs(2));
    periodic.stop();  // the next one is due in 30 s of the clock: stop does not wait for it
    clock.advance(60s);
    periodic.nudge();
    std::lock_guard lock(mutex);
    REQUIRE(at.size() == 2);
    // The first ran when the clock said 30 s, not at 29 s: the wait is on the clock.
    CHECK(at[0] - t0 == 30s);
    CHECK(at[1] - t0 == 60s);
    CHECK(periodic.runs() == 2);
}

TEST_CASE("checkpoint thread: a period of 0 starts no thread", "[runner][session][schedule]") {
    test::FakeClock clock;
    int runs = 0;
    schedule::Periodic periodic(clock, 0ms, [&] { ++runs; });
    periodic.start();
    clock.advance(1h);
    periodic.nudge();
    periodic.stop();
    CHECK(runs == 0);
}
