// The job's plan before anything is written (schedule/job_plan.hpp), and `run --merge`, which
// starts with the same plan (schedule/merge.hpp). Dry runs in a temp folder, the fake clock.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "auth/env.hpp"
#include "schedule/job_plan.hpp"
#include "schedule/merge.hpp"
#include "schedule/session.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/test_context.hpp"

using namespace assetgen;
using namespace std::chrono_literals;

namespace {

schedule::SessionOptions plan_options(const test::TempDir& dir, const std::string& input) {
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

// The names in the folder, sorted (what a refused step must leave alone).
std::vector<std::string> names_in(const std::string& folder) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(folder)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

struct Logged {
    std::vector<std::string> info, warn, error;
    schedule::SessionLog log() {
        return {[this](const std::string& m) { info.push_back(m); },
                [this](const std::string& m) { warn.push_back(m); },
                [this](const std::string& m) { error.push_back(m); }};
    }
};

const char* k_batch =
    "scene_id,prompt,variants\nA-1,a red chair,2\nA-2,a blue lamp,1\n"
    "A-3,a green door,3\n";

}  // namespace

TEST_CASE("job plan: a small batch is counted and priced, and nothing is written",
          "[schedule][job_plan]") {
    test::TempDir dir;
    test::FakeClock clock;
    test::TestContext ctx(clock);
    const std::string input = dir.write("batch.csv", k_batch);
    Logged logged;
    const auth::Env env = auth::Env::from_map({});
    test::NoNetworkTransport no_network;
    storage::AnyStorage storage(env, no_network, clock, {});
    auto o = plan_options(dir, input);

    auto job = schedule::plan_job(o, storage, clock, logged.log());
    REQUIRE(job.ok());
    CHECK(job->plan.rows == 3);
    CHECK(job->plan.images == 6);
    CHECK(job->plan.images_to_run == 6);
    CHECK(job->plan.estimate > 0);
    CHECK(job->budget.ok());
    CHECK_FALSE(job->place.job_id.empty());
    CHECK(job->place.dir == dir.file("out/" + job->place.job_id));
    CHECK_FALSE(job->shard.has_value());
    REQUIRE(job->ledger != nullptr);
    CHECK((*job->preflight)["images"] == 6);
    CHECK((*job->preflight)["policy"] == "refuse");
    CHECK(job->spend.limit == 20'000'000);
    CHECK(job->spend.spent_before == 0);
    CHECK(logged.error.empty());
    // The same input and options plan the same job.
    auto o2 = plan_options(dir, input);
    auto again = schedule::plan_job(o2, storage, clock, logged.log());
    REQUIRE(again.ok());
    CHECK(again->place.job_id == job->place.job_id);

    CHECK(names_in(dir.path()) == std::vector<std::string>{"batch.csv"});
}

TEST_CASE("job plan: a shard plans only its rows", "[schedule][job_plan]") {
    test::TempDir dir;
    test::FakeClock clock;
    test::TestContext ctx(clock);
    const std::string input = dir.write("batch.csv", k_batch);
    Logged logged;
    const auth::Env env = auth::Env::from_map({});
    test::NoNetworkTransport no_network;
    storage::AnyStorage storage(env, no_network, clock, {});
    std::size_t images = 0;
    std::string job_id;
    for (int i = 0; i < 2; ++i) {
        auto o = plan_options(dir, input);
        o.shard = std::to_string(i) + "/2";
        auto job = schedule::plan_job(o, storage, clock, logged.log());
        REQUIRE(job.ok());
        REQUIRE(job->shard.has_value());
        CHECK(job->place.shard == std::to_string(i) + "-of-2");
        images += job->plan.images;
        // Every shard is the same job.
        CHECK((job_id.empty() || job_id == job->place.job_id));
        job_id = job->place.job_id;
    }
    CHECK(images == 6);
}

TEST_CASE("job plan: under \"refuse\" a day's budget too small refuses, with the pre-flight",
          "[schedule][job_plan]") {
    test::TempDir dir;
    test::FakeClock clock;
    test::TestContext ctx(clock);
    const std::string input = dir.write("batch.csv", k_batch);
    Logged logged;
    const auth::Env env = auth::Env::from_map({});
    test::NoNetworkTransport no_network;
    storage::AnyStorage storage(env, no_network, clock, {});
    auto o = plan_options(dir, input);
    o.daily_limit = 1;  // one micro-dollar

    auto job = schedule::plan_job(o, storage, clock, logged.log());
    REQUIRE(job.ok());  // the decision is a value of the plan
    CHECK(job->budget.code() == util::Code::budget_exceeded);
    CHECK(job->budget.message().find("Nothing was run") != std::string::npos);
    CHECK((*job->preflight)["limitUsd"] == 0.000001);
    CHECK((*job->preflight)["remainingUsd"] == 0.000001);
    CHECK(names_in(dir.path()) == std::vector<std::string>{"batch.csv"});

    // The session turns it into its error, having written nothing either.
    nlohmann::json preflight;
    std::atomic<int> stop{0};
    auto session = schedule::JobSession::prepare(plan_options(dir, input), ctx.get(), stop,
                                                 logged.log(), &preflight);
    CHECK(session.ok());  // the 20 dollar limit fits
    auto small = plan_options(dir, input);
    small.daily_limit = 1;
    auto refused = schedule::JobSession::prepare(small, ctx.get(), stop, logged.log(), &preflight);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == util::Code::budget_exceeded);
    CHECK(preflight["images"] == 6);
    CHECK(names_in(dir.path()) == std::vector<std::string>{"batch.csv"});

