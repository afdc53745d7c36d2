// `assetgen canary`: run a stable subset of the batch in growing stages and stop at the first
// failing gate. The stages, gates and decision are core's (schedule/canary_run.hpp); this file
// reads the flags, prints the stages and the report, and maps the decision to the exit code.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "canary/gates.hpp"
#include "canary/report.hpp"
#include "canary/stages.hpp"
#include "commands.hpp"
#include "context/context.hpp"
#include "flag_checks.hpp"
#include "run_options.hpp"
#include "run_steps.hpp"
#include "schedule/canary_run.hpp"
#include "schedule/session.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace assetgen::cli {
namespace {

struct CanaryOptions {
    RunOptions run;
    std::string stages_text{canary::k_default_stages};
    std::string salt;
    canary::GateSettings gates;  // the gate flags; the baseline is read from `baseline`
    std::string baseline;
};

std::string stage_label(std::size_t i, const std::vector<int>& stages) {
    return canary::stage_label(i, stages.size(), stages[i]);
}

void print_report(const canary::CanaryReport& report, const std::string& job_id, bool json) {
    if (json) {
        auto j = canary::to_json(report);
        j["jobId"] = job_id;
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        std::cout << canary::render_canary(report) << std::flush;
    }
}

// What the operator sees while the stages run: a line and a progress bar per stage, failed
// rows, the stage's table of gates.
schedule::CanaryCallbacks stage_printer(const std::vector<int>& stages, const RunOptions& o,
                                        Console& console, AbandonedRequests& abandoned) {
    auto t0 = std::make_shared<std::chrono::steady_clock::time_point>();
    auto failed_shown = std::make_shared<int>(0);
    schedule::CanaryCallbacks c;
    c.stage_started = [&, t0](std::size_t i) {
        console.info(stage_label(i, stages) + ": running");
        *t0 = std::chrono::steady_clock::now();
    };
    c.on_row = [&, failed_shown](const schedule::RowResult& r) {
        report_failed_row(r, *failed_shown, console);
        abandoned.note(r);
    };
    c.on_progress = [&, t0](std::size_t i, const schedule::Progress& p) {
        console.progress(stage_label(i, stages) + " " + progress_line(p, *t0));
    };
    c.stage_ran = [&](std::size_t) { console.end_progress(); };
    c.stage_stopped = [&](std::size_t i, const report::Summary& s) {
        console.error(stage_label(i, stages) + ": stopped (" +
                      std::string(report::run_status_text(s.status)) +
                      (s.first_error.empty() ? "" : ": " + s.first_error) +
                      "); the gates were not evaluated");
    };
    c.stage_judged = [&](const canary::StageReport& stage, canary::Next) {
        if (!o.json) {
            std::cout << canary::render_stage(stage) << std::flush;
        }
    };
    return c;
}

ExitCode exit_code_of(const schedule::CanaryOutcome& outcome) {
    switch (outcome.decision) {
        case schedule::CanaryDecision::go:
            return ExitCode::ok;
        case schedule::CanaryDecision::no_go:
            return ExitCode::canary_failed;
        case schedule::CanaryDecision::stopped:
            return stop_exit_code(outcome.total).value_or(ExitCode::canary_inconclusive);
        case schedule::CanaryDecision::inconclusive:
        case schedule::CanaryDecision::error:
            break;
    }
    return ExitCode::canary_inconclusive;
}

// Where the records are, and what the decision means for the operator.
void say_decision(schedule::JobSession& session, const canary::CanaryReport& report, ExitCode code,
                  const AbandonedRequests& abandoned, const RunOptions& o, Console& console) {
    const auto& place = session.place();
    console.info("images:   " + place.dir + "/");
    console.info("manifest: " + place.published_manifest());
    console.info("summary:  " + storage::join(place.records, "summary.json") +
                 " (usable as --baseline)");
    console.info("ledger:   " + session.ledger_day_location());
    if (code == ExitCode::ok) {
        console.info("canary passed: `assetgen run` with the same input and options resumes job " +
                     session.job_id() + " and makes the rest");
    } else if (code == ExitCode::canary_failed) {
        const auto* gate = report.failed_gate();
        console.error("canary failed" +
                      (gate ? " at gate " + gate->name + ": " + gate->detail : std::string()));
    } else if (code == ExitCode::canary_inconclusive) {
        console.warn("canary inconclusive: too few samples for some gate (see --min-samples)");
    } else if (code == ExitCode::budget) {
        console.error("budget: the daily limit " + util::format_usd(session.budget_limit()) +
                      " was reached during the canary");
    } else if (code == ExitCode::interrupted_int || code == ExitCode::interrupted_term) {
        abandoned.report(console, o.grace_text);
        console.warn("interrupted: run the same command again to go on");
    }
}

ExitCode run_canary(CanaryOptions& co, Console& console, const context::Context& ctx) {
    RunOptions& o = co.run;
    console.set_quiet(o.quiet);
    // The flags: run options, stages, gates (a bad gate is a usage error naming its flag).
    TRY_EXIT(console, check_run_options(o, ctx));
    schedule::CanaryOptions canary{{}, co.salt, co.gates};
    TRY_ASSIGN_EXIT(console, canary.stages,
                    flag_value("--stages", canary::parse_stages(co.stages_text)));
    TRY_EXIT(console, check_location_flag("--baseline", co.baseline));
    if (auto checked = canary::check_settings(canary.gates); !checked.ok()) {
        return console.fail(util::error(util::Code::usage, checked.message()));
    }
    TRY_ASSIGN_EXIT(console, const std::string user, run_user(o));
    auto options = session_options(o, user);  // no stage or salt in it: `run` resumes the job
    TRY_EXIT(console, load_prices(o, options.prices));
    // The job, prepared (nothing written yet), its baseline, then opened.
    TRY_ASSIGN_EXIT(console, auto session,
                    prepare_session(std::move(options), ctx, o.json, console));
    TRY_ASSIGN_EXIT(console, canary.gates.baseline,
                    schedule::load_canary_baseline(co.baseline, session->storage()));
    TRY_EXIT(console, session->open());
    // The stages, each run, judged and recorded, until one decides.
    install_signal_handlers();
    start_grace_watchdog(o.grace);
    AbandonedRequests abandoned;
    auto outcome = schedule::run_canary_stages(*session, canary,
                                               stage_printer(canary.stages, o, console, abandoned));
    if (outcome.decision == schedule::CanaryDecision::error) {
        print_report(outcome.report, session->job_id(), o.json);
        return console.fail(outcome.error);
    }
    // The records, the report, and what the decision means.
    TRY_EXIT(console, schedule::finish_canary(*session, outcome));
    if (!o.json) {
        std::cout << "\n";
    }
    print_report(outcome.report, session->job_id(), o.json);
    const ExitCode code = exit_code_of(outcome);
    say_decision(*session, outcome.report, code, abandoned, o, console);
    return report_write_failures(*session, code, console);
}

}  // namespace

