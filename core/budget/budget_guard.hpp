#pragma once
// The in-run budget: every request reserves its worst case before it starts and settles to
// its actual cost when it ends, so spent + reserved never exceeds the limit at any instant,
// whatever the concurrency.

#include <condition_variable>
#include <mutex>

#include "util/text.hpp"

namespace assetgen::budget {

class BudgetGuard {
public:
    // limit: the daily limit; spent: what the ledger says was spent today before this run.
    BudgetGuard(util::Micros limit, util::Micros spent);

    // Reserves amount. When it does not fit but other reservations are outstanding, waits for
    // them to settle and tries again, so budget held by requests that end up cheaper is not
    // stranded. Returns false when it does not fit with nothing outstanding.
    bool reserve(util::Micros amount);
    // Ends a reservation: releases `reserved` and adds `actual` to what is spent.
    void settle(util::Micros reserved, util::Micros actual);

    util::Micros limit() const { return m_limit; }
    util::Micros spent() const;
    util::Micros reserved() const;
    util::Micros remaining() const;
    // The most spent + reserved ever exceeded the limit (0 unless a request cost more than its
    // reservation).
    util::Micros overshoot() const;

private:
    util::Micros m_limit;
    mutable std::mutex m_mutex;
    std::condition_variable m_settled;
    util::Micros m_spent;
    util::Micros m_reserved = 0;
    util::Micros m_overshoot = 0;
};

}  // namespace assetgen::budget
