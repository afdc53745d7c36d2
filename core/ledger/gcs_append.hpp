#pragma once
// Appending a batch of spool lines to a day object in Cloud Storage exactly once: upload the
// batch as a part (create-only), compose [day object, part] onto the day object under
// ifGenerationMatch, retry on 412, and never apply a part twice when an answer was lost (see
// gcs_append.cpp). SpoolPusher keeps a spool's state file in step, so that a writer that dies
// mid-push can be finished by another process without sending anything twice.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ledger/gcs_ledger_store.hpp"
#include "ledger/ledger_spool.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::ledger {

// One batch: lines of one day from a spool's bytes [first, end) (lines that are not entries
// are left out).
struct PushRun {
    std::string day;
    std::uint64_t first = 0;
    std::uint64_t end = 0;
    std::string bytes;                     // the lines, each ending in '\n'
    std::vector<std::string> ids;          // one per line, "" for a line without one
    std::vector<std::size_t> line_starts;  // offset of each line in bytes
};

// The run at the front of lines: the longest stretch of one day, at most max_bytes (yet at
// least one line), and only lines before stop_at when it is non-zero. Empty lines → empty run.
PushRun take_run(const std::deque<SpoolLine>& lines, std::uint64_t stop_at, std::size_t max_bytes);

struct AppendOptions {
    // A day object with this many components is rewritten before the next compose (the old
    // documented cap was 1,024). At least 2.
    int max_components = 1000;
    // Part tokens kept in the day object's metadata (assetgen-parts), at most 256 so that the
    // metadata stays well under GCS's 8 KiB.
    std::size_t history = 64;
    // Compose rounds lost to other writers (412) before giving up for now.
    int max_rounds = 100;
    // Base of the jittered wait after a lost round (doubling, at most 2 s).
    std::chrono::milliseconds race_backoff{50};
    // Read the day object first and leave out the lines whose id it already has: lines that
    // another machine may have pushed too (a dead writer's spool recovered, or a run's last
    // push after another machine resumed the job and restored its lines from the manifest).
    // One read of the day object per run; a line another writer adds between that read and
    // the compose is not seen.
    bool skip_present = false;
};

enum class AppendOutcome {
    appended,       // this call put the run into the day object
    already_there,  // an earlier attempt (a lost answer, a dead writer's push) had done it
};

// Makes a push's intent durable before its first compose goes out.
using RecordIntent = std::function<util::Status(const SpoolIntent&)>;

// Appends run to its day object exactly once. known: a push of the same part that may already
// have been applied. Transient codes when GCS stays unreachable, STORAGE_IO when other writers
// keep winning or a call fails for good; the run may then be pushed again with the intent that
// was recorded.
util::Result<AppendOutcome> append_run(GcsLedgerStore& store, const std::string& writer,
                                       const PushRun& run, const std::optional<SpoolIntent>& known,
                                       const RecordIntent& record, const AppendOptions& options,
                                       util::Clock& clock);

// Pushes the runs of one spool and keeps its state file right: the intent recorded before a
// compose, the committed offset after. Not thread-safe; one pusher per spool.
class SpoolPusher {
public:
    SpoolPusher(GcsLedgerStore& store, std::string writer, std::string state_path, SpoolState state,
                AppendOptions options, util::Clock& clock);
    // Where the next run must stop: the end of the push in flight when the pending lines start
    // where it started (the same part is retried, never a longer one), else 0.
    std::uint64_t stop_for(std::uint64_t front_offset) const;
    // Pushes run exactly once and records run.end as committed. Errors as append_run, and
    // STORAGE_IO when the state file cannot be written.
    util::Result<AppendOutcome> push(const PushRun& run, bool skip_present = false);
    const SpoolState& state() const { return m_state; }

private:
    GcsLedgerStore& m_store;
    std::string m_writer;
    std::string m_state_path;
    SpoolState m_state;
    AppendOptions m_options;
    util::Clock& m_clock;
};

}  // namespace assetgen::ledger
