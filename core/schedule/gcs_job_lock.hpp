#pragma once
// The job lock of a gs:// job, held in the bucket so that it holds across machines: one
// document, <job>/lock.json, listing the runs that hold the job (each with its shard, host, pid,
// start and expiry), only ever created or replaced under ifGenerationMatch (0 to create), so two
// machines never both act on the same state. Same rules as the local locks (job.hpp): an
// unsharded run excludes every shard and every other unsharded run; shards of one count run
// side by side; the same shard never runs twice; a shard of another count is refused.
//
// Like a budget lease (budget/gcs_lease_budget.hpp): a holder renews its entry every ttl/4; an
// entry not renewed for ttl + ttl/4 (the clock-skew grace) is taken for a dead run (killed with
// SIGKILL, a lost machine) and dropped by the next run that takes the lock, which says so. A run
// that ends removes its entry; the last one deletes the document (conditional delete).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/gcs_client.hpp"
#include "storage/gcs_url.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

struct JobLockHolder {
    std::string shard;  // "" (unsharded) or "I-of-N"
    std::string host;
    std::int64_t pid = 0;
    std::int64_t started_ms = 0;
    std::int64_t expires_ms = 0;  // holder's wall clock
    std::string local;            // the job's local folder on that host (the local lock's)

    bool operator==(const JobLockHolder&) const = default;
};

struct JobLockDoc {
    std::string job_id;
    std::int64_t updated_ms = 0;
    std::map<std::string, JobLockHolder> holders;  // by holder id

    bool operator==(const JobLockDoc&) const = default;
};

std::string to_json(const JobLockDoc& doc);
// INVALID_INPUT naming the field when text is not a job lock document.
util::Result<JobLockDoc> parse_job_lock_doc(std::string_view text);

// "pid 42 on host-a (shard 0/2), started 2026-12-06T03:00:00Z".
std::string describe_holder(const JobLockHolder& holder);

struct JobLockDecision {
    bool granted = false;
    std::string refusal;  // when not granted: the message (as the local lock's, naming the holder)
    std::vector<std::pair<std::string, JobLockHolder>> taken_over;  // expired entries dropped
};

// Drops the other holders whose entry expired more than grace_ms before now (or that is_dead
// says are gone), then adds (or renews) me under id when no live holder conflicts with its
// shard. doc is changed only when granted. where: the document's address, for the refusal.
JobLockDecision decide_job_lock(JobLockDoc& doc, const std::string& id, const JobLockHolder& me,
                                std::int64_t now_ms, std::int64_t grace_ms,
                                const std::string& where,
                                const std::function<bool(const JobLockHolder&)>& is_dead = {});

// True when holder ran on this host from the same local folder and its process is gone, so a
// run killed here is resumed here at once instead of after its lock's expiry. (The local lock,
// taken first, already shows that no live process of this folder holds the job.)
bool gone_from_this_host(const JobLockHolder& holder, const std::string& host,
                         const std::string& local);

struct GcsJobLockOptions {
    storage::GcsClient* client = nullptr;  // must outlive the lock
    storage::GcsUrl document;              // <job>/lock.json
    std::string job_id;
    std::string shard;  // "" or "I-of-N"
    std::chrono::milliseconds ttl{300'000};
    std::string host;
    std::int64_t pid = 0;
    std::string local;  // the job's local folder (where the local lock is)
    // One line for people: a dead run's lock taken over, renewal failures.
    std::function<void(const std::string&)> log;
    bool renew_thread = true;  // tests call renew() themselves
};

// The options for this process's lock of the job at job_dir (gs://…/<job>): the document
// <job_dir>/lock.json, this host's name, this pid, the absolute local folder.
util::Result<GcsJobLockOptions> job_lock_options(
    storage::GcsClient& client, const std::string& job_dir, const std::string& job_id,
    const std::string& shard, const std::string& local_root, std::chrono::milliseconds ttl);

class GcsJobLock {
public:
    // Takes the lock. CONFIG_ERROR (the local lock's code) naming the holder and when its entry
    // expires when a live run holds the job; the client's codes when the bucket cannot be used;
    // INVALID_INPUT naming the object when it is not a lock document.
    static util::Result<std::unique_ptr<GcsJobLock>> acquire(GcsJobLockOptions options,
                                                             util::Clock& clock);
    ~GcsJobLock();  // release()
    GcsJobLock(const GcsJobLock&) = delete;
    GcsJobLock& operator=(const GcsJobLock&) = delete;

    // Extends this run's entry (the renewal thread calls it every ttl/4).
    util::Status renew();
    // Removes this run's entry (the document, when it was the last one). Idempotent.
    util::Status release();

    // CONFIG_ERROR once this run may no longer act for the job: another run took it over (its
    // entry was dropped), or the entry expired because renewals failed. The runner checks it
    // before every request, so a run that lost the job stops paying for its images.
    util::Status still_held() const;
    const std::string& id() const { return m_id; }
    std::int64_t expires_ms() const;

private:
    GcsJobLock(GcsJobLockOptions options, util::Clock& clock);
    enum class Change { take, renew, release };
    util::Status update(Change change);
    void say(const std::string& line) const;
    void renew_loop();

    GcsJobLockOptions m_options;
    util::Clock& m_clock;
    std::string m_id;
    std::int64_t m_grace_ms = 0;
    std::int64_t m_started_ms = 0;

    std::mutex m_doc_mutex;  // one document update at a time
    mutable std::mutex m_mutex;
    bool m_held = false;
    std::int64_t m_expires_ms = 0;
    std::string m_lost;  // why this run lost the job ("" = it did not)

    std::mutex m_thread_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace assetgen::schedule
