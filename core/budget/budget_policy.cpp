#include "budget/budget_policy.hpp"

#include <array>
#include <utility>

namespace assetgen::budget {

namespace {

constexpr std::array<std::pair<BudgetPolicy, std::string_view>, 2> k_policies = {{
    {BudgetPolicy::refuse, "refuse"},
    {BudgetPolicy::partial, "partial"},
}};

}  // namespace

std::string_view budget_policy_name(BudgetPolicy policy) {
    for (const auto& [p, name] : k_policies) {
        if (p == policy) {
            return name;
        }
    }
    return "refuse";
}

std::optional<BudgetPolicy> parse_budget_policy(std::string_view name) {
    for (const auto& [p, n] : k_policies) {
        if (n == name) {
            return p;
        }
    }
    return std::nullopt;
}

}  // namespace assetgen::budget
