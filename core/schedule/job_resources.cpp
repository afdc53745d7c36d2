#include "schedule/job_resources.hpp"

#include <nlohmann/json.hpp>

#include "report/html_report.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {

namespace {

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

RunDeps JobResources::run_deps(util::Clock& clock, storage::Storage& storage,
                               const budget::PriceTable& prices, const std::atomic<int>& stop) {
    RunDeps deps{clock,
                 *provider.provider,
                 storage,
                 ledger->writer(),
                 *manifest,
                 *events,
                 ledger->budget(),
                 prices,
                 stop,
                 refs ? &refs->fetcher() : nullptr};
    if (bucket_lock) {
        deps.still_held = [lock = bucket_lock.get()] { return lock->still_held(); };
    }
    return deps;
}

void JobResources::record_row(const RowResult& r) {
    if (results) {
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
        results->write(rr);
    }
    if (report) {
        add_cards(r, *report);
    }
}

void JobResources::set_progress(const Progress& progress) {
    std::lock_guard lock(m_progress_mutex);
    m_progress = progress;
}

Progress JobResources::progress() const {
    std::lock_guard lock(m_progress_mutex);
    return m_progress;
}

void JobResources::emit(const std::string& event, const nlohmann::json& fields) {
    if (events) {
        events->emit(event, fields);
    }
}

}  // namespace assetgen::schedule
