#pragma once
// `run --merge`: the records of a sharded job combined into the job's own. Reads every shard's
// manifest (<out>/<job>/shards/<I>-of-<N>/manifest.jsonl, local or gs://) and summary, and
// writes <out>/<job>/manifest.jsonl (each image of the batch once, in input order),
// <out>/<job>/summary.json (the shards' summaries added up), with a results location a results
// CSV of every row (ok when all its variants are in a manifest, else "missing"), and with a
// report location (--report) the contact sheet of every image, missing ones named with their
// shard.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "schedule/session.hpp"

namespace assetgen::schedule {

struct MergeReport {
    std::string job_id;
    std::string manifest;  // where the combined manifest was written
    std::string summary;   // where the combined summary was written
    std::size_t rows = 0;
    std::size_t images = 0;                     // of the batch
    std::size_t images_present = 0;             // in the combined manifest
    std::size_t rows_missing = 0;               // rows with a variant in no manifest
    std::vector<std::size_t> missing_by_shard;  // rows missing, per shard index
    std::vector<int> shards_without_manifest;
    std::vector<int> shards_without_summary;
    nlohmann::json summary_json;
};

// Combines the N shards of the job the options name (the same options as the shards' runs,
// so the same job id). Writes nothing when the input is invalid (INVALID_INPUT) or a shard's
// records cannot be read (STORAGE_IO and the like); missing rows are not an error here, they
// are in the report. Torn or bad manifest lines are sent to log.warn and skipped.
// Called once the job's place is known, before anything is read or written (the command line
// checks the outputs against the records there); its error ends the merge.
using PlaceCheck = std::function<util::Status(const SessionOptions&, const JobPlace&)>;
// ctx: the clock, the shared transport and the environment's places (context/context.hpp).
util::Result<MergeReport> merge_shards(SessionOptions options, int shard_count,
                                       const context::Context& ctx, const SessionLog& log,
                                       const PlaceCheck& check_place = {});

}  // namespace assetgen::schedule
