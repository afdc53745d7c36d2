// `ledger verify`'s findings about reservations (reservations.hpp).
#include <chrono>

#include "ledger/audit.hpp"
#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

void add_reservation_findings(const ReservationBook& book, std::int64_t now_ms,
                              VerifyReport& report) {
    for (const auto& [id, s] : book.states()) {
        if (s.settled() && !s.reserved_seen) {
            report.findings.push_back(
                Finding{FindingKind::settle_without_reserve, s.settle_at,
                        "settle line of reservation \"" + id + "\" has no reserve line"});
        }
        if (s.settled() && s.reserved_seen && s.settle.settled != s.paid_before_settle) {
            report.findings.push_back(Finding{
                FindingKind::settle_mismatch, s.settle_at,
                "reservation \"" + id + "\" is settled at " + util::format_usd(s.settle.settled) +
                    " but its " + std::to_string(s.paid_lines_before_settle) + " paid " +
                    (s.paid_lines_before_settle == 1 ? "line" : "lines") + " before it cost " +
                    util::format_usd(s.paid_before_settle)});
        }
        if (!s.reserved_seen && s.paid_lines > 0) {
            report.findings.push_back(Finding{
                FindingKind::paid_without_reserve, s.first_paid_at,
                std::to_string(s.paid_lines) + " paid " + (s.paid_lines == 1 ? "line" : "lines") +
                    " (" + util::format_usd(s.paid) + ") bound to reservation \"" + id +
                    "\", which has no reserve line: money the budget never held"});
        }
        for (const auto& late : s.paid_after_settle) {
            report.findings.push_back(Finding{FindingKind::paid_after_settle, late.at,
                                              "line \"" + late.id + "\" of reservation \"" + id +
                                                  "\" charges " + util::format_usd(late.cost) +
                                                  " after its settle line at " + s.settle_at +
                                                  " gave the rest back"});
        }
        if (s.settles > 1) {
            report.findings.push_back(Finding{
                FindingKind::settled_twice, s.settle_at,
                "reservation \"" + id + "\" is settled " + std::to_string(s.settles) + " times"});
        }
    }
    if (now_ms == 0) {
        return;
    }
    report.open_reservations = open_reservations(book, now_ms);
    for (const auto& r : report.open_reservations) {
        if (r.age_ms > k_reservation_stale_ms) {
            report.findings.push_back(Finding{
                FindingKind::stale_reservation, r.where,
                "reservation \"" + r.id + "\" (batch \"" + r.batch + "\" of job " + r.job_id +
                    ", " + util::format_usd(r.outstanding) + " held) is open after " +
                    util::format_duration(std::chrono::milliseconds(r.age_ms)) +
                    ": the Batch API expires a batch after 48 h; run the job again to collect "
                    "it, or cancel it to give the money back"});
        }
    }
}

}  // namespace assetgen::ledger
