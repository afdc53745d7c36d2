// Typed outcomes (issue 16 item 5): --budget-policy is a value below the command line; its name
// in the pre-flight JSON is the flag's, and reads back.
#include <catch2/catch.hpp>

#include "budget/budget_policy.hpp"

using namespace assetgen;
using budget::BudgetPolicy;

TEST_CASE("budget policy: names are the flag's and read back", "[budget_policy][budget]") {
    CHECK(budget::budget_policy_name(BudgetPolicy::refuse) == "refuse");
    CHECK(budget::budget_policy_name(BudgetPolicy::partial) == "partial");
    for (BudgetPolicy p : {BudgetPolicy::refuse, BudgetPolicy::partial}) {
        CHECK(budget::parse_budget_policy(budget::budget_policy_name(p)) == p);
    }
    CHECK_FALSE(budget::parse_budget_policy("Refuse").has_value());
    CHECK_FALSE(budget::parse_budget_policy("").has_value());
}
