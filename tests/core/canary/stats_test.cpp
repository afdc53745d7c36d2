#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "canary/stats.hpp"
#include "report/histogram.hpp"

using namespace assetgen::canary;
using assetgen::report::Histogram;

namespace {

ValueCounts counts_of(const std::vector<std::int64_t>& values) {
    std::map<std::int64_t, std::uint64_t> m;
    for (auto v : values) {
        ++m[v];
    }
    return ValueCounts(m.begin(), m.end());
}

Histogram histogram_of(const std::vector<std::int64_t>& values) {
    Histogram h;
    for (auto v : values) {
        h.record(v);
    }
    return h;
}

// Latencies around `center` ms with +-20% uniform jitter, from a fixed seed.
std::vector<std::int64_t> jittered(std::size_t n, double center, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    std::vector<std::int64_t> out(n);
    for (auto& v : out) {
        v = std::llround(center * jitter(rng));
    }
    return out;
}

std::vector<std::int64_t> lognormal(std::size_t n, double median, double sigma,
                                    std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> dist(std::log(median), sigma);
    std::vector<std::int64_t> out(n);
    for (auto& v : out) {
        v = std::llround(dist(rng));
    }
    return out;
}

// The textbook computation from raw samples, independent of the library's walk over counts:
// midranks of the pooled sample, R1, U1 = R1 - n1(n1+1)/2, the tie-corrected variance and the
// continuity-corrected z; and U1 once more by comparing every pair.
struct Reference {
    double u1_ranks = 0;
    double u1_pairs = 0;
    double z_greater = 0;
};

Reference reference(const std::vector<std::int64_t>& x, const std::vector<std::int64_t>& y) {
    std::vector<std::pair<std::int64_t, int>> pooled;
    for (auto v : x) {
        pooled.emplace_back(v, 0);
    }
    for (auto v : y) {
        pooled.emplace_back(v, 1);
    }
    std::sort(pooled.begin(), pooled.end());
    const double n1 = static_cast<double>(x.size());
    const double n2 = static_cast<double>(y.size());
    const double n = n1 + n2;
    double r1 = 0;
    double ties = 0;
    for (std::size_t i = 0; i < pooled.size();) {
        std::size_t j = i;
        while (j < pooled.size() && pooled[j].first == pooled[i].first) {
            ++j;
        }
        const double midrank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
        for (std::size_t k = i; k < j; ++k) {
            r1 += pooled[k].second == 0 ? midrank : 0.0;
        }
        const double t = static_cast<double>(j - i);
        ties += t * t * t - t;
        i = j;
    }
    Reference r;
    r.u1_ranks = r1 - n1 * (n1 + 1) / 2;
    for (auto a : x) {
        for (auto b : y) {
            r.u1_pairs += a > b ? 1.0 : (a == b ? 0.5 : 0.0);
        }
    }
    const double sigma = std::sqrt(n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))));
    r.z_greater = (r.u1_ranks - n1 * n2 / 2 - 0.5) / sigma;
    return r;
}

}  // namespace

TEST_CASE("canary: normal tail probabilities", "[canary]") {
    CHECK(normal_sf(0.0) == Approx(0.5));
    CHECK(normal_sf(1.959963984540054) == Approx(0.025).epsilon(1e-12));
    CHECK(normal_sf(2.053748910631823) == Approx(0.02).epsilon(1e-12));
    CHECK(normal_sf(-1.959963984540054) == Approx(0.975).epsilon(1e-12));
    // erfc keeps relative accuracy far in the tail, where 1 - cdf would round to 0.
    CHECK(normal_sf(8.0) == Approx(6.220960574271785e-16).epsilon(1e-9));
    CHECK(alternative_name(Alternative::two_sided) == "two-sided");
}

