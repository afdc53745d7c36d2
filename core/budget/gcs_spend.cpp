#include "budget/gcs_spend.hpp"

#include <algorithm>
#include <set>

#include "ledger/entry.hpp"
#include "ledger/ledger_spool.hpp"
#include "util/money.hpp"

namespace assetgen::budget {
namespace {

// Bytes kept from before the read offset; a later read must find them unchanged for its new
// bytes to count as an append.
constexpr std::size_t k_tail_bytes = 64;
constexpr std::int64_t k_day_ms = 86'400'000;

}  // namespace

GcsSpend::GcsSpend(ledger::GcsLedgerStore& store, std::string spool_dir, SpendScope scope,
                   util::Clock& clock, std::chrono::milliseconds object_interval)
    : m_store(store),
      m_spool_dir(std::move(spool_dir)),
      m_scope(std::move(scope)),
      m_clock(clock),
      m_object_interval(object_interval) {}

void GcsSpend::count(std::string_view line) {
    auto e = ledger::parse_line(line);
    if (!e.ok() || e->user_id != m_scope.user) {
        return;
    }
    if (!ledger::counts_in(*e, m_scope.mode)) {
        return;
    }
    auto day = day_in_zone(e->ts, m_scope.tz);
    if (!day.ok() || *day != m_scope.day) {
        return;
    }
    if (m_seen.insert(e->id.empty() ? "line:" + std::string(line) : e->id).second) {
        m_spent = util::add_capped(m_spent, e->cost);
        m_reservations.add(*e);
        if (!e->lease.empty()) {
            // A reserve line made under a lease (a batch chunk's worst case, reserved in that
            // lease before the line was written) is that lease's visible use: the money counts
            // once, as the reservation in spent(), and not again in the lease.
            const util::Micros seen = e->kind == ledger::k_kind_reserve
                                          ? util::add_capped(e->cost, e->reserved)
                                          : e->cost;
            m_by_lease[e->lease] = util::add_capped(m_by_lease[e->lease], seen);
        }
    }
}

util::Micros GcsSpend::spent() const {
    return util::add_capped(m_spent, m_reservations.outstanding());
}

util::Status GcsSpend::read_spools() {
    TRY_ASSIGN(const auto writers, ledger::list_spools(m_spool_dir));
    const std::set<std::string> present(writers.begin(), writers.end());
    for (const auto& writer : writers) {
        TRY(m_spools[writer].read(
            ledger::spool_file(m_spool_dir, writer), [] {},
            [&](std::string_view line) { count(line); }));
    }
    // A spool removed after its lines reached the day objects: its ids stay counted.
    for (auto it = m_spools.begin(); it != m_spools.end();) {
        it = present.count(it->first) != 0 ? std::next(it) : m_spools.erase(it);
    }
    return util::ok_status();
}

util::Status GcsSpend::read_object(const std::string& utc_day) {
    ObjectTail& t = m_objects[utc_day];
    // At most twice: the second time from the start, after finding the object replaced.
    for (int pass = 0; pass < 2; ++pass) {
        const std::uint64_t from = t.offset - t.tail.size();
        TRY_ASSIGN(ledger::DayRead r, m_store.read_day_from(utc_day, from, t.generation));
        switch (r.kind) {
            case ledger::DayRead::Kind::unchanged:
                return util::ok_status();
            case ledger::DayRead::Kind::absent:
                t = ObjectTail{};
                return util::ok_status();
            case ledger::DayRead::Kind::shorter:
                t = ObjectTail{};
                continue;
            case ledger::DayRead::Kind::data:
                break;
        }
        // data holds the bytes [r.start, r.start + size); what we read before must be there.
        std::string_view data = r.data;
        const bool kept = r.start <= from && r.start + data.size() >= t.offset &&
                          data.substr(from - r.start, t.tail.size()) == t.tail;
        if (!kept) {
            t = ObjectTail{};
            if (r.start != 0) {
                continue;  // read again from the start
            }
        }
        std::size_t pos = t.offset - r.start;
        for (std::size_t nl = data.find('\n', pos); nl != std::string_view::npos;
             nl = data.find('\n', pos)) {
            count(data.substr(pos, nl - pos));
            pos = nl + 1;
        }
        t.offset = r.start + pos;
        const std::size_t keep = std::min<std::size_t>(k_tail_bytes, pos);
        t.tail = std::string(data.substr(pos - keep, keep));
        t.generation = r.generation;
        return util::ok_status();
    }
    return util::ok_status();
}

util::Status GcsSpend::refresh(bool force) {
    // Spools first: a line that leaves a spool has reached its day object by then.
    TRY(read_spools());
    const util::SteadyTime now = m_clock.steady();
    if (force || !m_objects_read_at || now - *m_objects_read_at >= m_object_interval) {
        const std::int64_t now_ms = m_clock.unix_ms();
        // A day in any zone lies within the UTC days around it.
        for (std::int64_t t : {now_ms - k_day_ms, now_ms, now_ms + k_day_ms}) {
            TRY(read_object(util::utc_date(t)));
        }
        m_objects_read_at = now;
    }
    return util::ok_status();
}

util::Result<Spend> spent_today_gcs(ledger::GcsLedgerStore& store, const std::string& spool_dir,
                                    const SpendQuery& query, util::Clock& clock) {
    Spend s;
    TRY_ASSIGN(s.day, day_in_zone(query.now_ms, query.tz));
    GcsSpend spend(store, spool_dir, SpendScope{query.user, query.mode, query.tz, s.day}, clock,
                   std::chrono::milliseconds(0));
    TRY(spend.refresh(true));
    s.spent = spend.spent();
    s.reserved_pending = spend.reserved_pending();
    s.pending = spend.pending(query.now_ms);
    s.entries = spend.entries();
    return s;
}

}  // namespace assetgen::budget
