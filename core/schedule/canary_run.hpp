#pragma once
// The canary's stage driver: a stable subset of the batch run in growing stages through one
// opened JobSession, the gates judged after each stage, stopped at the first failing gate.
//
// How this works. The canary is one job, the same job `run` would make of the batch (the job id
// does not depend on the stages or the salt), so `run` after a passing canary resumes it and
// makes only the rest. The session is prepared and opened once by the caller; then each stage i
// executes the rows whose canary::stage_of(scene_id) is i (the rows of earlier stages are
// already done), adds the stage's summary to the numbers of every row run so far, and evaluates
// the gates on them. A failing gate stops the canary (no_go); an inconclusive stage goes on; the
// last stage decides (go or inconclusive). A stage the run stopped within (a signal, the budget,
// a quota, the credentials) ends the canary before its gates are judged. Images a previous run
// of the job made are counted from the job's manifest, so a re-run of a stopped canary judges the
// same sample the first one did.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "canary/gates.hpp"
#include "canary/report.hpp"
#include "report/summary.hpp"
#include "schedule/outcome.hpp"
#include "schedule/session.hpp"
#include "storage/storage.hpp"

namespace assetgen::schedule {

struct CanaryOptions {
    std::vector<int> stages;     // canary::parse_stages (--stages)
    std::string salt;            // --salt
    canary::GateSettings gates;  // checked (canary::check_settings), baseline loaded
};

// How the canary ended.
enum class CanaryDecision {
    go,            // every stage ran; the last one passed every gate
    no_go,         // a gate failed; later stages did not run
    inconclusive,  // every stage ran; some gate had too few samples at the last one
    stopped,       // the run stopped within a stage (see stopped_by); its gates were not judged
    error,         // a stage could not run (see error); the records are not finished
};

// What the driver tells its caller while it runs. Any may be empty. None is called while the
// driver holds a lock; on_row and on_progress come from the runner (see Runner::run).
struct CanaryCallbacks {
    // Stage `index` (0-based) is about to execute.
    std::function<void(std::size_t index)> stage_started;
    std::function<void(const RowResult&)> on_row;
    std::function<void(std::size_t index, const Progress&)> on_progress;
    // Stage `index` executed (also when it failed or stopped).
    std::function<void(std::size_t index)> stage_ran;
    // The run stopped within stage `index`; summary is the stage's (status, first_error).
    std::function<void(std::size_t index, const report::Summary& summary)> stage_stopped;
    // A judged stage and what comes next, before it is emitted as the "canary_stage" event.
    std::function<void(const canary::StageReport& stage, canary::Next next)> stage_judged;
};

struct CanaryOutcome {
    CanaryDecision decision = CanaryDecision::inconclusive;
    canary::CanaryReport report;       // the plan and every judged stage; rows_beyond filled in
    report::Summary total;             // every executed stage's summary added up
    std::optional<RunEnd> stopped_by;  // decision stopped: how the stage's run ended
    util::Status error;                // decision error: why the stage could not run
};

// The RunEnd of a stage that ends the canary before its gates are judged: interrupted, budget,
// upstream, quota and auth stops. ok, failed and error let the gates judge the stage.
bool stops_canary(RunEnd end);

// `--baseline`: an earlier run's summary.json read through storage (a path or gs://); nullopt
// for an empty location. Errors name the flag: `--baseline: ...`.
util::Result<std::optional<canary::Baseline>> load_canary_baseline(const std::string& location,
                                                                   storage::Storage& storage);

// Runs the stages on an opened session, each judged and recorded (the "canary_stage" event,
// the report). Never throws; a stage that cannot run ends it with decision error.
CanaryOutcome run_canary_stages(JobSession& session, const CanaryOptions& options,
                                const CanaryCallbacks& callbacks);

// Writes the canary's records (JobSession::finish with the stages' total and the images an
// earlier run made). Not for decision error.
util::Status finish_canary(JobSession& session, const CanaryOutcome& outcome);

}  // namespace assetgen::schedule
