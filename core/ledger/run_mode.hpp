#pragma once
// The run mode as a value: a dry run (synthetic images, no money) or a live run (the model API).
// Its name ("dry_run", "live") is written only at the edges: the ledger and manifest lines, the
// job id, summary.json, metrics labels, events and logs. Each mode is its own daily budget.

#include <optional>
#include <string_view>

namespace assetgen::ledger {

struct Entry;

enum class RunMode {
    dry_run,  // "dry_run": synthetic images, no money
    live,     // "live": the model API
};

// "dry_run" or "live".
std::string_view run_mode_name(RunMode mode);
// The RunMode of a name run_mode_name writes; std::nullopt for anything else (the CLI takes its
// other spellings, such as "dry-run", before this).
std::optional<RunMode> parse_run_mode(std::string_view name);

// Whether a ledger line counts in the spend of `mode`'s budget: a line of that mode, and for a
// live budget the reference platform's lines too (v = 0: they have no mode, and were paid for).
bool counts_in(const Entry& entry, RunMode mode);

}  // namespace assetgen::ledger
