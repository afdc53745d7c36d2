#include "ledger/reservations.hpp"

#include <algorithm>

#include "util/money.hpp"

namespace assetgen::ledger {
namespace {

Entry base_entry(const Reservation& r) {
    Entry e;
    e.ts = r.ts;
    e.user_id = r.user_id;
    e.job_id = r.job_id;
    e.model = r.model;
    e.mode = r.mode;
    e.shard = r.shard;
    e.tier = r.tier;
    e.batch = r.batch;
    return e;
}

}  // namespace

Entry reserve_entry(const Reservation& r) {
    Entry e = base_entry(r);
    e.id = r.id;
    e.kind = k_kind_reserve;
    e.status = "reserved";  // estimated stays 0: the paid lines carry their own estimates
    e.reserved = r.amount;
    e.requests = r.requests;
    e.lease = r.lease;
    return e;
}

Entry settle_entry(const Reservation& r, util::Micros actual, std::string_view reason,
                   std::int64_t now_ms) {
    Entry e = base_entry(r);
    e.id = r.id + "/settle";
    e.kind = k_kind_settle;
    e.reservation = r.id;
    e.status = "settled";
    e.error_code = std::string(reason);
    e.settled = actual;
    e.recorded_ts = now_ms;
    return e;
}

void bind_to_reservation(Entry& paid, const Reservation& r, std::int64_t now_ms) {
    paid.ts = r.ts;
    paid.reservation = r.id;
    paid.recorded_ts = now_ms;
}

util::Status write_reservation(LedgerWriter& writer, const Reservation& r) {
    TRY(writer.append(reserve_entry(r)));
    return writer.flush();
}

util::Status write_settlement(LedgerWriter& writer, const Reservation& r, util::Micros actual,
                              std::string_view reason, std::int64_t now_ms) {
    TRY(writer.append(settle_entry(r, actual, reason, now_ms)));
    return writer.flush();
}

bool is_reservation_line(const Entry& e) {
    return e.kind == k_kind_reserve || e.kind == k_kind_settle;
}

util::Micros ReservationState::outstanding() const {
    if (!reserved_seen || settled()) {
        return 0;
    }
    return std::max<util::Micros>(0, reserve.reserved - paid);
}

void ReservationBook::add(const Entry& e, std::string_view at) {
    if (e.kind == k_kind_reserve) {
        ReservationState& s = m_states[e.id];
        s.id = e.id;
        if (!s.reserved_seen) {  // a repeated line (same id) is verify's duplicate_id
            s.reserved_seen = true;
            s.reserve = e;
            s.reserve_at = std::string(at);
        }
        return;
    }
    if (e.reservation.empty()) {
        return;
    }
    ReservationState& s = m_states[e.reservation];
    s.id = e.reservation;
    if (e.kind == k_kind_settle) {
        if (s.settles++ == 0) {
            s.settle = e;
            s.settle_at = std::string(at);
        }
        return;
    }
    if (e.kind.empty()) {  // a paid line of the reservation
        s.paid = util::add_capped(s.paid, e.cost);
        if (s.paid_lines++ == 0) {
            s.first_paid_at = std::string(at);
        }
        if (s.settled()) {
            s.paid_after_settle.push_back({e.id, std::string(at), e.cost});
        } else {
            s.paid_before_settle = util::add_capped(s.paid_before_settle, e.cost);
            ++s.paid_lines_before_settle;
        }
    }
}

util::Micros ReservationBook::outstanding() const {
    util::Micros sum = 0;
    for (const auto& [id, s] : m_states) {
        sum = util::add_capped(sum, s.outstanding());
    }
    return sum;
}

std::vector<OpenReservation> open_reservations(const ReservationBook& book, std::int64_t now_ms) {
    std::vector<OpenReservation> out;
    for (const auto& [id, s] : book.states()) {
        if (!s.reserved_seen || s.settled()) {
            continue;
        }
        out.push_back(OpenReservation{id, s.reserve_at, s.reserve.batch, s.reserve.job_id,
                                      s.outstanding(), now_ms - s.reserve.ts});
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.age_ms > b.age_ms; });
    return out;
}

}  // namespace assetgen::ledger
