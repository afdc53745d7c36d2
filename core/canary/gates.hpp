#pragma once
// The canary's gates: after each stage, the numbers of every row run so far are checked against
// fixed limits (error rate, p95 latency, cost per image) and, with a baseline from an earlier
// run, against that run (latency by Mann–Whitney U, error rate by a two-proportion test). A gate
// with fewer samples than --min-samples is inconclusive, never passed.
//
// Each stage tests the growing sample again, so an unchanged configuration fails some stage more
// often than alpha: simulated with 199 images a side, stages 10,25,50,100 and alpha 0.02, about
// 3.7% of canaries against 1.8% for one look at the end. --confidence 0.99 brings it back to
// about 2%.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/histogram.hpp"
#include "report/summary.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::canary {

enum class Verdict { pass, fail, inconclusive };

// "pass", "fail", "inconclusive".
std::string_view verdict_name(Verdict verdict);

// What an earlier run did, from its summary.json: what the comparison gates need.
struct Baseline {
    std::string source;            // where it came from, for messages ("base/summary.json")
    report::Histogram latency_ms;  // successful requests
    std::uint64_t images = 0;      // images generated
    std::uint64_t errors = 0;      // images that ended in an error
    std::uint64_t attempted() const { return images + errors; }
};

// The baseline parts of a summary.
Baseline baseline_from_summary(const report::Summary& summary, std::string source);
// Parses summary.json text (what `run` and `canary` write to <out>/<job>/summary.json).
// INVALID_INPUT `<source>: ...` when it is not JSON or not a summary (report::summary_from_json).
util::Result<Baseline> baseline_from_json(std::string_view text, const std::string& source);

struct GateSettings {
    double max_error_rate = 0.05;              // --max-error-rate: errors / attempted images
    std::optional<double> max_p95_ms;          // --max-p95-ms
    std::optional<double> max_cost_per_image;  // --max-cost-per-image, in USD
    std::uint64_t min_samples = 20;            // --min-samples
    std::optional<Baseline> baseline;          // --baseline
    double confidence = 0.98;                  // --confidence: alpha = 1 - confidence
    double alpha() const { return 1.0 - confidence; }
};

// Checks the settings' ranges; INVALID_INPUT naming the flag, e.g.
// `--max-error-rate: "1.5" is not between 0 and 1`.
util::Status check_settings(const GateSettings& settings);

// The numbers of every row run so far (all stages up to the current one).
struct StageStats {
    std::uint64_t rows = 0;     // rows run
    std::uint64_t images = 0;   // images made, with a latency (earlier ones included)
    std::uint64_t earlier = 0;  // of those, made by an earlier run of the job (resume)
    std::uint64_t errors = 0;   // images that ended in an error
    std::map<std::string, std::uint64_t> errors_by_code;
    report::Histogram latency_ms;  // one sample per image made
    util::Micros cost = 0;         // actual cost, failed but paid requests included

    // Adds what the runner reports for one stage's rows.
    void add(const report::Summary& stage);
    // Adds an image an earlier run of the job made (a resumed canary skips it), from its
    // manifest line, so that a re-run reaches the verdict the first run would have.
    void add_earlier_image(std::int64_t latency_ms, util::Micros cost);

    std::uint64_t attempted() const { return images + errors; }
    // errors / attempted; 0 when nothing was attempted.
    double error_rate() const;
    // cost / images in USD; std::nullopt when no image was made.
    std::optional<double> cost_per_image() const;
};

// One gate's outcome. value and limit are in the gate's unit: a rate (error_rate), ms (p95_ms),
// USD (cost_per_image), or, for the baseline gates, the p-value against alpha.
struct GateResult {
    std::string name;  // "error_rate", "p95_ms", "cost_per_image", "latency_vs_baseline",
                       // "error_rate_vs_baseline"
    double value = 0;
    double limit = 0;
    std::uint64_t samples = 0;  // what min_samples was compared with
    Verdict verdict = Verdict::inconclusive;
    std::string detail;  // why, in words: "p50 201 ms vs 100 ms in base.json (×2.01), ..."
};

struct Evaluation {
    std::vector<GateResult> gates;  // in the order above; gates without a limit are left out
    Verdict verdict = Verdict::inconclusive;  // fail if any gate fails, else inconclusive if
                                              // any is, else pass
    // The first failing gate; nullptr when none failed.
    const GateResult* first_failed() const;
};

// Checks stats against every configured gate. Never fails; a gate without samples is
// inconclusive.
Evaluation evaluate(const StageStats& stats, const GateSettings& settings);

// What the driver does after a stage: stop at the first failure (exit 4), go on while stages
// remain (an inconclusive stage does not stop the canary: later stages bring more samples), and
// after the last one finish with its verdict (pass: exit 0, inconclusive: exit 5).
enum class Next { next_stage, stop_failed, finish_pass, finish_inconclusive };
Next next_step(Verdict verdict, bool last_stage);

}  // namespace assetgen::canary
