#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <vector>

#include "report/histogram.hpp"

using assetgen::report::Histogram;

namespace {

constexpr double k_percentiles[] = {0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100};

// The nearest-rank percentile of values, computed the slow, obvious way.
std::int64_t exact_percentile(std::vector<std::int64_t> values, double p) {
    std::sort(values.begin(), values.end());
    auto n = static_cast<double>(values.size());
    auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p / 100.0 * n - 1e-9)));
    return values[std::min(rank, values.size()) - 1];
}

Histogram histogram_of(const std::vector<std::int64_t>& values) {
    Histogram h;
    for (auto v : values) {
        h.record(v);
    }
    return h;
}

// Every percentile of h within 1% of the exact one (and exact when `exact` is set).
void check_percentiles(const Histogram& h, const std::vector<std::int64_t>& values,
                       bool exact = false) {
    REQUIRE(h.count() == values.size());
    for (double p : k_percentiles) {
        std::int64_t want = exact_percentile(values, p);
        std::int64_t got = h.percentile(p);
        INFO("p" << p << " want " << want << " got " << got);
        if (exact) {
            CHECK(got == want);
        } else {
            CHECK(std::abs(static_cast<double>(got - want)) <= 0.01 * static_cast<double>(want));
        }
    }
    CHECK(h.min() == *std::min_element(values.begin(), values.end()));
    CHECK(h.max() == *std::max_element(values.begin(), values.end()));
}

std::vector<std::int64_t> uniform(std::size_t n, std::int64_t lo, std::int64_t hi,
                                  std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::int64_t> dist(lo, hi);
    std::vector<std::int64_t> out(n);
    for (auto& v : out) {
        v = dist(rng);
    }
    return out;
}

std::vector<std::int64_t> lognormal(std::size_t n, double mu, double sigma, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> dist(mu, sigma);
    std::vector<std::int64_t> out(n);
    for (auto& v : out) {
        v = static_cast<std::int64_t>(std::min(dist(rng), 1e12));
    }
    return out;
}

}  // namespace

