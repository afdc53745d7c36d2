#include "schedule/model_check.hpp"
#include "schedule/session_internal.hpp"
#include "schedule/storage_error.hpp"

#include <nlohmann/json.hpp>

// JobSession::open: everything a run writes is opened here (lock, ledger writer, reconciliation,
// manifest, events, provider, refs, budget, results, signer, checkpoints); nothing before it
// has written a byte.

namespace assetgen::schedule {

namespace {

void say(const std::function<void(const std::string&)>& f, const std::string& text) {
    if (f) {
        f(text);
    }
}

constexpr std::int64_t k_ref_resign_threshold_s = 300;
constexpr std::int64_t k_ref_resign_ttl_s = 3600;

}  // namespace

util::Status JobSession::open() {
    fit_concurrency();
    const SessionOptions& o = m_options;
    util::Clock& clock = *m_clock;
    m_open = std::make_unique<Open>();
    Open& w = *m_open;
    // Everything that writes. Nothing before this has written a byte.
    TRY_ASSIGN(auto lock, JobLock::acquire(m_place.local_root, m_place.shard, m_place.job_id));
    w.lock.emplace(std::move(lock));
    if (m_place.remote()) {
        TRY(take_bucket_lock());
    }
    ledger::LedgerLocation ledger_location = o.ledger;
    if (m_ledger_store) {
        ledger::GcsLedgerWriterOptions wo;
        wo.spool_dir = m_ledger_spool;
        wo.log = m_log.warn;
        auto opened = ledger::GcsLedgerWriter::open(*m_ledger_store, clock, wo);
        TRY(as_storage_error(opened.status(), "ledger " + o.ledger));
        auto writer = std::move(opened).value();
        const auto& recovered = writer->recovery();
        if (recovered.lines_pushed > 0 || recovered.lines_already_there > 0) {
            say(m_log.info, "ledger: recovered " + std::to_string(recovered.lines_pushed) +
                                " line(s) that an interrupted run had spooled (" +
                                std::to_string(recovered.lines_already_there) +
                                " were already in " + o.ledger + ")");
        }
        w.ledger = std::move(writer);
        ledger_location.gcs = &m_ledger_store->client();
    } else {
        w.ledger = std::make_unique<ledger::LocalLedgerWriter>(o.ledger);
    }
    // Lines this machine spooled but could not push yet are written: never spooled twice.
    std::unordered_set<std::string> spooled;
    if (m_ledger_store) {
        TRY_ASSIGN(spooled, spooled_ledger_ids(m_ledger_spool));
    }
    auto reconciled_or =
        reconcile_ledger(m_place.manifest(), ledger_location, *w.ledger, clock.unix_ms(), spooled);
    TRY(as_storage_error(reconciled_or.status(), "ledger " + o.ledger));
    const std::size_t reconciled = *reconciled_or;
    if (reconciled > 0) {
        say(m_log.info, "ledger: restored " + std::to_string(reconciled) +
                            " line(s) for images stored before an interruption");
    }
    TRY_ASSIGN(auto manifest_writer, ledger::ManifestWriter::open(m_place.manifest()));
    w.manifest = std::make_unique<DurableManifest>(std::move(manifest_writer));
    w.events = std::make_unique<report::NullEventSink>();
    if (!o.events.empty()) {
        TRY_ASSIGN(w.events, report::FileEventSink::open(o.events, clock));
    }
    TRY_ASSIGN(w.provider, provider::make_provider(o.provider, auth::Env::process(), clock));
    say(m_log.info, "provider: " + w.provider.description);
    if (o.provider.live && m_plan.images_to_run > 0) {
        // Before the first paid request: does the API know each model this run will call?
        ModelCheckOptions mc{o.run.retry, o.run.backoff, o.run.jitter_seed, o.run.max_retry_delay,
                             m_log.warn};
        TRY(check_models(*w.provider.provider, m_plan.models_to_run, mc, clock));
        say(
            m_log.info, "provider: the API knows model(s) " + [&] {
                std::string names;
                for (const auto& m : m_plan.models_to_run) {
                    names += (names.empty() ? "" : ", ") + m;
                }
                return names;
            }());
    }
    if (m_plan.rows_with_refs > 0 || !m_plan.global_refs.empty()) {
        refs::RefsOptions ro = o.refs;
        ro.base_dir = m_input->refs_base_dir();
        // A reference that is a V4 signed URL expiring within 5 minutes (or expired) is signed
        // again, for an hour, before it is fetched. The signer is made only when one is needed.
        ro.resign = [this, &w](const std::string& url) -> std::optional<std::string> {
            auto info = signing::parse_signed_url(url);
            const std::int64_t now = m_clock->unix_ms() / 1000;
            if (!info.ok() || !signing::expires_within(*info, now, k_ref_resign_threshold_s)) {
                return std::nullopt;
            }
            std::lock_guard lock(w.sign_mutex);
            if (!w.signer) {
                if (!w.sign_transport) {
                    w.sign_transport = std::make_unique<net::CurlTransport>();
                }
                auto signer =
                    auth::make_url_signer(auth::Env::process(), *w.sign_transport, *m_clock);
                if (!signer.ok()) {
                    say(m_log.warn, "refs: " + info->gs_url() +
                                        " expires soon but cannot be signed again: " +
                                        signer.status().message());
                    return std::nullopt;
                }
                w.signer.emplace(std::move(signer).value());
            }
            auto fresh = signing::resign_url(*info, now, k_ref_resign_ttl_s, *w.signer->signer);
            if (!fresh.ok()) {
                say(m_log.warn,
                    "refs: " + info->gs_url() + ": re-signing failed: " + fresh.status().message());
                return std::nullopt;
            }
            return std::move(fresh).value();
        };
        w.refs = std::make_unique<refs::RefService>(ro, m_storage.get(), clock);
    }
    auto budget = open_budget(*w.ledger);
    TRY(as_storage_error(budget.status(), "ledger " + o.ledger));
    w.budget = std::move(budget).value();
    if (!o.results.empty()) {
        // Rows go to a temp file as they finish (memory stays flat in rows); finish() puts it
        // in place atomically.
        TRY_ASSIGN(w.results_file, util::TempStream::create("--results " + o.results));
        w.results =
            std::make_unique<report::ResultsCsvWriter>(w.results_file->stream(), m_plan.columns);
    }
    if (!o.report.empty()) {
        // Cards go to a temp file as rows finish; finish() writes the page around them.
        report::HtmlReportOptions cards;
        cards.report_dir = storage::is_gcs(o.report) ? "" : report::report_dir_for(o.report);
        TRY_ASSIGN(w.report, report::HtmlReportStream::create("--report " + o.report, cards));
    }
    if (o.sign_ttl_seconds > 0) {
        w.sign_transport = std::make_unique<net::CurlTransport>();
        TRY_ASSIGN(auto signer,
                   auth::make_url_signer(auth::Env::process(), *w.sign_transport, clock));
        say(m_log.info, "signed URLs: " + signer.description + ", valid " +
                            util::format_duration(std::chrono::seconds(o.sign_ttl_seconds)));
        w.signer.emplace(std::move(signer));
    }
    w.checkpoints = std::make_unique<JobCheckpoints>(m_place, *m_storage, clock);
    TRY(checkpoint("running"));
    start_checkpoints();
    w.events->emit("started", {{"jobId", m_place.job_id},
                               {"rows", m_plan.rows},
                               {"images", m_plan.images},
                               {"imagesToRun", m_plan.images_to_run},
                               {"mode", ledger::run_mode_name(o.mode)},
                               {"model", o.plan.model},
                               {"preflight", *m_preflight}});
    return util::ok_status();
}

util::Status JobSession::take_bucket_lock() {
    TRY_ASSIGN(storage::GcsStorage * gcs, m_storage->gcs());
    TRY_ASSIGN(GcsJobLockOptions lo,
               job_lock_options(gcs->client(), m_place.dir, m_place.job_id, m_place.shard,
                                m_place.local_root, m_options.job_lock_ttl));
    lo.log = m_log.warn;
    auto taken = GcsJobLock::acquire(std::move(lo), *m_clock);
    TRY(as_storage_error(taken.status(), "job lock " + m_place.dir + "/lock.json"));
    m_open->bucket_lock = std::move(taken).value();
    return util::ok_status();
}

void JobSession::fit_concurrency() {
    // A paid answer must never be lost for want of a descriptor to store it with.
    const util::FdFit fit = util::fit_concurrency_to_fds(m_options.run.concurrency);
    if (fit.lowered) {
        say(m_log.warn,
            "--concurrency " + std::to_string(m_options.run.concurrency) +
                ": the open-file limit (" + std::to_string(fit.limit) + ", " +
                std::to_string(fit.open) + " open) leaves room for " +
                std::to_string(fit.concurrency) + " requests in flight (" +
                std::to_string(util::k_fds_per_request) + " descriptors each, " +
                std::to_string(util::k_fds_reserved) + " kept for the run's files); running " +
                std::to_string(fit.concurrency) + " at once. Raise it (ulimit -n) to run more");
        m_options.run.concurrency = fit.concurrency;
    }
}

}  // namespace assetgen::schedule
