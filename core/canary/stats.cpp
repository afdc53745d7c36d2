// Significance tests from counts.
//
// How this works. Mann–Whitney: both samples are walked together in value order; a value held by
// a canary samples and b baseline samples adds a * (baseline values below it + b / 2) to U1,
// kept doubled in integers so U1 is exact, and t^3 - t (t = a + b) to the tie term. Then
// sigma^2 = n1 n2 / 12 * ((N + 1) - tie term / (N (N - 1))) and z = (U - n1 n2 / 2 - 1/2) / sigma
// with U = U1 for "greater", n1 n2 - U1 for "less" and the larger of the two for "two-sided"
// (p doubled), exactly as scipy.stats.mannwhitneyu(method="asymptotic") does.
// Two proportions: the pooled z score; Fisher's exact test walks the hypergeometric
// distribution of the canary's event count with the recurrence
// P(k+1) / P(k) = (K - k)(n1 - k) / ((k + 1)(N - K - n1 + k + 1)) in logarithms, so no factorial
// or lgamma (which is not thread-safe in glibc) is needed and nothing overflows.

#include "canary/stats.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace assetgen::canary {
namespace {

// Sorts and merges pairs so the walk below can rely on increasing, distinct values.
ValueCounts normalized(const ValueCounts& v) {
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i].second == 0 || (i > 0 && v[i - 1].first >= v[i].first)) {
            ok = false;
            break;
        }
    }
    if (ok) {
        return v;
    }
    std::map<std::int64_t, std::uint64_t> merged;
    for (const auto& [value, n] : v) {
        if (n != 0) {
            merged[value] += n;
        }
    }
    return ValueCounts(merged.begin(), merged.end());
}

double p_for(double z_greater, Alternative alternative) {
    switch (alternative) {
        case Alternative::greater:
        case Alternative::less:
            return normal_sf(z_greater);
        case Alternative::two_sided:
            return std::min(1.0, 2.0 * normal_sf(z_greater));
    }
    return 1.0;
}

}  // namespace

double normal_sf(double z) {
    return 0.5 * std::erfc(z / std::sqrt(2.0));
}

std::string_view alternative_name(Alternative alternative) {
    switch (alternative) {
        case Alternative::greater:
            return "greater";
        case Alternative::less:
            return "less";
        case Alternative::two_sided:
            return "two-sided";
    }
    return "greater";
}

double MannWhitney::effect() const {
    if (n1 == 0 || n2 == 0) {
        return 0.5;
    }
    return u1 / (static_cast<double>(n1) * static_cast<double>(n2));
}

MannWhitney mann_whitney(const ValueCounts& x_in, const ValueCounts& y_in,
                         Alternative alternative) {
    const ValueCounts x = normalized(x_in);
    const ValueCounts y = normalized(y_in);
    MannWhitney r;
    for (const auto& [v, n] : x) {
        r.n1 += n;
    }
    for (const auto& [v, n] : y) {
        r.n2 += n;
    }
    if (r.n1 == 0 || r.n2 == 0) {
        return r;
    }
    // Doubled U1 in integers: exact up to n1 n2 < 2^63.
    unsigned long long u1_twice = 0;
    long double tie_term = 0;
    std::uint64_t y_below = 0;
    std::size_t i = 0, j = 0;
    while (i < x.size() || j < y.size()) {
        std::uint64_t a = 0, b = 0;
        if (j == y.size() || (i < x.size() && x[i].first < y[j].first)) {
            a = x[i++].second;
        } else if (i == x.size() || y[j].first < x[i].first) {
            b = y[j++].second;
        } else {
            a = x[i++].second;
            b = y[j++].second;
        }
        u1_twice += static_cast<unsigned long long>(a) * (2 * y_below + b);
        const auto t = static_cast<long double>(a + b);
        tie_term += t * t * t - t;
        y_below += b;
    }
    const auto n1 = static_cast<long double>(r.n1);
    const auto n2 = static_cast<long double>(r.n2);
    const long double big_n = n1 + n2;
    r.u1 = static_cast<double>(u1_twice) / 2.0;
    const long double variance =
        n1 * n2 / 12.0L * ((big_n + 1.0L) - tie_term / (big_n * (big_n - 1.0L)));
    if (!(variance > 0)) {  // every value ties: no evidence either way
        return r;
    }
    const long double mean = n1 * n2 / 2.0L;
    const long double u1 = static_cast<long double>(u1_twice) / 2.0L;
    long double u = u1;
    if (alternative == Alternative::less) {
        u = n1 * n2 - u1;
    } else if (alternative == Alternative::two_sided) {
        u = std::max(u1, n1 * n2 - u1);
    }
    r.z = static_cast<double>((u - mean - 0.5L) / std::sqrt(variance));
    r.p_value = p_for(r.z, alternative);
    return r;
}

