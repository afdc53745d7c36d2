#pragma once
// A run's summary as Prometheus text exposition format 0.0.4 (DESIGN.md §9, --metrics-file), for
// node_exporter's textfile collector: counters end in _total, the request latency is a histogram
// with fixed buckets in seconds, every series carries the run's labels, and no sample has a
// timestamp (the textfile collector refuses them). The file is replaced atomically, so the
// collector reads the old run or the new one, never half of either.

#include <array>
#include <string>
#include <string_view>

#include "report/summary.hpp"
#include "util/status.hpp"

namespace assetgen::report {

// The labels every series of a run carries, in this order; an empty value is left out (to
// Prometheus an empty label and a missing one are the same).
struct MetricsLabels {
    std::string job_id;
    std::string mode;  // "dry_run" | "live"
    std::string model;
    std::string shard;  // "I/N", or "" when the run is not sharded
};

// The summary's job id, mode and model, plus shard.
MetricsLabels metrics_labels(const Summary& s, std::string shard = "");

// Upper bounds (le) of assetgen_request_duration_seconds's buckets, then +Inf. Fixed, so that
// runs can be summed and compared in PromQL.
inline constexpr std::array<double, 18> k_latency_buckets_seconds = {
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300};

// The exposition text: for each metric a HELP line, a TYPE line, then its samples; every line
// ends in "\n". Never fails. Bucket counts are exact while the summary's latency histogram holds
// exact samples (up to Histogram::k_exact_limit requests), else within its 1% resolution.
std::string render_metrics(const Summary& s, const MetricsLabels& labels);

// Writes render_metrics(s, labels) to a local path atomically (temp file beside it, fsync,
// rename; mode 0644 so a collector running as another user can read it). STORAGE_IO on failure.
util::Status write_metrics_file(const std::string& path, const Summary& s,
                                const MetricsLabels& labels);

// A label value with \ → \\, " → \" and line feed → \n, as the format requires.
std::string escape_label_value(std::string_view value);
// HELP text with \ → \\ and line feed → \n.
std::string escape_help(std::string_view text);
// A sample value as Go's ParseFloat reads it: integers without a fraction, others in the
// shortest form that reads back the same, NaN, +Inf, -Inf.
std::string format_sample_value(double value);
// Micro-dollars as an exact decimal number of dollars: 39000 → "0.039", 0 → "0".
std::string format_micros_value(util::Micros micros);

}  // namespace assetgen::report
