#include "schedule/session_internal.hpp"
#include "schedule/storage_error.hpp"

#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "auth/iam_signer.hpp"
#include "ledger/day_totals.hpp"
#include "ledger/gcs_ledger_writer.hpp"
#include "net/curl_transport.hpp"
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

constexpr std::size_t k_problems_shown = 50;

// One contact-sheet card per image of a finished row.
void add_cards(const RowResult& r, report::HtmlReportStream& cards) {
    for (std::size_t k = 0; k < r.variants.size(); ++k) {
        const VariantOutcome& v = r.variants[k];
        report::ReportCard c;
        c.scene_id = r.row->row.scene_id;
        c.variant = static_cast<int>(k) + 1;
        c.prompt = r.row->row.prompt;
        c.cost = v.cost;
        c.image = v.uri;
        c.signed_url = v.signed_url;
        switch (v.kind) {
            case VariantOutcome::Kind::ok:
                c.status = "ok";
                break;
            case VariantOutcome::Kind::skipped_done:
                c.status = "skipped";
                break;
            case VariantOutcome::Kind::failed:
                c.status = v.code == util::Code::blocked ? "blocked" : "failed";
                break;
            case VariantOutcome::Kind::not_run:
                c.status = "not_run";
                break;
        }
        if (v.kind == VariantOutcome::Kind::failed || v.kind == VariantOutcome::Kind::not_run) {
            c.error_code = std::string(util::code_name(v.code));
            c.error = v.message;
        }
        cards.add(c);
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
    return !m_shard || shard_of(row.scene_id, m_shard->count) == m_shard->index;
}

util::Result<std::unique_ptr<JobSession>> JobSession::prepare(SessionOptions options,
                                                              util::Clock& clock,
                                                              const std::atomic<int>& stop,
                                                              SessionLog log,
                                                              nlohmann::json* preflight_out) {
    auto s = std::unique_ptr<JobSession>(new JobSession());
    s->m_preflight = std::make_unique<nlohmann::json>();
    s->m_options = std::move(options);
    s->m_clock = &clock;
    s->m_stop = &stop;
    s->m_log = std::move(log);
    SessionOptions& o = s->m_options;
    // A gs:// job keeps its local copies in the spool from the start; otherwise the default
    // folders are made only once the batch is known to be good (a refused batch creates nothing).
    const bool spool_first = storage::is_gcs(o.out) || storage::is_gcs(o.ledger);
    if (spool_first) {
        TRY(resolve_default_folders(o, s->m_log));
    }
    if (storage::is_gcs(o.events)) {
        return util::error(util::Code::config,
                           "--events: events stream as they happen, to a local file or - (stdout); "
                           "give a local path (Cloud Run and Cloud Build collect stdout)");
    }
    s->m_storage = std::make_unique<storage::AnyStorage>(auth::Env::process(), clock);

    TRY_ASSIGN(s->m_input,
               BatchInput::open(o.input, o.format, s->m_storage.get(), o.max_input_bytes));

    // The job: its id depends on the input bytes and the settings that change the output.
    const std::string job_id = session_job_id(o, *s->m_input);
    if (!o.shard.empty()) {
        TRY_ASSIGN(s->m_shard, parse_shard(o.shard, "shard"));
        const Shard shard = *s->m_shard;
        o.plan.accept = [shard](const batch::Row& row) {
            return shard_of(row.scene_id, shard.count) == shard.index;
        };
    }
    s->m_place = job_place(o.out, job_id, o.spool_dir, s->m_shard ? s->m_shard->dir_name() : "");
    if (s->m_shard) {
        say(s->m_log.info, "shard " + o.shard + ": the rows whose scene_id hashes to " +
                               std::to_string(s->m_shard->index) + " mod " +
                               std::to_string(s->m_shard->count) + "; records in " +
                               s->m_place.records);
        if (o.shard_attempt > 0) {
            say(s->m_log.info, "shard " + o.shard + ": retried task (attempt " +
                                   std::to_string(o.shard_attempt) +
                                   "): resuming this shard's manifest; only its missing rows run");
        }
    }
    TRY_ASSIGN(s->m_history, open_job_history(s->m_place, *s->m_storage));
    if (s->m_history.images_elsewhere > 0) {
        say(s->m_log.info, "job " + job_id + ": " + std::to_string(s->m_history.images_elsewhere) +
                               " image(s) made by the job's " +
                               (s->m_shard ? "other runs (unsharded or other shards)" : "shards") +
                               " count as done");
    }
    for (const auto& issue : s->m_history.issues) {
        say(s->m_log.warn, issue.file + ":" + std::to_string(issue.line) + ": " + issue.message);
    }

    TRY(s->check_bucket());
    o.plan.content = ContentSettings{o.mode, o.plan.model, o.plan.image_size};
    o.plan.today =
        util::utc_date(clock.unix_ms());  // whose date the catalog's lifecycle is read at
    TRY_ASSIGN(s->m_plan, plan_batch(*s->m_input, o.plan, o.prices, s->m_history.done));
    for (const auto& w : s->m_plan.warnings) {
        say(s->m_log.warn, w);
    }
    if (!s->m_plan.problems.empty()) {
        const auto& problems = s->m_plan.problems;
        const std::size_t shown = std::min(problems.size(), k_problems_shown);
        for (std::size_t i = 0; i < shown; ++i) {
            say(s->m_log.error, problems[i].text());
        }
        if (problems.size() > shown) {
            say(s->m_log.error,
                "... and " + std::to_string(problems.size() - shown) + " more problems");
        }
        return refuse_problems(*s->m_input, s->m_plan);
    }
    if (!spool_first) {
        TRY(resolve_default_folders(o, s->m_log));
    }
    if (!s->m_plan.changed.empty()) {
        const auto& changed = s->m_plan.changed;
        const std::size_t shown = std::min(changed.size(), k_problems_shown);
        for (std::size_t i = 0; i < shown; ++i) {
            say(s->m_log.error, changed[i].where + ": scene_id \"" + changed[i].scene_id +
                                    "\": changed since job " + job_id + " made its image(s)");
        }
        if (changed.size() > shown) {
            say(s->m_log.error,
                "... and " + std::to_string(changed.size() - shown) + " more changed rows");
        }
        return refuse_changed(*s->m_input, s->m_plan, job_id);
    }
    if (const SpendRate& rate = o.run.max_spend_rate;
        rate.limit > 0 && s->m_plan.max_worst_case > rate.limit) {
        return util::error(util::Code::usage,
                           "--max-spend-rate: one request of this batch may cost up to " +
                               util::format_usd(s->m_plan.max_worst_case) +
                               " (its worst case), more than " + format_spend_rate(rate) +
                               " allows; nothing was sent (raise the limit)");
    }
    const Plan& plan = s->m_plan;
    say(s->m_log.info, "job " + job_id + ": " + std::to_string(plan.rows) + " rows, " +
                           std::to_string(plan.images) + " images (" +
                           std::to_string(plan.images - plan.images_to_run) +
                           " already done), mode " + std::string(ledger::run_mode_name(o.mode)) +
                           ", model " + o.plan.model);
    auto st = s->check_budget();
    if (preflight_out != nullptr) {
        *preflight_out = *s->m_preflight;
    }
    TRY(st);
    return s;
}

util::Status JobSession::check_bucket() {
    auto found = missing_images(m_place, m_history.done, *m_storage);
    TRY(as_storage_error(found.status(), m_place.dir));
    const auto& missing = *found;
    if (missing.empty()) {
        return util::ok_status();
    }
    const std::string count = std::to_string(missing.size());
    if (!m_options.remake_missing) {
        say(m_log.warn, m_place.dir + ": " + count +
                            " image(s) the job's manifest lists are not in the bucket (" +
                            missing.front().second + (missing.size() > 1 ? ", …" : "") +
                            "); they still count as done. Give --remake-missing to make them again "
                            "(each costs money)");
        return util::ok_status();
    }
    for (const auto& [key, uri] : missing) {
        m_history.done.erase(key);
        m_remade.insert(key);
    }
    say(m_log.info, m_place.dir + ": " + count +
                        " image(s) the job's manifest lists are not in the bucket (" +
                        missing.front().second + (missing.size() > 1 ? ", …" : "") +
                        "); --remake-missing: making them again");
    return util::ok_status();
}

util::Status JobSession::open_ledger_store() {
    TRY_ASSIGN(storage::GcsStorage * gcs, m_storage->gcs());
    (void)gcs;
    storage::StorageContext context;
    context.transport = m_storage->transport();
    context.tokens = m_storage->tokens();
    context.clock = m_clock;
    context.gcs.endpoint = storage::resolve_gcs_endpoint(auth::Env::process());
    TRY_ASSIGN(m_ledger_store, ledger::GcsLedgerStore::open(m_options.ledger, context));
    m_ledger_spool = m_ledger_store->spool_dir_for(m_options.spool_dir);
    return util::ok_status();
}

void JobSession::emit(const std::string& event, const nlohmann::json& fields) {
    if (m_open && m_open->events) {
        m_open->events->emit(event, fields);
    }
}

util::Result<report::Summary> JobSession::execute(
    const std::function<bool(const batch::Row&)>& filter,
    const std::function<void(const RowResult&)>& on_row,
    const std::function<void(const Progress&)>& on_progress) {
    if (!m_open) {
        return util::error(util::Code::internal, "JobSession::execute before open");
    }
    const SessionOptions& o = m_options;
    Open& w = *m_open;
    RunSettings settings = o.run;
    settings.job_id = m_place.job_id;
    settings.job_dir = m_place.dir;
    settings.user = o.user;
    settings.mode = o.mode;
    settings.model = o.plan.model;
    settings.image_size = o.plan.image_size;
    settings.tier = o.plan.tier;
    settings.shard = o.shard;
    settings.jitter_seed = util::fnv1a64(m_place.job_id);
    settings.global_refs = m_plan.global_refs;
    settings.remade = m_remade;
    RunDeps deps{*m_clock,    *w.provider.provider,
                 *m_storage,  *w.ledger,
                 *w.manifest, *w.events,
                 *w.budget,   o.prices,
                 *m_stop,     w.refs ? &w.refs->fetcher() : nullptr};
    deps.warn = m_log.warn;
    if (w.bucket_lock) {
        deps.still_held = [lock = w.bucket_lock.get()] { return lock->still_held(); };
    }
    if (w.signer) {
        const auth::Env env = auth::Env::process();
        std::string emulator = env.get("STORAGE_EMULATOR_HOST");
        if (emulator.empty()) {
            emulator = env.get("CLOUD_STORAGE_EMULATOR_ENDPOINT");
        }
        deps.sign_url =
            [this, &w, emulator](
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
    Runner runner(settings, deps, m_history.done);
    TRY_ASSIGN(auto reader, RowReader::open(*m_input, o.plan.validation, m_plan.columns));
    std::uint64_t planned = 0;
    // A shard runs only its rows (the plan already counts only them).
    std::function<bool(const batch::Row&)> user_filter = filter;
    std::function<bool(const batch::Row&)> accept = filter;
    if (m_shard) {
        accept = [this, user_filter](const batch::Row& row) {
            return in_shard(row) && (!user_filter || user_filter(row));
        };
    }
    if (!user_filter) {
        planned = m_plan.images;
    } else {
        // Count the images of the accepted rows first, for the progress bar.
        TRY_ASSIGN(auto counter, RowReader::open(*m_input, o.plan.validation, m_plan.columns));
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
            if (w.results) {
                report::ResultRow rr;
                rr.input = r.row->cells;
                rr.status = std::string(row_status_name(r.status));
                for (const auto& v : r.variants) {
                    if (!v.signed_url.empty()) {
                        rr.images.push_back(v.signed_url);
                    } else if (!v.uri.empty()) {
                        rr.images.push_back(v.uri);
                    }
                }
                rr.cost_usd = util::format_usd(r.cost).substr(1);
                if (r.first_error != util::Code::ok) {
                    rr.error_code = std::string(util::code_name(r.first_error));
                    rr.error = r.first_message;
                }
                w.results->write(rr);
            }
            if (!o.report.empty()) {
                add_cards(r, *w.report);
            }
            if (on_row) {
                on_row(r);
            }
        },
        [&](const Progress& p) {
            {
                std::lock_guard lock(w.progress_mutex);
                w.progress = p;
            }
            if (on_progress) {
                on_progress(p);
            }
        });
    if (!summary.ok()) {
        w.events->emit("error",
                       {{"jobId", m_place.job_id}, {"message", summary.status().message()}});
        // The run ends here (a failed ledger push, a storage failure): what was made is
        // published all the same, so another machine does not pay for it again.
        if (auto st = checkpoint("error"); !st.ok()) {
            say(m_log.warn, "checkpoint: " + st.message());
        }
        if (m_ledger_store && summary.status().code() == util::Code::storage_io) {
            return util::Status(
                util::Code::storage_io,
                summary.status().message() +
                    " (the ledger lines wait in the spool; the next run pushes them)");
        }
    }
    return summary;
}

}  // namespace assetgen::schedule