MannWhitney mann_whitney(const report::Histogram& x, const report::Histogram& y,
                         Alternative alternative) {
    const bool bucketed = !x.exact() || !y.exact();
    return mann_whitney(x.value_counts(bucketed), y.value_counts(bucketed), alternative);
}

Proportions two_proportion_z(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2, std::uint64_t n2,
                             Alternative alternative) {
    Proportions r;
    r.n1 = n1;
    r.n2 = n2;
    r.k1 = std::min(k1, n1);
    r.k2 = std::min(k2, n2);
    if (n1 == 0 || n2 == 0) {
        return r;
    }
    const double d1 = static_cast<double>(n1);
    const double d2 = static_cast<double>(n2);
    r.rate1 = static_cast<double>(r.k1) / d1;
    r.rate2 = static_cast<double>(r.k2) / d2;
    const double pooled = static_cast<double>(r.k1 + r.k2) / (d1 + d2);
    const double se = std::sqrt(pooled * (1.0 - pooled) * (1.0 / d1 + 1.0 / d2));
    if (!(se > 0)) {  // no events at all, or nothing but events: the rates are equal
        return r;
    }
    r.z = (r.rate1 - r.rate2) / se;
    switch (alternative) {
        case Alternative::greater:
            r.p_value = normal_sf(r.z);
            break;
        case Alternative::less:
            r.p_value = normal_sf(-r.z);
            break;
        case Alternative::two_sided:
            r.p_value = std::min(1.0, 2.0 * normal_sf(std::fabs(r.z)));
            break;
    }
    return r;
}

double fisher_exact(std::uint64_t k1_in, std::uint64_t n1, std::uint64_t k2_in, std::uint64_t n2,
                    Alternative alternative) {
    if (n1 == 0 || n2 == 0) {
        return 1.0;
    }
    const std::uint64_t k1 = std::min(k1_in, n1);
    const std::uint64_t k2 = std::min(k2_in, n2);
    const std::uint64_t big_n = n1 + n2;
    const std::uint64_t big_k = k1 + k2;
    // The first sample's events range over [lo, hi] with the margins fixed.
    const std::uint64_t lo = big_k > n2 ? big_k - n2 : 0;
    const std::uint64_t hi = std::min(big_k, n1);
    std::vector<double> log_p(hi - lo + 1, 0.0);
    for (std::uint64_t k = lo; k < hi; ++k) {
        const double num = static_cast<double>(big_k - k) * static_cast<double>(n1 - k);
        const double den =
            static_cast<double>(k + 1) * static_cast<double>(big_n - big_k - n1 + k + 1);
        log_p[k - lo + 1] = log_p[k - lo] + std::log(num / den);
    }
    const double top = *std::max_element(log_p.begin(), log_p.end());
    double total = 0;
    for (double lp : log_p) {
        total += std::exp(lp - top);
    }
    auto prob = [&](std::uint64_t k) { return std::exp(log_p[k - lo] - top) / total; };
    double p = 0;
    switch (alternative) {
        case Alternative::greater:
            for (std::uint64_t k = k1; k <= hi; ++k) {
                p += prob(k);
            }
            break;
        case Alternative::less:
            for (std::uint64_t k = lo; k <= k1; ++k) {
                p += prob(k);
            }
            break;
        case Alternative::two_sided: {
            // Tables as likely as the observed one, up to rounding, count too (R's 1 + 1e-7).
            const double observed = log_p[k1 - lo];
            for (std::uint64_t k = lo; k <= hi; ++k) {
                if (log_p[k - lo] <= observed + 1e-7) {
                    p += prob(k);
                }
            }
            break;
        }
    }
    return std::clamp(p, 0.0, 1.0);
}

Proportions compare_proportions(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2,
                                std::uint64_t n2, Alternative alternative) {
    Proportions r = two_proportion_z(k1, n1, k2, n2, alternative);
    if (n1 == 0 || n2 == 0) {
        return r;
    }
    const double big_n = static_cast<double>(n1 + n2);
    const double events = static_cast<double>(r.k1 + r.k2);
    const double smallest_sample = static_cast<double>(std::min(n1, n2));
    const double smallest_margin = std::min(events, big_n - events);
    // The smallest expected cell of the table, from its margins.
    if (smallest_sample * smallest_margin / big_n < 5.0) {
        r.p_value = fisher_exact(k1, n1, k2, n2, alternative);
        r.exact = true;
    }
    return r;
}

}  // namespace assetgen::canary
