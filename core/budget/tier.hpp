#pragma once
// The Gemini API's inference service tiers (ai.google.dev/gemini-api/docs/optimization, read
// 2026-12-06): standard (the default), flex (50% off, best effort, minutes of latency),
// priority (75% to 100% more, never shed) and batch (the asynchronous Batch API, 50% off:
// `run --tier batch`, schedule/batch_run.hpp). Each has its own prices in the model catalog
// (budget/catalog.hpp).

#include <array>
#include <chrono>
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

// The tier a run's synchronous requests go out at: its own, except that a batch run sends
// only --retry-failed's requests synchronously, at --retry-tier (batch: in a chunk, none).
inline constexpr Tier synchronous_tier(Tier tier, bool retry_failed, Tier retry_tier) {
    return tier == Tier::batch && retry_failed ? retry_tier : tier;
}

// --request-timeout's default for requests sent at `sent_at`: flex answers take minutes (a 1-15
// minute target, optimization page; the Vertex retry strategy page suggests a 30-minute timeout
// for flex), so 30 minutes; 5 for the others.
inline constexpr std::chrono::minutes default_request_timeout(Tier sent_at) {
    return std::chrono::minutes(sent_at == Tier::flex ? 30 : 5);
}

}  // namespace assetgen::budget
