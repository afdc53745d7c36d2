#pragma once
// The end-of-run summary (DESIGN.md §9): printed with --json and written to
// <out>/<job>/summary.json. Counter names keep the reference platform's `requests`, `errors`,
// `imagesGenerated`, `urlRefreshes`.

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "report/histogram.hpp"
#include "util/text.hpp"

namespace assetgen::report {

struct Summary {
    std::string job_id;
    std::string mode;
    std::string model;
    std::string user;
    std::string status;            // "ok", "failed", "budget_exceeded", "interrupted", ...
    std::int64_t started_ms = 0;
    std::int64_t finished_ms = 0;
    std::uint64_t rows = 0;
    std::uint64_t rows_ok = 0;
    std::uint64_t rows_failed = 0;
    std::uint64_t images_planned = 0;
    std::uint64_t images_generated = 0;   // this run
    std::uint64_t images_skipped = 0;     // already done by an earlier run of the job
    std::uint64_t requests = 0;
    std::uint64_t retries = 0;
    std::uint64_t errors = 0;             // images that ended in an error
    std::map<std::string, std::uint64_t> errors_by_code;
    Histogram latency_ms;                 // successful requests
    double wall_seconds = 0;
    util::Micros estimated_cost = 0;      // estimates of the requests made
    util::Micros actual_cost = 0;         // from usageMetadata and the price table
    util::Micros budget_limit = 0;
    util::Micros budget_spent_before = 0;
    util::Micros budget_overshoot = 0;
    std::uint64_t refs_named = 0;           // refs of the rows that ran, before merging
    std::uint64_t refs_fetched = 0;         // downloaded (distinct refs, once per batch)
    std::uint64_t refs_cache_hits = 0;      // served from the disk cache (fresh or after a 304)
    std::uint64_t refs_deduplicated = 0;    // removed from rows: same URL or same bytes
    std::uint64_t refs_bytes_fetched = 0;   // bytes downloaded
    std::uint64_t refs_dropped_by_cap = 0;  // beyond --max-refs
    std::uint64_t refs_failed = 0;          // distinct refs that could not be used
    std::uint64_t url_refreshes = 0;
    std::uint64_t circuit_opens = 0;
    std::string first_error;              // what stopped the run, when something did
};

nlohmann::json to_json(const Summary& s);

}  // namespace assetgen::report
