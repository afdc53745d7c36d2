#pragma once
// A job: the id that makes re-running the same command resume it, where its files live, and
// what an earlier run already did (its manifest), reconciled with the ledger so that every
// image in the manifest has exactly one ledger line even after a crash between the two writes.

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "ledger/ledger_folder.hpp"
#include "ledger/run_mode.hpp"
#include "schedule/runner.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

// Everything that changes what a run produces. The job id is a hash of it.
struct JobIdentity {
    std::string input_sha256;  // of the batch file's bytes
    ledger::RunMode mode = ledger::RunMode::dry_run;
    std::string model;
    std::string image_size;
    int max_variants = 3;
    std::string default_ref_mode;
    std::vector<std::string> global_refs;
    std::string shard;  // "" or "I/N"
};

// "job-" + 16 hex digits of SHA-256 over the identity.
std::string make_job_id(const JobIdentity& identity);

// Checks a user-given --job-id: [A-Za-z0-9._-], 1..100 characters, not "." or "..".
util::Status check_job_id(const std::string& id);

// What the job's manifest says was done, with what it found wrong.
struct JobHistory {
    DoneIndex done;
    std::vector<ledger::ManifestEntry> entries_without_ledger;  // filled by reconcile_ledger
    std::vector<ledger::ReadIssue> issues;
    std::int64_t first_ts = 0;  // earliest manifest line (0 if none)
    std::size_t images = 0;
    // Images that the job's other runs (shards, or the unsharded run) made, counted in done.
    std::size_t images_elsewhere = 0;
};

// One writer of a job at a time, whatever its shard settings. Local, non-blocking flocks,
// released by the kernel when the process ends however it ends:
//   an unsharded run (and --merge) holds <job>/.lock exclusively;
//   a shard I/N holds <job>/.lock shared, <job>/shards/I-of-N/.lock exclusively and
//   <job>/shards/.count-N.lock shared, and refuses when a shard of another count holds its own
//   (shards of one count never share rows; shards of two counts do).
// So an unsharded run and a shard never run at once, the same shard never runs twice, and the
// N shards of one count run side by side. <job> is the job's local folder (for a gs:// --out,
// the one in the spool folder): the locks hold between the processes of one machine only.
class JobLock {
public:
    // CONFIG_ERROR naming who holds the job when it is taken. shard: "" or "I-of-N".
    static util::Result<JobLock> acquire(const std::string& job_root, const std::string& shard,
                                         const std::string& job_id);
    JobLock(JobLock&& other) noexcept : m_fds(std::move(other.m_fds)) { other.m_fds.clear(); }
    JobLock(const JobLock&) = delete;
    JobLock& operator=(const JobLock&) = delete;
    JobLock& operator=(JobLock&&) = delete;
    ~JobLock();

private:
    JobLock() = default;
    std::vector<int> m_fds;
};

// Reads <job_dir>/manifest.jsonl (a missing one is an empty history).
util::Result<JobHistory> load_history(const std::string& manifest_path);

// Appends the ledger lines that manifest lines promise but the ledger lacks (a crash between
// the manifest write and the ledger write). Returns how many were appended.
// known_ids: ids already written that the ledger does not show yet (this machine's spool lines
// still waiting to reach a gs:// ledger); they are not appended again.
util::Result<std::size_t> reconcile_ledger(const std::string& manifest_path,
                                           const ledger::LedgerLocation& ledger,
                                           ledger::LedgerWriter& writer, std::int64_t now_ms,
                                           const std::unordered_set<std::string>& known_ids = {});
// The same over several manifests (a job's own and its shards'), the ledger read once; a line
// two manifests promise (a merged manifest repeats its shards' lines) is written once.
util::Result<std::size_t> reconcile_ledger(const std::vector<std::string>& manifest_paths,
                                           const ledger::LedgerLocation& ledger,
                                           ledger::LedgerWriter& writer, std::int64_t now_ms,
                                           const std::unordered_set<std::string>& known_ids = {});

// The ids of the ledger lines in the spool files (*.jsonl) of a folder: every line a gs://
// ledger writer of this machine spooled, pushed or not. A missing folder has none.
util::Result<std::unordered_set<std::string>> spooled_ledger_ids(const std::string& spool_dir);

}  // namespace assetgen::schedule
