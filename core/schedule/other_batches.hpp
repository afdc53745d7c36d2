#pragma once
// Another job's batches still pending over this run's rows (issue: a sheet edited while its batch
// runs). A job id defaults to a hash of the input's bytes, so one edited cell makes the next
// `run` a new job: without this check it would send every row again while the old job's batch
// is still pending, and Google bills both. The reserve line does not say where the job writes;
// its keys file does: a chunk of job J in shard S is in this --out when
// <out>/J[/shards/S]/batch/cN.keys exists there, and its lines name the scene ids it holds.

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "ledger/reservations.hpp"
#include "storage/storage.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

// One open batch reservation of another job, in this --out, holding some of this run's rows.
struct OtherPendingBatch {
    std::string job_id;
    std::string batch;  // display name
    util::Micros held = 0;
    std::size_t overlap = 0;               // this run's scene ids it holds
    std::vector<std::string> some_scenes;  // the first few of them (at most 3)
};

// The open live batch reservations in book of jobs other than job_id whose keys file is below
// out and names at least one of scene_ids. A keys file that cannot be read counts as holding
// every row (the chunk is in this --out, and its requests cannot be told apart).
util::Result<std::vector<OtherPendingBatch>> other_pending_batches(
    const ledger::ReservationBook& book, const std::string& job_id, const std::string& out,
    storage::Storage& storage, const std::set<std::string>& scene_ids);

// The refusal (CONFIG_ERROR, exit 78) naming the batches, the money they hold, some of the rows
// and the fixes (collect with --job-id, or --cancel); input is the run's input as typed.
util::Status refuse_other_pending(const std::vector<OtherPendingBatch>& found,
                                  const std::string& job_id, const std::string& input);

}  // namespace assetgen::schedule
