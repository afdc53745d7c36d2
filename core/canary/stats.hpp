#pragma once
// The two significance tests of a canary against a baseline (as Kayenta judges canaries): the
// Mann–Whitney U test on latencies and a two-proportion test on error rates. Both take counts,
// not raw samples, so that a baseline can come from an earlier run's summary.json.
//
// Limits. p-values come from the normal approximation (with tie and continuity correction, as
// scipy.stats.mannwhitneyu(method="asymptotic") and R's wilcox.test(exact=FALSE) compute them).
// Without ties, against the exact permutation distribution, the one-sided p below 0.2 is off by
// at most 0.0066 at 5 + 5 samples, 0.0051 at 8 + 8, 0.0021 at 20 + 20 and 0.0014 at 20 + 200:
// use it from about 8 samples a side (the canary's --min-samples, default 20, keeps gates
// inconclusive before that). Error rates use the pooled z-test while every expected count is at
// least 5, else Fisher's exact test, which holds at any size.

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "report/histogram.hpp"

namespace assetgen::canary {

// A sample as distinct values with their counts, in strictly increasing value order.
using ValueCounts = std::vector<std::pair<std::int64_t, std::uint64_t>>;

// Which difference a test looks for. greater: the first sample (the canary) tends to be larger
// (slower, more errors) than the second (the baseline).
enum class Alternative { greater, less, two_sided };

struct MannWhitney {
    std::uint64_t n1 = 0;  // first sample's size
    std::uint64_t n2 = 0;
    double u1 = 0;       // pairs (x, y) with x > y, plus half of the pairs with x == y
    double z = 0;        // (U - n1 n2 / 2 - 1/2) / sigma, sigma corrected for ties
    double p_value = 1;  // 1 when either sample is empty or every value ties
    // u1 / (n1 n2): how often a canary value beats a baseline value (ties count half);
    // 0.5 = no shift, 1 = every canary value is larger. 0.5 for an empty sample.
    double effect() const;
};

// Mann–Whitney U test of x against y; values with counts, each in increasing order (pairs out
// of order or with a zero count are still counted correctly, only slower). Never fails: empty
// samples give p = 1.
MannWhitney mann_whitney(const ValueCounts& x, const ValueCounts& y, Alternative alternative);

// The same on two latency histograms: their exact values while both are exact, else both in
// the histogram's log-linear buckets (width at most 1/128 of a value), where values that share
// a bucket count as ties.
MannWhitney mann_whitney(const report::Histogram& x, const report::Histogram& y,
                         Alternative alternative);

struct Proportions {
    std::uint64_t k1 = 0, n1 = 0;  // events (errors) and trials (attempted images), first sample
    std::uint64_t k2 = 0, n2 = 0;
    double rate1 = 0;  // k1 / n1, 0 when n1 is 0
    double rate2 = 0;
    double z = 0;        // pooled z score; 0 when undefined (no events or no trials)
    double p_value = 1;  // 1 when either sample has no trials
    bool exact = false;  // Fisher's exact test gave p_value
};

// Pooled two-proportion z-test (no continuity correction, as statsmodels'
// proportions_ztest): z = (r1 - r2) / sqrt(r (1 - r) (1/n1 + 1/n2)), r = (k1 + k2) / (n1 + n2).
// k1 > n1 or k2 > n2 are clamped to n.
Proportions two_proportion_z(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2, std::uint64_t n2,
                             Alternative alternative);

// Fisher's exact test on the 2×2 table [[k1, n1 - k1], [k2, n2 - k2]]: the hypergeometric tail
// (two-sided: every table no more likely than the observed one, as scipy and R sum it).
double fisher_exact(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2, std::uint64_t n2,
                    Alternative alternative);

// What the error-rate gate uses: the z-test while every expected count of the table is at least
// 5, else Fisher's exact test (Proportions::exact set).
Proportions compare_proportions(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2,
                                std::uint64_t n2, Alternative alternative);

// P(Z >= z) for a standard normal Z: erfc(z / sqrt 2) / 2, accurate far into the tail.
double normal_sf(double z);

// "greater", "less", "two-sided".
std::string_view alternative_name(Alternative alternative);

}  // namespace assetgen::canary
