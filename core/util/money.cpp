#include "util/money.hpp"

// How this works: read_money scans the text once, collecting the digits and where the decimal
// point falls (moved by an exponent), then shifts the point six places right digit by digit,
// stopping at k_max_micros. Whatever it finds wrong is flagged, and the value it returns is
// the reading that spends the most, so a caller that only wants a number can never be handed
// a credit or a wrapped-around sum.

#include <limits>

namespace assetgen::util {

std::optional<Micros> checked_add(Micros a, Micros b) {
    Micros out = 0;
    if (__builtin_add_overflow(a, b, &out)) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    if (__builtin_mul_overflow(a, b, &out)) {
        return std::nullopt;
    }
    return out;
}

Micros add_sat(Micros a, Micros b) {
    if (auto s = checked_add(a, b)) {
        return *s;
    }
    return b > 0 ? std::numeric_limits<Micros>::max() : std::numeric_limits<Micros>::min();
}

Micros add_capped(Micros a, Micros b) {
    const Micros s = add_sat(a, b);
    return s < 0 ? 0 : (s > k_max_micros ? k_max_micros : s);
}

std::int64_t mul_sat(std::int64_t a, std::int64_t b) {
    if (auto p = checked_mul(a, b)) {
        return *p;
    }
    return (a < 0) != (b < 0) ? std::numeric_limits<std::int64_t>::min()
                              : std::numeric_limits<std::int64_t>::max();
}

Micros cost_of_tokens(std::int64_t tokens, Micros per_mtok) {
    if (tokens <= 0 || per_mtok <= 0) {
        return 0;
    }
    // ceil(tokens × per_mtok / 10^6), split into whole millions and the rest; any overflow
    // means far above k_max_micros.
    const std::int64_t millions = tokens / 1'000'000;
    const std::int64_t rest = tokens % 1'000'000;
    const auto whole = checked_mul(millions, per_mtok);
    const auto part = checked_mul(rest, per_mtok);
    if (!whole || !part) {
        return k_max_micros;
    }
    const Micros cost = add_sat(*whole, *part / 1'000'000 + (*part % 1'000'000 != 0 ? 1 : 0));
    return cost > k_max_micros ? k_max_micros : cost;
}

std::string MoneyReading::problem() const {
    if (not_a_number) {
        return "is not a number";
    }
    if (out_of_range) {
        return "is out of range";
    }
    if (negative) {
        return "is negative";
    }
    if (too_precise) {
        return "has more than 6 decimals";
    }
    return "";
}

MoneyReading read_money(std::string_view text, bool allow_exponent) {
    MoneyReading r;
    auto not_number = [&] {
        r = MoneyReading{};
        r.not_a_number = true;
        r.micros = k_max_micros;
        return r;
    };
    std::size_t i = 0;
    if (i < text.size() && text[i] == '-') {
        r.negative = true;
        ++i;
    }
    auto is_digit = [&](std::size_t k) {
        return k < text.size() && text[k] >= '0' && text[k] <= '9';
    };
    std::string digits;
    std::int64_t point = 0;  // digits before the decimal point
    if (!is_digit(i)) {
        return not_number();
    }
    while (is_digit(i)) {
        digits.push_back(text[i++]);
        ++point;
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!is_digit(i)) {
            return not_number();
        }
        while (is_digit(i)) {
            digits.push_back(text[i++]);
        }
    }
    if (allow_exponent && i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool exp_negative = false;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
            exp_negative = text[i] == '-';
            ++i;
        }
        if (!is_digit(i)) {
            return not_number();
        }
        std::int64_t exp = 0;
        while (is_digit(i)) {
            exp = std::min<std::int64_t>(exp * 10 + (text[i++] - '0'), 100'000);
        }
        point += exp_negative ? -exp : exp;
    }
    if (i != text.size()) {
        return not_number();
    }
    // Shift the decimal point six places right: micros are the digits before the cut.
    const std::int64_t cut = point + 6;
    const auto n = static_cast<std::int64_t>(digits.size());
    std::uint64_t micros = 0;
    for (std::int64_t k = 0; k < cut && !r.out_of_range; ++k) {
        const int d = k < n ? digits[static_cast<std::size_t>(k)] - '0' : 0;
        if (micros >
            (static_cast<std::uint64_t>(k_max_micros) - static_cast<std::uint64_t>(d)) / 10) {
            r.out_of_range = true;
        } else {
            micros = micros * 10 + static_cast<std::uint64_t>(d);
        }
        if (k >= 40 && micros == 0 && k >= n) {
            break;  // "0e+100000": nothing but zeros from here on
        }
    }
    bool beyond = false;  // a non-zero digit past the sixth decimal
    for (std::int64_t k = std::max<std::int64_t>(cut, 0); k < n; ++k) {
        if (digits[static_cast<std::size_t>(k)] != '0') {
            beyond = true;
            break;
        }
    }
    if (beyond && !r.out_of_range) {
        // A double printed in full (15 to 17 significant digits, as a JavaScript writer does:
        // "0.039000000000000007", "7.760999999999999") is the micro-dollar amount plus
        // rounding noise: six 0s or 9s right after the sixth decimal. That rounds to nearest.
        // Any other extra digit is a sub-micro-dollar amount: flagged, and rounded up.
        const auto first_sig = digits.find_first_not_of('0');
        const auto sig = first_sig == std::string::npos ? 0 : digits.size() - first_sig;
        const auto tail =
            cut >= 0 && cut < n ? digits.substr(static_cast<std::size_t>(cut)) : std::string();
        const bool noise = sig >= 15 && tail.size() >= 6 &&
                           (tail.compare(0, 6, "000000") == 0 || tail.compare(0, 6, "999999") == 0);
        if (!noise) {
            r.too_precise = true;
            ++micros;  // the worst case rounds up
        } else if (tail[0] >= '5') {
            ++micros;
        }
    }
    if (r.out_of_range || micros > static_cast<std::uint64_t>(k_max_micros)) {
        r.out_of_range = true;
        micros = static_cast<std::uint64_t>(k_max_micros);
    }
    if (micros == 0) {
        r.negative = false;  // "-0" is zero
    }
    r.micros = static_cast<Micros>(micros);
    return r;
}

}  // namespace assetgen::util
