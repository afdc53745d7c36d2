#include "schedule/adopt_paid.hpp"
#include "schedule/model_check.hpp"
#include "schedule/session_internal.hpp"
#include "schedule/storage_error.hpp"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "context/context.hpp"

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
// Group commit pacing (durable_log.hpp): while images finish back to back, a group of syncs
// starts at most every 30 ms and takes everything that finished meanwhile (an image is counted
// done up to that much later; its worker does not wait, it has handed the image off; at 500
// images/s a group holds about 15); the ledger's own sync runs at most every 250 ms (its lines
// of stored images are restored from the manifest).
constexpr GroupOptions k_group_options{util::Millis(30), util::Millis(250)};

}  // namespace

util::Status JobSession::open() {
    fit_concurrency();
    const SessionOptions& o = m_options;
    util::Clock& clock = *m_clock;
    m_open = std::make_unique<JobResources>();
    JobResources& w = *m_open;
    // Everything that writes. Nothing before this has written a byte.
    TRY_ASSIGN(auto lock,
               JobLock::acquire(m_job.place.local_root, m_job.place.shard, m_job.place.job_id));
    w.lock.emplace(std::move(lock));
    if (m_job.place.remote()) {
        TRY(take_bucket_lock());
    }
    TRY(catch_up_history());
    // The ledger's writer; then the lines of images stored before an interruption that no
    // ledger line records are written back: this place's, and for an unsharded run (it holds
    // the job exclusively, so no shard runs) those of every shard a kill left behind.
    w.ledger = std::move(m_job.ledger);
    const std::vector<std::string> shard_manifests = local_shard_manifests(m_job.place);
    TRY_ASSIGN(const std::size_t reconciled,
               w.ledger->open_writer(m_job.place.manifest(), shard_manifests));
    if (reconciled > 0) {
        say(m_log.info, "ledger: restored " + std::to_string(reconciled) +
                            " line(s) for images stored before an interruption");
    }
    TRY(adopt_paid(shard_manifests));
    TRY_ASSIGN(auto manifest_writer, ledger::ManifestWriter::open(m_job.place.manifest()));
    // One group commit for the images, their manifest lines and the ledger lines before them.
    // Images queued for their group at most 4 × --concurrency (64 at least): room for a group
    // and a slow sync at full speed, while a crash leaves few paid images without their line.
    GroupOptions group_options = k_group_options;
    group_options.max_queued = static_cast<std::size_t>(std::max(64, 4 * o.run.concurrency));
    w.manifest = std::make_unique<DurableManifest>(
        make_group_files(m_storage.get(), std::move(manifest_writer), &w.ledger->writer()), clock,
        group_options);
    w.events = std::make_unique<report::NullEventSink>();
    if (!o.events.empty()) {
        TRY_ASSIGN(w.events, report::FileEventSink::open(o.events, clock));
    }
    TRY_ASSIGN(w.provider, m_context->make_provider(o.provider));
    say(m_log.info, "provider: " + w.provider.description);
    if (o.provider.live && m_job.plan.images_to_run > 0) {
        // Before the first paid request: does the API know each model this run will call?
        ModelCheckOptions mc{o.run.retry, o.run.backoff, o.run.jitter_seed, o.run.max_retry_delay,
                             m_log.warn};
        TRY(check_models(*w.provider.provider, m_job.plan.models_to_run, mc, clock));
        say(
            m_log.info, "provider: the API knows model(s) " + [&] {
                std::string names;
                for (const auto& m : m_job.plan.models_to_run) {
                    names += (names.empty() ? "" : ", ") + m;
                }
                return names;
            }());
    }
    if (m_job.plan.rows_with_refs > 0 || !m_job.plan.global_refs.empty()) {
        refs::RefsOptions ro = o.refs;
        ro.base_dir = m_job.input->refs_base_dir();
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
                auto signer = m_context->make_signer();
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
        w.refs =
            std::make_unique<refs::RefService>(ro, m_storage.get(), m_context->transport, clock);
    }
    BudgetOpening bo;
    bo.limit = m_job.spend.limit;
    bo.manifest = m_job.place.manifest();
    bo.more_manifests = shard_manifests;
    bo.holder = "job " + m_job.place.job_id + (o.shard.empty() ? "" : ", shard " + o.shard);
    bo.lease_images =
        o.budget_lease_images > 0 ? o.budget_lease_images : std::max(1, o.run.concurrency);
    TRY(w.ledger->open_budget(bo));
    if (!o.results.empty()) {
        // Rows go to a temp file as they finish (memory stays flat in rows); finish() puts it
        // in place atomically.
        TRY_ASSIGN(w.results_file,
                   util::TempStream::create("--results " + o.results, m_context->places.temp_dir));
        w.results = std::make_unique<report::ResultsCsvWriter>(w.results_file->stream(),
                                                               m_job.plan.columns);
    }
    if (!o.report.empty()) {
        // Cards go to a temp file as rows finish; finish() writes the page around them.
        report::HtmlReportOptions cards;
        cards.report_dir = storage::is_gcs(o.report) ? "" : report::report_dir_for(o.report);
        cards.temp_dir = m_context->places.temp_dir;
        TRY_ASSIGN(w.report, report::HtmlReportStream::create("--report " + o.report, cards));
    }
    if (o.sign_ttl_seconds > 0) {
        TRY_ASSIGN(auto signer, m_context->make_signer());
        say(m_log.info, "signed URLs: " + signer.description + ", valid " +
                            util::format_duration(std::chrono::seconds(o.sign_ttl_seconds)));
        w.signer.emplace(std::move(signer));
    }
    w.checkpoints = std::make_unique<JobCheckpoints>(m_job.place, *m_storage, clock);
    TRY(checkpoint("running"));
    start_checkpoints();
    w.events->emit("started", {{"jobId", m_job.place.job_id},
                               {"rows", m_job.plan.rows},
                               {"images", m_job.plan.images},
                               {"imagesToRun", m_job.plan.images_to_run},
                               {"mode", ledger::run_mode_name(o.mode)},
                               {"model", o.plan.model},
                               {"preflight", *m_job.preflight}});
    return util::ok_status();
}