// Published values, both with tie and continuity correction in the normal approximation:
// - scipy.stats.mannwhitneyu docs (males vs females, method="asymptotic"): U1 = 17,
//   two-sided p = 0.11134688653314041;
// - ClickHouse's mannWhitneyUTest test (tests/queries/0_stateless/01560_mann_whitney.sql):
//   U = 223, two-sided p = 0.5426959774289482, with tied values in both samples.
TEST_CASE("canary: Mann-Whitney U agrees with published scipy and ClickHouse values", "[canary]") {
    const std::vector<std::int64_t> males{19, 22, 16, 29, 24};
    const std::vector<std::int64_t> females{20, 11, 17, 12};
    auto two = mann_whitney(counts_of(males), counts_of(females), Alternative::two_sided);
    CHECK(two.u1 == 17.0);
    CHECK(two.n1 == 5);
    CHECK(two.n2 == 4);
    CHECK(two.p_value == Approx(0.11134688653314041).epsilon(1e-12));
    auto greater = mann_whitney(counts_of(males), counts_of(females), Alternative::greater);
    CHECK(greater.p_value == Approx(0.05567344326657024).epsilon(1e-12));
    CHECK(greater.effect() == Approx(17.0 / 20.0));

    const std::vector<std::int64_t> left{310, 195, 530, 155, 530, 245, 385, 450, 465, 545,
                                         170, 180, 125, 180, 230, 75,  430, 480, 495, 295};
    const std::vector<std::int64_t> right{116, 171, 176, 421, 111, 326, 481, 111, 346, 441,
                                          261, 411, 206, 521, 456, 446, 296, 51,  426, 261};
    auto ch = mann_whitney(counts_of(left), counts_of(right), Alternative::two_sided);
    CHECK(ch.u1 == 223.0);
    CHECK(ch.p_value == Approx(0.5426959774289482).epsilon(1e-12));
    // The same on exact histograms (both hold under 4,096 samples, so no bucketing).
    auto via_histograms =
        mann_whitney(histogram_of(left), histogram_of(right), Alternative::two_sided);
    CHECK(via_histograms.u1 == 223.0);
    CHECK(via_histograms.p_value == Approx(ch.p_value).epsilon(1e-15));
    // One-sided values derived by hand from the same z (0.6087412244775101): p = sf(z).
    CHECK(mann_whitney(counts_of(left), counts_of(right), Alternative::greater).p_value ==
          Approx(0.2713479887144741).epsilon(1e-12));
    CHECK(mann_whitney(counts_of(left), counts_of(right), Alternative::less).p_value ==
          Approx(0.737545429642209).epsilon(1e-12));
}

TEST_CASE("canary: Mann-Whitney U matches the textbook rank computation on random data",
          "[canary]") {
    std::mt19937_64 rng(20261125);
    for (int round = 0; round < 40; ++round) {
        // Small value ranges force many ties.
        const auto n1 = std::uniform_int_distribution<std::size_t>(1, 60)(rng);
        const auto n2 = std::uniform_int_distribution<std::size_t>(1, 60)(rng);
        const auto range = std::uniform_int_distribution<std::int64_t>(2, 400)(rng);
        std::uniform_int_distribution<std::int64_t> value(0, range);
        std::vector<std::int64_t> x(n1), y(n2);
        for (auto& v : x) {
            v = value(rng);
        }
        for (auto& v : y) {
            v = value(rng) + (round % 3);  // sometimes shifted
        }
        const Reference ref = reference(x, y);
        auto got = mann_whitney(counts_of(x), counts_of(y), Alternative::greater);
        INFO("round " << round << " n1 " << n1 << " n2 " << n2);
        CHECK(ref.u1_ranks == ref.u1_pairs);
        CHECK(got.u1 == ref.u1_pairs);
        if (std::isfinite(ref.z_greater)) {
            CHECK(got.z == Approx(ref.z_greater).epsilon(1e-9));
            CHECK(got.p_value == Approx(normal_sf(ref.z_greater)).epsilon(1e-9));
        }
        // "less" is "greater" with the samples swapped.
        auto less = mann_whitney(counts_of(x), counts_of(y), Alternative::less);
        auto swapped = mann_whitney(counts_of(y), counts_of(x), Alternative::greater);
        CHECK(less.p_value == Approx(swapped.p_value).epsilon(1e-12));
    }
}

