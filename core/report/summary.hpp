#pragma once
// The end-of-run summary (DESIGN.md §9): printed with --json and written to
// <out>/<job>/summary.json. Counter names keep the reference platform's `requests`, `errors`,
// `imagesGenerated`, `urlRefreshes`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "report/histogram.hpp"
#include "report/run_status.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::report {

struct Summary {
    std::string job_id;
    std::string mode;
    std::string model;
    std::string user;
    std::optional<RunStatus> status;  // unset ("" in summary.json): the run has not ended
    std::int64_t started_ms = 0;
    std::int64_t finished_ms = 0;
    std::uint64_t rows = 0;
    std::uint64_t rows_ok = 0;
    std::uint64_t rows_failed = 0;
    std::uint64_t images_planned = 0;
    std::uint64_t images_generated = 0;  // this run
    std::uint64_t images_skipped = 0;    // already done by an earlier run of the job
    std::uint64_t requests = 0;
    std::uint64_t retries = 0;
    std::uint64_t errors = 0;  // images that ended in an error
    std::map<std::string, std::uint64_t> errors_by_code;
    Histogram latency_ms;  // successful requests
    double wall_seconds = 0;
    util::Micros estimated_cost = 0;  // estimates of the requests made
    util::Micros actual_cost = 0;     // from usageMetadata and the price table
    util::Micros budget_limit = 0;
    util::Micros budget_spent_before = 0;
    util::Micros budget_overshoot = 0;
    // Requests whose reported usage cost more than was reserved for them (a server that did
    // not keep to maxOutputTokens), and by how much in all. The run stops at the first.
    std::uint64_t overrun_requests = 0;
    util::Micros reservation_overrun = 0;
    // Images whose pixel size is not the one Google documents for what was asked (kept).
    std::uint64_t size_mismatch = 0;
    std::uint64_t refs_named = 0;           // refs of the rows that ran, before merging
    std::uint64_t refs_fetched = 0;         // downloaded (distinct refs, once per batch)
    std::uint64_t refs_cache_hits = 0;      // served from the disk cache (fresh or after a 304)
    std::uint64_t refs_deduplicated = 0;    // removed from rows: same URL or same bytes
    std::uint64_t refs_bytes_fetched = 0;   // bytes downloaded
    std::uint64_t refs_dropped_by_cap = 0;  // beyond --max-refs
    std::uint64_t refs_failed = 0;          // distinct refs that could not be used
    std::uint64_t refs_planned = 0;  // dry run without --fetch-refs: distinct refs not fetched
    std::uint64_t url_refreshes = 0;
    std::uint64_t circuit_opens = 0;
    std::string first_error;  // what stopped the run, when something did
    // --tier batch (summary.json "batch"): the job's batches still running after this run
    // (status pending) and the money their reservations hold; unset for a synchronous run.
    struct BatchChunk {
        std::string name;   // the display name, assetgen-<job>-c<N>
        std::string state;  // PENDING, RUNNING, ...
        std::int64_t requests = 0;
        std::int64_t done = 0;
        util::Micros reserved = 0;
    };
    struct Batches {
        std::vector<BatchChunk> pending;
        util::Micros reserved_pending = 0;  // held by the pending ones (counts against the day)
        std::uint64_t rows_pending = 0;
        std::uint64_t chunks_created = 0;  // by this run
        std::uint64_t chunks_collected = 0;
        std::string retry_tier;     // --retry-tier when this run sent failed requests again
        std::uint64_t retried = 0;  // requests sent again synchronously
    };
    std::optional<Batches> batch;
};

nlohmann::json to_json(const Summary& s);

// Adds part (e.g. one canary stage's run) to total, as if one run had done both: counts, errors
// by code, latencies, costs and ref counters add up; the first start and the last finish are
// kept, and the status, budget limit and first error of the latest part that has them; the
// budget spent before the run is the first part's (a total with no start and finish yet is empty).
void merge_into(Summary& total, const Summary& part);

// Reads back what to_json wrote, e.g. an earlier run's summary.json for `canary --baseline`:
// every stored field; derived ones (errorRate, imagesPerSecond, dedupRate) are not read.
// Optional fields that are missing stay at their defaults. INVALID_INPUT
// `<where>: <field>: <problem>` when j is not a version-1 summary or when imagesGenerated,
// errors or latencyHistogram (what a baseline comparison needs) is missing or malformed.
util::Result<Summary> summary_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace assetgen::report
