#pragma once
// What images cost: a price table built from the model catalog (budget/catalog.hpp: every
// model's prices at every service tier, with the page and date each was read), overridable by
// --price-per-image or a pricing JSON file; per-request estimates, worst cases, and actual cost
// from usageMetadata. No price lives in code.

#include <map>
#include <optional>
#include <string>

#include "budget/catalog.hpp"
#include "budget/model_price.hpp"
#include "budget/tier.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::budget {

// The hard ceiling of one request: what is reserved for it and what it may be billed at most.
// One function (PriceTable::ceiling) computes both, so that the cap sent to the API and the
// reservation in the budget cannot drift apart.
struct RequestCeiling {
    std::int64_t image_tokens = 0;       // output tokens of one image at the size
    std::int64_t thinking_tokens = 0;    // the thinking allowance
    std::int64_t text_tokens = 0;        // the text allowance
    std::int64_t max_output_tokens = 0;  // the sum: generationConfig.maxOutputTokens
    std::string thinking_level;          // thinkingConfig.thinkingLevel, "" = not sent
    util::Micros estimate = 0;           // the expected cost
    // image (the larger of its stated price and its tokens) + the input estimate twice over +
    // (thinking + text allowance) at the text rate. README.md, "The budget, for finance".
    util::Micros worst_case = 0;
};

// What one request is expected to carry, for estimates.
struct RequestShape {
    std::string model;
    std::string image_size;  // "" = default
    std::size_t prompt_bytes = 0;
    std::size_t ref_images = 0;
    Tier tier = Tier::standard;  // --tier: whose prices apply
};

class PriceTable {
public:
    // Every model of the catalog at every tier (ids and aliases).
    static PriceTable from_catalog(const Catalog& catalog);
    // From the built-in catalog (core/budget/models.json).
    static PriceTable builtin();
    // Reads a pricing JSON file: {"models": {"<model>": {"input_per_mtok": 0.30,
    // "output_image_per_mtok": 30, "output_text_per_mtok": 2.5, "thinking_per_mtok": 2.5
    // (also spelled "output_thinking_per_mtok"; default: the text rate), "per_image": {"": 0.039},
    // "image_tokens": {"": 1290}, "tokens_per_ref_image": 258, "max_thinking_tokens": 0,
    // "text_allowance_tokens": 256, "thinking_level": ""}}} (dollars). Entries replace
    // built-in ones of the same name. Amounts are checked as budget/amounts.hpp says (prices
    // above the sane ceilings need `confirmed`); token counts are whole numbers up to
    // 1,000,000. INVALID_INPUT "<where>:<line>: models.<model>.<key>: ..." naming the bad key.
    // An entry states what is paid whatever the tier: it replaces the model's prices at every
    // tier (the keys it gives; the others stay as they were at each tier).
    util::Status load_json(const std::string& text, const std::string& where,
                           bool confirmed = false);
    // Forces every model's per-image output price (--price-per-image, already checked).
    void set_price_per_image(util::Micros price);

    // CONFIG_ERROR when the model has no price (the message lists the known models and says how
    // to add one with --prices).
    util::Result<const ModelPrice*> find(const std::string& model,
                                         Tier tier = Tier::standard) const;

    // The ceiling of one request of this shape (see RequestCeiling). CONFIG_ERROR when the
    // model has no price.
    util::Result<RequestCeiling> ceiling(const RequestShape& shape) const;
    // The expected cost of one request: one image at the stated per-image price plus input.
    util::Result<util::Micros> estimate(const RequestShape& shape) const;
    // The most one request may cost: the estimate plus the thinking allowance. Reservations
    // use it, so that actual cost never exceeds what was reserved.
    util::Result<util::Micros> worst_case(const RequestShape& shape) const;
    // The actual cost from usageMetadata token counts, each kind at its own rate, at the tier's
    // prices: output_image_tokens (the IMAGE entry of candidatesTokensDetails; -1 when the answer
    // did not say, and then every output token counts as image) at the image rate, the rest of
    // the output at the text rate, the thoughts at the thinking rate, the prompt at the input
    // rate. An answer without an image (blocked, text only) costs its prompt, text and thoughts.
    // With a per-image override an image costs exactly that price (an answer with no image
    // tokens pays none of it). Saturates instead of overflowing, whatever the counts.
    util::Result<util::Micros> actual(const std::string& model, const std::string& image_size,
                                      std::int64_t prompt_tokens, std::int64_t output_tokens,
                                      std::int64_t thoughts_tokens,
                                      std::int64_t output_image_tokens = -1,
                                      Tier tier = Tier::standard) const;

private:
    std::map<std::string, std::map<Tier, ModelPrice>> m_models;
    std::optional<util::Micros> m_price_per_image;
};

}  // namespace assetgen::budget
