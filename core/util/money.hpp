#pragma once
// Money as checked integers: amounts are integer micro-dollars (util::Micros, text.hpp), read
// from decimal text without a trip through double, and added or multiplied with overflow
// detection, so that no sum ever wraps around into a credit.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::util {

constexpr Micros k_micros_per_dollar = 1'000'000;
// The largest amount any money value may hold: a trillion dollars (far below int64's limit, so
// a handful of them still add up without overflow even before saturation).
constexpr Micros k_max_micros = 1'000'000'000'000'000'000;

// a + b, or std::nullopt when the sum does not fit in an int64.
std::optional<Micros> checked_add(Micros a, Micros b);
// a × b, or std::nullopt when the product does not fit in an int64.
std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b);
// a + b, clamped to the int64 range instead of wrapping.
Micros add_sat(Micros a, Micros b);
// a + b for amounts that only grow (spend, holds), clamped to [0, k_max_micros]: past a
// trillion dollars every total means "over any limit", and staying below int64's limit leaves
// room to add a few such totals without overflow.
Micros add_capped(Micros a, Micros b);
// a × b, clamped to the int64 range instead of wrapping.
std::int64_t mul_sat(std::int64_t a, std::int64_t b);
// The cost of `tokens` at `per_mtok` micro-dollars per million tokens, rounded up to the next
// micro-dollar (a budget never under-counts); 0 for non-positive inputs; saturates at
// k_max_micros instead of overflowing.
Micros cost_of_tokens(std::int64_t tokens, Micros per_mtok);

// What reading a dollar amount's text found. `micros` is always the worst-case reading, never a
// credit: a negative amount reads as its magnitude, digits past the sixth decimal round up,
// an amount too large (or not a number at all) reads as k_max_micros.
struct MoneyReading {
    Micros micros = 0;
    bool not_a_number = false;  // empty, "nan", "1,5", "$3", ...
    bool negative = false;
    bool too_precise = false;   // a non-zero digit past the sixth decimal
    bool out_of_range = false;  // above k_max_micros
    bool exact() const { return !not_a_number && !negative && !too_precise && !out_of_range; }
    // What is wrong, for a message: "is not a number", "is negative", "has more than 6
    // decimals", "is out of range"; "" when exact.
    std::string problem() const;
};

// Reads decimal dollars: digits, an optional '.' and digits, an optional leading '-'; with
// allow_exponent also a JSON exponent ("1e-3", "2.5E+2"). Never fails: see MoneyReading.
MoneyReading read_money(std::string_view text, bool allow_exponent);

}  // namespace assetgen::util
