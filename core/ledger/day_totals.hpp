#pragma once
// A small summary of one UTC day of the ledger, per user and mode, for readers that must not
// download the day (the sheet's "Spend today": Apps Script's UrlFetch stops at 50 MB, about
// 140,000 ledger lines). Stored beside the day files as <ledger>/totals/YYYY-MM-DD.json:
//   {"v":1,"day":"YYYY-MM-DD","updated":"<UTC time>","entries":N,
//    "users":{"<user>":{"<mode>":{"cost_micros":C,"images":I,"requests":R,
//    "reserved_pending_micros":P,"updated":"<UTC time>"}}}}
// reserved_pending_micros is what the day's open reservations (pending batches,
// reservations.hpp) still hold: room the budget counts as taken, never part of cost_micros.
// It is always recomputed from the day's ledger lines (never incremented), so a lost or
// repeated update cannot make it wrong; its size grows with users and modes, not images.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ledger/ledger_folder.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

struct DayTotalsCell {
    util::Micros cost = 0;      // every line counts, refused ones too (what was paid)
    std::int64_t images = 0;    // images made
    std::int64_t requests = 0;  // ledger lines
    // What the open reservations made this day still hold (not in cost: nothing paid yet).
    util::Micros reserved_pending = 0;
    std::int64_t last_ts_ms = 0;  // the latest line's time ("updated")
};

struct DayTotals {
    std::string day;
    std::int64_t entries = 0;
    std::map<std::string, std::map<std::string, DayTotalsCell>> users;  // user → mode → totals
};

// The totals of the UTC day's lines of the ledger (local folder or gs://). Bad lines are
// skipped (ledger verify reports them). The ledger's read errors.
util::Result<DayTotals> compute_day_totals(const LedgerLocation& ledger, const std::string& day);

// The JSON text of the object (format above); updated_ms is the time it was written.
std::string day_totals_json(const DayTotals& totals, std::int64_t updated_ms);

// Where the day's totals live: <ledger>/totals/<day>.json (a path or a gs:// URL).
std::string day_totals_location(const std::string& ledger, const std::string& day);

// Rewrites the day's totals from the ledger: a local ledger atomically under a lock file
// (totals/.lock), a gs:// ledger under ifGenerationMatch of the generation read before the
// ledger, again from the start after a 412 (up to 8 times). INVALID_INPUT for a malformed day;
// the ledger's and the storage's errors otherwise.
util::Status update_day_totals(const LedgerLocation& ledger, const std::string& day,
                               util::Clock& clock);

// update_day_totals for every UTC day from since_ms (0: only today) to now: what a run that
// started at since_ms may have written. The first error.
util::Status update_run_day_totals(const LedgerLocation& ledger, std::int64_t since_ms,
                                   util::Clock& clock);

}  // namespace assetgen::ledger
