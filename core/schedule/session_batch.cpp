// JobSession::execute_batch: the batch tier (batch_run.hpp) over the session's open records.
#include "schedule/batch_run.hpp"
#include "schedule/session_internal.hpp"

#include "provider/batch_factory.hpp"

namespace assetgen::schedule {

util::Result<BatchRunResult> JobSession::execute_batch(
    BatchRunSettings batch, const std::function<void(const BatchChunkView&)>& on_progress) {
    if (!m_open) {
        return util::error(util::Code::internal, "JobSession::execute_batch before open");
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
    batch.shard = o.shard;
    batch.temp_dir = m_context->places.temp_dir;

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
               read_ledger_chunks(w.ledger->read_location(), m_job.place.job_id));
    BatchRunDeps deps{*m_clock,       *service.service,   *m_storage, w.ledger->writer(),
                      *w.manifest,    w.ledger->budget(), o.prices,   *m_stop,
                      w.events.get(), m_log.info,         on_progress};
    const util::Micros spent_before = w.ledger->budget().spent();
    TRY_ASSIGN(BatchRunResult result, run_batch(batch, deps, rows, m_job.history.done, chunks));
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
            s.status = RunEnd::interrupted;  // the batches run on; the same command collects
            break;
        case BatchRunEnd::budget_exceeded:
            s.status = RunEnd::budget_exceeded;
            break;
        default:
            s.status = s.rows_failed > 0 ? RunEnd::failed : RunEnd::ok;
    }
    return result;
}

}  // namespace assetgen::schedule
