// The tier requests are sent at, and --request-timeout's default that follows it (cli/
// run_options.cpp resolves the flag with these two).
#include <catch2/catch.hpp>

#include "budget/tier.hpp"

using namespace assetgen::budget;
using std::chrono::minutes;

TEST_CASE("a run's requests go out at its tier; a batch's --retry-failed at --retry-tier",
          "[tier]") {
    CHECK(synchronous_tier(Tier::standard, false, Tier::batch) == Tier::standard);
    CHECK(synchronous_tier(Tier::flex, false, Tier::batch) == Tier::flex);
    CHECK(synchronous_tier(Tier::priority, false, Tier::batch) == Tier::priority);
    CHECK(synchronous_tier(Tier::batch, false, Tier::flex) == Tier::batch);
    CHECK(synchronous_tier(Tier::batch, true, Tier::batch) == Tier::batch);
    CHECK(synchronous_tier(Tier::batch, true, Tier::standard) == Tier::standard);
    CHECK(synchronous_tier(Tier::batch, true, Tier::flex) == Tier::flex);
    CHECK(synchronous_tier(Tier::batch, true, Tier::priority) == Tier::priority);
}

TEST_CASE("--request-timeout defaults to 30m for requests sent at flex, 5m otherwise", "[tier]") {
    CHECK(default_request_timeout(Tier::flex) == minutes(30));
    CHECK(default_request_timeout(Tier::standard) == minutes(5));
    CHECK(default_request_timeout(Tier::priority) == minutes(5));
    CHECK(default_request_timeout(Tier::batch) == minutes(5));
    // `run --tier batch --retry-failed --retry-tier flex`: its retried requests are flex ones.
    CHECK(default_request_timeout(synchronous_tier(Tier::batch, true, Tier::flex)) == minutes(30));
    CHECK(default_request_timeout(synchronous_tier(Tier::batch, true, Tier::standard)) ==
          minutes(5));
}
