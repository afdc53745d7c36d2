#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "canary/gates.hpp"
#include "report/summary.hpp"

using namespace assetgen::canary;
using assetgen::report::Summary;
using assetgen::util::to_micros;

namespace {

// A stage's runner summary: `images` made around `latency_ms` (+-20% jitter from a fixed
// seed) at $0.039 each, and `errors` failed images.
Summary stage_summary(std::uint64_t rows, std::uint64_t images, std::uint64_t errors,
                      double latency_ms, std::uint64_t seed) {
    Summary s;
    s.rows = rows;
    s.images_generated = images;
    s.errors = errors;
    if (errors > 0) {
        s.errors_by_code["MODEL_UNAVAILABLE"] = errors;
    }
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    for (std::uint64_t i = 0; i < images; ++i) {
        s.latency_ms.record(std::llround(latency_ms * jitter(rng)));
    }
    s.actual_cost = to_micros(0.039) * static_cast<std::int64_t>(images);
    return s;
}

StageStats stats_of(const Summary& s) {
    StageStats st;
    st.add(s);
    return st;
}

const GateResult& gate(const Evaluation& e, const std::string& name) {
    for (const auto& g : e.gates) {
        if (g.name == name) {
            return g;
        }
    }
    static const GateResult k_none;
    FAIL("no gate " << name);
    return k_none;
}

}  // namespace

TEST_CASE("canary: gate settings default to the issue's numbers and check their ranges",
          "[canary]") {
    GateSettings s;
    CHECK(s.max_error_rate == 0.05);
    CHECK(s.confidence == 0.98);
    CHECK(s.alpha() == Approx(0.02));
    CHECK(s.min_samples == 20);
    CHECK_FALSE(s.max_p95_ms);
    CHECK_FALSE(s.max_cost_per_image);
    CHECK_FALSE(s.baseline);
    CHECK(check_settings(s).ok());

    auto message = [](GateSettings g) { return check_settings(g).message(); };
    GateSettings bad;
    bad.max_error_rate = 1.5;
    CHECK(message(bad) == "--max-error-rate: \"1.500000\" is not between 0 and 1");
    bad = GateSettings{};
    bad.confidence = 1.0;
    CHECK(message(bad).rfind("--confidence: \"1.000000\" is not between 0.5 and 1", 0) == 0);
    bad = GateSettings{};
    bad.max_p95_ms = 0;
    CHECK(message(bad).rfind("--max-p95-ms:", 0) == 0);
    bad = GateSettings{};
    bad.max_cost_per_image = -0.01;
    CHECK(message(bad).rfind("--max-cost-per-image:", 0) == 0);
}

TEST_CASE("canary: stage stats add up the runner's summaries and earlier images", "[canary]") {
    StageStats st;
    st.add(stage_summary(10, 19, 1, 100, 1));
    st.add(stage_summary(15, 30, 2, 100, 2));
    st.add_earlier_image(120, to_micros(0.039));
    CHECK(st.rows == 25);
    CHECK(st.images == 50);
    CHECK(st.earlier == 1);
    CHECK(st.errors == 3);
    CHECK(st.errors_by_code.at("MODEL_UNAVAILABLE") == 3);
    CHECK(st.attempted() == 53);
    CHECK(st.latency_ms.count() == 50);
    CHECK(st.cost == to_micros(0.039) * 50);
    CHECK(st.error_rate() == Approx(3.0 / 53.0));
    CHECK(*st.cost_per_image() == Approx(0.039));
    StageStats empty;
    CHECK(empty.error_rate() == 0.0);
    CHECK_FALSE(empty.cost_per_image());
}

