#pragma once
// The Gemini API's inference service tiers (ai.google.dev/gemini-api/docs/optimization, read
// 2026-12-06): standard (the default), flex (50% off, best effort, minutes of latency),
// priority (75% to 100% more, never shed) and batch (the asynchronous Batch API, 50% off; its
// own issue: the name is reserved, `--tier batch` is refused). Each has its own prices in the
// model catalog (budget/catalog.hpp).

#include <array>
#include <optional>
#include <string_view>

namespace assetgen::budget {

enum class Tier { standard, flex, batch, priority };

inline constexpr std::array<Tier, 4> k_all_tiers{Tier::standard, Tier::flex, Tier::batch,
                                                 Tier::priority};

inline constexpr std::string_view tier_name(Tier t) {
    switch (t) {
        case Tier::flex:
            return "flex";
        case Tier::batch:
            return "batch";
        case Tier::priority:
            return "priority";
        case Tier::standard:
            break;
    }
    return "standard";
}

// "standard", "flex", "batch" or "priority" (exactly, lower case); nullopt otherwise.
inline std::optional<Tier> parse_tier(std::string_view text) {
    for (Tier t : k_all_tiers) {
        if (text == tier_name(t)) {
            return t;
        }
    }
    return std::nullopt;
}

}  // namespace assetgen::budget
