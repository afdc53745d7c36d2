#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "canary/report.hpp"

using namespace assetgen::canary;
using assetgen::util::to_micros;

namespace {

// A stage whose numbers are easy to check by eye: latencies 1..n ms at $0.039 an image.
StageReport stage(std::size_t index, int percent, std::uint64_t rows, std::uint64_t new_rows,
                  int images, std::uint64_t errors, const GateSettings& settings) {
    StageReport r;
    r.index = index;
    r.stage_count = 4;
    r.percent = percent;
    r.new_rows = new_rows;
    r.stats.rows = rows;
    for (int v = 1; v <= images; ++v) {
        r.stats.latency_ms.record(v * 10);
        ++r.stats.images;
        r.stats.cost += to_micros(0.039);
    }
    r.stats.errors = errors;
    if (errors > 0) {
        r.stats.errors_by_code["TIMEOUT"] = 1;
        r.stats.errors_by_code["MODEL_UNAVAILABLE"] = errors - 1;
    }
    r.evaluation = evaluate(r.stats, settings);
    return r;
}

GateSettings settings() {
    GateSettings s;
    s.max_p95_ms = 500;
    s.max_cost_per_image = 0.04;
    return s;
}

}  // namespace

TEST_CASE("canary: a stage renders as a line of numbers and a table of gates", "[canary]") {
    const StageReport s = stage(1, 25, 24, 13, 47, 2, settings());
    const std::string want =
        "stage 2/4 (25%): 24 rows (13 new), 47 images, 2 errors (MODEL_UNAVAILABLE 1, TIMEOUT 1)\n"
        "latency p50 240 ms, p95 450 ms, p99 470 ms; cost $0.039000 per image, $1.833000 in all\n"
        "gate                value       pass if  samples  verdict  detail\n"
        "error_rate          4.08%      <= 5.00%       49  pass     2 of 49 images failed\n"
        "p95_ms             450 ms     <= 500 ms       47  pass\n"
        "cost_per_image  $0.039000  <= $0.040000       47  pass     $1.833000 for 47 images\n"
        "stage 2/4 (25%): pass\n";
    CHECK(render_stage(s) == want);
}

TEST_CASE("canary: the final report names the gate that stopped it", "[canary]") {
    CanaryReport c;
    c.stages = {10, 25, 50, 100};
    c.batch_rows = 100;
    GateSettings tight = settings();
    tight.max_p95_ms = 300;
    c.add_stage(stage(0, 10, 8, 8, 15, 0, tight));
    CHECK(c.verdict == Verdict::inconclusive);  // 15 samples of 20, and stages remain
    c.add_stage(stage(1, 25, 31, 23, 60, 1, tight));
    CHECK(c.verdict == Verdict::fail);
    REQUIRE(c.failed_gate() != nullptr);
    CHECK(c.failed_gate()->name == "p95_ms");

    const std::string text = render_canary(c);
    CHECK(text ==
          "stage  share  rows  new  images  errors  error rate  p50 ms  p95 ms  p99 ms  per image  "
          "verdict\n"
          "1/4      10%     8    8      15       0       0.00%      80     150     150  $0.039000  "
          "inconclusive\n"
          "2/4      25%    31   23      60       1       1.64%     300     570     600  $0.039000  "
          "fail\n"
          "canary fail: 2 of 4 stages run; stopped by p95_ms (570 ms, pass if <= 300 ms); stages "
          "3-4 not run\n");

    const nlohmann::json j = to_json(c);
    CHECK(j["v"] == 1);
    CHECK(j["stages"] == nlohmann::json::parse("[10,25,50,100]"));
    CHECK(j["verdict"] == "fail");
    CHECK(j["failedGate"] == "p95_ms");
    CHECK(j["batchRows"] == 100);
    REQUIRE(j["results"].size() == 2);
    const auto& st = j["results"][1];
    CHECK(st["stage"] == 2);
    CHECK(st["stages"] == 4);
    CHECK(st["percent"] == 25);
    CHECK(st["rows"] == 31);
    CHECK(st["newRows"] == 23);
    CHECK(st["images"] == 60);
    CHECK(st["errors"] == 1);
    CHECK(st["errorsByCode"] == nlohmann::json::parse(R"({"TIMEOUT":1,"MODEL_UNAVAILABLE":0})"));
    CHECK(st["errorRate"].get<double>() == Approx(1.0 / 61.0));
    CHECK(st["latencyMs"] ==
          nlohmann::json::parse(R"({"count":60,"p50":300,"p95":570,"p99":600,"max":600})"));
    CHECK(st["costPerImageUsd"].get<double>() == Approx(0.039));
    CHECK(st["verdict"] == "fail");
    REQUIRE(st["gates"].size() == 3);
    CHECK(
        st["gates"][1] ==
        nlohmann::json::parse(
            R"({"name":"p95_ms","value":570.0,"limit":300.0,"samples":60,"verdict":"fail","detail":""})"));
}

TEST_CASE("canary: a canary that ran every stage ends with the last stage's verdict", "[canary]") {
    CanaryReport c;
    c.stages = {50, 100};
    c.add_stage(stage(0, 50, 10, 10, 10, 0, settings()));
    c.add_stage(stage(1, 100, 20, 10, 19, 0, settings()));
    CHECK(c.verdict == Verdict::inconclusive);
    CHECK(c.failed_gate() == nullptr);
    CHECK(render_canary(c).find("canary inconclusive: 2 of 2 stages run; not enough samples for "
                                "error_rate, p95_ms, cost_per_image\n") != std::string::npos);
    CHECK(to_json(c)["failedGate"].is_null());

    CanaryReport passed;
    passed.stages = {100};
    passed.rows_beyond = 0;
    passed.add_stage(stage(0, 100, 30, 30, 40, 0, settings()));
    CHECK(passed.verdict == Verdict::pass);
    CHECK(render_canary(passed).find("canary pass: 1 of 1 stages run\n") != std::string::npos);

    CanaryReport partial;
    partial.stages = {5, 20};
    partial.rows_beyond = 80;
    partial.add_stage(stage(0, 5, 5, 5, 25, 0, settings()));
    partial.add_stage(stage(1, 20, 20, 15, 45, 0, settings()));
    CHECK(partial.verdict == Verdict::pass);
    CHECK(render_canary(partial).find("; 80 rows beyond the last stage (20%) not run") !=
          std::string::npos);
}
