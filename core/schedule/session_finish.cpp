#include "schedule/session_internal.hpp"
#include "schedule/storage_error.hpp"

#include <sys/stat.h>

#include <cerrno>

#include <nlohmann/json.hpp>

// JobSession::finish (ledger flush, budget release, day totals, summary, results, metrics,
// report, last checkpoint) and the checkpoints: the state snapshots, first, periodic and last.

namespace assetgen::schedule {

namespace {

void say(const std::function<void(const std::string&)>& f, const std::string& text) {
    if (f) {
        f(text);
    }
}

}  // namespace

util::Result<nlohmann::json> JobSession::finish(report::Summary summary) {
    if (!m_open) {
        return util::error(util::Code::internal, "JobSession::finish before open");
    }
    JobResources& w = *m_open;
    stop_checkpoints();
    // What was made is published first (a gs:// job's manifest and state): if the ledger push
    // below fails, another machine still sees these images as done and does not pay again. A
    // local job's manifest is its own durable file, published as it is written: its state is
    // written once, at the end (two synced files fewer between the last answer and the exit).
    const std::string phase =
        summary.status == RunEnd::interrupted || summary.status == RunEnd::pending ? "interrupted"
                                                                                   : "finished";
    if (m_job.place.remote()) {
        const util::Status published = checkpoint(phase);
        if (!published.ok()) {
            say(m_log.warn, "checkpoint: " + published.message() + " (tried again at the end)");
        }
    }
    // Every ledger line reaches its day file (or gs:// object) before the run says it is done.
    // A gs:// push that fails keeps the lines in the spool, and the next run pushes them.
    // The last push leaves out lines another machine has pushed meanwhile (it took the job over
    // and restored them from the manifest): one read of the day object.
    TRY(w.ledger->flush_last());
    // Then this process's share of the budget goes back (a gs:// ledger's lease).
    if (auto released = w.ledger->budget().close(); !released.ok()) {
        say(m_log.warn, "budget: " + released.message());
    }
    // The day's small totals for readers such as the sheet's Spend today (ledger/day_totals.hpp).
    const ledger::LedgerLocation totals_of = w.ledger->read_location();
    if (auto t = ledger::update_run_day_totals(totals_of, summary.started_ms, *m_clock); !t.ok()) {
        say(m_log.warn, "ledger totals: " + t.message());
    }
    auto summary_json = report::to_json(summary);
    summary_json["preflight"] = *m_job.preflight;
    if (m_job.shard) {
        summary_json["shard"] = m_options.shard;  // the plan and preflight above are the shard's
    }
    if (auto st = m_storage->put(
            storage::join(m_job.place.records, "summary.json"),
            summary_json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
            "application/json");
        !st.ok()) {
        // A full disk, most likely: what was made is recorded, so the same command loses nothing.
        return util::Status(st.code(), st.message() +
                                           " (the images and their ledger lines are recorded; "
                                           "free space or fix the disk, then run the same "
                                           "command again: it resumes and writes the summary)");
    }
    // The results, metrics and report are each worth having without the others.
    auto keep_going = [this](const util::Status& st) {
        if (!st.ok()) {
            m_write_failures.push_back(st.message());
        }
    };
    if (w.results) {
        util::Status st = w.results_file->flush();
        if (st.ok() && storage::is_gcs(m_options.results)) {
            // Sent from the temp file a chunk at a time: never held whole.
            struct stat info {};
            st = ::fstat(w.results_file->fd(), &info) != 0
                     ? util::io_error(
                           "--results " + m_options.results + ": cannot size its temp file", errno)
                     : m_storage->put_from_fd(m_options.results, w.results_file->fd(),
                                              static_cast<std::uint64_t>(info.st_size), "text/csv");
        } else if (st.ok()) {
            st = util::copy_file_atomic(m_options.results, w.results_file->fd());
        }
        keep_going(st);
    }
    if (!m_options.metrics_file.empty()) {
        const auto labels = report::metrics_labels(summary, m_options.shard);
        if (storage::is_gcs(m_options.metrics_file)) {
            keep_going(m_storage->put(m_options.metrics_file,
                                      report::render_metrics(summary, labels),
                                      "text/plain; version=0.0.4"));
        } else {
            keep_going(report::write_metrics_file(m_options.metrics_file, summary, labels));
        }
    }
    if (!m_options.report.empty()) {
        report::HtmlReportOptions ho;
        ho.job_id = m_job.place.job_id;
        ho.mode = std::string(ledger::run_mode_name(m_options.mode));
        ho.model = m_options.plan.model;
        ho.generated_ms = m_clock->unix_ms();
        ho.summary = &summary;
        if (storage::is_gcs(m_options.report)) {
            // Written to a second temp file, then sent from it a chunk at a time.
            auto page = w.report->page_file("--report " + m_options.report, ho);
            keep_going(page.ok() ? m_storage->put_from_fd(m_options.report, page->fd.get(),
                                                          page->size, "text/html; charset=utf-8")
                                 : page.status());
        } else {
            keep_going(w.report->write_file(m_options.report, ho));
        }
    }
    TRY(checkpoint(phase));
    // Every record is out: another machine may run the job now.
    if (w.bucket_lock) {
        if (auto st = w.bucket_lock->release(); !st.ok()) {
            say(m_log.warn, "job lock: " + st.message() + " (it expires unrenewed)");
        }
    }
    w.events->emit("done", {{"jobId", m_job.place.job_id},
                            {"status", report::run_status_text(summary.status)},
                            {"imagesGenerated", summary.images_generated},
                            {"errors", summary.errors},
                            {"actualCostUsd", util::to_dollars(summary.actual_cost)}});
    w.events->flush();
    keep_going(w.events->status());
    return summary_json;
}

util::Status JobSession::checkpoint(const std::string& phase) {
    if (!m_open || !m_open->checkpoints) {
        return util::ok_status();
    }
    JobResources& w = *m_open;
    const Progress p = w.progress();
    nlohmann::json state = {{"jobId", m_job.place.job_id},
                            {"phase", phase},
                            {"input", m_job.input->display_name()},
                            {"out", m_job.place.dir},
                            {"manifest", m_job.place.published_manifest()},
                            {"shard", m_options.shard},
                            {"ledger", m_options.ledger},
                            {"mode", ledger::run_mode_name(m_options.mode)},
                            {"model", m_options.plan.model},
                            {"user", m_options.user},
                            {"rows", m_job.plan.rows},
                            {"images", m_job.plan.images},
                            {"imagesAlreadyDone", m_job.plan.images - m_job.plan.images_to_run},
                            {"imagesDone", p.images_done},
                            {"imagesPlanned", p.images_planned},
                            {"inFlight", p.in_flight},
                            {"spentUsd", util::to_dollars(p.spent)}};
    // A "running" state is replaced by the next checkpoint and the last one is synced: its
    // files need no fsync of their own (at open, that is two synced files fewer before the
    // first request; the group commit's syncfs covers them meanwhile).
    return w.checkpoints->checkpoint(std::move(state), /*synced=*/phase != "running");
}

void JobSession::start_checkpoints() {
    JobResources& w = *m_open;
    w.checkpointer = std::make_unique<Periodic>(*m_clock, m_options.checkpoint_every, [this] {
        if (auto st = checkpoint("running"); !st.ok()) {
            say(m_log.warn, "checkpoint: " + st.message() + " (the next one tries again)");
        }
    });
    w.checkpointer->start();
}

void JobSession::stop_checkpoints() {
    if (m_open && m_open->checkpointer) {
        m_open->checkpointer->stop();
    }
}

}  // namespace assetgen::schedule
