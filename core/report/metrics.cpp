// Prometheus text exposition of a run summary.
//
// How this works: an Exposition collects one metric family at a time (HELP, TYPE, samples) into
// a string; the run's labels are rendered once and put first in every sample's label set. The
// latency histogram is rebuilt on the fixed bounds from Histogram::to_json(), whose buckets are
// [lower_ms, count] pairs in increasing order: a pair counts towards every bound at or above its
// lower end. For an exact histogram each pair is one value, so the counts are exact; for a
// spilled one a pair is a bucket at most 1/128 of its lower end wide, so a bound that falls
// inside a bucket may count values up to 0.8% above it.

#include "report/metrics.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/atomic_file.hpp"

namespace assetgen::report {
namespace {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class Exposition {
public:
    explicit Exposition(const MetricsLabels& l) {
        add_label(m_common, "job_id", l.job_id);
        add_label(m_common, "mode", l.mode);
        add_label(m_common, "model", l.model);
        add_label(m_common, "shard", l.shard);
    }

    // Starts a family; its samples must follow before the next family starts.
    void family(std::string_view name, std::string_view type, std::string_view help) {
        m_out += "# HELP ";
        m_out += name;
        m_out += ' ';
        m_out += escape_help(help);
        m_out += "\n# TYPE ";
        m_out += name;
        m_out += ' ';
        m_out += type;
        m_out += '\n';
    }

    void sample(std::string_view name, const Labels& extra, std::string_view value) {
        std::string labels = m_common;
        for (const auto& [k, v] : extra) {
            add_label(labels, k, v);
        }
        m_out += name;
        if (!labels.empty()) {
            m_out += '{';
            m_out += labels;
            m_out += '}';
        }
        m_out += ' ';
        m_out += value;
        m_out += '\n';
    }
    void sample(std::string_view name, std::string_view value) { sample(name, {}, value); }

    // A family with one sample.
    void single(std::string_view name, std::string_view type, std::string_view help,
                std::string_view value) {
        family(name, type, help);
        sample(name, value);
    }
    void counter(std::string_view name, std::string_view help, std::uint64_t value) {
        single(name, "counter", help, std::to_string(value));
    }

    std::string take() { return std::move(m_out); }

private:
    static void add_label(std::string& out, std::string_view name, std::string_view value) {
        if (value.empty()) {
            return;
        }
        if (!out.empty()) {
            out += ',';
        }
        out += name;
        out += "=\"";
        out += escape_label_value(value);
        out += '"';
    }

    std::string m_common;  // `job_id="...",mode="..."`
    std::string m_out;
};

// Cumulative counts of latency_ms at each fixed bound (in ms), then the sum in seconds.
struct FixedBuckets {
    std::array<std::uint64_t, k_latency_buckets_seconds.size()> cumulative{};
    double sum_seconds = 0;
};

FixedBuckets fixed_buckets(const Histogram& h) {
    FixedBuckets out;
    const nlohmann::json j = h.to_json();
    if (const auto sum = j.find("sum"); sum != j.end() && sum->is_number()) {
        out.sum_seconds = sum->get<double>() / 1000.0;
    }
    const auto buckets = j.find("buckets");
    if (buckets == j.end() || !buckets->is_array()) {
        return out;
    }
    for (const auto& pair : *buckets) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() ||
            !pair[1].is_number_unsigned()) {
            continue;
        }
        const double lower_ms = pair[0].get<double>();
        const auto n = pair[1].get<std::uint64_t>();
        for (std::size_t i = 0; i < k_latency_buckets_seconds.size(); ++i) {
            if (lower_ms <= k_latency_buckets_seconds[i] * 1000.0) {
                out.cumulative[i] += n;
            }
        }
    }
    return out;
}

std::string u64(std::uint64_t v) {
    return std::to_string(v);
}

}  // namespace

