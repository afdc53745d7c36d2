// Latency histogram: exact samples first, log-linear buckets after.
//
// How this works: up to k_exact_limit samples are kept as they are, and percentiles sort a
// copy, so small runs report exact numbers. One sample more and every sample moves into
// buckets. Values 0..255 get a bucket each; above that, every power of two [2^e, 2^(e+1)) is
// cut into 128 equal sub-buckets of width 2^(e-7). A bucket's width is thus at most 1/128 of
// its lower bound, and reporting its midpoint (clamped to the observed min and max) is within
// 0.4% of any value in it, well inside the 1% promised. The bucket index is computed with
// shifts only: index = 128 * (e - 6) + (v >> (e - 7)) - 128 for v >= 128, so the whole int64
// range needs 7,296 buckets (57 KB), allocated only up to the largest value seen.

#include "report/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

namespace assetgen::report {
namespace {

constexpr int k_sub_bits = 7;                          // 128 sub-buckets per power of two
constexpr std::int64_t k_sub_count = 1 << k_sub_bits;  // 128
// Sums below this are written as integers (exact in a double, too).
constexpr long double k_max_exact_sum = 9.0e15L;

// The 1-based nearest rank of percentile p among n samples: ceil(p/100 * n), in [1, n].
std::uint64_t nearest_rank(double p, std::uint64_t n) {
    if (!(p > 0.0)) {  // also catches NaN
        return 1;
    }
    if (p >= 100.0) {
        return n;
    }
    // The small tolerance keeps a product like 95 * 20 / 100 from landing just above 19.
    double x = p * static_cast<double>(n) / 100.0;
    auto rank = static_cast<std::uint64_t>(std::ceil(x - 1e-9));
    return std::clamp<std::uint64_t>(rank, 1, n);
}

}  // namespace

std::size_t Histogram::bucket_of(std::int64_t v) {
    if (v < 2 * k_sub_count) {
        return static_cast<std::size_t>(std::max<std::int64_t>(v, 0));
    }
    int e = 63 - std::countl_zero(static_cast<std::uint64_t>(v));  // floor(log2 v), >= 8
    int shift = e - k_sub_bits;
    return static_cast<std::size_t>(k_sub_count * shift + (v >> shift));
}

std::int64_t Histogram::bucket_low(std::size_t b) {
    auto i = static_cast<std::int64_t>(b);
    if (i < 2 * k_sub_count) {
        return i;
    }
    std::int64_t shift = i / k_sub_count - 1;
    std::int64_t sub = i % k_sub_count;
    return (k_sub_count + sub) << shift;
}

std::int64_t Histogram::bucket_high(std::size_t b) {
    auto i = static_cast<std::int64_t>(b);
    if (i < 2 * k_sub_count) {
        return i;
    }
    std::int64_t shift = i / k_sub_count - 1;
    return bucket_low(b) + ((std::int64_t{1} << shift) - 1);
}

void Histogram::record(std::int64_t value_ms) {
    std::int64_t v = std::max<std::int64_t>(value_ms, 0);
    if (m_count == 0) {
        m_min = m_max = v;
    } else {
        m_min = std::min(m_min, v);
        m_max = std::max(m_max, v);
    }
    ++m_count;
    m_sum += static_cast<long double>(v);
    if (!m_spilled && m_exact.size() < k_exact_limit) {
        m_exact.push_back(v);
        return;
    }
    spill();
    std::size_t b = bucket_of(v);
    if (b >= m_buckets.size()) {
        m_buckets.resize(b + 1, 0);
    }
    ++m_buckets[b];
}

void Histogram::spill() {
    if (m_spilled) {
        return;
    }
    for (std::int64_t v : m_exact) {
        std::size_t b = bucket_of(v);
        if (b >= m_buckets.size()) {
            m_buckets.resize(b + 1, 0);
        }
        ++m_buckets[b];
    }
    std::vector<std::int64_t>().swap(m_exact);
    m_spilled = true;
}

void Histogram::merge(const Histogram& other_in) {
    if (other_in.m_count == 0) {
        return;
    }
    if (m_count == 0) {
        *this = other_in;
        return;
    }
    const Histogram other = &other_in == this ? Histogram(other_in) : Histogram();
    const Histogram& o = &other_in == this ? other : other_in;

    if (!m_spilled && !o.m_spilled && m_exact.size() + o.m_exact.size() <= k_exact_limit) {
        m_exact.insert(m_exact.end(), o.m_exact.begin(), o.m_exact.end());
    } else {
        spill();
        if (o.m_spilled) {
            if (o.m_buckets.size() > m_buckets.size()) {
                m_buckets.resize(o.m_buckets.size(), 0);
            }
            for (std::size_t b = 0; b < o.m_buckets.size(); ++b) {
                m_buckets[b] += o.m_buckets[b];
            }
        } else {
            for (std::int64_t v : o.m_exact) {
                std::size_t b = bucket_of(v);
                if (b >= m_buckets.size()) {
                    m_buckets.resize(b + 1, 0);
                }
                ++m_buckets[b];
            }
        }
    }
    m_count += o.m_count;
    m_min = std::min(m_min, o.m_min);
    m_max = std::max(m_max, o.m_max);
    m_sum += o.m_sum;
}

std::int64_t Histogram::min() const {
    return m_count == 0 ? 0 : m_min;
}

std::int64_t Histogram::max() const {
    return m_count == 0 ? 0 : m_max;
}

double Histogram::mean() const {
    return m_count == 0 ? 0.0 : static_cast<double>(m_sum / static_cast<long double>(m_count));
}

std::int64_t Histogram::percentile(double p) const {
    if (m_count == 0) {
        return 0;
    }
    std::uint64_t rank = nearest_rank(p, m_count);
    if (rank == 1) {
        return m_min;
    }
    if (rank == m_count) {
        return m_max;
    }
    if (!m_spilled) {
        std::vector<std::int64_t> sorted = m_exact;
        auto nth = sorted.begin() + static_cast<std::ptrdiff_t>(rank - 1);
        std::nth_element(sorted.begin(), nth, sorted.end());
        return *nth;
    }
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < m_buckets.size(); ++b) {
        seen += m_buckets[b];
        if (seen >= rank) {
            std::int64_t low = bucket_low(b);
            std::int64_t mid = low + (bucket_high(b) - low) / 2;
            return std::clamp(mid, m_min, m_max);
        }
    }
    return m_max;  // unreachable while the bucket counts add up to m_count
}

