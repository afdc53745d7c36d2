#pragma once
// Reservations that outlive the process (issue 17 item 3): a batch job (Gemini Batch API) is
// pending for hours, and while it is, its worst case counts against the day's budget of every
// run that reads the ledger. Append-only, in the ledger itself:
//
// - a reserve line (kind "reserve", its own id, "reserved" = the worst case at the batch price,
//   "requests", "batch" = the display name, cost 0, images 0, status "reserved");
// - the paid lines of its requests, as today (one per image, cost from usageMetadata), each
//   with "reservation" = the reserve line's id and ts = the reservation's ts, so that their
//   money counts on the day of the reservation and they land in the same day file
//   ("recorded_ts" says when they were written);
// - a settle line (kind "settle", id "<reservation>/settle", "reservation", "settled" = the
//   actual total, cost 0, images 0, status "settled", error_code "" or why the money was given
//   back, e.g. "BATCH_EXPIRED"), also at the reservation's ts.
//
// A reservation is open from its reserve line until its settle line. While open it holds
// max(0, reserved - the cost of its paid lines); once settled it holds nothing more (its paid
// lines count as any line does). Reserve and settle lines cost 0, so a build that does not know
// them never counts them as paid requests: its sums are the money actually paid (it does not
// see open reservations, and so does not hold their room).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/entry.hpp"
#include "ledger/ledger_folder.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

// What the batch tier reserves: one batch (one chunk of a job).
struct Reservation {
    std::string id;  // unique in the ledger, e.g. "<job>/batch/<chunk>"
    std::string user_id;
    std::string job_id;
    std::string model;
    std::string mode;   // "live" | "dry_run"
    std::string batch;  // the batch's display name
    std::string shard;  // "" or "I/N"
    std::string tier = "batch";
    int requests = 0;
    util::Micros amount = 0;  // the worst case of every request at the batch price
    std::int64_t ts = 0;      // ms; the day of this instant (in --tz) is the day it counts on
    // The budget lease (gs:// ledgers) the amount was reserved under, "" for none. On the
    // reserve line only: a lease counts its reserve lines' amounts as its own visible spend, so
    // the money counts once, as the reservation, once its line is written (budget/gcs_spend.hpp).
    std::string lease;
};

// The reserve line of r.
Entry reserve_entry(const Reservation& r);
// The settle line of r: actual is what its paid lines cost in all (0 when the batch was
// cancelled, expired or failed and nothing was billed); reason is "" when the batch ended
// normally, else an error code naming why the rest was given back. now_ms: when it is written.
Entry settle_entry(const Reservation& r, util::Micros actual, std::string_view reason,
                   std::int64_t now_ms);
// Binds a paid line (one request of the batch) to r: its ts becomes r.ts, "reservation" r.id,
// "recorded_ts" now_ms.
void bind_to_reservation(Entry& paid, const Reservation& r, std::int64_t now_ms);

// Appends the reserve line and flushes it (durable before the batch is created).
util::Status write_reservation(LedgerWriter& writer, const Reservation& r);
// Appends the settle line and flushes it; the paid lines must have been appended first.
util::Status write_settlement(LedgerWriter& writer, const Reservation& r, util::Micros actual,
                              std::string_view reason, std::int64_t now_ms);

// True for a reserve or settle line (never a paid request).
bool is_reservation_line(const Entry& e);

// One reservation as the lines read so far tell it.
struct ReservationState {
    std::string id;
    bool reserved_seen = false;  // its reserve line was read
    Entry reserve;               // the reserve line (when reserved_seen)
    std::string reserve_at;      // where it was read ("<file>:<line>"), when told
    util::Micros paid = 0;       // the cost of its paid lines read
    int paid_lines = 0;          // its paid lines read
    std::string first_paid_at;   // where the first of them was read
    int settles = 0;             // settle lines read
    Entry settle;                // the first settle line
    std::string settle_at;
    // The cost and count of its paid lines read before its first settle line (in read order:
    // what the settle line should have added up).
    util::Micros paid_before_settle = 0;
    int paid_lines_before_settle = 0;
    // Its paid lines read after its first settle line: charged after the rest was given back.
    struct LatePaid {
        std::string id;
        std::string at;
        util::Micros cost = 0;
    };
    std::vector<LatePaid> paid_after_settle;
    bool settled() const { return settles > 0; }
    // What it still holds: max(0, reserved - paid) while open, 0 once settled (or unknown).
    util::Micros outstanding() const;
};

// Follows the reservations in the lines it is given, in any order; lines of other kinds that
// are not bound to a reservation are ignored. Memory grows with the number of reservations.
class ReservationBook {
public:
    // Feeds one line; `at` is where it was read (kept for verify's messages).
    void add(const Entry& e, std::string_view at = {});
    void clear() { m_states.clear(); }
    // What the open reservations still hold, in all.
    util::Micros outstanding() const;
    // Every reservation seen, by id.
    const std::map<std::string, ReservationState>& states() const { return m_states; }

private:
    std::map<std::string, ReservationState> m_states;
};

// An open reservation as `ledger verify` reports it.
struct OpenReservation {
    std::string id;
    std::string where;  // the reserve line's "<file>:<line>"
    std::string batch;
    std::string job_id;
    util::Micros outstanding = 0;
    std::int64_t age_ms = 0;  // now - the reserve line's ts
};

// Past this age an open reservation is late (the Batch API's target turnaround is 24 h) ...
inline constexpr std::int64_t k_reservation_late_ms = 25LL * 3'600'000;  // 24 h + 1 h
// ... and past this one it is a finding: the Batch API expires a batch pending or running for
// more than 48 hours, so nothing can still be coming (1 h margin for clock skew).
inline constexpr std::int64_t k_reservation_stale_ms = 49LL * 3'600'000;  // 48 h + 1 h

// The open reservations of book at now_ms, oldest first.
std::vector<OpenReservation> open_reservations(const ReservationBook& book, std::int64_t now_ms);

}  // namespace assetgen::ledger
