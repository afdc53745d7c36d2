#include <catch2/catch.hpp>

#include <limits>

#include "util/money.hpp"

using namespace assetgen::util;

TEST_CASE("money: sums and products saturate instead of wrapping", "[util][money]") {
    constexpr auto max = std::numeric_limits<Micros>::max();
    constexpr auto min = std::numeric_limits<Micros>::min();
    CHECK(add_sat(1, 2) == 3);
    CHECK(add_sat(max, 1) == max);
    CHECK(add_sat(min, -1) == min);
    CHECK_FALSE(checked_add(max, 1).has_value());
    CHECK(checked_add(max - 1, 1) == max);
    CHECK(mul_sat(3, 4) == 12);
    CHECK(mul_sat(max / 2, 3) == max);
    CHECK(mul_sat(max / 2, -3) == min);
    CHECK_FALSE(checked_mul(1LL << 40, 1LL << 40).has_value());
    CHECK(add_capped(k_max_micros, k_max_micros) == k_max_micros);
    CHECK(add_capped(5, -10) == 0);
}

TEST_CASE("money: token costs round up and cannot overflow", "[util][money]") {
    CHECK(cost_of_tokens(1290, 30'000'000) == 38'700);  // 1290 tokens at $30 / 1M
    CHECK(cost_of_tokens(1, 1) == 1);                   // a fraction of a micro-dollar rounds up
    CHECK(cost_of_tokens(0, 30'000'000) == 0);
    CHECK(cost_of_tokens(-5, 30'000'000) == 0);
    CHECK(cost_of_tokens(5, -1) == 0);
    // 9.2e18 tokens at $1e12 per million: saturates at the ceiling, never wraps negative.
    CHECK(cost_of_tokens(std::numeric_limits<std::int64_t>::max(), k_max_micros) == k_max_micros);
    CHECK(cost_of_tokens(400'000, 12'000'000) == 4'800'000);  // 400k thinking tokens at $12 / 1M
}

TEST_CASE("money: decimal text reads exactly, and every problem reads as its worst case",
          "[util][money]") {
    auto exact = [](std::string_view t, bool e = false) {
        auto r = read_money(t, e);
        CHECK(r.exact());
        return r.micros;
    };
    CHECK(exact("0.039") == 39'000);
    CHECK(exact("12") == 12'000'000);
    CHECK(exact("0.000001") == 1);
    CHECK(exact("5.500000000") == 5'500'000);  // trailing zeros are still exact
    CHECK(exact("1e-3", true) == 1'000);
    CHECK(exact("0.039000000000000007", true) == 39'000);  // a double printed in full
    CHECK(exact("7.760999999999999", true) == 7'761'000);

    auto negative = read_money("-100", false);
    CHECK(negative.negative);
    CHECK(negative.micros == 100'000'000);  // never a credit
    CHECK(negative.problem() == "is negative");

    auto precise = read_money("0.0390001", false);
    CHECK(precise.too_precise);
    CHECK(precise.micros == 39'001);  // rounded up
    CHECK(precise.problem() == "has more than 6 decimals");

    auto huge = read_money("1e11", true);
    CHECK(huge.exact());
    CHECK(huge.micros == 100'000'000'000'000'000);
    CHECK(read_money("1e13", true).out_of_range);  // ten trillion dollars
    auto absurd = read_money("1e400", true);
    CHECK(absurd.out_of_range);
    CHECK(absurd.micros == k_max_micros);
    CHECK(read_money("99999999999999999999999", false).out_of_range);

    for (const char* t :
         {"", "nan", "inf", "-", "1.", ".5", "1,5", "$3", "1e13", "0x10", "+1", " 1"}) {
        auto r = read_money(t, false);
        INFO(t);
        CHECK(r.not_a_number);
        CHECK(r.micros == k_max_micros);
    }
}
