#pragma once
// The job manifests of a gs:// output folder, for `ledger verify`: found with one list of
// <out>/ (gs://…/<out>/<job>/manifest.jsonl and its shards', the published copies) and read whole,
// with the same line checks as a local manifest (ledger/manifest.hpp).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger_folder.hpp"
#include "ledger/manifest.hpp"
#include "storage/gcs_client.hpp"
#include "util/status.hpp"

namespace assetgen::ledger {

// gs://bucket/<prefix>/<job>/manifest.jsonl for every job below out ("gs://bucket[/prefix]"),
// and each shard's <job>/shards/I-of-N/manifest.jsonl, sorted; none when there are none.
// INVALID_INPUT for a bad URL; the client's codes otherwise.
util::Result<std::vector<std::string>> find_gcs_manifests(storage::GcsClient& client,
                                                          const std::string& out);

// Reads the manifest lines of text (named name in places and issues): bad lines and a torn
// last line (no '\n') become issues.
void read_manifest_text(const std::string& name, std::string_view text,
                        const std::function<void(const ManifestEntry&, const LinePlace&)>& on_entry,
                        std::vector<ReadIssue>* issues);

// As read_manifest_at for a gs:// manifest (a missing object is an empty manifest).
util::Status read_gcs_manifest_at(
    storage::GcsClient& client, const std::string& url,
    const std::function<void(const ManifestEntry&, const LinePlace&)>& on_entry,
    std::vector<ReadIssue>* issues);

}  // namespace assetgen::ledger
