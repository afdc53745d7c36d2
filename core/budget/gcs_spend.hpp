#pragma once
// Today's spend for one user and mode from a ledger in Cloud Storage (LedgerBudget uses it for
// gs:// ledgers): the day objects, read incrementally (a Range read from where the last one
// ended, starting over when the object was replaced rather than appended to), plus the lines
// still in the spool files of this machine, which the day objects may not show yet. Every
// entry counts once, by its id (a line is often in both places), so spend only grows.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "budget/file_tail.hpp"
#include "budget/spend.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/reservations.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::budget {

// Whose spend, and on which day.
struct SpendScope {
    std::string user;
    ledger::RunMode mode = ledger::RunMode::dry_run;  // ledger::counts_in decides a line
    std::string tz = "UTC";
    std::string day;  // "YYYY-MM-DD" in tz
};

class GcsSpend {
public:
    // Reads spool files from spool_dir (GcsLedgerWriterOptions::spool_dir) and the day
    // objects at most every object_interval. store and clock must outlive this.
    GcsSpend(ledger::GcsLedgerStore& store, std::string spool_dir, SpendScope scope,
             util::Clock& clock, std::chrono::milliseconds object_interval);
    // Reads what is new in the spool files, and in the UTC day objects around now when
    // object_interval has passed since they were last read (always the first time, or with
    // force). STORAGE_IO for the spool folder, the client's codes for Cloud Storage.
    util::Status refresh(bool force = false);
    // The day's paid lines plus what its open reservations (pending batches,
    // ledger/reservations.hpp) still hold.
    util::Micros spent() const;
    // The part of spent() the open reservations hold.
    util::Micros reserved_pending() const { return m_reservations.outstanding(); }
    // The open reservations behind it at now_ms, oldest first.
    std::vector<ledger::OpenReservation> pending(std::int64_t now_ms) const {
        return ledger::open_reservations(m_reservations, now_ms);
    }
    // Entries counted.
    std::size_t entries() const { return m_seen.size(); }
    // The part of spent() reserved under each budget lease (the entries' "lease" field): the
    // costs of its lines, and the reserved amounts of its reserve lines (a batch chunk's worst
    // case, held in the lease until its line was written).
    const std::map<std::string, util::Micros>& spent_by_lease() const { return m_by_lease; }

private:
    // How far a day object has been read.
    struct ObjectTail {
        std::int64_t generation = 0;
        std::uint64_t offset = 0;  // complete lines before this are counted
        std::string tail;          // the bytes just before offset, to tell an append from a rewrite
    };
    void count(std::string_view line);
    util::Status read_spools();
    util::Status read_object(const std::string& utc_day);

    ledger::GcsLedgerStore& m_store;
    std::string m_spool_dir;
    SpendScope m_scope;
    util::Clock& m_clock;
    std::chrono::milliseconds m_object_interval;
    std::optional<util::SteadyTime> m_objects_read_at;
    std::map<std::string, ObjectTail> m_objects;  // by UTC day
    std::map<std::string, FileTail> m_spools;     // by writer id
    std::unordered_set<std::string> m_seen;       // ids (or whole lines without one) counted
    util::Micros m_spent = 0;
    std::map<std::string, util::Micros> m_by_lease;
    ledger::ReservationBook m_reservations;  // each line once, as m_spent
};

// Today's spend from a gs:// ledger and the spools of this machine, read once (the pre-flight
// check of `run`). Errors as GcsSpend::refresh; CONFIG_ERROR for an unknown time zone.
util::Result<Spend> spent_today_gcs(ledger::GcsLedgerStore& store, const std::string& spool_dir,
                                    const SpendQuery& query, util::Clock& clock);

}  // namespace assetgen::budget
