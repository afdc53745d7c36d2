#include "report/summary.hpp"

#include <nlohmann/json.hpp>

namespace assetgen::report {

nlohmann::json to_json(const Summary& s) {
    nlohmann::json j;
    j["v"] = 1;
    j["jobId"] = s.job_id;
    j["mode"] = s.mode;
    j["model"] = s.model;
    j["userId"] = s.user;
    j["status"] = s.status;
    j["started"] = util::utc_timestamp(s.started_ms);
    j["finished"] = util::utc_timestamp(s.finished_ms);
    j["rows"] = s.rows;
    j["rowsOk"] = s.rows_ok;
    j["rowsFailed"] = s.rows_failed;
    j["imagesPlanned"] = s.images_planned;
    j["imagesGenerated"] = s.images_generated;
    j["imagesSkipped"] = s.images_skipped;
    j["requests"] = s.requests;
    j["retries"] = s.retries;
    j["errors"] = s.errors;
    j["errorsByCode"] = s.errors_by_code;
    const auto attempted = s.images_generated + s.errors;
    j["errorRate"] = attempted ? static_cast<double>(s.errors) / static_cast<double>(attempted) : 0.0;
    j["latencyMs"] = {{"count", s.latency_ms.count()},
                      {"p50", s.latency_ms.percentile(50)},
                      {"p90", s.latency_ms.percentile(90)},
                      {"p95", s.latency_ms.percentile(95)},
                      {"p99", s.latency_ms.percentile(99)},
                      {"max", s.latency_ms.max()}};
    j["wallSeconds"] = s.wall_seconds;
    j["imagesPerSecond"] = s.wall_seconds > 0 ? static_cast<double>(s.images_generated) / s.wall_seconds : 0.0;
    j["estimatedCostUsd"] = util::to_dollars(s.estimated_cost);
    j["actualCostUsd"] = util::to_dollars(s.actual_cost);
    j["budget"] = {{"limitUsd", util::to_dollars(s.budget_limit)},
                   {"spentBeforeUsd", util::to_dollars(s.budget_spent_before)},
                   {"overshootUsd", util::to_dollars(s.budget_overshoot)}};
    j["refs"] = {{"fetched", s.refs_fetched},
                 {"cacheHits", s.refs_cache_hits},
                 {"deduplicated", s.refs_deduplicated},
                 {"bytesFetched", s.refs_bytes_fetched},
                 {"droppedByCap", s.refs_dropped_by_cap},
                 {"failed", s.refs_failed},
                 {"dedupRate", s.refs_named ? static_cast<double>(s.refs_deduplicated) /
                                                  static_cast<double>(s.refs_named)
                                            : 0.0}};
    j["urlRefreshes"] = s.url_refreshes;
    j["circuitOpens"] = s.circuit_opens;
    if (!s.first_error.empty()) {
        j["stoppedBy"] = s.first_error;
    }
    j["latencyHistogram"] = s.latency_ms.to_json();
    return j;
}

}  // namespace assetgen::report
