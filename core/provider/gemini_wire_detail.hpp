#pragma once
// What the two readers of a generateContent answer share (gemini_wire.cpp, the nlohmann DOM
// reference, and gemini_answer.cpp, the JsonView reader), so that both say the same words.

#include <cstdint>
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
// Token counts read from an answer are clamped to 0..k_max_count.
inline constexpr std::int64_t k_max_count = std::int64_t{1} << 53;

}  // namespace assetgen::provider::detail
