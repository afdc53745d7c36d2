#pragma once
// Latency percentiles with bounded memory: exact while there are few samples, then a
// log-linear histogram (HdrHistogram-style) whose relative error is at most 1%.

#include <cstdint>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace assetgen::report {

class Histogram {
public:
    // Records one value in milliseconds (negative values count as 0).
    void record(std::int64_t value_ms);
    // Adds other's samples; stays exact while the total fits in k_exact_limit.
    void merge(const Histogram& other);
    std::uint64_t count() const { return m_count; }
    // Smallest, largest and mean recorded value; 0 when empty.
    std::int64_t min() const;
    std::int64_t max() const;
    double mean() const;
    // The p-th percentile (0..100) by the nearest-rank method; 0 when empty. Exact for up to
    // k_exact_limit samples, within 1% relative error beyond.
    std::int64_t percentile(double p) const;
    // The samples as (value, count) pairs in increasing value order: the exact values while the
    // histogram is exact, else each bucket's lower bound. With bucketed set, always the bucket
    // form, so that an exact and a bucketed histogram can be compared bucket by bucket (canary's
    // Mann–Whitney test ranks the pairs).
    std::vector<std::pair<std::int64_t, std::uint64_t>> value_counts(bool bucketed = false) const;
    // True while every sample is kept as it is (at most k_exact_limit of them).
    bool exact() const { return !m_spilled; }

    // {"count":..,"min":..,"max":..,"sum":..,"buckets":[[lower_ms,count],...]} so that a later
    // run (canary --baseline) can compare distributions; from_json reads it back with the same
    // percentiles (an exact histogram also writes "exact":true and its values as [value,count]);
    // entries it cannot read are skipped; it never throws.
    nlohmann::json to_json() const;
    static Histogram from_json(const nlohmann::json& j);

    static constexpr std::size_t k_exact_limit = 4096;

private:
    void spill();  // moves exact samples into buckets
    static std::size_t bucket_of(std::int64_t v);
    static std::int64_t bucket_low(std::size_t b);
    static std::int64_t bucket_high(std::size_t b);

    std::vector<std::int64_t> m_exact;     // used while m_count <= k_exact_limit
    std::vector<std::uint64_t> m_buckets;  // used after
    bool m_spilled = false;
    std::uint64_t m_count = 0;
    std::int64_t m_min = 0, m_max = 0;
    long double m_sum = 0;
};

}  // namespace assetgen::report
