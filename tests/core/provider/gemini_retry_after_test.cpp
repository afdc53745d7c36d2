// Found by fuzzing (tests/fuzz/gemini_wire): a Retry-After HTTP-date with a 19-digit year
// overflowed an int in sscanf and then the milliseconds (signed overflow, UBSan).
#include <catch2/catch.hpp>

#include <chrono>

#include "provider/gemini_wire.hpp"

using namespace assetgen;
using namespace std::chrono_literals;

TEST_CASE("gemini: a Retry-After date with a year past 9999 is malformed, not an overflow",
          "[gemini][provider]") {
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1764979200));
    CHECK(provider::parse_retry_after("Sat, 06 Dec 2025 00:00:30 GMT", now) == 30s);
    CHECK(provider::parse_retry_after("Sat, 06 Dec 1999 00:00:30 GMT", now) == 0ms);
    CHECK_FALSE(provider::parse_retry_after("Sat, 06 Dec 2999999999999999025 00:00:30 GMT", now));
    CHECK_FALSE(provider::parse_retry_after("Sat, 06 Dec 99999 00:00:30 GMT", now));
    CHECK_FALSE(provider::parse_retry_after("Sat, 006 Dec 2025 00:00:30 GMT", now));
    CHECK_FALSE(provider::parse_retry_after("Sat, 06 Dec 0099 00:00:30 GMT", now));
    auto s =
        provider::parse_gemini_error(503, "", "Sat, 06 Dec 2999999999999999025 00:00:30 GMT", now);
    CHECK_FALSE(s.retry_after());
}
