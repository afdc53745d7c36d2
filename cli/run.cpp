// `assetgen run`: load input → validate → open the job → check the budget → execute → record.
#include <cctype>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "context/context.hpp"
#include "run_options.hpp"
#include "run_steps.hpp"
#include "schedule/merge.hpp"
#include "schedule/session.hpp"
#include "util/clock.hpp"
#include "util/text.hpp"

namespace assetgen::cli {
namespace {

ExitCode exit_code_for_summary(const report::Summary& s) {
    return stop_exit_code(s).value_or(s.rows_failed > 0 ? ExitCode::rows_failed : ExitCode::ok);
}

// `run --merge`: the shards' records combined into the job's.
ExitCode run_merge(const RunOptions& o, schedule::SessionOptions options, Console& console,
                   const context::Context& ctx) {
    bool bad_output = false;  // an output onto the job's records: a usage error
    auto check = [&bad_output](const schedule::SessionOptions& so,
                               const schedule::JobPlace& place) {
        auto st = schedule::check_session_outputs(so, place);
        bad_output = !st.ok();
        return st;
    };
    auto result =
        schedule::merge_shards(std::move(options), o.shards, ctx, session_log(console), check);
    if (!result.ok() && bad_output) {
        console.error(result.status().message());
        return ExitCode::usage;
    }
    TRY_ASSIGN_EXIT(console, auto merged, std::move(result));
    if (o.json) {
        std::cout << merged.summary_json.dump(2, ' ', false,
                                              nlohmann::json::error_handler_t::replace)
                  << "\n";
    }
    console.info("job " + merged.job_id + ": merged " + std::to_string(o.shards) + " shard(s): " +
                 std::to_string(merged.rows) + " rows, " + std::to_string(merged.images_present) +
                 " of " + std::to_string(merged.images) + " images");
    console.info("manifest: " + merged.manifest);
    console.info("summary:  " + merged.summary);
    if (!o.results.empty()) {
        console.info("results:  " + o.results);
    }
    if (!o.report.empty()) {
        console.info("report:   " + o.report);
    }
    for (int i : merged.shards_without_manifest) {
        console.warn("shard " + std::to_string(i) + "/" + std::to_string(o.shards) +
                     ": no manifest (never ran?)");
    }
    if (merged.rows_missing == 0) {
        return ExitCode::ok;
    }
    std::string which;
    for (std::size_t i = 0; i < merged.missing_by_shard.size(); ++i) {
        if (merged.missing_by_shard[i] > 0) {
            which += (which.empty() ? "" : ", ") + std::to_string(i) + "/" +
                     std::to_string(o.shards) + " (" + std::to_string(merged.missing_by_shard[i]) +
                     ")";
        }
    }
    console.error("merge: " + std::to_string(merged.rows_missing) + " of " +
                  std::to_string(merged.rows) + " rows are missing images, in shard(s) " + which +
                  "; run those shards again (the same command resumes them), then merge again");
    return ExitCode::rows_failed;
}

}  // namespace

ExitCode run_run(RunOptions& o, Console& console, const context::Context& ctx) {
    console.set_quiet(o.quiet);
    TRY_EXIT(console, check_run_options(o, ctx));
    TRY_ASSIGN_EXIT(console, const std::string user, run_user(o));
    auto options = session_options(o, user);
    TRY_EXIT(console, load_prices(o, options.prices));
    if (o.merge) {
        return run_merge(o, std::move(options), console, ctx);
    }

    TRY_ASSIGN_EXIT(console, auto prepared,
                    prepare_session(std::move(options), ctx, o.json, console));
    auto& session = *prepared;
    if (o.tier_value == budget::Tier::batch && o.mode == Mode::live) {
        return run_batch_tier(o, session, console);
    }
    TRY_EXIT(console, session.open());

    install_signal_handlers();
    start_grace_watchdog(o.grace);
    const auto t0 = std::chrono::steady_clock::now();
    int failed_shown = 0;
    AbandonedRequests abandoned;
    auto summary = session.execute(
        {},
        [&](const schedule::RowResult& r) {
            report_failed_row(r, failed_shown, console);
            abandoned.note(r);
        },
        [&](const schedule::Progress& p) { console.progress(progress_line(p, t0)); });
    console.end_progress();
    if (!summary.ok()) {
        return console.fail(summary.status());
    }
    const auto& plan = session.plan();
    summary->images_skipped = plan.images - plan.images_to_run;
    TRY_ASSIGN_EXIT(console, auto summary_json, session.finish(*summary));

    if (o.json) {
        std::cout << summary_json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    }
    const auto& s = *summary;
    const auto& place = session.place();
    if (plan.images_to_run == 0) {
        console.info("job " + place.job_id + " was already finished: nothing to do, nothing spent");
    } else {
        console.info(std::to_string(s.images_generated) + " images made, " +
                     std::to_string(s.errors) + " failed, " + std::to_string(s.retries) +
                     " retries in " +
                     util::format_duration(std::chrono::milliseconds(
                         static_cast<std::int64_t>(s.wall_seconds * 1000))) +
                     "; cost " + util::format_usd(s.actual_cost) + " (estimated " +
                     util::format_usd(s.estimated_cost) + ")");
    }
    console.info("images:   " + place.dir + "/");
    console.info("manifest: " + place.published_manifest());
    console.info("summary:  " + storage::join(place.records, "summary.json"));
    console.info("ledger:   " + session.ledger_day_location());
    if (!o.results.empty()) {
        console.info("results:  " + o.results);
    }
    if (!o.report.empty()) {
        console.info("report:   " + o.report);
    }
    if (!o.metrics_file.empty()) {
        console.info("metrics:  " + o.metrics_file);
    }
    if (s.refs_planned > 0) {
        console.info("refs:     " + std::to_string(s.refs_planned) +
                     " distinct reference(s) planned by address, not fetched (a dry run; "
                     "--fetch-refs fetches them)");
    }
    if (s.refs_failed > 0 && o.ref_failure == "skip") {
        console.warn(
            "refs: " + std::to_string(s.refs_failed) +
            " reference(s) could not be used; their rows ran without them (see the refs events)");
    }
    const auto end = s.status;
    using schedule::RunEnd;
    if (end == RunEnd::budget_exceeded && s.overrun_requests > 0) {
        const util::Micros spent = s.budget_spent_before + s.actual_cost;
        const util::Micros over = spent - session.budget_limit();
        console.error("budget: the server billed " + util::format_usd(s.reservation_overrun) +
                      " more than was reserved (" + std::to_string(s.overrun_requests) +
                      " request(s) past maxOutputTokens); their true cost is in the ledger and no "
                      "further request was sent. Spent today " +
                      util::format_usd(spent) + " of " + util::format_usd(session.budget_limit()) +
                      (over > 0 ? ", overshoot " + util::format_usd(over) : std::string()));
    } else if (end == RunEnd::budget_exceeded) {
        console.error("budget: the daily limit " + util::format_usd(session.budget_limit()) +
                      " was reached; the rest of the rows end as BUDGET_EXCEEDED");
    } else if (end == RunEnd::upstream_unavailable) {
        console.error(
            "the model stayed unavailable longer than --circuit-max-open; rows not started end as "
            "UPSTREAM_UNAVAILABLE");
    } else if (end == RunEnd::quota_daily || end == RunEnd::spend_cap ||
               end == RunEnd::billing_cap) {
        std::string code(report::run_status_text(s.status));
        for (char& c : code) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        console.error(
            "stopped: " + code +
            ": no new request was sent (requests in flight finished; the rows not made end as " +
            code + "): " + s.first_error);
    } else if (end == RunEnd::auth_failed) {
        console.error("stopped: " + s.first_error);
    } else if (end == RunEnd::interrupted) {
        abandoned.report(console, o.grace_text);
        console.warn(
            "interrupted: the images that finished were recorded; run the same command again to "
            "finish the rest");
    }
    return report_write_failures(session, exit_code_for_summary(s), console);
}

}  // namespace assetgen::cli
