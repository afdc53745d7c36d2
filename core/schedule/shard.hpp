#pragma once
// Shards: one job split over N processes (Cloud Run job tasks, Batch tasks, Kubernetes indexed
// Jobs, or N shells). Row r belongs to shard H(scene_id) mod N, H = the first 8 bytes of
// SHA-256(scene_id), big-endian, so every row is in exactly one shard on every machine. All
// shards are one job (one job id); each keeps its own manifest, lock and summary below
// <out>/<job>/shards/<I>-of-<N>/.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/env.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

struct Shard {
    int index = 0;
    int count = 1;
    int attempt = 0;     // CLOUD_RUN_TASK_ATTEMPT (0 = first try)
    std::string source;  // "--shard", "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT", ...
    // "I/N", as written into ledger lines and manifest lines.
    std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
    // "I-of-N", the shard's folder below <out>/<job>/shards/.
    std::string dir_name() const { return std::to_string(index) + "-of-" + std::to_string(count); }
};

// H(scene_id): the first 8 bytes of SHA-256(scene_id), big-endian.
std::uint64_t shard_hash(std::string_view scene_id);
// The shard (0..count-1) a row belongs to. count must be ≥ 1.
int shard_of(std::string_view scene_id, int count);

// "I/N" → Shard. CONFIG_ERROR naming `where` when it is not two integers with 0 ≤ I < N.
util::Result<Shard> parse_shard(const std::string& text, const std::string& where);

// The shard this process runs: --shard I/N, else the environment of a task runner
// (CLOUD_RUN_TASK_INDEX + CLOUD_RUN_TASK_COUNT, BATCH_TASK_INDEX + BATCH_TASK_COUNT, or
// JOB_COMPLETION_INDEX with --shards N); nullopt when none is given (an unsharded run), also
// for a task count of 1 from the environment (Cloud Run sets 0/1 for one-task jobs).
// shards: --shards (0 = not given); it must agree with a given count. CONFIG_ERROR on I ≥ N,
// N < 1, an index without a count or a count without an index.
util::Result<std::optional<Shard>> resolve_shard(const std::string& flag, int shards,
                                                 const auth::Env& env);

// For --merge: the number of shards, from --shards, else CLOUD_RUN_TASK_COUNT or
// BATCH_TASK_COUNT. CONFIG_ERROR when none is given or it is below 1.
util::Result<int> resolve_shard_count(int shards, const auth::Env& env);

}  // namespace assetgen::schedule
