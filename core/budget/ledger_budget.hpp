#pragma once
// A budget shared by every process that uses one ledger folder for one user and mode.
//
// How this works. The truth is on disk, read under one file lock: spent is the sum of today's
// ledger lines for the user and mode; what is reserved is kept in a journal beside the ledger
// (<ledger>/.budget/<user>.<mode>.jsonl), where each process appends the total it holds after
// every change ({"pid":..,"start":..,"held":..}). A reservation is granted only when
//   ledger spent + the latest `held` of every live process + the new amount <= limit,
// and a request settles (lowers its process's `held`) only after its ledger line is written,
// so a cost is always counted at least once. A process that died (SIGKILL, power loss) is
// recognised by its pid and start time. Its holdings still count until a run of the same job
// place (its manifest) opens: that run has restored the ledger lines of the images the dead
// process stored but never recorded (reconcile_ledger), and then releases the holdings. Until
// then a paid image without its ledger line is covered by the dead process's reservation, so
// another run (a shard, another job) cannot spend that room twice. Holdings of another day do
// not count.
// Both files are read incrementally: only the bytes appended since the last look.
// A reservation in the ledger (a pending batch, ledger/reservations.hpp) counts as spent with
// what it still holds until its settle line.
//
// A gs:// ledger has its own budget, shared across machines through leases
// (gcs_lease_budget.hpp).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "budget/budget_guard.hpp"
#include "budget/file_tail.hpp"
#include "ledger/reservations.hpp"
#include "ledger/run_mode.hpp"
#include "util/append_file.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::budget {

struct LedgerBudgetOptions {
    std::string ledger_folder;  // a local folder
    std::string user;
    ledger::RunMode mode = ledger::RunMode::dry_run;
    std::string tz = "UTC";
    util::Micros limit = 0;
    // The job place this process writes (its manifest path): dead processes of the same place
    // are released once this budget opens (see above). Empty: releases nothing.
    std::string place;
    // More places released the same way: a killed shard's, for a run that holds the job
    // exclusively (the unsharded run, --merge) and has restored their lines.
    std::vector<std::string> more_places;
};

class LedgerBudget final : public Budget {
public:
    // Reads today's spend and the journal. STORAGE_IO when the folder cannot be used;
    // CONFIG_ERROR for a gs:// ledger.
    static util::Result<std::unique_ptr<LedgerBudget>> open(LedgerBudgetOptions options,
                                                            util::Clock& clock);
    ~LedgerBudget() override;

    bool reserve(util::Micros amount) override;
    void settle(util::Micros reserved, util::Micros actual) override;
    void settle_later(util::Micros reserved, util::Micros actual) override;
    void flush_settles() override;
    util::Micros limit() const override { return m_options.limit; }
    util::Micros spent() const override;
    util::Micros reserved() const override;
    util::Micros overshoot() const override;
    // The day (in the time zone) this budget counts.
    const std::string& day() const { return m_day; }

private:
    LedgerBudget(LedgerBudgetOptions options, util::Clock& clock);
    util::Status refresh_locked();
    util::Status read_ledger_file(const std::string& name);
    util::Status read_journal();
    util::Status write_held_locked(util::Micros held);
    // Appends whole lines to the journal (the file lock held).
    util::Status append_journal_locked(std::string_view lines);
    util::Micros others_held_locked() const;
    util::Micros live_others_held_locked() const;
    util::Status release_dead_of_place_locked();
    struct Held;
    bool counts(const std::pair<long, std::uint64_t>& who, const Held& held) const;
    static std::string journal_line(const std::pair<long, std::uint64_t>& who, const Held& h);
    void note_overshoot_locked();
    // Writes m_mine to the journal and reads what others wrote, under the file lock.
    void write_settled_locked();

    // A local day file read incrementally, and the sum read from it.
    struct Tail {
        FileTail file;
        util::Micros contribution = 0;
        ledger::ReservationBook reservations;  // the day's reservations in this file
    };
    // What the day's open reservations (pending batches) hold, over every file read.
    util::Micros held_by_reservations_locked() const;

    LedgerBudgetOptions m_options;
    util::Clock& m_clock;
    std::string m_day;
    std::string m_lock_path;
    std::string m_journal_path;
    int m_lock_fd = -1;
    std::pair<long, std::uint64_t> m_self;  // pid, start time

    mutable std::mutex m_mutex;
    std::map<std::string, Tail> m_ledger_tails;  // by day file name
    FileTail m_journal_tail;
    util::AppendFile m_journal_out;  // the journal, for this process's lines
    struct Held {
        util::Micros amount = 0;
        std::string day;
        std::string place;
    };
    std::map<std::pair<long, std::uint64_t>, Held> m_held;  // latest per process
    util::Micros m_spent = 0;
    util::Micros m_mine = 0;
    // settle_later() lowered m_mine below what the journal last said this process holds.
    bool m_unwritten = false;
    util::Micros m_overshoot = 0;
};

}  // namespace assetgen::budget
