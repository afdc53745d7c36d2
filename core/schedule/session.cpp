#include "schedule/session_internal.hpp"
#include "schedule/storage_error.hpp"

#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "auth/iam_signer.hpp"
#include "context/context.hpp"
#include "ledger/day_totals.hpp"
#include "ledger/gcs_ledger_writer.hpp"
#include "report/metrics.hpp"
#include "schedule/default_folders.hpp"
#include "signing/url_refresh.hpp"
#include "storage/gcs_url.hpp"
#include "storage/gcs_wire.hpp"
#include "util/atomic_file.hpp"
#include "util/fd_limit.hpp"
#include "util/hash.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

namespace {

void say(const std::function<void(const std::string&)>& f, const std::string& text) {
    if (f) {
        f(text);
    }
}

}  // namespace

JobSession::~JobSession() {
    stop_checkpoints();
}

std::string session_job_id(const SessionOptions& o, const BatchInput& input) {
    if (!o.job_id.empty()) {
        return o.job_id;
    }
    JobIdentity identity{input.sha256(),
                         o.mode,
                         o.plan.model,
                         o.plan.image_size,
                         o.plan.validation.max_variants,
                         o.default_ref_mode,
                         o.plan.global_refs,
                         ""};
    return make_job_id(identity);
}

bool JobSession::in_shard(const batch::Row& row) const {
    return !m_job.shard || shard_of(row.scene_id, m_job.shard->count) == m_job.shard->index;
}

util::Result<std::unique_ptr<JobSession>> JobSession::prepare(SessionOptions options,
                                                              const context::Context& ctx,
                                                              const std::atomic<int>& stop,
                                                              SessionLog log,
                                                              nlohmann::json* preflight_out) {
    auto s = std::unique_ptr<JobSession>(new JobSession());
    s->m_options = std::move(options);
    util::Clock& clock = ctx.clock;
    s->m_context = &ctx;
    s->m_clock = &clock;
    s->m_stop = &stop;
    s->m_log = std::move(log);
    SessionOptions& o = s->m_options;
    // A gs:// job keeps its local copies in the spool from the start; otherwise the default
    // folders are made only once the batch is known to be good (a refused batch creates nothing).
    const bool spool_first = storage::is_gcs(o.out) || storage::is_gcs(o.ledger);
    if (spool_first) {
        TRY(resolve_default_folders(o, s->m_log, ctx.places));
    }
    if (storage::is_gcs(o.events)) {
        return util::error(util::Code::config,
                           "--events: events stream as they happen, to a local file or - (stdout); "
                           "give a local path (Cloud Run and Cloud Build collect stdout)");
    }
    s->m_storage =
        std::make_unique<storage::AnyStorage>(ctx.env, ctx.transport, clock, ctx.gcs_options());
    JobPlanRequest request;
    request.temp_dir = ctx.places.temp_dir;
    TRY_ASSIGN(s->m_job, plan_job(o, *s->m_storage, clock, s->m_log, request));
    if (preflight_out != nullptr) {
        *preflight_out = *s->m_job.preflight;
    }
    // The batch tier reserves each chunk against the same budget in its engine (batch_run.hpp)
    // before anything remote: a re-run that collects its own pending batch must not be refused
    // for counting that batch twice (its reservation, and its rows still to collect).
    const bool batch_tier = o.plan.tier == budget::Tier::batch && o.mode == ledger::RunMode::live;
    if (!batch_tier) {
        if (!s->m_job.budget.ok()) {
            s->restore_before_refusal();
        }
        TRY(s->m_job.budget);
    }
    if (!spool_first) {
        TRY(resolve_default_folders(o, s->m_log, ctx.places));
    }
    return s;
}

void JobSession::emit(const std::string& event, const nlohmann::json& fields) {
    if (m_open) {
        m_open->emit(event, fields);
    }
}

RunSettings JobSession::run_settings(budget::Tier tier) const {
    const SessionOptions& o = m_options;
    RunSettings settings = o.run;
    settings.job_id = m_job.place.job_id;
    settings.job_dir = m_job.place.dir;
    settings.user = o.user;
    settings.mode = o.mode;
    settings.model = o.plan.model;
    settings.image_size = o.plan.image_size;
    settings.tier = tier;
    settings.shard = o.shard;
    settings.jitter_seed = util::fnv1a64(m_job.place.job_id);
    settings.global_refs = m_job.plan.global_refs;
    settings.remade = m_job.remade;
    return settings;
}

