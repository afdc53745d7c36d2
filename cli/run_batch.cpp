// `assetgen run --tier batch`: its flags, and the run through the Batch API (the engine is
// core's: schedule/batch_run.hpp). Only parsing and printing here.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "flag_checks.hpp"
#include "provider/vertex_batch_factory.hpp"
#include "run_options.hpp"
#include "run_steps.hpp"
#include "schedule/batch_run.hpp"
#include "util/text.hpp"

namespace assetgen::cli {

void add_batch_options(CLI::App& sub, RunOptions& o) {
    o.batch_flags = true;
    sub.add_option("--poll-every", o.poll_every_text,
                   "--tier batch: wait this long between looks at a batch, doubling up to 5m "
                   "(0s: no wait between looks)")
        ->capture_default_str();
    sub.add_flag("--no-wait", o.no_wait,
                 "--tier batch: create or find the job's batches, collect those that ended, and "
                 "exit 75 while any still runs (run the same command again later)");
    sub.add_flag("--cancel", o.cancel_batches,
                 "--tier batch: cancel the job's running batches and give their reserved money "
                 "back");
    sub.add_flag("--retry-failed", o.retry_failed,
                 "--tier batch: send the requests that failed inside a finished batch again, in "
                 "a new batch (or as --retry-tier says)");
    sub.add_option("--retry-tier", o.retry_tier,
                   "--retry-failed: batch (default: a new batch, half price), or standard, flex "
                   "or priority (sent now, synchronously, at that tier's price)");
    sub.add_option("--batch-size", o.batch_size,
                   "--tier batch: requests per batch (default from --image-size: 500 at 1K, 128 "
                   "at 2K, 32 at 4K, so a result file stays near 1 GB)")
        ->check(whole_number(1, 100'000));
    sub.add_option("--batch-staging", o.batch_staging,
                   "--api vertex --tier batch: the gs://bucket/prefix where each batch's input "
                   "JSONL goes (<prefix>/<batch>/input.jsonl) and Vertex writes its predictions "
                   "(<prefix>/<batch>/output/); default when --out is gs://bucket/path: "
                   "gs://bucket/path.batch-staging (gs://bucket/assetgen-batch-staging for a "
                   "bucket root)");
}

util::Status check_batch_options(RunOptions& o) {
    if (!o.batch_flags) {
        return util::ok_status();
    }
    auto poll = util::parse_duration(o.poll_every_text);
    if (!poll.ok()) {
        return util::error(util::Code::usage, "--poll-every: \"" + o.poll_every_text +
                                                  "\" is not a duration such as 30s or 2m");
    }
    o.poll_every = std::chrono::duration_cast<std::chrono::milliseconds>(*poll);
    if (o.tier_value != budget::Tier::batch) {
        const char* flag = o.no_wait          ? "--no-wait"
                           : o.cancel_batches ? "--cancel"
                           : o.retry_failed   ? "--retry-failed"
                           : o.batch_size > 0 ? "--batch-size"
                                              : nullptr;
        if (flag != nullptr) {
            return util::error(util::Code::usage,
                               std::string(flag) + ": is for the batch tier; add --tier batch");
        }
    }
    if (!o.retry_tier.empty()) {
        const auto tier = budget::parse_tier(o.retry_tier);
        if (!tier) {
            return util::error(
                util::Code::usage,
                "--retry-tier: \"" + o.retry_tier + "\" is not batch, standard, flex or priority");
        }
        if (!o.retry_failed) {
            return util::error(util::Code::usage,
                               "--retry-tier: says how --retry-failed sends the failed requests "
                               "again; add --retry-failed");
        }
        o.retry_tier_value = *tier;
    }
    const bool vertex_batch = o.tier_value == budget::Tier::batch && o.api == "vertex";
    if (!o.batch_staging.empty() && !vertex_batch) {
        return util::error(util::Code::usage,
                           "--batch-staging: \"" + o.batch_staging +
                               "\" is for Vertex batch prediction; add --api vertex --tier batch, "
                               "or leave it out");
    }
    // Vertex reads its input from Cloud Storage: the prefix is known (and checked) before
    // anything is written or spent. A dry run stages nothing: it needs one only when given.
    if (vertex_batch && (o.mode == Mode::live || !o.batch_staging.empty())) {
        TRY_ASSIGN(o.batch_staging, provider::resolve_vertex_batch_staging(o.batch_staging, o.out));
    }
    if (o.cancel_batches && o.mode != Mode::live) {
        // A dry run has no batches: it would make every image in simulation and exit 0, and
        // the live batch the user meant to cancel would run on, holding its money.
        return util::error(util::Code::usage,
                           "--cancel: cancels the job's live batches, and a dry run has none; add "
                           "--mode live (the options of the run that sent them)");
    }
    if (o.no_wait && o.cancel_batches) {
        return util::error(util::Code::usage,
                           "--cancel: cancels and exits at once; leave out --no-wait");
    }
    if (o.retry_failed && o.cancel_batches) {
        // --retry-failed sends requests again (with --retry-tier standard, at full price): a run
        // asked to give the job's money back must not spend any.
        return util::error(util::Code::usage,
                           "--cancel: gives the job's batches back and sends nothing; leave out "
                           "--retry-failed (run it without --cancel to send the failures again)");
    }
    return util::ok_status();
}

ExitCode run_batch_tier(const RunOptions& o, schedule::JobSession& session, Console& console) {
    const auto& plan = session.plan();
    TRY_EXIT(console, session.open());
    install_signal_handlers();  // SIGINT while waiting: detach (the batches run on)

    schedule::BatchRunSettings bs;
    bs.batch_size = o.batch_size;
    bs.poll_every = o.poll_every;
    bs.wait = !o.no_wait;
    bs.cancel = o.cancel_batches;
    bs.retry_failed = o.retry_failed;
    bs.retry_tier = o.retry_tier_value;
    auto result = session.execute_batch(bs, [&](const schedule::BatchChunkView& v) {
        console.progress("batch " + v.display_name + " " +
                         std::string(provider::batch_state_name(v.state)) + " " +
                         std::to_string(v.done) + "/" + std::to_string(v.requests) + " done");
    });
    console.end_progress();
    if (!result.ok()) {
        return console.fail(result.status());
    }
    const auto& r = *result;
    int shown = 0;
    for (const auto& f : r.failures) {
        if (++shown > 20) {
            break;
        }
        console.error(f.where + ": scene_id \"" + f.scene_id + "\" v" + std::to_string(f.variant) +
                      ": " + f.code + ": " + f.message);
    }
    report::Summary summary = r.summary;
    summary.images_skipped = plan.images - plan.images_to_run;
    TRY_ASSIGN_EXIT(console, auto summary_json, session.finish(summary));
    if (o.json) {
        std::cout << summary_json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    }
    const auto& place = session.place();
    if (r.end == schedule::BatchRunEnd::cancelled) {
        console.info("batch: " + std::to_string(r.chunks_cancelled) + " batch(es) cancelled; " +
                     util::format_usd(r.given_back) + " of reservations given back");
        return report_write_failures(session, ExitCode::ok, console);
    }
    if (r.retry.empty()) {
        console.info(std::to_string(summary.images_generated) + " images collected, " +
                     std::to_string(summary.errors) + " failed; cost " +
                     util::format_usd(summary.actual_cost) + " at the batch price");
    } else {
        console.info(std::to_string(summary.images_generated) + " images made (" +
                     std::to_string(r.retry.size()) + " request(s) sent again at the " +
                     o.retry_tier + " price), " + std::to_string(summary.errors) +
                     " failed; cost " + util::format_usd(summary.actual_cost));
    }
    console.info("images:   " + place.dir + "/");
    console.info("manifest: " + place.published_manifest());
    console.info("ledger:   " + session.ledger_day_location());
    if (r.end == schedule::BatchRunEnd::budget_exceeded) {
        console.error(summary.first_error);
        return report_write_failures(session, ExitCode::budget, console);
    }
    if (r.end == schedule::BatchRunEnd::pending) {
        // One line per batch still running, on stderr (even with --quiet).
        for (const auto& v : r.pending) {
            std::cerr << schedule::batch_pending_line(v) << "\n";
        }
        return report_write_failures(session, ExitCode::tempfail, console);
    }
    if (auto stopped = stop_exit_code(summary)) {
        // --retry-tier's synchronous retry stopped (a signal, a quota, the budget).
        console.error("retry: " + std::string(report::run_status_text(summary.status)) + ": " +
                      summary.first_error);
        return report_write_failures(session, *stopped, console);
    }
    return report_write_failures(
        session, summary.rows_failed > 0 ? ExitCode::rows_failed : ExitCode::ok, console);
}

}  // namespace assetgen::cli
