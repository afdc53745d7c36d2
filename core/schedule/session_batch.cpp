// JobSession::execute_batch: the batch tier (batch_run.hpp) over the session's open records.
#include "schedule/batch_run.hpp"
#include "schedule/session_internal.hpp"

#include <algorithm>
#include <set>

#include "ledger/reservations.hpp"
#include "provider/batch_factory.hpp"
#include "schedule/other_batches.hpp"
#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

namespace {

// The shard count of "I/N" (0 for "").
int shard_count_of(const std::string& shard) {
    const auto slash = shard.find('/');
    return slash == std::string::npos ? 0 : std::atoi(shard.c_str() + slash + 1);
}

}  // namespace

util::Status JobSession::refuse_pending_batches(bool batch_tier) const {
    if (m_options.mode != ledger::RunMode::live) {
        return util::ok_status();  // a dry run pays nothing twice
    }
    const std::string& job = m_job.place.job_id;
    const std::string mine = m_job.shard ? m_job.shard->text() : std::string();
    // A batch's lines are all in its reservation's day file, and the Batch API expires a batch
    // after 48 h: the last three days hold every batch that may still bill.
    ledger::ReadOptions recent;
    recent.from_day = util::utc_date(m_clock->unix_ms() - 3 * 86'400'000LL);
    ledger::ReservationBook book;
    ledger::ReservationBook others;  // other jobs' (an edited sheet is a new job id)
    TRY(ledger::read_ledger(
        m_open->ledger->read_location(), recent,
        [&](const ledger::Entry& e) { (e.job_id == job ? book : others).add(e); }, nullptr));
    // Another job's pending batches over this run's rows in this --out (other_batches.hpp): an
    // edited sheet is a new job id. Most runs find none and do not read the input again.
    const auto refuse_other_jobs_batches = [&]() -> util::Status {
        const bool any =
            std::any_of(others.states().begin(), others.states().end(), [](const auto& s) {
                return s.second.reserved_seen && !s.second.settled() &&
                       s.second.reserve.tier == "batch";
            });
        if (!any) {
            return util::ok_status();
        }
        std::set<std::string> scenes;  // this run's rows (its shard's)
        TRY_ASSIGN(auto reader,
                   RowReader::open(*m_job.input, m_options.plan.validation, m_job.plan.columns));
        for (;;) {
            TRY_ASSIGN(auto br, reader->next());
            if (!br) {
                break;
            }
            if (in_shard(br->row)) {
                scenes.insert(br->row.scene_id);
            }
        }
        TRY_ASSIGN(const auto found,
                   other_pending_batches(others, job, m_options.out, *m_storage, scenes));
        return refuse_other_pending(found, job, m_options.input);
    };
    std::string names;
    int open = 0;
    util::Micros held = 0;
    for (const auto& [id, state] : book.states()) {
        if (!state.reserved_seen || state.settled() || state.reserve.tier != "batch") {
            continue;
        }
        // Shards of one count split the rows: another shard's batch holds none of these.
        const std::string& theirs = state.reserve.shard;
        if (!mine.empty() && !theirs.empty() && theirs != mine &&
            shard_count_of(theirs) == shard_count_of(mine)) {
            continue;
        }
        if (batch_tier && theirs == mine) {
            continue;  // this run's own chunks: it collects them
        }
        ++open;
        held = util::add_sat(held, state.outstanding());
        if (open <= 3) {
            names += (names.empty() ? "" : ", ") + state.reserve.batch;
        }
    }
    if (open == 0) {
        return refuse_other_jobs_batches();
    }
    return util::error(
        util::Code::config,
        "job " + job + " has " + std::to_string(open) + " batch chunk(s) still pending (" + names +
            (open > 3 ? ", ..." : "") + "; " + util::format_usd(held) + " reserved)" +
            (batch_tier ? " of another shard or of the unsharded run" : "") +
            ": this run would make their images again and Google would bill both. Collect them "
            "with the command that sent them (--tier batch, the same --shard), or give them "
            "back with --tier batch --cancel; nothing was sent");
}