TEST_CASE("canary: the error-rate gate passes, fails, or waits for samples", "[canary]") {
    GateSettings s;
    SECTION("3 errors in 103 images passes 5%") {
        auto e = evaluate(stats_of(stage_summary(60, 100, 3, 100, 1)), s);
        REQUIRE(e.gates.size() == 1);
        const auto& g = e.gates[0];
        CHECK(g.name == "error_rate");
        CHECK(g.value == Approx(3.0 / 103.0));
        CHECK(g.limit == 0.05);
        CHECK(g.samples == 103);
        CHECK(g.verdict == Verdict::pass);
        CHECK(g.detail == "3 of 103 images failed");
        CHECK(e.verdict == Verdict::pass);
        CHECK(e.first_failed() == nullptr);
    }
    SECTION("exactly at the limit passes; above fails") {
        CHECK(evaluate(stats_of(stage_summary(50, 95, 5, 100, 1)), s).verdict == Verdict::pass);
        auto e = evaluate(stats_of(stage_summary(50, 94, 6, 100, 1)), s);
        CHECK(e.verdict == Verdict::fail);
        REQUIRE(e.first_failed() != nullptr);
        CHECK(e.first_failed()->name == "error_rate");
    }
    SECTION("below --min-samples the verdict is inconclusive, even at 100% errors") {
        auto e = evaluate(stats_of(stage_summary(5, 0, 10, 100, 1)), s);
        CHECK(e.gates[0].value == 1.0);
        CHECK(e.gates[0].verdict == Verdict::inconclusive);
        CHECK(e.gates[0].detail == "10 sample(s), 20 needed; 10 of 10 images failed");
        CHECK(e.verdict == Verdict::inconclusive);
    }
    SECTION("no samples at all is inconclusive even with --min-samples 0") {
        s.min_samples = 0;
        auto e = evaluate(StageStats{}, s);
        CHECK(e.verdict == Verdict::inconclusive);
        CHECK(e.gates[0].detail.rfind("0 sample(s), 1 needed", 0) == 0);
    }
}

TEST_CASE("canary: p95 and cost-per-image gates", "[canary]") {
    StageStats st;
    for (int v = 1; v <= 100; ++v) {
        st.add_earlier_image(v, to_micros(0.039));
    }
    GateSettings s;
    s.max_p95_ms = 95;
    s.max_cost_per_image = 0.039;
    auto e = evaluate(st, s);
    REQUIRE(e.gates.size() == 3);
    CHECK(e.gates[1].name == "p95_ms");
    CHECK(e.gates[1].value == 95);
    CHECK(e.gates[1].verdict == Verdict::pass);
    CHECK(e.gates[2].name == "cost_per_image");
    CHECK(e.gates[2].value == Approx(0.039));
    CHECK(e.gates[2].verdict == Verdict::pass);  // equal to the limit, to the micro-dollar
    CHECK(e.gates[2].detail == "$3.900000 for 100 images");
    CHECK(e.verdict == Verdict::pass);

    s.max_p95_ms = 94;
    s.max_cost_per_image = 0.03;
    e = evaluate(st, s);
    CHECK(gate(e, "p95_ms").verdict == Verdict::fail);
    CHECK(gate(e, "cost_per_image").verdict == Verdict::fail);
    CHECK(e.first_failed()->name == "p95_ms");

    // Every image failed: no latency and no cost per image; those gates wait, the error rate fails.
    auto failed = evaluate(stats_of(stage_summary(30, 0, 40, 100, 1)), s);
    CHECK(gate(failed, "p95_ms").verdict == Verdict::inconclusive);
    CHECK(gate(failed, "cost_per_image").verdict == Verdict::inconclusive);
    CHECK(gate(failed, "error_rate").verdict == Verdict::fail);
    CHECK(failed.verdict == Verdict::fail);  // a failure outranks inconclusive gates
}

