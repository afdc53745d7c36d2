#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "report/summary.hpp"

using assetgen::report::merge_into;
using assetgen::report::Summary;
using assetgen::report::summary_from_json;
using assetgen::report::to_json;
using assetgen::util::to_micros;

namespace {

Summary full_summary(std::size_t latencies) {
    Summary s;
    s.job_id = "job-1";
    s.mode = "dry_run";
    s.model = "gemini-2.5-flash-image";
    s.user = "ops";
    s.status = assetgen::report::RunStatus::failed;
    s.started_ms = 1'764'000'000'123;
    s.finished_ms = 1'764'000'061'456;
    s.rows = 100;
    s.rows_ok = 97;
    s.rows_failed = 3;
    s.images_planned = 199;
    s.images_generated = 190;
    s.images_skipped = 5;
    s.requests = 210;
    s.retries = 16;
    s.errors = 4;
    s.errors_by_code = {{"MODEL_UNAVAILABLE", 3}, {"BLOCKED", 1}};
    std::mt19937_64 rng(3);
    std::lognormal_distribution<double> d(std::log(900.0), 0.6);
    for (std::size_t i = 0; i < latencies; ++i) {
        s.latency_ms.record(std::llround(d(rng)));
    }
    s.wall_seconds = 61.333;
    s.estimated_cost = to_micros(7.41);
    s.actual_cost = to_micros(7.410001);
    s.budget_limit = to_micros(10);
    s.budget_spent_before = to_micros(1.25);
    s.refs_named = 40;
    s.refs_fetched = 12;
    s.refs_cache_hits = 3;
    s.refs_deduplicated = 20;
    s.refs_bytes_fetched = 1'234'567;
    s.refs_dropped_by_cap = 2;
    s.refs_failed = 1;
    s.url_refreshes = 4;
    s.circuit_opens = 1;
    s.first_error = "auth: no key";
    return s;
}

std::string message_of(const char* text) {
    auto r = summary_from_json(nlohmann::json::parse(text), "b.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == assetgen::util::Code::invalid_input);
    return r.status().message();
}

}  // namespace

TEST_CASE("report: a summary reads back what it wrote, histogram and counts included", "[report]") {
    for (std::size_t n : {std::size_t{0}, std::size_t{190}, std::size_t{6'000}}) {
        INFO(n << " latencies");
        const Summary s = full_summary(n);
        const nlohmann::json j = to_json(s);
        CHECK(j["latencyHistogram"]["count"] == n);
        CHECK(j["refs"]["named"] == 40);
        auto back = summary_from_json(nlohmann::json::parse(j.dump()), "summary.json");
        REQUIRE(back.ok());
        CHECK(back->started_ms == s.started_ms);
        CHECK(back->finished_ms == s.finished_ms);
        CHECK(back->images_generated == 190);
        CHECK(back->errors == 4);
        CHECK(back->errors_by_code == s.errors_by_code);
        CHECK(back->actual_cost == s.actual_cost);
        CHECK(back->latency_ms.count() == n);
        CHECK(back->latency_ms.percentile(95) == s.latency_ms.percentile(95));
        CHECK(to_json(*back) == j);
    }
}

TEST_CASE("report: a file that is not a summary is refused with the field at fault", "[report]") {
    CHECK(message_of("[]") == "b.json: not a JSON object (a summary.json)");
    CHECK(message_of(R"({"imagesGenerated":1})") ==
          "b.json: v: \"\" is not a summary version this assetgen reads (1)");
    CHECK(message_of(R"({"v":2})") ==
          "b.json: v: \"2\" is not a summary version this assetgen reads (1)");
    CHECK(message_of(R"({"v":1,"errors":0,"latencyHistogram":{"buckets":[]}})") ==
          "b.json: imagesGenerated: missing");
    CHECK(message_of(
              R"({"v":1,"imagesGenerated":-1,"errors":0,"latencyHistogram":{"buckets":[]}})") ==
          "b.json: imagesGenerated: not a whole number");
    CHECK(message_of(
              R"({"v":1,"imagesGenerated":1,"errors":"2","latencyHistogram":{"buckets":[]}})") ==
          "b.json: errors: not a whole number");
    CHECK(message_of(R"({"v":1,"imagesGenerated":1,"errors":0})") ==
          "b.json: latencyHistogram: missing");
    CHECK(message_of(R"({"v":1,"imagesGenerated":1,"errors":0,"latencyHistogram":[]})") ==
          "b.json: latencyHistogram: not a histogram ({\"count\":..,\"buckets\":[..]})");
    CHECK(message_of(R"({"v":1,"imagesGenerated":1,"errors":0,
                         "latencyHistogram":{"count":3,"buckets":[[100,2]]}})") ==
          "b.json: latencyHistogram: count 3 does not match its buckets (2)");
    CHECK(message_of(R"({"v":1,"imagesGenerated":1,"errors":1,"latencyHistogram":{"buckets":[]},
                         "errorsByCode":{"TIMEOUT":"x"}})") ==
          "b.json: errorsByCode: TIMEOUT: not a whole number");
    CHECK(message_of(R"({"v":1,"imagesGenerated":1,"errors":1,"latencyHistogram":{"buckets":[]},
                         "started":"yesterday"})") ==
          "b.json: started: \"yesterday\" is not a UTC timestamp");