MetricsLabels metrics_labels(const Summary& s, std::string shard) {
    return MetricsLabels{s.job_id, s.mode, s.model, std::move(shard)};
}

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string escape_help(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_sample_value(double value) {
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    // Whole numbers (counts, timestamps in seconds) without an exponent: 1764000000, not 1.764e+09.
    if (value == std::trunc(value) && std::fabs(value) < 1e15) {
        return std::to_string(static_cast<std::int64_t>(value));
    }
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    if (ec != std::errc()) {
        return "NaN";  // unreachable: 64 bytes hold any double
    }
    return std::string(buf, end);
}

std::string format_micros_value(util::Micros micros) {
    const bool negative = micros < 0;
    // Through unsigned so that the most negative value has a magnitude too.
    const std::uint64_t m =
        negative ? 0 - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
    std::string out = negative ? "-" : "";
    out += std::to_string(m / 1'000'000);
    // Six digits, leading zeros kept, trailing zeros dropped (filled in place: GCC 12 warns,
    // wrongly, about an insert of the leading zeros).
    if (std::uint64_t f = m % 1'000'000; f != 0) {
        char frac[6];
        for (int i = 5; i >= 0; --i, f /= 10) {
            frac[i] = static_cast<char>('0' + f % 10);
        }
        std::size_t n = 6;
        while (frac[n - 1] == '0') {
            --n;
        }
        out += '.';
        out.append(frac, n);
    }
    return out;
}

std::string render_metrics(const Summary& s, const MetricsLabels& labels) {
    Exposition e(labels);

    e.family("assetgen_run_info", "gauge",
             "The run these metrics describe; its status is ok, failed, budget_exceeded, "
             "upstream_unavailable, auth_failed, interrupted or error. Always 1.");
    e.sample("assetgen_run_info", {{"status", std::string(run_status_text(s.status))}}, "1");
    e.single("assetgen_run_success", "gauge",
             "1 when the run ended with every row done (status ok), else 0.",
             s.status == RunStatus::ok ? "1" : "0");
    e.single("assetgen_run_start_timestamp_seconds", "gauge",
             "When the run started, in seconds since the epoch.",
             format_sample_value(static_cast<double>(s.started_ms) / 1000.0));
    e.single("assetgen_run_end_timestamp_seconds", "gauge",
             "When the run ended, in seconds since the epoch.",
             format_sample_value(static_cast<double>(s.finished_ms) / 1000.0));
    e.single("assetgen_run_duration_seconds", "gauge", "Wall time of the run.",
             format_sample_value(s.wall_seconds));

    e.counter("assetgen_rows_total", "Rows of the batch that the run went through.", s.rows);
    e.counter("assetgen_rows_failed_total",
              "Rows with at least one image that failed or was not run.", s.rows_failed);
    e.single("assetgen_images_planned", "gauge", "Images in the batch: every variant of every row.",
             u64(s.images_planned));
    e.family(
        "assetgen_images_total", "counter",
        "Images by outcome: generated by this run, skipped (done by an earlier run of the job), "
        "failed.");
    e.sample("assetgen_images_total", {{"outcome", "generated"}}, u64(s.images_generated));
    e.sample("assetgen_images_total", {{"outcome", "skipped"}}, u64(s.images_skipped));
    e.sample("assetgen_images_total", {{"outcome", "failed"}}, u64(s.errors));
    e.counter("assetgen_requests_total", "Requests sent to the model (one per attempt).",
              s.requests);
    e.counter("assetgen_retries_total", "Attempts that were retries of an earlier one.", s.retries);
    if (!s.errors_by_code.empty()) {
        e.family("assetgen_errors_total", "counter",
                 "Images that ended in an error, by stable error code.");
        for (const auto& [code, n] : s.errors_by_code) {
            e.sample("assetgen_errors_total", {{"code", code}}, u64(n));
        }
    }
    const std::uint64_t attempted = s.images_generated + s.errors;
    e.single("assetgen_error_ratio", "gauge",
             "Failed images over attempted images (generated + failed); 0 when none.",
             format_sample_value(
                 attempted ? static_cast<double>(s.errors) / static_cast<double>(attempted) : 0.0));

    const FixedBuckets fb = fixed_buckets(s.latency_ms);
    e.family("assetgen_request_duration_seconds", "histogram",
             "Latency of the model requests that produced an image (the successful attempt).");
    for (std::size_t i = 0; i < k_latency_buckets_seconds.size(); ++i) {
        const std::string le = format_sample_value(k_latency_buckets_seconds[i]);
        e.sample("assetgen_request_duration_seconds_bucket", {{"le", le}}, u64(fb.cumulative[i]));
    }
    e.sample("assetgen_request_duration_seconds_bucket", {{"le", "+Inf"}},
             u64(s.latency_ms.count()));
    e.sample("assetgen_request_duration_seconds_sum", format_sample_value(fb.sum_seconds));
    e.sample("assetgen_request_duration_seconds_count", u64(s.latency_ms.count()));
    e.single("assetgen_images_per_second", "gauge", "Images generated per second of wall time.",
             format_sample_value(s.wall_seconds > 0
                                     ? static_cast<double>(s.images_generated) / s.wall_seconds
                                     : 0.0));

    e.single("assetgen_cost_usd_total", "counter",
             "Actual cost of the requests made, in US dollars (usageMetadata and the price table).",
             format_micros_value(s.actual_cost));
    e.single("assetgen_estimated_cost_usd_total", "counter",
             "Estimated cost of the requests made, in US dollars.",
             format_micros_value(s.estimated_cost));
    e.single("assetgen_budget_limit_usd", "gauge",
             "Daily budget of the user and mode, in US dollars.",
             format_micros_value(s.budget_limit));
    e.single(
        "assetgen_budget_spent_before_usd", "gauge",
        "Spent by the user and mode earlier the same budget day, before the run, in US dollars.",
        format_micros_value(s.budget_spent_before));
    e.single("assetgen_budget_overshoot_usd", "gauge",
             "Spend above the daily budget, in US dollars; 0 by design.",
             format_micros_value(s.budget_overshoot));

    e.counter("assetgen_refs_named_total",
              "Reference images named by the rows that ran, before merging.", s.refs_named);
    e.counter("assetgen_refs_fetched_total", "Distinct reference images downloaded.",
              s.refs_fetched);
    e.counter("assetgen_refs_cache_hits_total", "Reference images served from the disk cache.",
              s.refs_cache_hits);
    e.counter("assetgen_refs_deduplicated_total",
              "References removed from rows as the same URL or the same bytes.",
              s.refs_deduplicated);
    e.counter("assetgen_refs_fetched_bytes_total", "Bytes of reference images downloaded.",
              s.refs_bytes_fetched);
    e.counter("assetgen_refs_dropped_by_cap_total", "References beyond --max-refs.",
              s.refs_dropped_by_cap);
    e.counter("assetgen_refs_failed_total", "Distinct references that could not be used.",
              s.refs_failed);
    e.counter("assetgen_url_refreshes_total", "Signed URLs signed again before they expired.",
              s.url_refreshes);
    e.counter("assetgen_circuit_opens_total", "Times the circuit breaker opened.", s.circuit_opens);
    return e.take();
}

util::Status write_metrics_file(const std::string& path, const Summary& s,
                                const MetricsLabels& labels) {
    return util::write_file_atomic(path, render_metrics(s, labels));
}

}  // namespace assetgen::report