TEST_CASE("report: histogram percentiles are exact for small samples", "[report]") {
    std::vector<std::int64_t> values;
    for (int i = 100; i >= 1; --i) {
        values.push_back(i);
    }
    Histogram h = histogram_of(values);
    CHECK(h.percentile(50) == 50);
    CHECK(h.percentile(90) == 90);
    CHECK(h.percentile(99) == 99);
    CHECK(h.percentile(100) == 100);
    CHECK(h.percentile(0) == 1);
    CHECK(h.mean() == Approx(50.5));
    check_percentiles(h, values, true);

    auto odd = uniform(999, 0, 1'000'000'000, 5);
    check_percentiles(histogram_of(odd), odd, true);

    Histogram empty;
    CHECK(empty.count() == 0);
    CHECK(empty.percentile(50) == 0);
    CHECK(empty.min() == 0);
    CHECK(empty.max() == 0);
    CHECK(empty.mean() == 0.0);

    Histogram negative;
    negative.record(-5);
    CHECK(negative.min() == 0);
    CHECK(negative.percentile(50) == 0);
}

TEST_CASE("report: histogram stays exact up to k_exact_limit samples and within 1% after",
          "[report]") {
    auto values = uniform(Histogram::k_exact_limit, 1, 100'000, 11);
    check_percentiles(histogram_of(values), values, true);
    values.push_back(54'321);  // one more: the histogram spills into buckets
    check_percentiles(histogram_of(values), values);
}

TEST_CASE("report: histogram percentiles agree with exact ones within 1% on random data",
          "[report]") {
    SECTION("uniform latencies") {
        auto values = uniform(100'000, 50, 30'000, 1);
        check_percentiles(histogram_of(values), values);
    }
    SECTION("lognormal latencies") {
        auto values = lognormal(100'000, std::log(2'000.0), 1.0, 2);
        check_percentiles(histogram_of(values), values);
    }
    SECTION("lognormal over many orders of magnitude") {
        auto values = lognormal(50'000, std::log(1'000.0), 4.0, 3);
        check_percentiles(histogram_of(values), values);
    }
}

TEST_CASE("report: histogram percentiles stay within 1% on adversarial data", "[report]") {
    SECTION("all values equal") {
        std::vector<std::int64_t> values(20'000, 12'345);
        Histogram h = histogram_of(values);
        check_percentiles(h, values, true);  // clamped to min = max
        CHECK(h.mean() == Approx(12'345));
    }
    SECTION("two far-apart clusters") {
        auto low = uniform(6'000, 5, 15, 4);
        auto high = uniform(4'000, 900'000'000, 1'000'000'000, 5);
        std::vector<std::int64_t> values = low;
        values.insert(values.end(), high.begin(), high.end());
        std::shuffle(values.begin(), values.end(), std::mt19937_64(6));
        Histogram h = histogram_of(values);
        check_percentiles(h, values);
        CHECK(h.percentile(60) <= 15);
        CHECK(h.percentile(61) >= 900'000'000 * 0.99);
    }
    SECTION("mostly zeros") {
        std::vector<std::int64_t> values(9'000, 0);
        auto rest = uniform(1'000, 0, 3, 7);
        values.insert(values.end(), rest.begin(), rest.end());
        check_percentiles(histogram_of(values), values, true);  // small values are exact
    }
    SECTION("huge values up to 1e9 ms") {
        auto values = uniform(10'000, 999'000'000, 1'000'000'000, 8);
        values.push_back(1'000'000'000);
        values.push_back(0);
        check_percentiles(histogram_of(values), values);
    }
    SECTION("values at every power-of-two edge") {
        std::vector<std::int64_t> values;
        for (int e = 0; e < 62; ++e) {
            for (std::int64_t d : {-1, 0, 1}) {
                for (int k = 0; k < 100; ++k) {
                    values.push_back(std::max<std::int64_t>((std::int64_t{1} << e) + d, 0));
                }
            }
        }
        values.push_back(INT64_MAX);
        check_percentiles(histogram_of(values), values);
    }
}

TEST_CASE("report: histograms merge across exact and spilled states", "[report]") {
    auto a = uniform(1'000, 10, 5'000, 21);
    auto b = uniform(2'000, 100, 90'000, 22);
    auto big = lognormal(20'000, std::log(800.0), 1.5, 23);
    auto joined = [](std::vector<std::int64_t> x, const std::vector<std::int64_t>& y) {
        x.insert(x.end(), y.begin(), y.end());
        return x;
    };

    SECTION("exact + exact that still fits stays exact") {
        Histogram h = histogram_of(a);
        h.merge(histogram_of(b));
        check_percentiles(h, joined(a, b), true);
    }
    SECTION("exact + exact beyond the limit spills") {
        auto c = uniform(3'000, 1, 70'000, 24);
        Histogram h = histogram_of(b);
        h.merge(histogram_of(c));
        check_percentiles(h, joined(b, c));
    }
    SECTION("exact + spilled and spilled + exact") {
        Histogram h1 = histogram_of(a);
        h1.merge(histogram_of(big));
        check_percentiles(h1, joined(a, big));
        Histogram h2 = histogram_of(big);
        h2.merge(histogram_of(a));
        check_percentiles(h2, joined(big, a));
        CHECK(h1.percentile(95) == h2.percentile(95));
    }
    SECTION("spilled + spilled, empty, and itself") {
        Histogram h = histogram_of(big);
        h.merge(histogram_of(big));
        h.merge(Histogram());
        check_percentiles(h, joined(big, big));
        Histogram empty;
        empty.merge(histogram_of(a));
        check_percentiles(empty, a, true);
        Histogram self = histogram_of(a);
        self.merge(self);
        check_percentiles(self, joined(a, a), true);
    }
}

TEST_CASE("report: histogram JSON round-trips with the same percentiles", "[report]") {
    for (const auto& values :
         {uniform(500, 0, 10'000, 31), lognormal(30'000, std::log(1'500.0), 1.2, 32)}) {
        Histogram h = histogram_of(values);
        nlohmann::json j = h.to_json();
        CHECK(j["count"] == values.size());
        CHECK(j["buckets"].is_array());
        Histogram back = Histogram::from_json(nlohmann::json::parse(j.dump()));
        CHECK(back.count() == h.count());
        CHECK(back.min() == h.min());
        CHECK(back.max() == h.max());
        CHECK(back.mean() == Approx(h.mean()));
        for (double p : k_percentiles) {
            INFO("p" << p);
            CHECK(back.percentile(p) == h.percentile(p));
        }
        CHECK(back.to_json() == j);
    }
    SECTION("a reader that ignores \"exact\" still gets valid buckets") {
        nlohmann::json j = histogram_of({5, 5, 7, 1'000'000}).to_json();
        CHECK(j["exact"] == true);
        CHECK(j["buckets"] == nlohmann::json::parse("[[5,2],[7,1],[1000000,1]]"));
        j.erase("exact");
        Histogram bucketed = Histogram::from_json(j);
        CHECK(bucketed.count() == 4);
        CHECK(bucketed.percentile(100) == 1'000'000);
        CHECK(bucketed.percentile(50) == 5);
    }
    SECTION("malformed input is skipped, never thrown") {
        for (const char* text :
             {"null", "[]", "{}", R"({"buckets":7})", R"({"buckets":[[1],[2,"x"],"y",[-4,-2]]})"}) {
            INFO(text);
            Histogram h;
            REQUIRE_NOTHROW(h = Histogram::from_json(nlohmann::json::parse(text)));
            CHECK(h.count() == 0);
        }
        Histogram partial = Histogram::from_json(
            nlohmann::json::parse(R"({"buckets":[[10,3],["bad",1],[20,1]],"min":"x"})"));
        CHECK(partial.count() == 4);
        CHECK(partial.percentile(50) == 10);
    }
}

TEST_CASE("report: histogram percentiles stay within 1% at every percentile, even at bucket edges",
          "[report]") {
    // The worst case for a bucket's midpoint is a value at either end of its bucket; put every
    // sample there, over many orders of magnitude, and sweep p in steps of 0.1.
    std::vector<std::int64_t> values;
    for (std::int64_t base = 256; base < (std::int64_t{1} << 40); base *= 3) {
        const int e = 63 - std::countl_zero(static_cast<std::uint64_t>(base));
        const std::int64_t width = std::int64_t{1} << (e - 7);
        const std::int64_t low = base - base % width;
        values.push_back(low);
        values.push_back(low + width - 1);
    }
    auto noise = lognormal(20'000, std::log(5'000.0), 2.0, 41);
    values.insert(values.end(), noise.begin(), noise.end());
    Histogram h = histogram_of(values);
    REQUIRE_FALSE(h.exact());
    double worst = 0;
    for (int tenth = 0; tenth <= 1000; ++tenth) {
        const double p = tenth / 10.0;
        const std::int64_t want = exact_percentile(values, p);
        const std::int64_t got = h.percentile(p);
        INFO("p" << p << " want " << want << " got " << got);
        const double err =
            want == 0 ? static_cast<double>(got != 0)
                      : std::abs(static_cast<double>(got - want)) / static_cast<double>(want);
        CHECK(err <= 0.01);
        worst = std::max(worst, err);
    }
    CHECK(worst <= 1.0 / 256.0 + 1e-12);  // half a bucket of 1/128 of its lower bound
}

TEST_CASE("report: histogram value counts, exact or in buckets", "[report]") {
    using Pairs = std::vector<std::pair<std::int64_t, std::uint64_t>>;
    Histogram h = histogram_of({300, 5, 301, 5, 1'000});
    CHECK(h.exact());
    CHECK(h.value_counts() == Pairs{{5, 2}, {300, 1}, {301, 1}, {1'000, 1}});
    // Buckets of width 2 in [256, 512) and 4 in [512, 1024): 300 and 301 share one.
    CHECK(h.value_counts(true) == Pairs{{5, 2}, {300, 2}, {1'000, 1}});

    auto many = uniform(Histogram::k_exact_limit + 1, 0, 2'000, 43);
    Histogram spilled = histogram_of(many);
    CHECK_FALSE(spilled.exact());
    CHECK(spilled.value_counts() == spilled.value_counts(true));
    std::uint64_t total = 0;
    std::int64_t previous = -1;
    for (const auto& [value, n] : spilled.value_counts()) {
        CHECK(value > previous);
        CHECK(n > 0);
        previous = value;
        total += n;
    }
    CHECK(total == many.size());
    // An exact histogram in bucket form lines up with a spilled one of the same values.
    Histogram small = histogram_of({5, 300, 301, 1'000});
    Histogram big = histogram_of(many);
    big.merge(small);
    std::set<std::int64_t> keys;
    for (const auto& [value, n] : big.value_counts()) {
        keys.insert(value);
    }
    for (const auto& [value, n] : small.value_counts(true)) {
        CHECK(keys.count(value) == 1);
    }
    CHECK(Histogram().value_counts().empty());
}