    // The least a baseline needs.
    auto minimal = summary_from_json(nlohmann::json::parse(R"({"v":1,"imagesGenerated":2,"errors":0,
                                  "latencyHistogram":{"buckets":[[100,1],[120,1]],"exact":true}})"),
                                     "b.json");
    REQUIRE(minimal.ok());
    CHECK(minimal->latency_ms.percentile(100) == 120);
    CHECK_FALSE(minimal->status.has_value());
}

TEST_CASE("report: summaries of parts merge into the summary of the whole", "[report]") {
    Summary a = full_summary(100);
    Summary b = full_summary(5'000);
    b.started_ms = a.finished_ms + 10;
    b.finished_ms = b.started_ms + 30'000;
    b.budget_spent_before = a.budget_spent_before + a.actual_cost;
    b.status = assetgen::report::RunStatus::ok;
    b.first_error.clear();
    Summary total;
    merge_into(total, a);
    merge_into(total, b);
    CHECK(total.job_id == "job-1");
    CHECK(total.status == assetgen::report::RunStatus::ok);
    CHECK(total.first_error == "auth: no key");
    CHECK(total.started_ms == a.started_ms);
    CHECK(total.finished_ms == b.finished_ms);
    CHECK(total.rows == 200);
    CHECK(total.images_generated == 380);
    CHECK(total.errors == 8);
    CHECK(total.errors_by_code.at("MODEL_UNAVAILABLE") == 6);
    CHECK(total.latency_ms.count() == 5'100);
    CHECK(total.actual_cost == 2 * a.actual_cost);
    CHECK(total.budget_spent_before == a.budget_spent_before);
    CHECK(total.refs_named == 80);
    CHECK(total.wall_seconds == Approx(2 * 61.333));
    // The merged summary still reads back as a baseline.
    auto back = summary_from_json(to_json(total), "total.json");
    REQUIRE(back.ok());
    CHECK(back->latency_ms.percentile(99) == total.latency_ms.percentile(99));
}

TEST_CASE("report: the run status is written by its name, \"\" while unset, and read back",
          "[report][run_status]") {
    using assetgen::report::RunStatus;
    for (RunStatus st : {RunStatus::ok, RunStatus::failed, RunStatus::interrupted,
                         RunStatus::budget_exceeded, RunStatus::upstream_unavailable,
                         RunStatus::auth_failed, RunStatus::error, RunStatus::quota_daily,
                         RunStatus::spend_cap, RunStatus::billing_cap, RunStatus::pending}) {
        Summary s = full_summary(3);
        s.status = st;
        const nlohmann::json j = to_json(s);
        CHECK(j["status"] == std::string(assetgen::report::run_status_name(st)));
        auto back = summary_from_json(j, "summary.json");
        REQUIRE(back.ok());
        CHECK(back->status == st);
    }
    CHECK(to_json(full_summary(3))["status"] == "failed");  // the bytes summary.json always had
    Summary unset = full_summary(3);
    unset.status.reset();
    CHECK(to_json(unset)["status"] == "");
    // A status this build does not know (a newer one's summary as a baseline) is not refused.
    nlohmann::json newer = to_json(full_summary(3));
    newer["status"] = "paused";
    auto read = summary_from_json(newer, "b.json");
    REQUIRE(read.ok());
    CHECK_FALSE(read->status.has_value());
}

TEST_CASE("report: a batch run's summary names its pending batches and the money they hold",
          "[report][batch]") {
    CHECK_FALSE(to_json(full_summary(1)).contains("batch"));  // a synchronous run: no block
    Summary s = full_summary(1);
    s.status = assetgen::report::RunStatus::pending;
    Summary::Batches b;
    b.pending.push_back({"assetgen-j-c1", "RUNNING", 500, 12, to_micros(0.5)});
    b.pending.push_back({"assetgen-j-c2", "PENDING", 3, 0, to_micros(0.25)});
    b.reserved_pending = to_micros(0.75);
    b.rows_pending = 400;
    b.chunks_created = 1;
    s.batch = b;
    const nlohmann::json j = to_json(s);
    CHECK(j["status"] == "pending");
    REQUIRE(j["batch"]["pending"].size() == 2);
    CHECK(j["batch"]["pending"][0]["name"] == "assetgen-j-c1");
    CHECK(j["batch"]["pending"][0]["state"] == "RUNNING");
    CHECK(j["batch"]["pending"][0]["requests"] == 500);
    CHECK(j["batch"]["pending"][0]["done"] == 12);
    CHECK(j["batch"]["pending"][1]["reservedUsd"] == 0.25);
    CHECK(j["batch"]["reservedPendingUsd"] == 0.75);
    CHECK(j["batch"]["rowsPending"] == 400);
    CHECK(j["batch"]["chunksCreated"] == 1);
    // It reads back as a summary (a baseline), the batch block left aside.
    CHECK(summary_from_json(j, "summary.json").ok());
}
