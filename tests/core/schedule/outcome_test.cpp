// Typed outcomes (issue 16 item 5): the names written into summary.json and the results file are
// the ones they always were, and each reads back to its value.
#include <catch2/catch.hpp>

#include "schedule/outcome.hpp"

using namespace assetgen;
using schedule::RowStatus;
using schedule::RunEnd;

TEST_CASE("outcome: run ends keep their summary.json names and read back", "[outcome][schedule]") {
    const std::vector<std::pair<RunEnd, std::string>> names = {
        {RunEnd::ok, "ok"},
        {RunEnd::failed, "failed"},
        {RunEnd::interrupted, "interrupted"},
        {RunEnd::budget_exceeded, "budget_exceeded"},
        {RunEnd::upstream_unavailable, "upstream_unavailable"},
        {RunEnd::auth_failed, "auth_failed"},
        {RunEnd::error, "error"},
        {RunEnd::quota_daily, "quota_daily"},
        {RunEnd::spend_cap, "spend_cap"},
        {RunEnd::billing_cap, "billing_cap"}};
    for (const auto& [end, name] : names) {
        CHECK(schedule::run_end_name(end) == name);
        CHECK(schedule::parse_run_end(name) == end);
    }
    CHECK_FALSE(schedule::parse_run_end("OK").has_value());
    CHECK_FALSE(schedule::parse_run_end("").has_value());
    CHECK(schedule::quota_run_end(util::Code::spend_cap) == RunEnd::spend_cap);
    CHECK_FALSE(schedule::quota_run_end(util::Code::rate_limited).has_value());
}

TEST_CASE("outcome: a row none of whose images was made is named by its first error",
          "[outcome][schedule]") {
    using util::Code;
    CHECK(schedule::row_status_name(schedule::row_status_of_error(Code::blocked)) == "blocked");
    CHECK(schedule::row_status_name(schedule::row_status_of_error(Code::budget_exceeded)) ==
          "budget_exceeded");
    CHECK(schedule::row_status_name(schedule::row_status_of_error(Code::upstream_unavailable)) ==
          "upstream_unavailable");
    CHECK(schedule::row_status_name(schedule::row_status_of_error(Code::quota_daily)) ==
          "quota_daily");
    CHECK(schedule::row_status_name(schedule::row_status_of_error(Code::billing_cap)) ==
          "billing_cap");
    CHECK(schedule::row_status_name(schedule::row_status_of_error(Code::cancelled)) ==
          "interrupted");
    CHECK(schedule::row_status_name(schedule::row_status_of_error(Code::model_error)) == "failed");
    CHECK(schedule::row_status_name(schedule::row_status_of_error(Code::storage_io)) == "failed");
    CHECK(schedule::row_status_name(RowStatus::partial) == "partial");
    CHECK(schedule::row_status_name(RowStatus::ok) == "ok");
}
