#pragma once
// Where a job's files live, and keeping them in step when the job folder is in Cloud Storage.
//
// How this works. A job folder (<out>/<job>) holds the images, manifest.jsonl, summary.json and
// the state snapshots. On a local --out it is one folder. On a gs:// --out, objects cannot be
// appended to, so the manifest is kept durable in a local folder first (the job's spool folder:
// fsynced lines, the job lock) and copied whole to gs://…/<job>/manifest.jsonl at every
// checkpoint, together with state.json and a versioned state-<ts>.json. Opening a job merges the
// gs:// copy into the local one (a run started on another machine left lines we lack), so the
// copy uploaded next is always a superset of both and a resume anywhere skips what is done.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "schedule/job.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"
#include "util/user_dirs.hpp"

namespace assetgen::schedule {

struct JobPlace {
    std::string job_id;
    std::string dir;         // <out>/<job>: local path or gs:// location (the images)
    std::string shard;       // "" or "I-of-N"
    std::string records;     // manifest, summary and state: dir, or dir/shards/I-of-N for a shard
    std::string local_dir;   // local folder with the lock and the durable manifest
    std::string local_root;  // the job's local folder (== local_dir when unsharded): the job lock
    bool remote() const { return records != local_dir; }
    // The manifest that lines are appended to (always local).
    std::string manifest() const { return local_dir + "/manifest.jsonl"; }
    // Where the manifest is published (== manifest() for a local job).
    std::string published_manifest() const { return records + "/manifest.jsonl"; }
};

// The place of job_id below out; shard: "" or "I-of-N" (its records, lock and manifest go
// below <out>/<job>/shards/I-of-N). For a gs:// out the local folder is
// <spool_dir>/jobs/<16 hex digits of the out location's hash>-<job>[/shards/I-of-N].
JobPlace job_place(const std::string& out, const std::string& job_id, const std::string& spool_dir,
                   const std::string& shard = "");

// The default spool folder: $ASSETGEN_SPOOL_DIR as given, else $XDG_STATE_HOME/assetgen/spool or
// ~/.local/state/assetgen/spool when writable, else <$TMPDIR or /tmp>/assetgen-<uid>/state/
// assetgen/spool (created; the notice says so). Errors as util::resolve_user_dir. env_spool and
// state_dirs: the variables as the Context read them (Context::places).
util::Result<util::UserDir> default_spool_dir(const std::string& env_spool,
                                              const util::UserDirEnv& state_dirs);

// Opens a job's history: for a remote job, first merges the published manifest's lines that
// the local one lacks into the local one (durably), then reads the local one. Then the images
// the job's other runs made count as done too: the unsharded run's manifest (for a shard) and
// every shard's (each shard count), local and, for a gs:// job, published (one list of
// <job>/shards/). A manifest another process is appending to may end in a torn line: skipped.
util::Result<JobHistory> open_job_history(const JobPlace& place, storage::Storage& storage);

// The local manifests of the job's shards (<local_root>/shards/<I>-of-<N>/manifest.jsonl, every
// count), sorted; for a shard's place, none (only a run holding the job exclusively, the
// unsharded run or --merge, may write a shard place's ledger lines for it).
std::vector<std::string> local_shard_manifests(const JobPlace& place);

// A gs:// job's done images whose objects are not in the bucket (deleted, or a new bucket at
// the same path), found with one list of <job>/ (the bucket is trusted, not the local spool):
// (done_key, uri) pairs in no particular order. A local job: none.
util::Result<std::vector<std::pair<std::string, std::string>>> missing_images(
    const JobPlace& place, const DoneIndex& done, storage::Storage& storage);

// Checkpoints of a job: the published manifest (remote jobs) and the state snapshots
// state.json and state-<UTC time>.json in the job folder. Thread-safe; a checkpoint that fails
// is reported and the next one tries again (the local manifest is the durable record).
class JobCheckpoints {
public:
    JobCheckpoints(JobPlace place, storage::Storage& storage, util::Clock& clock);
    // Publishes the manifest (remote jobs) and writes the snapshot. state gets "ts" and
    // "snapshot" (the versioned object's location) added. synced false: the snapshot's local
    // files are written without an fsync of their own (Storage::put_unsynced), for a state that
    // a later checkpoint replaces; the run's group commit or the last checkpoint syncs them.
    util::Status checkpoint(nlohmann::json state, bool synced = true);
    // How many checkpoints were written.
    std::uint64_t count() const;

private:
    JobPlace m_place;
    storage::Storage& m_storage;
    util::Clock& m_clock;
    mutable std::mutex m_mutex;
    std::uint64_t m_count = 0;
    std::string m_last_name;
};

// "state-20261125T101500.123Z.json" for a time in ms since the epoch (sorts by time).
std::string snapshot_name(std::int64_t unix_ms);

}  // namespace assetgen::schedule
