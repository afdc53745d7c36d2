#pragma once
// The job's cost ledger, a local folder or gs://bucket[/prefix], behind one interface: what the
// pre-flight reads (today's spend, what other processes' leases hold), the writer, what
// reconciliation needs (where the ledger is read, the ids this machine spooled) and the in-run
// budget, opened in that order. `LedgerBackend::open` is the one place that tells a gs:// ledger
// from a folder; JobSession, its plan and its finish only call the interface.
//
//   local folder  LocalLedgerWriter (day files), spent_today (the day files), LedgerBudget (the
//                 folder's shared journal)
//   gs://         GcsLedgerStore, GcsLedgerWriter (a spool below spool_dir, pushed in the
//                 background), spent_today_gcs (day objects + this machine's spool lines),
//                 GcsLeaseBudget (leases in the bucket)

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "budget/budget_guard.hpp"
#include "budget/spend.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/run_mode.hpp"
#include "storage/any_storage.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

struct LedgerBackendOptions {
    std::string location;   // --ledger: a folder or gs://bucket[/prefix]
    std::string spool_dir;  // the run's spool root: a gs:// ledger spools below it
    std::string user;
    ledger::RunMode mode = ledger::RunMode::dry_run;
    std::string tz = "UTC";
    // gs://: a lease not renewed for this long is dead (budget/gcs_lease_budget.hpp).
    std::chrono::milliseconds lease_ttl{300'000};
    std::function<void(const std::string&)> info;  // either may be empty
    std::function<void(const std::string&)> warn;
};

// Today's spend as the pre-flight reads it.
struct PreflightSpend {
    budget::Spend spend;    // the day in the options' zone, and the lines that could not be read
    util::Micros held = 0;  // by other processes' budget leases (gs://; 0 for a folder)
};

// What the in-run budget needs to know about the run.
struct BudgetOpening {
    util::Micros limit = 0;
    // The job place this process writes (its manifest path): dead runs of the same place may
    // have their holdings released once the writer has restored their lines.
    std::string manifest;
    // Places whose dead runs' holdings are released too: the job's shards' manifests, for a run
    // that holds the job exclusively and has restored their lines (open_writer's more_manifests).
    std::vector<std::string> more_manifests;
    // gs://: who holds the lease ("job …, pid … on host"), and how many requests' worst case
    // one lease slice covers.
    std::string holder;
    int lease_images = 1;
};

class LedgerBackend {
public:
    // The backend for options.location. A gs:// ledger opens its store (reads nothing yet); a
    // folder touches nothing. Errors: the store's (a bad URL, no credentials).
    static util::Result<std::unique_ptr<LedgerBackend>> open(LedgerBackendOptions options,
                                                             storage::AnyStorage& storage,
                                                             util::Clock& clock);
    virtual ~LedgerBackend();
    LedgerBackend(const LedgerBackend&) = delete;
    LedgerBackend& operator=(const LedgerBackend&) = delete;

    const LedgerBackendOptions& options() const { return m_options; }

    // The pre-flight: today's spend. Reads only. STORAGE_IO ("ledger <location>: …") when the
    // ledger cannot be read.
    virtual util::Result<PreflightSpend> spent_today() = 0;

    // Opens the writer (a gs:// one first pushes what dead writers left in the spool, said on
    // info). Then writes the ledger lines of the images manifest_path (and more_manifests: a
    // killed shard's, for a run holding the job exclusively) lists that no ledger line (nor, for
    // gs://, a spooled one) records; returns how many. Call once.
    util::Result<std::size_t> open_writer(const std::string& manifest_path,
                                          const std::vector<std::string>& more_manifests = {});
    // Opens the in-run budget over the writer. Call once, after open_writer.
    virtual util::Status open_budget(const BudgetOpening& opening) = 0;

    // Valid after open_writer / open_budget.
    ledger::LedgerWriter& writer() { return *m_writer; }
    budget::Budget& budget() { return *m_budget; }
    bool has_writer() const { return m_writer != nullptr; }
    bool has_budget() const { return m_budget != nullptr; }

    // Where the ledger is read from (reconciliation, the day totals).
    virtual ledger::LedgerLocation read_location() = 0;
    // The last flush of a run: every line in the ledger (gs://: leaving out lines another
    // machine pushed meanwhile, one read of the day object). STORAGE_IO names the ledger.
    virtual util::Status flush_last() = 0;
    // True when lines that could not be written wait in a local spool for the next run.
    virtual bool spools() const = 0;

protected:
    LedgerBackend(LedgerBackendOptions options, util::Clock& clock);
    // A side whose writer or budget uses its own members resets m_budget, then m_writer, in
    // its destructor (they are the base's, so they would be destroyed after its members).
    // The writer only (open_writer does the reconciliation around it).
    virtual util::Result<std::unique_ptr<ledger::LedgerWriter>> make_writer() = 0;
    // The ids of lines this machine spooled, pushed or not (never written twice).
    virtual util::Result<std::unordered_set<std::string>> spooled_ids() = 0;
    void say_info(const std::string& line) const;

    LedgerBackendOptions m_options;
    util::Clock& m_clock;
    std::unique_ptr<ledger::LedgerWriter> m_writer;
    std::unique_ptr<budget::Budget> m_budget;
};

}  // namespace assetgen::schedule
