#include "ledger/reservation_list.hpp"

#include <algorithm>

namespace assetgen::ledger {

util::Result<std::vector<ReservationRow>> list_reservations(const LedgerLocation& folder,
                                                            const Filter& filter,
                                                            const DayOf& day_of,
                                                            std::int64_t now_ms, std::size_t limit,
                                                            std::vector<ReadIssue>* issues) {
    ReservationBook book;
    TRY(for_each_matching(
        folder, filter, day_of, [&](const Entry& e) { book.add(e); }, issues));
    std::vector<ReservationRow> rows;
    for (const auto& [id, s] : book.states()) {
        if (!s.reserved_seen) {
            continue;  // verify reports lines of a reservation without a reserve line
        }
        ReservationRow row;
        row.id = id;
        row.batch = s.reserve.batch;
        row.job_id = s.reserve.job_id;
        row.user_id = s.reserve.user_id;
        row.mode = s.reserve.mode;
        row.model = s.reserve.model;
        row.requests = s.reserve.requests;
        row.reserved_ts = s.reserve.ts;
        row.reserved = s.reserve.reserved;
        row.paid = s.paid;
        row.held = s.outstanding();
        row.settled = s.settled();
        if (row.settled) {
            row.settled_amount = s.settle.settled;
            row.reason = s.settle.error_code;
        }
        row.age_ms = std::max<std::int64_t>(0, now_ms - s.reserve.ts);
        rows.push_back(std::move(row));
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return a.reserved_ts < b.reserved_ts; });
    if (limit > 0 && rows.size() > limit) {
        rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(limit));
    }
    return rows;
}

}  // namespace assetgen::ledger
