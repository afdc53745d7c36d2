#pragma once
// What images cost: a built-in price table for the known image models (README.md says where
// each number comes from and when it was read), overridable by --price-per-image or a pricing
// JSON file; per-request estimates, worst cases, and actual cost from usageMetadata.

#include <map>
#include <optional>
#include <string>

#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::budget {

struct ModelPrice {
    // Dollars per 1M tokens, as micro-dollars per 1M tokens (so $30 = 30'000'000).
    util::Micros input_per_mtok = 0;         // text and image input
    util::Micros output_image_per_mtok = 0;  // image output tokens
    util::Micros output_text_per_mtok = 0;   // text and thinking output tokens
    // Google's stated price of one output image by size ("1K", "2K", "4K"; "" = default).
    std::map<std::string, util::Micros> per_image;
    // Output tokens of one image by size, for estimates when usage is unknown.
    std::map<std::string, std::int64_t> image_tokens;
    std::int64_t tokens_per_ref_image = 258;  // input tokens one reference image costs
    std::int64_t max_thinking_tokens = 0;     // allowance in the worst case (thinking models)
};

// What one request is expected to carry, for estimates.
struct RequestShape {
    std::string model;
    std::string image_size;      // "" = default
    std::size_t prompt_bytes = 0;
    std::size_t ref_images = 0;
};

class PriceTable {
public:
    // The built-in table (gemini-2.5-flash-image, gemini-3-pro-image(-preview),
    // gemini-3.1-flash-image(-preview)).
    static PriceTable builtin();
    // Reads a pricing JSON file: {"models": {"<model>": {"input_per_mtok": 0.30,
    // "output_image_per_mtok": 30, "output_text_per_mtok": 2.5, "per_image": {"": 0.039},
    // "image_tokens": {"": 1290}, "tokens_per_ref_image": 258}}} (dollars). Entries replace
    // built-in ones of the same name. INVALID_INPUT naming the bad key.
    util::Status load_json(const std::string& text, const std::string& where);
    // Forces every model's per-image output price (--price-per-image).
    void set_price_per_image(util::Micros price);

    // CONFIG_ERROR when the model has no price (the message lists the known models and says how
    // to add one with --prices).
    util::Result<const ModelPrice*> find(const std::string& model) const;

    // The expected cost of one request: one image at the stated per-image price plus input.
    util::Result<util::Micros> estimate(const RequestShape& shape) const;
    // The most one request may cost: the estimate plus the thinking allowance. Reservations
    // use it, so that actual cost never exceeds what was reserved.
    util::Result<util::Micros> worst_case(const RequestShape& shape) const;
    // The actual cost from usageMetadata token counts. With a per-image override the image
    // output costs exactly that price.
    util::Result<util::Micros> actual(const std::string& model, const std::string& image_size,
                                      std::int64_t prompt_tokens, std::int64_t output_tokens,
                                      std::int64_t thoughts_tokens) const;

private:
    std::map<std::string, ModelPrice> m_models;
    std::optional<util::Micros> m_price_per_image;
};

}  // namespace assetgen::budget