TEST_CASE("canary: Mann-Whitney detects 200 ms against 100 ms and passes equal distributions",
          "[canary]") {
    const double alpha = 1.0 - 0.98;
    SECTION("a latency regression: 200 ms vs 100 ms, +-20% jitter, 30 samples each") {
        auto canary = histogram_of(jittered(30, 200, 1));
        auto base = histogram_of(jittered(30, 100, 2));
        auto r = mann_whitney(canary, base, Alternative::greater);
        CHECK(r.u1 == 900.0);  // every canary value is above every baseline value
        CHECK(r.effect() == 1.0);
        CHECK(r.p_value < 1e-9);
        CHECK(r.p_value < alpha);
        // The other way round there is no regression.
        CHECK(mann_whitney(base, canary, Alternative::greater).p_value > 0.999);
    }
    SECTION("an unchanged configuration: same distribution, other seeds") {
        auto r = mann_whitney(histogram_of(jittered(40, 100, 3)),
                              histogram_of(jittered(200, 100, 4)), Alternative::greater);
        CHECK(r.p_value >= alpha);
        CHECK(r.effect() == Approx(0.5).margin(0.15));
    }
    SECTION("unchanged configurations fail about alpha of the time, not more") {
        int failed = 0;
        const int trials = 500;
        for (int t = 0; t < trials; ++t) {
            auto r = mann_whitney(histogram_of(lognormal(50, 1'000, 0.5, 1000 + 2 * t)),
                                  histogram_of(lognormal(100, 1'000, 0.5, 1001 + 2 * t)),
                                  Alternative::greater);
            failed += r.p_value < alpha ? 1 : 0;
        }
        // alpha = 2%: about 10 of 500; binomial sd 3.1.
        CHECK(failed <= 20);
    }
    SECTION("large bucketed histograms: a 3% slowdown is found, the bucketing costs little") {
        auto canary_values = lognormal(20'000, 1'030, 0.3, 5);
        auto base_values = lognormal(20'000, 1'000, 0.3, 6);
        auto canary = histogram_of(canary_values);
        auto base = histogram_of(base_values);
        REQUIRE_FALSE(canary.exact());
        auto bucketed = mann_whitney(canary, base, Alternative::greater);
        auto raw =
            mann_whitney(counts_of(canary_values), counts_of(base_values), Alternative::greater);
        CHECK(bucketed.p_value < alpha);
        CHECK(bucketed.z == Approx(raw.z).margin(0.05));
        auto same = mann_whitney(histogram_of(lognormal(20'000, 1'000, 0.3, 7)), base,
                                 Alternative::greater);
        CHECK(same.p_value >= alpha);
    }
    SECTION("an exact canary against a bucketed baseline is compared in buckets") {
        auto canary = histogram_of(jittered(50, 1'000, 8));
        auto base = histogram_of(jittered(5'000, 1'000, 9));
        REQUIRE(canary.exact());
        REQUIRE_FALSE(base.exact());
        auto r = mann_whitney(canary, base, Alternative::greater);
        CHECK(r.n1 == 50);
        CHECK(r.n2 == 5'000);
        CHECK(r.p_value >= alpha);
        auto slow = mann_whitney(histogram_of(jittered(50, 2'000, 10)), base, Alternative::greater);
        CHECK(slow.p_value < 1e-9);
    }
}

TEST_CASE("canary: Mann-Whitney edge cases give no evidence instead of failing", "[canary]") {
    auto empty = mann_whitney(ValueCounts{}, counts_of({1, 2, 3}), Alternative::greater);
    CHECK(empty.p_value == 1.0);
    CHECK(empty.n1 == 0);
    CHECK(empty.effect() == 0.5);
    auto ties = mann_whitney(counts_of({5, 5, 5}), counts_of({5, 5}), Alternative::two_sided);
    CHECK(ties.p_value == 1.0);
    CHECK(ties.u1 == 3.0);
    // Pairs out of order, repeated or with zero counts are counted as the samples they describe.
    ValueCounts messy{{30, 1}, {10, 2}, {20, 0}, {10, 1}, {40, 2}};
    auto a = mann_whitney(messy, counts_of({15, 35}), Alternative::greater);
    auto b = mann_whitney(counts_of({10, 10, 10, 30, 40, 40}), counts_of({15, 35}),
                          Alternative::greater);
    CHECK(a.u1 == b.u1);
    CHECK(a.p_value == b.p_value);
}

// Values derived by hand (and checked with Python's math.erfc):
//   45/100 vs 30/100: pooled 0.375, se = sqrt(0.375 * 0.625 * 0.02) = 0.0684653,
//   z = 0.15 / se = 2.1908902300206647, one-sided p = 0.014229868458155284.
TEST_CASE("canary: two-proportion z-test", "[canary]") {
    auto r = two_proportion_z(45, 100, 30, 100, Alternative::greater);
    CHECK(r.rate1 == Approx(0.45));
    CHECK(r.rate2 == Approx(0.30));
    CHECK(r.z == Approx(2.1908902300206647).epsilon(1e-12));
    CHECK(r.p_value == Approx(0.014229868458155284).epsilon(1e-10));
    CHECK(two_proportion_z(45, 100, 30, 100, Alternative::two_sided).p_value ==
          Approx(0.02845973691631057).epsilon(1e-10));
    CHECK(two_proportion_z(30, 100, 45, 100, Alternative::less).p_value ==
          Approx(0.014229868458155284).epsilon(1e-10));
    // 3% vs 2% of 1,000: z = 1.4322297480788655, p = 0.07603904039648764 (not significant).
    auto close = two_proportion_z(30, 1'000, 20, 1'000, Alternative::greater);
    CHECK(close.z == Approx(1.4322297480788655).epsilon(1e-12));
    CHECK(close.p_value == Approx(0.07603904039648764).epsilon(1e-10));
    // No events, or nothing but events: equal rates, no evidence.
    CHECK(two_proportion_z(0, 50, 0, 80, Alternative::greater).p_value == 1.0);
    CHECK(two_proportion_z(50, 50, 80, 80, Alternative::greater).p_value == 1.0);
    CHECK(two_proportion_z(3, 0, 1, 10, Alternative::greater).p_value == 1.0);
    // Lower error rate in the canary: no regression.
    CHECK(two_proportion_z(1, 100, 10, 100, Alternative::greater).p_value > 0.99);
}

// Fisher's exact test, checked against the hypergeometric distribution by hand:
//   tea tasting 3/4 vs 1/4: P(X >= 3) = (C(4,3) C(4,1) + C(4,4) C(4,0)) / C(8,4) = 17/70;
//   3/20 vs 0/199: P(X >= 3) = C(20,3) / C(219,3) = 1140 / 1726669.
TEST_CASE("canary: Fisher's exact test for few errors", "[canary]") {
    CHECK(fisher_exact(3, 4, 1, 4, Alternative::greater) == Approx(17.0 / 70.0).epsilon(1e-12));
    CHECK(fisher_exact(3, 4, 1, 4, Alternative::two_sided) == Approx(34.0 / 70.0).epsilon(1e-12));
    CHECK(fisher_exact(3, 4, 1, 4, Alternative::less) == Approx(69.0 / 70.0).epsilon(1e-12));
    CHECK(fisher_exact(3, 20, 0, 199, Alternative::greater) ==
          Approx(1140.0 / 1726669.0).epsilon(1e-10));
    CHECK(fisher_exact(5, 30, 1, 150, Alternative::greater) ==
          Approx(0.0005059255442795051).epsilon(1e-9));
    CHECK(fisher_exact(1, 30, 5, 150, Alternative::less) ==
          Approx(0.737943774250905).epsilon(1e-9));
    CHECK(fisher_exact(0, 30, 0, 150, Alternative::greater) == 1.0);
    // Large tables stay finite (no factorials).
    const double big = fisher_exact(600, 10'000, 500, 10'000, Alternative::greater);
    CHECK(big > 0.0);
    CHECK(big < 0.01);

    // compare_proportions: Fisher while an expected count is below 5, the z-test after.
    auto few = compare_proportions(3, 20, 0, 199, Alternative::greater);
    CHECK(few.exact);
    CHECK(few.p_value == Approx(1140.0 / 1726669.0).epsilon(1e-10));
    CHECK(few.rate1 == Approx(0.15));
    auto many = compare_proportions(45, 100, 30, 100, Alternative::greater);
    CHECK_FALSE(many.exact);
    CHECK(many.p_value == Approx(0.014229868458155284).epsilon(1e-10));
}