SignUrl JobSession::url_signer() {
    JobResources& w = *m_open;
    if (!w.signer) {
        return {};
    }
    const std::string emulator = m_context->places.emulator_host;
    return [this, &w, emulator](
               const std::string& uri) -> util::Result<std::pair<std::string, std::int64_t>> {
        TRY_ASSIGN(const storage::GcsUrl target, storage::parse_gcs_url(uri));
        signing::SignRequest r;
        r.bucket = target.bucket;
        r.object = target.object;
        r.ttl_seconds = m_options.sign_ttl_seconds;
        r.at = m_clock->unix_ms() / 1000;
        r.emulator_host = emulator;
        std::lock_guard lock(w.sign_mutex);  // one signer; signBlob calls go one at a time
        TRY_ASSIGN(std::string url, signing::sign_url(r, *w.signer->signer));
        return std::make_pair(std::move(url), (r.at + r.ttl_seconds) * 1000);
    };
}

util::Result<report::Summary> JobSession::execute(
    const std::function<bool(const batch::Row&)>& filter,
    const std::function<void(const RowResult&)>& on_row,
    const std::function<void(const Progress&)>& on_progress) {
    if (!m_open) {
        return util::error(util::Code::internal, "JobSession::execute before open");
    }
    TRY(refuse_pending_batches(false));
    const SessionOptions& o = m_options;
    JobResources& w = *m_open;
    RunSettings settings = run_settings(o.plan.tier);
    RunDeps deps = w.run_deps(*m_clock, *m_storage, o.prices, *m_stop);
    deps.warn = m_log.warn;
    deps.sign_url = url_signer();
    Runner runner(settings, deps, m_job.history.done);
    TRY_ASSIGN(auto reader, RowReader::open(*m_job.input, o.plan.validation, m_job.plan.columns));
    std::uint64_t planned = 0;
    // A shard runs only its rows (the plan already counts only them).
    std::function<bool(const batch::Row&)> user_filter = filter;
    std::function<bool(const batch::Row&)> accept = filter;
    if (m_job.shard) {
        accept = [this, user_filter](const batch::Row& row) {
            return in_shard(row) && (!user_filter || user_filter(row));
        };
    }
    if (!user_filter) {
        planned = m_job.plan.images;
    } else {
        // Count the images of the accepted rows first, for the progress bar.
        TRY_ASSIGN(auto counter,
                   RowReader::open(*m_job.input, o.plan.validation, m_job.plan.columns));
        for (;;) {
            TRY_ASSIGN(auto br, counter->next());
            if (!br) {
                break;
            }
            if (accept(br->row)) {
                planned += static_cast<std::uint64_t>(br->row.variants);
            }
        }
    }
    RowFeed feed = [&]() -> util::Result<std::optional<BatchRow>> {
        for (;;) {
            TRY_ASSIGN(auto br, reader->next());
            if (!br || !accept || accept(br->row)) {
                return br;
            }
        }
    };
    auto summary = runner.run(
        feed, planned,
        [&](const RowResult& r) {
            w.record_row(r);
            if (on_row) {
                on_row(r);
            }
        },
        [&](const Progress& p) {
            w.set_progress(p);
            if (on_progress) {
                on_progress(p);
            }
        });
    if (!summary.ok()) {
        w.events->emit("error",
                       {{"jobId", m_job.place.job_id}, {"message", summary.status().message()}});
        // The run ends here (a failed ledger push, a storage failure): what was made is
        // published all the same, so another machine does not pay for it again.
        if (auto st = checkpoint("error"); !st.ok()) {
            say(m_log.warn, "checkpoint: " + st.message());
        }
        if (w.ledger->spools() && summary.status().code() == util::Code::storage_io) {
            return util::Status(
                util::Code::storage_io,
                summary.status().message() +
                    " (the ledger lines wait in the spool; the next run pushes them)");
        }
    }
    return summary;
}

}  // namespace assetgen::schedule
