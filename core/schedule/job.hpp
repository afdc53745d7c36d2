#pragma once
// A job: the id that makes re-running the same command resume it, where its files live, and
// what an earlier run already did (its manifest), reconciled with the ledger so that every
// image in the manifest has exactly one ledger line even after a crash between the two writes.

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/ledger_folder.hpp"
#include "schedule/runner.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

// Everything that changes what a run produces. The job id is a hash of it.
struct JobIdentity {
    std::string input_sha256;   // of the batch file's bytes
    std::string mode;
    std::string model;
    std::string image_size;
    int max_variants = 3;
    std::string default_ref_mode;
    std::vector<std::string> global_refs;
    std::string shard;          // "" or "I/N"
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
};

// Only one process may run a job at a time: an exclusive, non-blocking flock on <job_dir>/.lock,
// released by the kernel when the process ends however it ends.
class JobLock {
public:
    // CONFIG_ERROR "job ... is being run by another process" when someone holds it.
    static util::Result<JobLock> acquire(const std::string& job_dir, const std::string& job_id);
    JobLock(JobLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
    JobLock(const JobLock&) = delete;
    JobLock& operator=(const JobLock&) = delete;
    JobLock& operator=(JobLock&&) = delete;
    ~JobLock();

private:
    explicit JobLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

// Reads <job_dir>/manifest.jsonl (a missing one is an empty history).
util::Result<JobHistory> load_history(const std::string& manifest_path);

// Appends the ledger lines that manifest lines promise but the ledger lacks (a crash between
// the manifest write and the ledger write). Returns how many were appended.
util::Result<std::size_t> reconcile_ledger(const std::string& manifest_path,
                                           const ledger::LedgerLocation& ledger,
                                           ledger::LedgerWriter& writer, std::int64_t now_ms);

}  // namespace assetgen::schedule
