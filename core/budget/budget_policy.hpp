#pragma once
// --budget-policy as a value: what a run does when the day's budget cannot cover its whole plan.
// Its name ("refuse", "partial") is written only at the edges: the flag, the pre-flight JSON and
// events.

#include <optional>
#include <string_view>

namespace assetgen::budget {

enum class BudgetPolicy {
    refuse,   // "refuse": nothing is sent (BUDGET_EXCEEDED before the first request)
    partial,  // "partial": run until the budget has no room for the next image
};

// "refuse" or "partial".
std::string_view budget_policy_name(BudgetPolicy policy);
// The BudgetPolicy of a name budget_policy_name writes; std::nullopt for anything else.
std::optional<BudgetPolicy> parse_budget_policy(std::string_view name);

}  // namespace assetgen::budget
