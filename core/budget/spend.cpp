#include "budget/spend.hpp"

#include <date/tz.h>

#include <chrono>

#include "ledger/reservations.hpp"
#include "util/money.hpp"

namespace assetgen::budget {
namespace {

util::Result<const date::time_zone*> zone(const std::string& tz) {
    try {
        return date::locate_zone(tz);
    } catch (const std::exception&) {
        return util::error(util::Code::config,
                           "--tz: \"" + tz +
                               "\" is not a time zone (use an IANA name such as "
                               "UTC or America/Los_Angeles)");
    }
}

}  // namespace

util::Status check_zone(const std::string& tz) {
    auto z = zone(tz);
    return z.ok() ? util::ok_status() : z.status();
}

util::Result<std::string> day_in_zone(std::int64_t unix_ms, const std::string& tz) {
    if (tz == "UTC" || tz == "Etc/UTC") {
        return util::utc_date(unix_ms);
    }
    TRY_ASSIGN(const date::time_zone* z, zone(tz));
    auto tp = date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(unix_ms));
    auto local = z->to_local(tp);
    auto day = date::floor<date::days>(local);
    return date::format("%F", date::year_month_day(day));
}

util::Result<Spend> spent_today(const std::string& ledger_folder, const SpendQuery& query) {
    Spend s;
    TRY_ASSIGN(s.day, day_in_zone(query.now_ms, query.tz));
    // A day in any zone lies within the UTC days before and after it.
    const std::int64_t day_ms = 86'400'000;
    ledger::ReadOptions opts;
    opts.from_day = util::utc_date(query.now_ms - 2 * day_ms);
    opts.to_day = util::utc_date(query.now_ms + 2 * day_ms);
    util::Status inner;
    ledger::ReservationBook reservations;  // the day's pending batches
    TRY(ledger::read_ledger(
        ledger_folder, opts,
        [&](const ledger::Entry& e) {
            if (e.user_id != query.user || !ledger::counts_in(e, query.mode)) {
                return;
            }
            auto d = day_in_zone(e.ts, query.tz);
            if (d.ok() && *d == s.day) {
                s.spent = util::add_capped(s.spent, e.cost);
                ++s.entries;
                reservations.add(e);
            }
        },
        &s.issues));
    s.reserved_pending = reservations.outstanding();
    s.pending = ledger::open_reservations(reservations, query.now_ms);
    s.spent = util::add_capped(s.spent, s.reserved_pending);
    return s;
}

std::string pending_batches_advice(const Spend& spend) {
    if (spend.reserved_pending <= 0) {
        return {};
    }
    constexpr std::size_t k_named = 3;
    std::string names;
    std::size_t shown = 0;
    std::size_t holding = 0;
    for (const auto& r : spend.pending) {
        if (r.outstanding <= 0) {
            continue;
        }
        ++holding;
        if (shown == k_named) {
            continue;
        }
        names += (shown++ > 0 ? ", " : "") + std::string("\"") + r.batch + "\" (job " + r.job_id +
                 ", " + util::format_usd(r.outstanding) + ")";
    }
    if (holding > shown) {
        names += " and " + std::to_string(holding - shown) + " more";
    }
    return " " + util::format_usd(spend.reserved_pending) + " of the day is held by " +
           (holding == 1 ? "a pending batch: " : std::to_string(holding) + " pending batches: ") +
           names +
           (holding == 1 ? ". Wait for it to settle, or cancel it"
                         : ". Wait for them to settle, or cancel them") +
           " with `assetgen run … --tier batch --cancel`; `assetgen ledger show --reservations` "
           "lists every reservation.";
}

}  // namespace assetgen::budget