util::Status JobSession::take_bucket_lock() {
    TRY_ASSIGN(storage::GcsStorage * gcs, m_storage->gcs());
    TRY_ASSIGN(GcsJobLockOptions lo,
               job_lock_options(gcs->client(), m_job.place.dir, m_job.place.job_id,
                                m_job.place.shard, m_job.place.local_root, m_options.job_lock_ttl));
    lo.log = m_log.warn;
    auto taken = GcsJobLock::acquire(std::move(lo), *m_clock);
    TRY(as_storage_error(taken.status(), "job lock " + m_job.place.dir + "/lock.json"));
    m_open->bucket_lock = std::move(taken).value();
    return util::ok_status();
}

util::Status JobSession::adopt_paid(const std::vector<std::string>& shard_manifests) {
    // Images a killed run paid for, stored and charged, but whose manifest line it did not
    // write (adopt_paid.hpp). The ledger is read from the job's first day (or, for a job with
    // no manifest line yet, two days back: a first run killed and resumed later than that
    // pays its lost window again, with a new ledger id).
    const std::int64_t now = m_clock->unix_ms();
    const std::int64_t two_days = 2 * 86'400'000LL;
    const std::int64_t first = m_job.history.first_ts > 0
                                   ? std::min(m_job.history.first_ts, now - two_days)
                                   : now - two_days;
    std::vector<std::string> manifests{m_job.place.manifest()};
    manifests.insert(manifests.end(), shard_manifests.begin(), shard_manifests.end());
    AdoptOptions ao{m_job.place.job_id,
                    m_options.shard,
                    util::utc_date(first),
                    util::utc_date(now + 86'400'000LL),
                    m_job.place.dir,
                    std::string(ledger::run_mode_name(m_options.mode)),
                    {}};
    if (m_job.shard) {
        ao.scene_in_shard = [shard = *m_job.shard](const std::string& scene_id) {
            return shard_of(scene_id, shard.count) == shard.index;
        };
    }
    auto found = adopt_paid_images(manifests, m_open->ledger->read_location(), *m_storage, ao);
    TRY(as_storage_error(found.status(), "job " + m_job.place.job_id));
    if (found->adopted.empty() && found->remade.empty()) {
        return util::ok_status();
    }
    for (const auto& m : found->adopted) {
        m_job.history.done.emplace(done_key(m.scene_id, m.variant),
                                   DoneImage{m.uri, m.cost, m.content, m.reservation});
    }
    for (const auto& key : found->remade) {
        m_job.remade.insert(key);
    }
    TRY_ASSIGN(m_job.plan,
               plan_batch(*m_job.input, m_options.plan, m_options.prices, m_job.history.done));
    if (!found->adopted.empty()) {
        say(m_log.info, "job " + m_job.place.job_id + ": adopted " +
                            std::to_string(found->adopted.size()) +
                            " image(s) an interrupted run paid for and stored (their ledger "
                            "lines were written; not paid again)");
    }
    if (!found->remade.empty()) {
        say(m_log.warn, "job " + m_job.place.job_id + ": " + std::to_string(found->remade.size()) +
                            " image(s) an interrupted run paid for are not whole on disk; making "
                            "them again (each costs money; the first payment stays in the "
                            "ledger)");
    }
    return util::ok_status();
}

