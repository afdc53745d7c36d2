// `assetgen canary`: run a stable subset of the batch in growing stages and stop at the first
// failing gate.
//
// How this works. The canary is one job, the same job `run` would make of the batch (the job id
// does not depend on --stages or --salt), so `run` after a passing canary resumes it and makes
// only the rest. The session is prepared and opened once; then each stage i executes the rows
// whose canary::stage_of(scene_id) is i (the rows of earlier stages are already done), adds the
// stage's summary to the numbers of every row run so far, and evaluates the gates on them. A
// failing gate stops the canary (exit 4); an inconclusive stage goes on; the last stage decides
// (pass 0, inconclusive 5). Images a previous run of the job made are counted from the job's
// manifest, so a re-run of a stopped canary judges the same sample the first one did.
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "canary/gates.hpp"
#include "canary/report.hpp"
#include "canary/stages.hpp"
#include "commands.hpp"
#include "ledger/manifest.hpp"
#include "run_options.hpp"
#include "run_steps.hpp"
#include "schedule/session.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace assetgen::cli {
namespace {

struct CanaryOptions {
    RunOptions run;
    std::string stages_text{canary::k_default_stages};
    std::string salt;
    double max_error_rate = 0.05;
    std::optional<double> max_p95_ms;
    std::optional<double> max_cost_per_image;
    std::uint64_t min_samples = 20;
    std::string baseline;
    double confidence = 0.98;
};

// --- the canary's own steps --------------------------------------------------------------------

util::Result<canary::GateSettings> gate_settings(const CanaryOptions& o) {
    canary::GateSettings g;
    g.max_error_rate = o.max_error_rate;
    g.max_p95_ms = o.max_p95_ms;
    g.max_cost_per_image = o.max_cost_per_image;
    g.min_samples = o.min_samples;
    g.confidence = o.confidence;
    auto checked = canary::check_settings(g);
    if (!checked.ok()) {
        // The message names the gate's flag ("--max-error-rate: ...").
        return util::error(util::Code::usage, checked.message());
    }
    return g;
}

// The baseline summary.json, read through the session's storage (a path or gs://).
util::Status load_baseline(const std::string& location, storage::AnyStorage& storage,
                           canary::GateSettings& settings) {
    if (location.empty()) {
        return util::ok_status();
    }
    auto text = storage.get(location);
    if (!text.ok()) {
        return util::Status(text.status().code(), "--baseline: " + text.status().message());
    }
    TRY_ASSIGN(auto baseline, canary::baseline_from_json(*text, location));
    settings.baseline = std::move(baseline);
    return util::ok_status();
}

// Images an earlier run of this job made, by scene_id, from the job's local manifest (read
// before any stage runs, so every line is an earlier run's). A torn or unreadable line is
// skipped: the stage then counts fewer earlier images, never wrong ones.
struct EarlierImage {
    std::int64_t latency_ms = 0;
    util::Micros cost = 0;
};
using EarlierImages = std::unordered_map<std::string, std::vector<EarlierImage>>;

EarlierImages read_earlier_images(const std::string& manifest_path) {
    EarlierImages out;
    std::ifstream in(manifest_path);
    std::set<std::pair<std::string, int>> seen;
    std::string line;
    while (std::getline(in, line)) {
        auto m = ledger::parse_manifest_line(line);
        if (!m.ok() || !seen.insert({m->scene_id, m->variant}).second) {
            continue;
        }
        out[m->scene_id].push_back({m->latency_ms, m->cost});
    }
    return out;
}

std::string stage_label(std::size_t i, const std::vector<int>& stages) {
    return "stage " + std::to_string(i + 1) + "/" + std::to_string(stages.size()) + " (" +
           std::to_string(stages[i]) + "%)";
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

ExitCode run_canary(CanaryOptions& co, Console& console) {
    RunOptions& o = co.run;
    console.set_quiet(o.quiet);
    util::Clock& clock = util::system_clock();
    TRY_EXIT(console, check_run_options(o));
    TRY_ASSIGN_EXIT(console, const std::vector<int> stages,
                    flag_value("--stages", canary::parse_stages(co.stages_text)));
    TRY_EXIT(console, check_location_flag("--baseline", co.baseline));
    TRY_ASSIGN_EXIT(console, canary::GateSettings settings, gate_settings(co));
    TRY_ASSIGN_EXIT(console, const std::string user, run_user(o));
    auto options = session_options(o, user);  // no stage or salt in it: `run` resumes the job
    TRY_EXIT(console, load_prices(o, options.prices));

    TRY_ASSIGN_EXIT(console, auto prepared,
                    prepare_session(std::move(options), clock, o.json, console));
    auto& session = *prepared;
    TRY_EXIT(console, load_baseline(co.baseline, session.storage(), settings));
    TRY_EXIT(console, session.open());
    const EarlierImages earlier = read_earlier_images(session.place().manifest());

    install_signal_handlers();
    start_grace_watchdog(o.grace);

    canary::CanaryReport report;
    report.stages = stages;
    report.salt = co.salt;
    report.batch_rows = session.plan().rows;
    // Rows in no stage (a last stage below 100), collected while the filter sees every row.
    std::mutex beyond_mutex;
    std::unordered_set<std::string> beyond;

    canary::StageStats stats;
    report::Summary total;
    int failed_shown = 0;
    AbandonedRequests abandoned;
    std::optional<ExitCode> stopped;
    for (std::size_t i = 0; i < stages.size(); ++i) {
        const std::string label = stage_label(i, stages);
        const auto filter = [&](const batch::Row& row) {
            const auto s = canary::stage_of(row.scene_id, co.salt, stages);
            if (!s) {
                std::lock_guard lock(beyond_mutex);
                beyond.insert(row.scene_id);
            }
            return s && *s == i;
        };
        console.info(label + ": running");
        const auto t0 = std::chrono::steady_clock::now();
        auto summary = session.execute(
            filter,
            [&](const schedule::RowResult& r) {
                report_failed_row(r, failed_shown, console);
                abandoned.note(r);
            },
            [&](const schedule::Progress& p) {
                console.progress(label + " " + progress_line(p, t0));
            });
        console.end_progress();
        if (!summary.ok()) {
            report.rows_beyond = beyond.size();
            print_report(report, session.job_id(), o.json);
            return console.fail(summary.status());
        }
        stats.add(*summary);
        for (const auto& [scene_id, images] : earlier) {
            if (canary::stage_of(scene_id, co.salt, stages) == i) {
                for (const auto& e : images) {
                    stats.add_earlier_image(e.latency_ms, e.cost);
                }
            }
        }
        merge_into(total, *summary);
        if (auto code = stop_exit_code(*summary)) {
            stopped = code;
            console.error(label + ": stopped (" +
                          std::string(report::run_status_text(summary->status)) +
                          (summary->first_error.empty() ? "" : ": " + summary->first_error) +
                          "); the gates were not evaluated");
            break;
        }

        canary::StageReport stage;
        stage.index = i;
        stage.stage_count = stages.size();
        stage.percent = stages[i];
        stage.new_rows = summary->rows;
        stage.stats = stats;
        stage.evaluation = canary::evaluate(stats, settings);
        const auto next = canary::next_step(stage.evaluation.verdict, i + 1 == stages.size());
        if (!o.json) {
            std::cout << canary::render_stage(stage) << std::flush;
        }
        session.emit("canary_stage", canary::to_json(stage));
        report.add_stage(std::move(stage));
        if (next == canary::Next::stop_failed) {
            stopped = ExitCode::canary_failed;
            break;
        }
        if (next == canary::Next::finish_pass) {
            stopped = ExitCode::ok;
        } else if (next == canary::Next::finish_inconclusive) {
            stopped = ExitCode::canary_inconclusive;
        }
    }
    report.rows_beyond = beyond.size();

    const auto& plan = session.plan();
    total.images_skipped = plan.images - plan.images_to_run;
    TRY_EXIT(console, session.finish(total).status());

    if (!o.json) {
        std::cout << "\n";
    }
    print_report(report, session.job_id(), o.json);
    const auto& place = session.place();
    console.info("images:   " + place.dir + "/");
    console.info("manifest: " + place.published_manifest());
    console.info("summary:  " + storage::join(place.records, "summary.json") +
                 " (usable as --baseline)");
    console.info("ledger:   " + session.ledger_day_location());
    const ExitCode code = stopped.value_or(ExitCode::canary_inconclusive);
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
    return report_write_failures(session, code, console);
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
    sub->add_option("--max-error-rate", o->max_error_rate,
                    "gate: images that ended in an error / images attempted")
        ->capture_default_str();
    sub->add_option("--max-p95-ms", o->max_p95_ms,
                    "gate: 95th percentile latency of the images made, in ms");
    sub->add_option("--max-cost-per-image", o->max_cost_per_image,
                    "gate: actual cost per image made, in USD")
        ->check(money());
    sub->add_option("--min-samples", o->min_samples,
                    "a gate with fewer images is inconclusive, never passed")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1'000'000'000}));
    sub->add_option(
        "--baseline", o->baseline,
        "summary.json of an earlier run (path or gs://): latency and error rate must not be worse");
    sub->add_option("--confidence", o->confidence,
                    "for the baseline tests: a gate fails when p < 1 - confidence")
        ->capture_default_str();
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
    sub->callback([o, &action] { action = [o](Console& c) { return run_canary(*o, c); }; });
}

}  // namespace assetgen::cli
