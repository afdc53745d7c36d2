#pragma once
// Spend is read from the ledger, never kept in memory across runs: spent(user, mode, day) is
// the sum of `cost` over that day's entries, with days cut at midnight in a time zone.

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/ledger_folder.hpp"
#include "ledger/reservations.hpp"
#include "ledger/run_mode.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::budget {

// The calendar day "YYYY-MM-DD" of a Unix time in ms in the IANA time zone tz ("UTC",
// "America/Los_Angeles"). CONFIG_ERROR for an unknown zone.
util::Result<std::string> day_in_zone(std::int64_t unix_ms, const std::string& tz);
// CONFIG_ERROR naming the zone when tz is not in the time-zone database.
util::Status check_zone(const std::string& tz);

struct SpendQuery {
    std::string user;
    ledger::RunMode mode = ledger::RunMode::dry_run;
    std::string tz = "UTC";
    std::int64_t now_ms = 0;  // "today" is the day of now_ms in tz
};

struct Spend {
    std::string day;  // in tz
    util::Micros spent = 0;
    // The part of spent that open reservations (ledger/reservations.hpp: pending batches)
    // still hold; the rest is paid lines.
    util::Micros reserved_pending = 0;
    // The open reservations that hold it (their batch, job and what each still holds), oldest
    // first: what a refusal names.
    std::vector<ledger::OpenReservation> pending;
    std::size_t entries = 0;
    std::vector<ledger::ReadIssue> issues;  // torn or bad lines seen while reading
};

// Sums today's spend for a user and mode from a local ledger folder: the cost of the day's
// lines plus what the day's open reservations still hold.
util::Result<Spend> spent_today(const std::string& ledger_folder, const SpendQuery& query);

// What a refusal adds when pending batches hold part of the day (spend.reserved_pending > 0),
// "" otherwise: how much they hold, which they are (display name and job; the first three, then
// how many more), and what to do: wait for them to settle, or cancel them.
std::string pending_batches_advice(const Spend& spend);

}  // namespace assetgen::budget