    // "partial" runs what fits: no refusal, a warning.
    auto partial = plan_options(dir, input);
    partial.daily_limit = 1;
    partial.budget_policy = budget::BudgetPolicy::partial;
    logged.warn.clear();
    auto fits = schedule::plan_job(partial, storage, clock, logged.log());
    REQUIRE(fits.ok());
    CHECK(fits->budget.ok());
    REQUIRE(logged.warn.size() == 1);
    CHECK(logged.warn[0].find("--budget-policy partial") != std::string::npos);
}

TEST_CASE("job plan: a bad row refuses the plan, named with its line", "[schedule][job_plan]") {
    test::TempDir dir;
    test::FakeClock clock;
    test::TestContext ctx(clock);
    const std::string input =
        dir.write("batch.csv", "scene_id,prompt,variants\nA-1,a red chair,2\nA-2,,9\n");
    Logged logged;
    const auth::Env env = auth::Env::from_map({});
    test::NoNetworkTransport no_network;
    storage::AnyStorage storage(env, no_network, clock, {});
    for (auto purpose : {schedule::PlanPurpose::run, schedule::PlanPurpose::merge}) {
        logged.error.clear();
        auto o = plan_options(dir, input);
        schedule::JobPlanRequest request;
        request.purpose = purpose;
        auto job = schedule::plan_job(o, storage, clock, logged.log(), request);
        REQUIRE_FALSE(job.ok());
        CHECK(job.status().code() == util::Code::invalid_input);
        REQUIRE_FALSE(logged.error.empty());
        CHECK(logged.error[0].find("batch.csv:3:") != std::string::npos);
    }
    CHECK(names_in(dir.path()) == std::vector<std::string>{"batch.csv"});
}

TEST_CASE("merge: two shards' runs become the job's manifest in input order, a torn line named",
          "[schedule][job_plan][merge]") {
    test::TempDir dir;
    test::FakeClock clock;
    test::TestContext ctx(clock);
    std::atomic<int> stop{0};
    const std::string input = dir.write("batch.csv", k_batch);
    Logged logged;
    std::string job_id;
    for (int i = 0; i < 2; ++i) {
        auto o = plan_options(dir, input);
        o.shard = std::to_string(i) + "/2";
        auto prepared = schedule::JobSession::prepare(o, ctx.get(), stop, logged.log());
        REQUIRE(prepared.ok());
        auto& session = **prepared;
        job_id = session.job_id();
        REQUIRE(session.open().ok());
        auto summary = session.execute({}, {}, {});
        REQUIRE(summary.ok());
        REQUIRE(session.finish(*summary).ok());
    }
    // A write cut short in shard 1's manifest: the line is reported by file and line, skipped.
    const std::string shard1 = "out/" + job_id + "/shards/1-of-2/manifest.jsonl";
    const std::string shard1_text = dir.read(shard1);
    const auto shard1_lines =
        static_cast<std::size_t>(std::count(shard1_text.begin(), shard1_text.end(), '\n'));
    dir.write(shard1, shard1_text + "{\"scene_id\":\"A-");

    // The check sees the unsharded place before anything is read or written.
    std::string checked;
    logged.warn.clear();
    auto merged = schedule::merge_shards(
        plan_options(dir, input), 2, ctx.get(), logged.log(),
        [&](const schedule::SessionOptions&, const schedule::JobPlace& place) {
            checked = place.dir;
            CHECK(place.shard.empty());
            return util::ok_status();
        });
    REQUIRE(merged.ok());
    CHECK(checked == dir.file("out/" + job_id));
    CHECK(merged->job_id == job_id);
    CHECK(merged->rows == 3);
    CHECK(merged->images == 6);
    CHECK(merged->images_present == 6);
    CHECK(merged->rows_missing == 0);
    REQUIRE(logged.warn.size() == 1);
    CHECK(logged.warn[0] == dir.file(shard1) + ":" + std::to_string(shard1_lines + 1) +
                                ": torn last line (a write was cut short)");

    // The job's manifest: each image once, in input order.
    const std::string text = dir.read("out/" + job_id + "/manifest.jsonl");
    std::vector<std::string> order;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t nl = text.find('\n', start);
        REQUIRE(nl != std::string::npos);
        auto line = nlohmann::json::parse(text.substr(start, nl - start));
        order.push_back(line["scene_id"].get<std::string>() + "/" +
                        std::to_string(line["variant"].get<int>()));
        start = nl + 1;
    }
    CHECK(order == std::vector<std::string>{"A-1/1", "A-1/2", "A-2/1", "A-3/1", "A-3/2", "A-3/3"});
    auto summary = nlohmann::json::parse(dir.read("out/" + job_id + "/summary.json"));
    CHECK(summary["merged"]["imagesPresent"] == 6);
}
