#pragma once
// What the two readers of a generateContent answer share (gemini_wire.cpp, the nlohmann DOM
// reference, and gemini_answer.cpp, the JsonView reader), so that both say the same words.

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::provider::detail {

// Google's text, safe for a log line: redacted, one line, at most 400 bytes of valid UTF-8.
std::string clean_text(std::string_view text);
// A finishReason that means "refused by policy" (plus NO_IMAGE).
bool is_block_reason(std::string_view reason);
// Inline image data: the standard base64 alphabet, else the URL-safe one.
util::Result<std::string> decode_image_data(std::string_view data);
// Token counts are kept as the server sent them, so that the pricing judges them
// (budget::usage_anomaly: a lying count charges the request's worst case): a negative count
// stays negative, a huge one saturates at the int64 range, and one that is not a whole number
// at all (1.5, "12abc", true, an object) reads as k_not_a_count. An absent or null count is 0
// (proto-JSON omits zeros). proto-JSON writes int64 as a string: "-3" reads as -3.
inline constexpr std::int64_t k_not_a_count = std::numeric_limits<std::int64_t>::min();
// A JSON number as a count: a whole double saturates, a fraction is k_not_a_count.
std::int64_t count_of_double(double d);
// A string as a count: an optional '-' and digits (saturating), else k_not_a_count.
std::int64_t count_of_string(std::string_view s);
// A sum of counts that keeps a k_not_a_count and saturates.
std::int64_t add_counts(std::int64_t a, std::int64_t b);

}  // namespace assetgen::provider::detail
