#include "report/run_status.hpp"

#include <array>
#include <utility>

namespace assetgen::report {

namespace {

constexpr std::array<std::pair<RunStatus, std::string_view>, 11> k_run_statuses = {{
    {RunStatus::ok, "ok"},
    {RunStatus::failed, "failed"},
    {RunStatus::interrupted, "interrupted"},
    {RunStatus::budget_exceeded, "budget_exceeded"},
    {RunStatus::upstream_unavailable, "upstream_unavailable"},
    {RunStatus::auth_failed, "auth_failed"},
    {RunStatus::error, "error"},
    {RunStatus::quota_daily, "quota_daily"},
    {RunStatus::spend_cap, "spend_cap"},
    {RunStatus::billing_cap, "billing_cap"},
    {RunStatus::pending, "pending"},
}};

}  // namespace

std::string_view run_status_name(RunStatus status) {
    for (const auto& [s, name] : k_run_statuses) {
        if (s == status) {
            return name;
        }
    }
    return "error";
}

std::optional<RunStatus> parse_run_status(std::string_view name) {
    for (const auto& [s, n] : k_run_statuses) {
        if (n == name) {
            return s;
        }
    }
    return std::nullopt;
}

std::string_view run_status_text(const std::optional<RunStatus>& status) {
    return status ? run_status_name(*status) : std::string_view();
}

}  // namespace assetgen::report