util::Result<BatchRunResult> JobSession::execute_batch(
    BatchRunSettings batch, const std::function<void(const BatchChunkView&)>& on_progress) {
    if (!m_open) {
        return util::error(util::Code::internal, "JobSession::execute_batch before open");
    }
    if (!batch.cancel) {
        TRY(refuse_pending_batches(true));
    }
    const SessionOptions& o = m_options;
    JobResources& w = *m_open;
    batch.job_id = m_job.place.job_id;
    batch.job_dir = m_job.place.dir;
    batch.records = m_job.place.records;
    batch.user = o.user;
    batch.mode = o.mode;
    batch.model = o.plan.model;
    batch.image_size = o.plan.image_size;
    batch.shard = m_job.shard ? m_job.shard->text() : std::string();  // "I/N", normalised
    batch.temp_dir = m_context->places.temp_dir;
    batch.global_refs = m_job.plan.global_refs;

    // The rows, in memory (a request line is rebuilt from its row whenever a chunk's request
    // file is written again).
    std::vector<BatchRow> rows;
    TRY_ASSIGN(auto reader, RowReader::open(*m_job.input, o.plan.validation, m_job.plan.columns));
    for (;;) {
        TRY_ASSIGN(auto br, reader->next());
        if (!br) {
            break;
        }
        if (in_shard(br->row)) {
            rows.push_back(std::move(*br));
        }
    }
    TRY_ASSIGN(auto service,
               provider::make_batch_service(o.provider, m_context->env, m_context->transport,
                                            *m_clock, m_context->gcs_options()));
    if (m_log.info) {
        m_log.info("batch: " + service.description);
    }
    TRY_ASSIGN(const auto chunks,
               read_ledger_chunks(w.ledger->read_location(), m_job.place.job_id, batch.shard));
    BatchRunDeps deps{*m_clock,       *service.service,   *m_storage, w.ledger->writer(),
                      *w.manifest,    w.ledger->budget(), o.prices,   *m_stop,
                      w.events.get(), m_log.info,         on_progress};
    deps.refs = w.refs ? &w.refs->fetcher() : nullptr;
    deps.sign_url = url_signer();
    const util::Micros spent_before = w.ledger->budget().spent();
    TRY_ASSIGN(BatchRunResult result, run_batch(batch, deps, rows, m_job.history.done, chunks));
    if (!result.retry.empty()) {
        TRY(retry_batch_failures(batch.retry_tier, rows, result));
    }
    record_batch_rows(rows, result);
    report::Summary& s = result.summary;
    s.job_id = m_job.place.job_id;
    s.mode = std::string(ledger::run_mode_name(o.mode));
    s.model = o.plan.model;
    s.user = o.user;
    s.images_planned = m_job.plan.images;
    s.budget_limit = m_job.spend.limit;
    s.budget_spent_before = spent_before;
    switch (result.end) {
        case BatchRunEnd::pending:
            s.status = RunEnd::pending;  // the batches run on; the same command collects
            break;
        case BatchRunEnd::budget_exceeded:
            s.status = RunEnd::budget_exceeded;
            break;
        default:
            s.status = s.rows_failed > 0 ? RunEnd::failed : RunEnd::ok;
            if (result.retry_end && *result.retry_end != RunEnd::ok &&
                *result.retry_end != RunEnd::failed) {
                s.status = result.retry_end;  // the synchronous retry stopped (a signal, a quota)
            }
    }
    report::Summary::Batches b;
    for (const auto& v : result.pending) {
        b.pending.push_back({v.display_name, std::string(provider::batch_state_name(v.state)),
                             v.requests, v.done, v.reserved});
        b.reserved_pending = util::add_sat(b.reserved_pending, v.reserved);
    }
    b.rows_pending = result.rows_pending;
    b.chunks_created = static_cast<std::uint64_t>(result.chunks_created);
    b.chunks_collected = static_cast<std::uint64_t>(result.chunks_collected);
    if (result.retry_end) {
        b.retry_tier = std::string(budget::tier_name(batch.retry_tier));
        b.retried = result.retry.size();
    }
    s.batch = std::move(b);
    return result;
}

}  // namespace assetgen::schedule
