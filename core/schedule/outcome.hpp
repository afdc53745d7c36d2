#pragma once
// How a run and its rows ended, as values: the runner decides them, the command line switches
// on them (exit codes, the closing message), and their names are written only at the edges
// (summary.json's "status", the results file's status column, events).

#include <optional>
#include <string_view>

#include "report/run_status.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

// How a run ended (summary.json "status"): report::RunStatus, named where the summary is.
using RunEnd = report::RunStatus;

// "ok", "failed", "interrupted", "budget_exceeded", ... (the enumerator's name).
std::string_view run_end_name(RunEnd end);
// The RunEnd of a name run_end_name writes; std::nullopt for anything else.
std::optional<RunEnd> parse_run_end(std::string_view name);
// The RunEnd of a quota stop's code (QUOTA_DAILY, SPEND_CAP, BILLING_CAP); std::nullopt for others.
std::optional<RunEnd> quota_run_end(util::Code code);

// How a row ended (the results file's "status" column).
enum class RowStatus {
    ok,                    // every variant made (now or by an earlier run)
    partial,               // some variants made
    failed,                // none made: a failure of its own
    blocked,               // none made: the model refused for safety
    budget_exceeded,       // none made: the budget had no room
    upstream_unavailable,  // none made: the circuit stayed open too long
    quota_daily,           // none made: a quota stop (see RunEnd)
    spend_cap,
    billing_cap,
    interrupted,  // none made: the run was stopped first (a re-run makes it)
};

std::string_view row_status_name(RowStatus status);
// The status of a row none of whose variants was made, from its first error.
RowStatus row_status_of_error(util::Code first_error);

}  // namespace assetgen::schedule
