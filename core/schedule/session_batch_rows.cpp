// JobSession's batch tier after the engine (batch_run.hpp): `--retry-failed --retry-tier
// standard` (the requests that failed inside a finished batch, sent again through the
// synchronous runner at that tier's price), and the job's rows into --results and --report.
#include <map>
#include <set>

#include "schedule/batch_run.hpp"
#include "schedule/session_internal.hpp"

#include "context/context.hpp"
#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

namespace {

// A failed image's outcome, and its line in the run's failures and error counts.
void fail_image(BatchRunResult& result, const batch::Row& row, int variant, const std::string& code,
                const std::string& message) {
    result.outcomes[done_key(row.scene_id, variant)] = BatchOutcome{"failed", "", 0, code, message};
    result.failures.push_back({row.scene_id, variant, row.where, code, message});
    ++result.summary.errors;
    ++result.summary.errors_by_code[code];
    if (result.summary.first_error.empty()) {
        result.summary.first_error = code + ": " + message;
    }
}

// A card's or a row's status for an error code.
std::string status_of_code(const std::string& code) {
    if (code == "BLOCKED") {
        return "blocked";
    }
    if (code == "BUDGET_EXCEEDED") {
        return "budget_exceeded";
    }
    return code.empty() ? "not_run" : "failed";
}

}  // namespace

util::Status JobSession::retry_batch_failures(budget::Tier tier, const std::vector<BatchRow>& rows,
                                              BatchRunResult& result) {
    const SessionOptions& o = m_options;
    JobResources& w = *m_open;
    const std::string tier_text(budget::tier_name(tier));
    std::map<std::size_t, std::set<int>> wanted;  // by row index: the variants to send again
    util::Micros worst = 0;
    for (const auto& [i, v] : result.retry) {
        wanted[i].insert(v);
        const batch::Row& row = rows[i].row;
        const budget::RequestShape shape{row.model.empty() ? o.plan.model : row.model,
                                         o.plan.image_size, row.prompt.size(), 0, tier};
        TRY_ASSIGN(const auto ceiling, o.prices.ceiling(shape));
        worst = util::add_sat(worst, ceiling.worst_case);
    }
    // The pre-flight at this tier's price: refused, nothing is sent.
    budget::Budget& budget = w.ledger->budget();
    if (worst > budget.remaining() && o.budget_policy == budget::BudgetPolicy::refuse) {
        const std::string message =
            "budget: --retry-tier " + tier_text + ": the " + std::to_string(result.retry.size()) +
            " request(s) that failed inside a batch need " + util::format_usd(worst) + " at the " +
            tier_text + " price (worst case), " + util::format_usd(budget.remaining()) +
            " is left today (pending batches' reservations count); nothing was sent. Raise "
            "--daily-budget-usd, or send them in a batch at half price (--retry-tier batch)";
        for (const auto& [i, v] : result.retry) {
            fail_image(result, rows[i].row, v, "BUDGET_EXCEEDED", message);
        }
        result.summary.first_error = message;
        result.end = BatchRunEnd::budget_exceeded;
        return util::ok_status();
    }
    if (m_log.info) {
        m_log.info("batch: --retry-tier " + tier_text + ": sending " +
                   std::to_string(result.retry.size()) +
                   " request(s) that failed inside a batch again, synchronously (worst case " +
                   util::format_usd(worst) + ")");
    }
    provider::ProviderConfig pc = o.provider;
    pc.service_tier = tier == budget::Tier::standard ? std::string() : tier_text;
    TRY_ASSIGN(auto stack, m_context->make_provider(pc));

    RunSettings settings = run_settings(tier);
    RunDeps deps{*m_clock,    *stack.provider, *m_storage,         w.ledger->writer(),
                 *w.manifest, *w.events,       w.ledger->budget(), o.prices,
                 *m_stop,     nullptr};
    deps.warn = m_log.warn;
    deps.sign_url = url_signer();
    if (w.bucket_lock) {
        deps.still_held = [lock = w.bucket_lock.get()] { return lock->still_held(); };
    }
    // The runner sees only the rows to retry, and their other variants as done (made, or
    // pending in a batch, or failed otherwise): it sends exactly the requests asked for.
    DoneIndex done;
    for (const auto& [i, variants] : wanted) {
        const batch::Row& row = rows[i].row;
        for (int v = 1; v <= row.variants; ++v) {
            if (variants.count(v) > 0) {
                continue;
            }
            const std::string key = done_key(row.scene_id, v);
            if (auto it = m_job.history.done.find(key); it != m_job.history.done.end()) {
                done[key] = it->second;
            } else if (auto o2 = result.outcomes.find(key); o2 != result.outcomes.end()) {
                done[key] = DoneImage{o2->second.uri, o2->second.cost, "", ""};
            } else {
                done[key] = DoneImage{};
            }
        }
    }
    Runner runner(settings, deps, done);
    auto next = wanted.begin();
    RowFeed feed = [&]() -> util::Result<std::optional<BatchRow>> {
        if (next == wanted.end()) {
            return std::optional<BatchRow>();
        }
        return std::optional<BatchRow>(rows[(next++)->first]);
    };
    std::uint64_t planned = result.retry.size();
    TRY_ASSIGN(report::Summary part, runner.run(feed, planned, [&](const RowResult& r) {
        const batch::Row& row = r.row->row;
        for (std::size_t k = 0; k < r.variants.size(); ++k) {
            const int v = static_cast<int>(k) + 1;
            const VariantOutcome& vo = r.variants[k];
            if (vo.kind == VariantOutcome::Kind::skipped_done) {
                continue;
            }
            if (vo.kind == VariantOutcome::Kind::ok) {
                result.outcomes[done_key(row.scene_id, v)] =
                    BatchOutcome{"ok", vo.uri, vo.cost, "", "", vo.signed_url};
                continue;
            }
            const std::string code(util::code_name(vo.code));
            result.outcomes[done_key(row.scene_id, v)] =
                BatchOutcome{"failed", "", vo.cost, code, vo.message};
            result.failures.push_back({row.scene_id, v, row.where, code, vo.message});
        }
    }));
    // Its counts and money join the batch's; rows are counted once, from the outcomes.
    part.images_skipped = 0;
    part.images_planned = 0;
    part.rows = part.rows_ok = part.rows_failed = 0;
    part.budget_spent_before = 0;
    const auto retry_end = part.status;
    part.status.reset();
    report::merge_into(result.summary, part);
    result.retry_end = retry_end;
    if (retry_end == RunEnd::budget_exceeded) {
        result.end = BatchRunEnd::budget_exceeded;
    }
    return util::ok_status();
}

