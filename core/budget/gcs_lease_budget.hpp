#pragma once
// The budget of a gs:// ledger, shared by every process on every machine (shards of one job on
// Cloud Run, Batch or Kubernetes, or unrelated runs of the same user) through a lease document
// in the ledger's bucket, <ledger>/budget/YYYY-MM-DD/<user>.json (lease_doc.hpp), changed only
// under ifGenerationMatch.
//
// How this works. A process takes a lease: a slice of what is left (the next lease_images
// requests' worst case) and reserves its requests against it in memory, so no request waits on
// a round trip to Cloud Storage while the lease has room. When a request does not fit, the
// process changes its lease in one conditional write: it keeps what is in use (spent under the
// lease + reserved by requests in flight), gives back the rest, and takes a new slice if one
// fits. When none fits it pushes its own ledger lines (so others see that its lease is used,
// not held) and waits for others' leases to come back, polling with backoff; it gives up
// (BUDGET_EXCEEDED) only when no other live lease holds anything. A background thread renews
// the lease every ttl/4; an unrenewed lease is taken for dead by whoever next writes the
// document once ttl + ttl/4 (the clock-skew grace) have passed since its last renewal. It is
// kept, though, and what it holds beyond its visible spend keeps counting (lease_doc.hpp): the
// holder may have paid for images whose ledger lines are only in its machine's spool, or were never
// written (SIGKILL between the manifest line and the ledger line). The next run of the same
// place (same spool folder, same job and shard) pushes that spool when its ledger writer opens,
// writes the missing lines back from the manifest (reconcile_ledger), pushes them and releases
// the dead lease as it opens; otherwise it holds its room until the day ends. At the end the
// process pushes its ledger lines and removes its lease. Ledger lines carry the lease id ("lease"),
// which is how the others tell a lease's spent part (in the ledger) from its outstanding part.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "budget/budget_guard.hpp"
#include "budget/gcs_spend.hpp"
#include "budget/lease_doc.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::budget {

struct LeaseBudgetOptions {
    std::string user;
    ledger::RunMode mode = ledger::RunMode::dry_run;
    std::string tz = "UTC";
    util::Micros limit = 0;
    ledger::GcsLedgerStore* store = nullptr;  // the ledger (must outlive the budget)
    std::string spool_dir;                    // its writers' spool folder on this machine
    std::chrono::milliseconds ttl{300'000};
    int lease_images = 16;  // a slice = this many requests' worst case
    std::string holder;     // who holds it, for people reading the document
    // "<spool folder id>:<job place>": dead leases of this place are released at open when
    // release_dead is set (the caller has pushed the spools of dead writers and written back
    // the place's missing ledger lines). Empty: the lease is dropped at expiry (older builds).
    std::string place;
    // More places whose dead leases are released the same way (a job's shards, for a run that
    // holds the job exclusively and has written back their lines).
    std::vector<std::string> more_places;
    bool release_dead = false;
    // Pushes this process's ledger lines to the day objects (GcsLedgerWriter::flush).
    std::function<util::Status()> flush_ledger;
    // One line for people: leases reclaimed from dead holders, waits, document errors.
    std::function<void(const std::string&)> log;
    bool renew_thread = true;  // tests call renew() themselves
    std::chrono::milliseconds poll_min{100};
    std::chrono::milliseconds poll_max{2000};
};

class GcsLeaseBudget final : public Budget {
public:
    // Reads the document and today's spend once. CONFIG_ERROR for missing options or an
    // unknown time zone; the client's codes when the bucket cannot be read; INVALID_INPUT
    // naming the object when the document is not one.
    static util::Result<std::unique_ptr<GcsLeaseBudget>> open(LeaseBudgetOptions options,
                                                              util::Clock& clock);
    ~GcsLeaseBudget() override;

    bool reserve(util::Micros amount) override;
    void settle(util::Micros reserved, util::Micros actual) override;
    util::Micros limit() const override { return m_options.limit; }
    util::Micros spent() const override;
    util::Micros reserved() const override;
    util::Micros overshoot() const override;
    std::string lease_id() const override { return m_id; }
    // Pushes the ledger and removes the lease (on a failed push: gives back what is not spent
    // and lets the rest expire). Later reserves fail.
    util::Status close() override;

    // Extends the lease's expiry (the renewal thread calls it every ttl/4).
    util::Status renew();
    // The document's address.
    const storage::GcsUrl& document() const { return m_doc_url; }

    struct Stats {
        std::uint64_t writes = 0;     // document updates that landed
        std::uint64_t conflicts = 0;  // updates refused with 412 and done again
        std::uint64_t reclaimed = 0;  // expired leases of others dropped
        std::uint64_t waits = 0;      // times a request waited for others' leases
    };
    Stats stats() const;

private:
    GcsLeaseBudget(LeaseBudgetOptions options, util::Clock& clock);
    enum class Change { grow, renew, shrink, release };
    // One conditional update of this process's lease (re-read and redone on 412).
    util::Result<LeaseDecision> update(Change change, util::Micros need);
    void say(const std::string& line) const;
    void renew_loop();
    // Removes the dead leases of this place from the document (after pushing the ledger).
    util::Status release_dead_of_place();

    LeaseBudgetOptions m_options;
    util::Clock& m_clock;
    std::string m_id;
    std::string m_day;
    storage::GcsUrl m_doc_url;
    std::int64_t m_grace_ms = 0;

    std::mutex m_doc_mutex;  // one document update at a time; guards m_spend
    std::unique_ptr<GcsSpend> m_spend;

    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_adjusting = false;
    bool m_closed = false;
    bool m_has_lease = false;
    util::Micros m_amount = 0;    // the lease as last written
    util::Micros m_used = 0;      // spent under it (actual costs of settled requests)
    util::Micros m_reserved = 0;  // requests in flight
    std::int64_t m_expires_ms = 0;
    util::Micros m_seen_spent = 0;  // the day's spend at the last update
    util::Micros m_others = 0;      // others' outstanding at the last update
    util::Micros m_overshoot = 0;
    std::optional<util::Micros> m_exhausted;  // a request this size no longer fits, for good
    std::chrono::milliseconds m_poll;         // the next wait for others' leases
    std::set<std::string> m_told_dead;        // dead leases already reported
    Stats m_stats;

    std::mutex m_thread_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_thread;
};

// For the pre-flight check: what the live leases in today's document hold beyond their visible
// spend (0 when there is no document). The same errors as GcsLeaseBudget::open.
util::Result<util::Micros> held_by_leases_now(ledger::GcsLedgerStore& store,
                                              const std::string& spool_dir, const SpendScope& scope,
                                              util::Clock& clock, std::chrono::milliseconds ttl);

}  // namespace assetgen::budget
