#pragma once
// A job's manifest: <out>/<job>/manifest.jsonl, one JSON line per stored image, appended and
// fsynced after the image itself is durable. An image counts as done only once its manifest
// line is durable; a re-run skips what the manifest holds.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger_folder.hpp"
#include "util/append_file.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {

struct ManifestEntry {
    int v = 1;
    std::int64_t ts = 0;
    std::string job_id;
    std::string scene_id;
    int variant = 0;
    std::string uri;          // local path or gs:// URI of the image
    std::string sha256;       // of the image bytes
    std::int64_t bytes = 0;
    std::string mime;
    std::int64_t latency_ms = 0;
    int attempts = 0;
    util::Micros cost = 0;       // actual, written as dollars
    util::Micros estimated = 0;  // written as dollars
    std::string model;
    std::string mode;
    std::string ledger_id;       // the Entry::id of its ledger line
    std::string signed_url;      // "" unless --sign-urls
    std::int64_t signed_url_expires = 0;  // ms since epoch, 0 if none
    std::string shard;
};

std::string to_line(const ManifestEntry& entry);
util::Result<ManifestEntry> parse_manifest_line(std::string_view line);

// Appends manifest lines; commit() makes everything appended so far durable.
class ManifestWriter {
public:
    static util::Result<ManifestWriter> open(const std::string& path);
    util::Status append(const ManifestEntry& entry);
    util::Status commit();

private:
    util::AppendFile m_file;
};

// Reads a manifest; torn or bad lines are reported in issues and skipped. A missing file is an
// empty manifest.
util::Status read_manifest(const std::string& path,
                           const std::function<void(const ManifestEntry&)>& on_entry,
                           std::vector<ReadIssue>* issues);

}  // namespace assetgen::ledger