void JobSession::record_batch_rows(const std::vector<BatchRow>& rows, BatchRunResult& result) {
    JobResources& w = *m_open;
    report::Summary& s = result.summary;
    s.rows = rows.size();
    s.rows_ok = s.rows_failed = 0;
    std::uint64_t rows_pending = 0;
    for (const BatchRow& br : rows) {
        const batch::Row& row = br.row;
        report::ResultRow rr;
        rr.input = br.cells;
        util::Micros cost = 0;
        int ok = 0;
        int pending = 0;
        int failed = 0;
        for (int v = 1; v <= row.variants; ++v) {
            const std::string key = done_key(row.scene_id, v);
            report::ReportCard c;
            c.scene_id = row.scene_id;
            c.variant = v;
            c.prompt = row.prompt;
            if (auto it = result.outcomes.find(key); it != result.outcomes.end()) {
                const BatchOutcome& o = it->second;
                c.cost = o.cost;
                c.image = o.uri;
                c.signed_url = o.signed_url;
                if (o.status == "ok") {
                    c.status = "ok";
                    ++ok;
                } else if (o.status == "pending") {
                    c.status = "pending";
                    ++pending;
                } else {
                    c.status = status_of_code(o.code);
                    c.error_code = o.code;
                    c.error = o.message;
                    ++failed;
                    if (rr.error_code.empty()) {
                        rr.error_code = o.code;
                        rr.error = o.message;
                    }
                }
            } else if (auto d = m_job.history.done.find(key); d != m_job.history.done.end()) {
                c.status = "skipped";
                c.cost = d->second.cost;
                c.image = d->second.uri;
                ++ok;
            } else {
                c.status = "not_run";  // a cancelled batch's, or left by a stop
                ++failed;
            }
            cost = util::add_sat(cost, c.cost);
            if (!c.signed_url.empty()) {
                rr.images.push_back(c.signed_url);  // as a synchronous run's row lists them
            } else if (!c.image.empty()) {
                rr.images.push_back(c.image);
            }
            if (w.report) {
                w.report->add(c);
            }
        }
        rr.cost_usd = util::format_usd(cost).substr(1);
        if (ok == row.variants) {
            rr.status = "ok";
            ++s.rows_ok;
        } else if (pending > 0) {
            rr.status = "pending";
            ++rows_pending;
        } else if (ok > 0) {
            rr.status = "partial";
        } else {
            rr.status = status_of_code(rr.error_code);
        }
        if (failed > 0) {
            ++s.rows_failed;
        }
        if (w.results) {
            w.results->write(rr);
        }
    }
    result.rows_pending = rows_pending;
}

}  // namespace assetgen::schedule
