#include "ledger/run_mode.hpp"

#include <array>
#include <utility>

#include "ledger/entry.hpp"

namespace assetgen::ledger {

namespace {

constexpr std::array<std::pair<RunMode, std::string_view>, 2> k_modes = {{
    {RunMode::dry_run, "dry_run"},
    {RunMode::live, "live"},
}};

}  // namespace

std::string_view run_mode_name(RunMode mode) {
    for (const auto& [m, name] : k_modes) {
        if (m == mode) {
            return name;
        }
    }
    return "dry_run";
}

std::optional<RunMode> parse_run_mode(std::string_view name) {
    for (const auto& [m, n] : k_modes) {
        if (n == name) {
            return m;
        }
    }
    return std::nullopt;
}

bool counts_in(const Entry& entry, RunMode mode) {
    return entry.mode == run_mode_name(mode) || (entry.v == 0 && mode == RunMode::live);
}

}  // namespace assetgen::ledger
