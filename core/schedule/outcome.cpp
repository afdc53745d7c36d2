#include "schedule/outcome.hpp"

#include <array>
#include <utility>

namespace assetgen::schedule {

namespace {

constexpr std::array<std::pair<RowStatus, std::string_view>, 10> k_row_statuses = {{
    {RowStatus::ok, "ok"},
    {RowStatus::partial, "partial"},
    {RowStatus::failed, "failed"},
    {RowStatus::blocked, "blocked"},
    {RowStatus::budget_exceeded, "budget_exceeded"},
    {RowStatus::upstream_unavailable, "upstream_unavailable"},
    {RowStatus::quota_daily, "quota_daily"},
    {RowStatus::spend_cap, "spend_cap"},
    {RowStatus::billing_cap, "billing_cap"},
    {RowStatus::interrupted, "interrupted"},
}};

}  // namespace

std::string_view run_end_name(RunEnd end) {
    return report::run_status_name(end);
}

std::optional<RunEnd> parse_run_end(std::string_view name) {
    return report::parse_run_status(name);
}

std::optional<RunEnd> quota_run_end(util::Code code) {
    switch (code) {
        case util::Code::quota_daily:
            return RunEnd::quota_daily;
        case util::Code::spend_cap:
            return RunEnd::spend_cap;
        case util::Code::billing_cap:
            return RunEnd::billing_cap;
        default:
            return std::nullopt;
    }
}

std::string_view row_status_name(RowStatus status) {
    for (const auto& [s, name] : k_row_statuses) {
        if (s == status) {
            return name;
        }
    }
    return "failed";
}

RowStatus row_status_of_error(util::Code first_error) {
    switch (first_error) {
        case util::Code::blocked:
            return RowStatus::blocked;
        case util::Code::budget_exceeded:
            return RowStatus::budget_exceeded;
        case util::Code::upstream_unavailable:
            return RowStatus::upstream_unavailable;
        case util::Code::quota_daily:
            return RowStatus::quota_daily;
        case util::Code::spend_cap:
            return RowStatus::spend_cap;
        case util::Code::billing_cap:
            return RowStatus::billing_cap;
        case util::Code::cancelled:
            return RowStatus::interrupted;
        default:
            return RowStatus::failed;
    }
}

}  // namespace assetgen::schedule
