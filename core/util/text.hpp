#pragma once
// Small text helpers shared by every module: durations written the human way, trimming,
// splitting, UTC dates, and redaction of secrets before anything is logged.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace assetgen::util {

// The value of one hexadecimal digit (0-9, a-f, A-F), or -1.
constexpr int hex_digit_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Parses "250ms", "90s", "1.5s", "5m", "1h", "7d" (also "0"). INVALID_INPUT otherwise.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// Writes a duration the human way: "250ms", "1.5s", "90s" → "1m30s", "5m", "1h", "7d".
std::string format_duration(std::chrono::milliseconds d);

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
// Splits on any of the separator characters, dropping empty pieces.
std::vector<std::string> split_any(std::string_view s, std::string_view separators);
bool starts_with(std::string_view s, std::string_view prefix);

// "YYYY-MM-DD" of a Unix time in milliseconds, in UTC.
std::string utc_date(std::int64_t unix_ms);
// "YYYY-MM-DDTHH:MM:SS.mmmZ" of a Unix time in milliseconds.
std::string utc_timestamp(std::int64_t unix_ms);

// Money is kept in integer micro-dollars so that sums are exact.
using Micros = std::int64_t;
// Dollars (as written in ledgers and flags) to micro-dollars, rounded to nearest.
Micros to_micros(double dollars);
double to_dollars(Micros micros);
// "$0.039000" style, six decimals.
std::string format_usd(Micros micros);

// Removes secrets from text meant for a log, an event or an error: API keys (key= query
// parameters, x-goog-api-key headers, strings that look like Google API keys), bearer tokens,
// access_token/refresh_token/assertion values, V4 signatures, and private keys.
std::string redact(std::string_view text);

}  // namespace assetgen::util
