#pragma once
// What one model costs at one service tier, and the token figures its requests are planned
// with. Filled from the model catalog (budget/catalog.hpp), then overridden by a --prices file.

#include <cstdint>
#include <map>
#include <string>

#include "util/text.hpp"

namespace assetgen::budget {

struct ModelPrice {
    // Dollars per 1M tokens, as micro-dollars per 1M tokens (so $30 = 30'000'000).
    util::Micros input_per_mtok = 0;         // text and image input
    util::Micros output_image_per_mtok = 0;  // image output tokens
    util::Micros output_text_per_mtok = 0;   // text output tokens
    util::Micros thinking_per_mtok = 0;      // thoughtsTokenCount
    // Google's stated price of one output image by size ("512", "1K", "2K", "4K"; "" = the
    // model's default size).
    std::map<std::string, util::Micros> per_image;
    // Output tokens of one image by size, for estimates when usage is unknown.
    std::map<std::string, std::int64_t> image_tokens;
    std::int64_t tokens_per_ref_image = 258;  // input tokens one reference image costs
    std::int64_t max_thinking_tokens = 0;     // allowance in the worst case (thinking models)
    // Output text (and thought text outside thoughtsTokenCount) one answer may carry.
    std::int64_t text_allowance_tokens = 256;
    // generationConfig.thinkingConfig.thinkingLevel to send ("" = the model has no thinking
    // control, or none that is documented for it: only maxOutputTokens bounds its thinking).
    std::string thinking_level;
};

}  // namespace assetgen::budget
