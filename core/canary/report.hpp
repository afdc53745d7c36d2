#pragma once
// The canary's report: after each stage, its rows, images, errors by code, latency percentiles,
// cost per image and every gate's value and verdict; at the end, one line per stage and the
// overall verdict. Rendered as aligned text tables for a terminal or as JSON for --json.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "canary/gates.hpp"

namespace assetgen::canary {

struct StageReport {
    std::size_t index = 0;        // 0-based
    std::size_t stage_count = 0;  // stages planned
    int percent = 0;              // the stage's share of the batch
    std::uint64_t new_rows = 0;   // rows this stage ran; stats covers earlier stages' too
    StageStats stats;             // every row run so far
    Evaluation evaluation;        // evaluate(stats, settings)
};

struct CanaryReport {
    std::vector<int> stages;        // the plan (--stages)
    std::string salt;               // --salt
    std::uint64_t batch_rows = 0;   // rows in the batch
    std::uint64_t rows_beyond = 0;  // rows in no stage (the last stage is below 100)
    std::vector<StageReport> stages_run;
    // After add_stage: fail as soon as a stage fails; the last stage's verdict once every stage
    // ran; inconclusive while stages remain.
    Verdict verdict = Verdict::inconclusive;

    // Appends a finished stage and updates verdict.
    void add_stage(StageReport stage);
    // The gate that stopped the canary; nullptr unless verdict is fail.
    const GateResult* failed_gate() const;
};

// "stage 2/4 (25%)": stage index (0-based) of count, taking percent of the batch.
std::string stage_label(std::size_t index, std::size_t count, int percent);

// One stage as text: a line of numbers, then a table of gates (name, value, pass condition,
// samples, verdict, detail), then "stage i/n: <verdict>". Every line ends in '\n'.
std::string render_stage(const StageReport& stage);
// The whole canary as text: a table with one row per stage run, then a line with the verdict
// and, when it failed, which gate stopped it and which stages did not run.
std::string render_canary(const CanaryReport& canary);

// {"stage":2,"stages":4,"percent":25,"rows":..,"newRows":..,"images":..,"imagesEarlier":..,
//  "errors":..,"errorsByCode":{..},"errorRate":..,"latencyMs":{"count","p50","p95","p99","max"},
//  "costUsd":..,"costPerImageUsd":..|null,"gates":[{"name","value","limit","samples","verdict",
//  "detail"}],"verdict":"pass"}
nlohmann::json to_json(const StageReport& stage);
// {"v":1,"stages":[10,25,50,100],"salt":"","batchRows":..,"rowsBeyondLastStage":..,
//  "verdict":"fail","failedGate":"p95_ms"|null,"results":[<stage>...]}
nlohmann::json to_json(const CanaryReport& canary);

}  // namespace assetgen::canary
