#pragma once
// Paid images whose ok ledger line exists but whose manifest line does not: a run killed in the
// group-commit window (durable_log.hpp) after the runner wrote the image's ledger line
// (charge_image, with the image's uri and sha256) and before its manifest line was durable.
// The request was paid once and the ledger says so; the next run must not pay for it again.
//
// For each such line of this job and shard, in this job folder and mode (read from `from_day`
// on):
//   - the file at its uri is there with the recorded sha256: the image is adopted. Its manifest
//     line is written (with the ledger line's id, so nothing is charged again) and it counts as
//     done: no request, no second charge;
//   - otherwise (lost with the machine's power, deleted): its done_key is made again under a
//     new ledger id ("/remade-<ts>", as --remake-missing does), so the remake is charged as a
//     new request and the first payment stays recorded. `ledger verify` then reports the first
//     line as unrecorded_image, which is what happened: a paid image that was lost.
// A shard run takes its own shard's lines (and an unsharded run's lines of its rows); an unsharded
// run (it holds the whole job) takes every shard's, as it restores their manifests' ledger lines.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ledger/ledger_folder.hpp"
#include "ledger/manifest.hpp"
#include "storage/storage.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

struct PaidOrphans {
    std::vector<ledger::ManifestEntry> adopted;  // their manifest lines, written and durable
    std::vector<std::string> remade;             // done_keys to make again under a new id
};

struct AdoptOptions {
    std::string job_id;
    std::string shard;     // "I/N": only that shard's lines; "": every shard's
    std::string from_day;  // "YYYY-MM-DD": the first ledger day read
    std::string to_day;
    // Only lines of this run's mode whose image lies in this job folder (<out>/<job>, as the
    // manifest's uris spell it): the same input run to another --out is the same job id with
    // the same ledger, and its images are not this folder's (nor are a dry run's synthetic ones
    // a live run's).
    std::string job_dir;
    std::string mode;  // "live" | "dry_run"
    // A shard run: whether a scene id is one of its rows. A killed unsharded run's lines (shard
    // "") of those rows are adopted too: the job lock kept that run and this shard apart, and
    // no other run will adopt them before this shard makes them again.
    std::function<bool(const std::string& scene_id)> scene_in_shard;
};

// manifests: every manifest of the job this run sees (its own first, where adopted lines go).
util::Result<PaidOrphans> adopt_paid_images(const std::vector<std::string>& manifests,
                                            const ledger::LedgerLocation& ledger,
                                            storage::Storage& storage, const AdoptOptions& options);

}  // namespace assetgen::schedule