TEST_CASE("canary: a baseline comparison finds a latency regression and passes an unchanged run",
          "[canary]") {
    GateSettings s;
    s.baseline = baseline_from_summary(stage_summary(100, 199, 1, 100, 42), "base/summary.json");

    SECTION("200 ms against a 100 ms baseline fails latency_vs_baseline") {
        auto e = evaluate(stats_of(stage_summary(20, 40, 0, 200, 7)), s);
        const auto& g = gate(e, "latency_vs_baseline");
        CHECK(g.verdict == Verdict::fail);
        CHECK(g.value < 1e-9);
        CHECK(g.limit == Approx(0.02));
        CHECK(g.samples == 40);
        INFO(g.detail);
        // e.g. "p50 195 ms vs 99 ms in base/summary.json (x1.97), P(canary slower) 1.00,
        // Mann-Whitney p <1e-6"
        CHECK(g.detail.find(" ms in base/summary.json (x") != std::string::npos);
        CHECK(g.detail.find("Mann-Whitney p <1e-6") != std::string::npos);
        CHECK(g.detail.find("P(canary slower) 1.00") != std::string::npos);
        CHECK(gate(e, "error_rate_vs_baseline").verdict == Verdict::pass);
        CHECK(e.verdict == Verdict::fail);
        CHECK(e.first_failed()->name == "latency_vs_baseline");
    }
    SECTION("the same configuration again (other seed) passes") {
        auto e = evaluate(stats_of(stage_summary(20, 40, 0, 100, 8)), s);
        CHECK(gate(e, "latency_vs_baseline").verdict == Verdict::pass);
        CHECK(gate(e, "latency_vs_baseline").value >= 0.02);
        CHECK(gate(e, "error_rate_vs_baseline").verdict == Verdict::pass);
        CHECK(e.verdict == Verdict::pass);
    }
    SECTION("a higher error rate than the baseline fails error_rate_vs_baseline") {
        s.max_error_rate = 0.5;  // the fixed limit alone would let it through
        auto e = evaluate(stats_of(stage_summary(40, 72, 8, 100, 9)), s);
        const auto& g = gate(e, "error_rate_vs_baseline");
        CHECK(g.verdict == Verdict::fail);
        CHECK(g.detail.rfind("10.00% vs 0.50% in base/summary.json, Fisher exact p ", 0) == 0);
        CHECK(gate(e, "error_rate").verdict == Verdict::pass);
        CHECK(e.verdict == Verdict::fail);
    }
    SECTION("a stricter confidence lets a borderline regression pass") {
        // 45/100 vs 30/100 errors: one-sided p = 0.0142.
        s.max_error_rate = 1.0;
        Summary base;
        base.images_generated = 70;
        base.errors = 30;
        s.baseline = baseline_from_summary(base, "b.json");
        Summary canary;
        canary.images_generated = 55;
        canary.errors = 45;
        CHECK(gate(evaluate(stats_of(canary), s), "error_rate_vs_baseline").verdict ==
              Verdict::fail);
        s.confidence = 0.99;
        CHECK(gate(evaluate(stats_of(canary), s), "error_rate_vs_baseline").verdict ==
              Verdict::pass);
    }
    SECTION("too few canary samples: inconclusive") {
        auto e = evaluate(stats_of(stage_summary(5, 10, 0, 200, 10)), s);
        CHECK(gate(e, "latency_vs_baseline").verdict == Verdict::inconclusive);
        CHECK(e.verdict == Verdict::inconclusive);
    }
}

TEST_CASE("canary: a baseline is read from an earlier run's summary.json", "[canary]") {
    Summary earlier = stage_summary(100, 199, 3, 100, 1);
    const std::string text = assetgen::report::to_json(earlier).dump(2);
    auto b = baseline_from_json(text, "base/summary.json");
    REQUIRE(b.ok());
    CHECK(b->source == "base/summary.json");
    CHECK(b->images == 199);
    CHECK(b->errors == 3);
    CHECK(b->attempted() == 202);
    CHECK(b->latency_ms.count() == 199);
    CHECK(b->latency_ms.exact());
    for (double p : {1.0, 50.0, 95.0, 99.0}) {
        CHECK(b->latency_ms.percentile(p) == earlier.latency_ms.percentile(p));
    }

    auto not_json = baseline_from_json("{oops", "b.json");
    REQUIRE_FALSE(not_json.ok());
    CHECK(not_json.status().message() ==
          "b.json: not JSON (give the summary.json of an earlier run)");
    auto not_summary = baseline_from_json(R"({"v":1,"errors":0})", "b.json");
    REQUIRE_FALSE(not_summary.ok());
    CHECK(not_summary.status().message() == "b.json: imagesGenerated: missing");
}

TEST_CASE("canary: after a stage, fail stops, inconclusive goes on, the last stage decides",
          "[canary]") {
    CHECK(next_step(Verdict::fail, false) == Next::stop_failed);
    CHECK(next_step(Verdict::fail, true) == Next::stop_failed);
    CHECK(next_step(Verdict::inconclusive, false) == Next::next_stage);
    CHECK(next_step(Verdict::pass, false) == Next::next_stage);
    CHECK(next_step(Verdict::pass, true) == Next::finish_pass);
    CHECK(next_step(Verdict::inconclusive, true) == Next::finish_inconclusive);
    CHECK(verdict_name(Verdict::pass) == "pass");
    CHECK(verdict_name(Verdict::fail) == "fail");
    CHECK(verdict_name(Verdict::inconclusive) == "inconclusive");
}
