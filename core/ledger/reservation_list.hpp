#pragma once
// `ledger show --reservations`: one row per reservation (reservations.hpp) of the lines a
// filter selects, so finance can answer "what is pending, and since when" in one command.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ledger/audit.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

// One reservation as its lines tell it.
struct ReservationRow {
    std::string id;
    std::string batch;  // the batch's display name
    std::string job_id;
    std::string user_id;
    std::string mode;
    std::string model;
    int requests = 0;
    std::int64_t reserved_ts = 0;  // ms: when it was made (the day its money counts on)
    util::Micros reserved = 0;     // the worst case it reserved
    util::Micros paid = 0;         // what its paid lines cost so far
    util::Micros held = 0;         // what it still holds (0 once settled)
    bool settled = false;
    util::Micros settled_amount = 0;  // its settle line's "settled"
    std::string reason;               // its settle line's error_code ("" when ended normally)
    std::int64_t age_ms = 0;          // now - reserved_ts
};

// The reservations whose reserve line matches filter (their paid and settle lines counted when
// they match too: they share the reserve line's day, user and job), oldest first; with
// limit > 0 only the last `limit` of them. A missing folder gives none; bad lines go to issues.
// STORAGE_IO when the folder cannot be read.
util::Result<std::vector<ReservationRow>> list_reservations(const LedgerLocation& folder,
                                                            const Filter& filter,
                                                            const DayOf& day_of,
                                                            std::int64_t now_ms, std::size_t limit,
                                                            std::vector<ReadIssue>* issues);

}  // namespace assetgen::ledger