util::Status JobSession::catch_up_history() {
    // The plan read the job's manifests before this run held the job. A run of the job that
    // ended in between (a shard while this unsharded run started, or the reverse) made images
    // this run must not make and pay again: now that no other run can write, its manifests are
    // read again and what they add counts as done. Images --remake-missing makes again stay.
    TRY_ASSIGN(JobHistory fresh, open_job_history(m_job.place, *m_storage));
    std::size_t added = 0;
    for (auto& [key, image] : fresh.done) {
        if (m_job.remade.count(key) == 0 && m_job.history.done.emplace(key, image).second) {
            ++added;
        }
    }
    if (added == 0) {
        return util::ok_status();
    }
    TRY_ASSIGN(m_job.plan,
               plan_batch(*m_job.input, m_options.plan, m_options.prices, m_job.history.done));
    say(m_log.info, "job " + m_job.place.job_id + ": " + std::to_string(added) +
                        " image(s) that another run of the job made while this one started "
                        "count as done");
    return util::ok_status();
}

void JobSession::restore_before_refusal() {
    // A run of this place killed between an image's manifest line and its ledger line left a
    // paid image that no ledger line records; the next run that opens writes the line back. A
    // refused run opens nothing else, but a day that stays over its limit would otherwise never
    // record that money. So it takes the job's locks (a run holding them restores the lines
    // itself), restores the lines and lets them go; the refusal stands. A place without a
    // manifest has nothing to restore (and a refused new job creates nothing).
    // An unsharded run restores its killed shards' lines too, as open() does.
    const std::vector<std::string> shard_manifests = local_shard_manifests(m_job.place);
    std::error_code ec;
    const bool own = std::filesystem::file_size(m_job.place.manifest(), ec) > 0 && !ec;
    if ((!own && shard_manifests.empty()) || !m_job.ledger) {
        return;
    }
    m_open = std::make_unique<JobResources>();
    auto restored = [&]() -> util::Result<std::size_t> {
        auto lock = JobLock::acquire(m_job.place.local_root, m_job.place.shard, m_job.place.job_id);
        if (!lock.ok()) {
            return std::size_t{0};  // a run of the job holds it: that run restores them
        }
        m_open->lock.emplace(std::move(lock).value());
        if (m_job.place.remote()) {
            TRY(take_bucket_lock());
        }
        m_open->ledger = std::move(m_job.ledger);
        TRY_ASSIGN(const std::size_t n,
                   m_open->ledger->open_writer(m_job.place.manifest(), shard_manifests));
        if (n > 0) {
            TRY(m_open->ledger->flush_last());
        }
        return n;
    }();
    m_open.reset();  // the writer, then the locks
    if (!restored.ok()) {
        say(m_log.warn,
            "ledger: the lines of images stored before an interruption were not "
            "restored (" +
                restored.status().message() +
                "); the next run of this job that starts restores them");
        return;
    }
    if (*restored == 0) {
        return;
    }
    say(m_log.info, "ledger: restored " + std::to_string(*restored) +
                        " line(s) for images stored before an interruption");
    // The refusal's figures count them: the pre-flight again (its info line said once).
    SessionLog quiet = m_log;
    quiet.info = nullptr;
    auto again = budget_preflight(m_job, m_options, *m_storage, *m_clock, quiet);
    if (!again.ok()) {
        m_job.budget = again;
    }
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
