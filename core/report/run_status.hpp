#pragma once
// How a run ended, as a value (summary.json "status"): the runner decides it (schedule::RunEnd is
// this type), the command line switches on it, and its name is written only at the edges
// (summary.json, the metrics' run_info label, the done event).

#include <optional>
#include <string_view>

namespace assetgen::report {

enum class RunStatus {
    ok,                    // every row ran and made its images
    failed,                // it ran to its end, some rows failed
    interrupted,           // a signal stopped dispatch
    budget_exceeded,       // the budget had no room, or an answer was billed past its reservation
    upstream_unavailable,  // the circuit stayed open past --circuit-max-open
    auth_failed,           // the model refused the credentials
    error,                 // a storage or feed error ended it
    quota_daily,           // the model API answered a per-day quota ...
    spend_cap,             // ... a spend-based limit ...
    billing_cap,           // ... or the billing account's cap: nothing more was sent
    pending,               // --tier batch: batches still run; the same command collects them
};

// "ok", "failed", "interrupted", "budget_exceeded", ... (the enumerator's name).
std::string_view run_status_name(RunStatus status);
// The RunStatus of a name run_status_name writes; std::nullopt for anything else.
std::optional<RunStatus> parse_run_status(std::string_view name);
// The name of a status that may be unset (a run that has not ended): "" then.
std::string_view run_status_text(const std::optional<RunStatus>& status);

}  // namespace assetgen::report
