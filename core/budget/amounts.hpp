#pragma once
// The dollar amounts a user gives (a price per image, prices per million tokens, a daily
// limit), read strictly: decimal text, finite, not negative, at most six decimals, and under a
// sane ceiling unless the user confirms (--i-mean-it, ASSETGEN_I_MEAN_IT, `i-mean-it` in the
// config file). A typo such as 1e13 must not become a price, a credit or an overflow.

#include <string>
#include <string_view>

#include "util/money.hpp"
#include "util/status.hpp"

namespace assetgen::budget {

// What an amount is, with its sane ceiling (README.md, Prices).
struct AmountKind {
    const char* what;      // "price per image", for messages
    util::Micros ceiling;  // above this the user must confirm
};
// A price of one image: at most $10 unless confirmed.
inline constexpr AmountKind k_price_per_image{"a price per image", 10 * util::k_micros_per_dollar};
// A price per million tokens: at most $1,000 unless confirmed.
inline constexpr AmountKind k_price_per_mtok{"a price per million tokens",
                                             1'000 * util::k_micros_per_dollar};
// A daily limit: at most $1,000,000 unless confirmed.
inline constexpr AmountKind k_daily_limit{"a daily limit", 1'000'000 * util::k_micros_per_dollar};
// Nothing is accepted above a billion dollars, confirmed or not.
inline constexpr util::Micros k_hard_ceiling = 1'000'000'000 * util::k_micros_per_dollar;

// Reads a flag's dollar text ("0.039", "12", "5.50"; no sign, no exponent, no "$") as kind.
// CONFIG_ERROR `<where>: "<text>" <problem>; <fix>` naming the flag: not a number, negative,
// more than six decimals, above the hard ceiling, or above kind's ceiling without confirmed.
util::Result<util::Micros> parse_amount(std::string_view text, const AmountKind& kind,
                                        bool confirmed, const std::string& where);

// Checks a number read from a JSON file (its text as nlohmann writes a double back: "0.039",
// "1e+16") as kind. INVALID_INPUT with the same messages, `where` being "<file>:<line>: <key>".
util::Result<util::Micros> check_json_amount(std::string_view text, const AmountKind& kind,
                                             bool confirmed, const std::string& where);

}  // namespace assetgen::budget