void register_canary(CLI::App& app, Action& action) {
    auto o = std::make_shared<CanaryOptions>();
    auto* sub = app.add_subcommand("canary",
                                   "run a stable subset of the batch in stages, checking gates "
                                   "after each (exit 4 at the first failure)");
    add_run_options(*sub, o->run);
    sub->add_option("--stages", o->stages_text,
                    "cumulative percentages of the batch, strictly increasing; rows are chosen by "
                    "SHA-256 of salt and scene_id")
        ->capture_default_str();
    sub->add_option("--salt", o->salt, "changes which rows each stage takes (default: none)");
    // Each gate's range is checked on the text as typed, so the message quotes it ("1", not
    // "1.000000") and says the fix; canary::check_settings keeps core's own guard.
    sub->add_option("--max-error-rate", o->gates.max_error_rate,
                    "gate: images that ended in an error / images attempted")
        ->capture_default_str()
        ->check(decimal([](double v) { return v >= 0.0 && v <= 1.0; },
                        "a fraction from 0 to 1 (e.g. 0.05 for 5%)"));
    sub->add_option("--max-p95-ms", o->gates.max_p95_ms,
                    "gate: 95th percentile latency of the images made, in ms")
        ->check(decimal([](double v) { return v > 0.0; },
                        "a number of milliseconds above 0 (e.g. 20000)"));
    sub->add_option("--max-cost-per-image", o->gates.max_cost_per_image,
                    "gate: actual cost per image made, in USD")
        ->check(money());
    sub->add_option("--min-samples", o->gates.min_samples,
                    "a gate with fewer images is inconclusive, never passed")
        ->capture_default_str()
        // 0 would read as "judge with no images", yet a gate with none is always inconclusive:
        // it meant the same as 1, so it is refused rather than silently treated as 1.
        ->check(whole_number(1, 1'000'000'000));
    sub->add_option(
        "--baseline", o->baseline,
        "summary.json of an earlier run (path or gs://): latency and error rate must not be worse");
    sub->add_option("--confidence", o->gates.confidence,
                    "for the baseline tests: a gate fails when p < 1 - confidence")
        ->capture_default_str()
        ->check(decimal([](double v) { return v >= 0.5 && v < 1.0; },
                        "at least 0.5 and below 1 (e.g. 0.95)"));
    sub->footer(
        "Examples:\n"
        "  assetgen canary batch.csv --mode live                     # 10%, 25%, 50%, 100% with "
        "gates\n"
        "  assetgen canary batch.csv --stages 5,20 --max-p95-ms 20000 --max-cost-per-image 0.05\n"
        "  assetgen canary batch.csv --baseline out/<job>/summary.json --json\n"
        "The canary is the same job as `run` with the same options: after a passing canary (or a\n"
        "partial one, --stages 10), `assetgen run` resumes it and makes only the rest.\n"
        "Exit codes: 0 every gate passed, 4 a gate failed (later stages did not run), 5 "
        "inconclusive\n"
        "(too few samples), 3 budget, 69 upstream unavailable, 77 auth, 130/143 interrupted.");
    sub->callback([o, &action] {
        action = [o](Console& c, const context::Context& ctx) { return run_canary(*o, c, ctx); };
    });
}

}  // namespace assetgen::cli
