#pragma once
// Whether an answer's usageMetadata counts can be a bill, and what the answer is charged.
// The provider's readers keep the counts as the server sent them (provider/gemini_wire_detail.hpp:
// negative stays negative, huge saturates, a count that is not a whole number reads as INT64_MIN);
// this is the one place that judges them, for every path that reads usage (synchronous Gemini
// and Vertex, batch results of both). A count that cannot be a bill charges the request's worst
// case, the ceiling its reservation holds: never less than Google can bill (the request caps its
// output with maxOutputTokens), never a cost `ledger verify` rejects, never a day wrecked.

#include <cstdint>
#include <string>

#include "budget/prices.hpp"
#include "util/status.hpp"

namespace assetgen::budget {

// The most tokens one answer can count, input and output together: the largest context window
// of any Gemini model, 1,048,576 (https://ai.google.dev/gemini-api/docs/models: "Input token
// limit 1,048,576"; the image models' windows are smaller). A bound the request's own cap does
// not give: a thinking model bills thoughts past maxOutputTokens, and such a plausible overrun
// is charged as reported (schedule's note_overrun), not replaced by the worst case.
inline constexpr std::int64_t k_max_answer_tokens = std::int64_t{1} << 20;

// "" when the counts can be a bill; else "<field>:<kind>", the first bad count by its
// usageMetadata name (promptTokenCount, candidatesTokenCount, thoughtsTokenCount,
// candidatesTokensDetails) and kind: not_a_count (a fraction, "12abc", true, an object),
// negative, or above_limit (past k_max_answer_tokens, alone or with the others).
std::string usage_anomaly(const util::TokenUsage& u);

struct Bill {
    util::Micros cost = 0;
    std::string anomaly;  // usage_anomaly's verdict; "" when the counts were priced
    bool priced = true;   // false: the model has no price, and cost is the worst case
};

// What one answer is charged: its counts at the tier's prices (PriceTable::actual), or
// `worst_case` (the request's reservation) when they cannot be a bill or the model has no price.
Bill bill(const PriceTable& prices, const std::string& model, const std::string& image_size,
          const util::TokenUsage& u, Tier tier, util::Micros worst_case);

}  // namespace assetgen::budget
