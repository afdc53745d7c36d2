#pragma once
// The in-run budget: every request reserves its worst case before it starts and settles when
// its ledger line is written, so spent + reserved never exceeds the limit at any instant,
// whatever the concurrency. Budget is the interface; MemoryBudget keeps it in one process,
// LedgerBudget (ledger_budget.hpp) shares it between processes through the ledger folder.

#include <condition_variable>
#include <mutex>
#include <string>

#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::budget {

class Budget {
public:
    virtual ~Budget() = default;
    // Reserves amount. When it does not fit but reservations are outstanding, waits for them
    // to settle and tries again, so budget held by requests that end up cheaper is not
    // stranded. Returns false when it does not fit with nothing outstanding.
    virtual bool reserve(util::Micros amount) = 0;
    // Ends a reservation once the request's ledger line (with `actual`) has been written.
    virtual void settle(util::Micros reserved, util::Micros actual) = 0;
    // Settles like settle(), but a budget shared through files may only lower what this process
    // holds in memory and write it at the next flush_settles() (or reserve(), or the end): its
    // shared record then says it holds more than it does for that long (others see less room,
    // never more). The group committer settles a group's images this way, then flushes once,
    // instead of a file lock, a journal write and a read per image (issue 18).
    virtual void settle_later(util::Micros reserved, util::Micros actual) {
        settle(reserved, actual);
    }
    // Writes what settle_later() left unwritten (nothing when nothing is).
    virtual void flush_settles() {}
    virtual util::Micros limit() const = 0;
    // Spent today, as far as this budget knows (the ledger's sum for a LedgerBudget).
    virtual util::Micros spent() const = 0;
    // Outstanding reservations (of every process sharing the budget).
    virtual util::Micros reserved() const = 0;
    util::Micros remaining() const {
        auto r = limit() - spent() - reserved();
        return r > 0 ? r : 0;
    }
    // The most spent + reserved was ever seen above the limit (0 unless a request cost more
    // than its reservation).
    virtual util::Micros overshoot() const = 0;
    // The lease requests are reserved under, written into their ledger lines ("" for budgets
    // without leases).
    virtual std::string lease_id() const { return {}; }
    // Ends this process's share once the run is over and its ledger lines are written.
    virtual util::Status close() { return util::ok_status(); }
};

class MemoryBudget final : public Budget {
public:
    // limit: the daily limit; spent: what the ledger says was spent today before this run.
    MemoryBudget(util::Micros limit, util::Micros spent);
    bool reserve(util::Micros amount) override;
    void settle(util::Micros reserved, util::Micros actual) override;
    util::Micros limit() const override { return m_limit; }
    util::Micros spent() const override;
    util::Micros reserved() const override;
    util::Micros overshoot() const override;

private:
    util::Micros m_limit;
    mutable std::mutex m_mutex;
    std::condition_variable m_settled;
    util::Micros m_spent;
    util::Micros m_reserved = 0;
    util::Micros m_overshoot = 0;
};

}  // namespace assetgen::budget
