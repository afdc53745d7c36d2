#pragma once
// A ledger in Cloud Storage, gs://bucket/prefix (DESIGN.md §7). append() writes the line to a
// local spool file at once (so a crash loses nothing appended); a background thread, and every
// flush(), push the pending lines into the day objects in batches: one part object per day and
// batch, composed onto prefix/YYYY-MM-DD.jsonl under ifGenerationMatch (gcs_append.hpp), which
// keeps to GCS's pace of about one write a second per object. Lines are never lost and never
// doubled, whatever the mix of concurrent writers (threads or processes), 412 races, 5xx and
// lost answers. Spools left by writers that died are pushed by the next writer that opens on
// the same spool folder (recover_spools).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ledger/gcs_append.hpp"
#include "ledger/gcs_ledger_store.hpp"
#include "ledger/ledger_folder.hpp"
#include "ledger/ledger_spool.hpp"
#include "util/append_file.hpp"
#include "util/clock.hpp"

namespace assetgen::ledger {

struct GcsLedgerWriterOptions {
    // A local folder for this ledger, shared by every writer and budget of the machine that
    // uses it (recovery and budgets look here). Required.
    std::string spool_dir;
    // How often the background thread pushes; 0: no thread, only flush() pushes.
    std::chrono::milliseconds flush_interval{2000};
    // After a failed background push the wait doubles (429 above all), up to this.
    std::chrono::milliseconds max_backoff{60'000};
    int max_components = 1000;       // see AppendOptions
    std::size_t parts_history = 64;  // see AppendOptions
    std::size_t max_part_bytes = 16u << 20;
    // A committed spool is removed once untouched this long (0: at once). Budgets of the
    // machine count spool lines until the day objects show them, so this must be well above
    // their refresh interval.
    std::chrono::milliseconds spool_retention{600'000};
    // Whether open() recovers dead writers' spools.
    bool recover_at_open = true;
    // Receives background and recovery problems (already redacted); none when empty.
    std::function<void(const std::string&)> log;
};

// What recover_spools did.
struct RecoveryReport {
    std::size_t spools = 0;               // dead writers' spools with lines to push
    std::size_t lines_pushed = 0;         // lines this recovery put into day objects
    std::size_t lines_already_there = 0;  // lines a dead writer's lost push had put there
    std::size_t removed = 0;              // committed spools removed
    std::vector<std::string> problems;    // spools left for next time, and why
};

// Pushes the lines of every spool in options.spool_dir whose writer is gone (its lock file can
// be locked), except skip_writer's, and removes committed spools older than the retention.
// One spool's failure is reported in problems and the others still recovered, unless Cloud
// Storage was unreachable (a transient failure): the rest are then left for the next writer.
// STORAGE_IO when the folder cannot be listed.
util::Result<RecoveryReport> recover_spools(GcsLedgerStore& store, util::Clock& clock,
                                            const GcsLedgerWriterOptions& options,
                                            const std::string& skip_writer = "");

class GcsLedgerWriter final : public LedgerWriter {
public:
    // A writer with a fresh id and spool file; recovers dead spools first when asked. store
    // and clock must outlive the writer. CONFIG_ERROR without a spool_dir; STORAGE_IO when the
    // spool cannot be created.
    static util::Result<std::unique_ptr<GcsLedgerWriter>> open(GcsLedgerStore& store,
                                                               util::Clock& clock,
                                                               GcsLedgerWriterOptions options);
    // Stops the background thread and lets go of the spool lock. Lines not yet pushed stay in
    // the spool for the next writer to recover; nothing is sent from here.
    ~GcsLedgerWriter() override;
    GcsLedgerWriter(const GcsLedgerWriter&) = delete;
    GcsLedgerWriter& operator=(const GcsLedgerWriter&) = delete;

    // Writes the line to the spool (not yet fsynced). STORAGE_IO on failure.
    util::Status append(const Entry& entry) override;
    // fsyncs the spool, then pushes every line appended before the call into its day object
    // and returns once they are there, or with the error that stopped it (the lines stay
    // pending and go with the next push).
    util::Status flush() override;
    // fsyncs the spool (lines appended since the last sync), pushes nothing.
    util::Status sync() override;
    // As flush(), but each run first reads its day object and leaves out the lines whose id is
    // there already (pushed by another machine that resumed the job): for a run's last push.
    util::Status flush_skipping_present();

    const std::string& writer_id() const { return m_id; }
    // What open() recovered.
    const RecoveryReport& recovery() const { return m_recovery; }

private:
    GcsLedgerWriter(GcsLedgerStore& store, util::Clock& clock, GcsLedgerWriterOptions options);
    // Pushes runs until no pending line starts before target.
    util::Status push_until(std::uint64_t target, bool skip_present = false);
    void background();
    void log(const std::string& line) const;

    GcsLedgerStore& m_store;
    util::Clock& m_clock;
    GcsLedgerWriterOptions m_options;
    std::string m_id;
    std::optional<SpoolLock> m_lock;
    RecoveryReport m_recovery;

    std::mutex m_mutex;  // guards the spool file and the pending lines
    util::AppendFile m_spool;
    std::deque<SpoolLine> m_pending;
    std::uint64_t m_spool_end = 0;
    std::uint64_t m_spool_synced = 0;  // m_spool_end at the last sync() (under m_mutex)

    std::mutex m_push_mutex;  // one push at a time; guards m_pusher
    std::optional<SpoolPusher> m_pusher;

    std::mutex m_wake_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    std::thread m_thread;
};

}  // namespace assetgen::ledger
