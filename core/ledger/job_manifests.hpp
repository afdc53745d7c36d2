#pragma once
// A job's manifests as one set, for `ledger verify`. A sharded job (run --shard I/N) keeps each
// shard's manifest at <out>/<job>/shards/I-of-N/manifest.jsonl until --merge writes the job's
// <out>/<job>/manifest.jsonl (and the shards' stay after it). Each of them lists only part of the
// job's images, so verify checks the job's ledger lines against all of them together: an image
// listed by the merged manifest and by its shard's (the same ledger_id) counts once.

#include <string>
#include <vector>

namespace assetgen::ledger {

struct JobManifests {
    // <out>/<job>/manifest.jsonl: the job's own manifest path, whether it exists or not.
    std::string job_manifest;
    // The manifests read for the job, in the order given: the job's own and its shards'.
    std::vector<std::string> paths;
    // How findings name the set: the one path, or "<first> and N shard manifests".
    std::string name() const;
};

// "<…>/<job>/manifest.jsonl" for "<…>/<job>/shards/<shard>/manifest.jsonl" (local or gs://);
// any other path as given.
std::string job_manifest_of(const std::string& path);

// The paths grouped by job_manifest_of, each group where its first path is; a path given twice
// is read once.
std::vector<JobManifests> group_job_manifests(const std::vector<std::string>& paths);

// True for a shard's manifest name: "I-of-N" with I < N (shard.cpp's form).
bool is_shard_folder_name(const std::string& name);

}  // namespace assetgen::ledger