std::vector<std::pair<std::int64_t, std::uint64_t>> Histogram::value_counts(bool bucketed) const {
    std::vector<std::pair<std::int64_t, std::uint64_t>> out;
    if (!m_spilled) {
        std::map<std::int64_t, std::uint64_t> counts;
        for (std::int64_t v : m_exact) {
            ++counts[bucketed ? bucket_low(bucket_of(v)) : v];
        }
        out.assign(counts.begin(), counts.end());
        return out;
    }
    for (std::size_t b = 0; b < m_buckets.size(); ++b) {
        if (m_buckets[b] != 0) {
            out.emplace_back(bucket_low(b), m_buckets[b]);
        }
    }
    return out;
}

nlohmann::json Histogram::to_json() const {
    nlohmann::json j;
    j["count"] = m_count;
    j["min"] = min();
    j["max"] = max();
    if (m_sum <= k_max_exact_sum) {
        j["sum"] = static_cast<std::int64_t>(m_sum);
    } else {
        j["sum"] = static_cast<double>(m_sum);
    }
    nlohmann::json buckets = nlohmann::json::array();
    if (!m_spilled) {
        // Exact samples as width-1 buckets [value, count]: still valid [lower, count] pairs for
        // any reader, and "exact" lets from_json restore the samples themselves.
        std::map<std::int64_t, std::uint64_t> counts;
        for (std::int64_t v : m_exact) {
            ++counts[v];
        }
        for (const auto& [v, n] : counts) {
            buckets.push_back({v, n});
        }
        j["exact"] = true;
    } else {
        for (std::size_t b = 0; b < m_buckets.size(); ++b) {
            if (m_buckets[b] != 0) {
                buckets.push_back({bucket_low(b), m_buckets[b]});
            }
        }
    }
    j["buckets"] = std::move(buckets);
    return j;
}

Histogram Histogram::from_json(const nlohmann::json& j) {
    Histogram h;
    if (!j.is_object() || !j.contains("buckets") || !j["buckets"].is_array()) {
        return h;
    }
    // Read the pairs first, skipping malformed ones, so that nothing here can throw.
    std::vector<std::pair<std::int64_t, std::uint64_t>> pairs;
    std::uint64_t total = 0;
    for (const auto& pair : j["buckets"]) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer() ||
            !pair[1].is_number_integer() || pair[1].get<std::int64_t>() <= 0) {
            continue;
        }
        auto lower = std::max<std::int64_t>(pair[0].get<std::int64_t>(), 0);
        auto n = pair[1].get<std::uint64_t>();
        pairs.emplace_back(lower, n);
        total += n;
    }
    if (total == 0) {
        return h;
    }
    bool exact = j.contains("exact") && j["exact"].is_boolean() && j["exact"].get<bool>() &&
                 total <= k_exact_limit;
    std::int64_t lowest = INT64_MAX;
    std::int64_t highest = 0;
    long double sum = 0;
    h.m_spilled = !exact;
    for (const auto& [lower, n] : pairs) {
        std::size_t b = bucket_of(lower);
        lowest = std::min(lowest, exact ? lower : bucket_low(b));
        highest = std::max(highest, exact ? lower : bucket_high(b));
        if (exact) {
            h.m_exact.insert(h.m_exact.end(), n, lower);
        } else {
            if (b >= h.m_buckets.size()) {
                h.m_buckets.resize(b + 1, 0);
            }
            h.m_buckets[b] += n;
        }
        sum += static_cast<long double>(lower) * static_cast<long double>(n);
    }
    h.m_count = total;
    auto int_field = [&](const char* name, std::int64_t fallback) {
        return j.contains(name) && j[name].is_number_integer() ? j[name].get<std::int64_t>()
                                                               : fallback;
    };
    h.m_min = exact ? lowest : std::max(int_field("min", lowest), std::int64_t{0});
    h.m_max = exact ? highest : std::max(int_field("max", highest), h.m_min);
    h.m_sum = j.contains("sum") && j["sum"].is_number() ? j["sum"].get<long double>() : sum;
    return h;
}

}  // namespace assetgen::report
