// A row's reference images: resolved through the batch's RefFetcher the first time one of the
// row's variants is about to run, then shared by its other variants. Rows whose variants were
// all made by an earlier run never resolve (nothing is fetched on a finished resume). The
// workers do the resolving, so at most `concurrency` rows resolve at once; the fetcher's own
// pool bounds the fetches. See runner.cpp for the whole picture.
#include <nlohmann/json.hpp>

#include "schedule/runner_impl.hpp"

namespace assetgen::schedule {

using namespace detail;

const RowRefs& Runner::Impl::row_refs(RowState& row) {
    RowRefs& r = row.refs;
    nlohmann::json dropped_event;  // emitted once the row's lock is released
    {
        RunnerLock lock(r.mutex);
        resolve_refs_locked(row, dropped_event);
    }
    if (!dropped_event.is_null()) {
        deps.events.emit("refs", dropped_event);
    }
    return r;
}

void Runner::Impl::resolve_refs_locked(RowState& row, nlohmann::json& dropped_event) {
    RowRefs& r = row.refs;
    if (r.resolved) {
        return;
    }
    r.resolved = true;
    const auto& data = row.data.row;
    if (deps.refs == nullptr || (data.refs.empty() && settings.global_refs.empty())) {
        return;
    }
    auto resolved = deps.refs->resolve_row(data.refs, settings.global_refs, data.where);
    if (!resolved.ok()) {
        r.status = resolved.status();
        return;
    }
    r.images.reserve(resolved->refs.size());
    for (auto& ref : resolved->refs) {
        r.images.push_back(provider::RefImage{ref.mime_type, std::move(ref.data)});
    }
    {
        RunnerLock s(stats_mutex);
        refs_named += resolved->refs.size() + resolved->dropped.size();
    }
    if (!resolved->dropped.empty()) {
        nlohmann::json dropped = nlohmann::json::array();
        for (const auto& d : resolved->dropped) {
            dropped.push_back({{"url", d.url},
                               {"reason", refs::drop_reason_name(d.reason)},
                               {"message", d.message}});
        }
        dropped_event = {{"scene_id", data.scene_id},
                         {"where", data.where},
                         {"sent", r.images.size()},
                         {"dropped", std::move(dropped)}};
    }
}

void Runner::Impl::record_unsent(const Item& item, const Status& status, VariantOutcome& o) {
    const auto& row = item.row->data.row;
    o.kind = Kind::failed;
    o.code = status.code();
    o.message = status.message();
    {
        RunnerLock s(stats_mutex);
        ++summary.errors;
        ++summary.errors_by_code[std::string(util::code_name(status.code()))];
    }
    deps.events.emit("error", {{"scene_id", row.scene_id},
                               {"variant", item.variant},
                               {"where", row.where},
                               {"error_code", util::code_name(status.code())},
                               {"message", status.message()},
                               {"attempts", 0}});
}

void Runner::Impl::add_ref_stats() {
    if (deps.refs == nullptr) {
        return;
    }
    const refs::RefStats st = deps.refs->stats();
    RunnerLock s(stats_mutex);
    summary.refs_named = refs_named;
    summary.refs_fetched = st.fetched;
    summary.refs_cache_hits = st.cache_hits + st.revalidated;
    summary.refs_deduplicated = st.duplicate_urls + st.duplicate_content;
    summary.refs_bytes_fetched = st.bytes_fetched;
    summary.refs_dropped_by_cap = st.dropped_by_cap;
    summary.refs_failed = st.failed;
    summary.refs_planned = st.planned;
}

}  // namespace assetgen::schedule
