#include "budget/usage_check.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

#include "util/money.hpp"

namespace assetgen::budget {
namespace {

// The readers' mark for a count that is not a whole number (provider::detail::k_not_a_count).
constexpr std::int64_t k_not_a_count = std::numeric_limits<std::int64_t>::min();

}  // namespace

std::string usage_anomaly(const util::TokenUsage& u) {
    const std::array<std::pair<const char*, std::int64_t>, 4> counts = {{
        {"promptTokenCount", u.prompt_tokens},
        {"candidatesTokenCount", u.output_tokens},
        {"thoughtsTokenCount", u.thoughts_tokens},
        // -1 is "no breakdown" (every output token is then priced as image, the dearer rate).
        {"candidatesTokensDetails", u.output_image_tokens == -1 ? 0 : u.output_image_tokens},
    }};
    for (const auto& [name, n] : counts) {
        if (n == k_not_a_count) {
            return std::string(name) + ":not_a_count";
        }
    }
    for (const auto& [name, n] : counts) {
        if (n < 0) {
            return std::string(name) + ":negative";
        }
    }
    // Every count is >= 0 here; util::add_sat (saturating, on int64) sums them without wrapping.
    const std::int64_t total =
        util::add_sat(util::add_sat(u.prompt_tokens, u.output_tokens), u.thoughts_tokens);
    if (total > k_max_answer_tokens || counts[3].second > k_max_answer_tokens) {
        const auto* largest = &counts[0];
        for (const auto& c : counts) {
            if (c.second > largest->second) {
                largest = &c;
            }
        }
        return std::string(largest->first) + ":above_limit";
    }
    return "";
}

Bill bill(const PriceTable& prices, const std::string& model, const std::string& image_size,
          const util::TokenUsage& u, Tier tier, util::Micros worst_case) {
    Bill b;
    b.anomaly = usage_anomaly(u);
    if (!b.anomaly.empty()) {
        b.cost = worst_case;
        return b;
    }
    auto cost = prices.actual(model, image_size, u.prompt_tokens, u.output_tokens,
                              u.thoughts_tokens, u.output_image_tokens, tier);
    b.priced = cost.ok();
    b.cost = cost.ok() ? *cost : worst_case;
    return b;
}

}  // namespace assetgen::budget
