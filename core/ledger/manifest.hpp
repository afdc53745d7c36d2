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
    std::string user_id;  // the ledger line's userId (so a lost ledger line can be rebuilt)
    std::string scene_id;
    int variant = 0;
    std::string prompt;  // the ledger line's prompt (likewise)
    std::string uri;     // local path or gs:// URI of the image
    std::string sha256;  // of the image bytes
    std::int64_t bytes = 0;
    std::string mime;
    std::int64_t latency_ms = 0;
    int attempts = 0;
    util::Micros cost = 0;       // actual, written as dollars
    util::Micros estimated = 0;  // written as dollars
    std::string model;
    std::string mode;
    std::string ledger_id;                // the Entry::id of its ledger line
    std::string signed_url;               // "" unless --sign-urls
    std::int64_t signed_url_expires = 0;  // ms since epoch, 0 if none
    std::string shard;
    // What the image was made from (schedule/content_key.hpp): a hash of the row's prompt, refs,
    // ref_mode, aspect ratio, model, image size, mode and the global refs. "" in lines written
    // before it was recorded.
    std::string content;
    // The ledger line's tier when it is not "standard" ("" means standard: lines written before
    // it was recorded, and every standard line), and, for an image of a batch, the reservation
    // its ledger line is bound to and that reservation's ts (ledger/reservations.hpp): so a
    // ledger line lost to a crash is rebuilt as it was written, priced tier and day included.
    std::string tier;
    std::string reservation;
    std::int64_t reservation_ts = 0;

    bool operator==(const ManifestEntry&) const = default;
};

// One JSON object, fields in the order above (signed_url and signed_url_expires only when
// there is a signed URL, content only when set), ending in '\n'.
std::string to_line(const ManifestEntry& entry);
// Parses one line (without '\n'). INVALID_INPUT naming the first bad or missing field.
util::Result<ManifestEntry> parse_manifest_line(std::string_view line);

// Appends manifest lines; commit() makes everything appended so far durable.
class ManifestWriter {
public:
    // Opens (creating folders and the file) for appending. STORAGE_IO on failure.
    static util::Result<ManifestWriter> open(const std::string& path);
    // Writes one line at once (not yet durable). STORAGE_IO on failure.
    util::Status append(const ManifestEntry& entry);
    // Writes whole lines (to_line's, one after another) at once (not yet durable).
    util::Status append_lines(std::string_view lines);
    // fsyncs: every line appended so far is durable. STORAGE_IO on failure.
    util::Status commit();

private:
    util::AppendFile m_file;
};

// Reads a manifest; torn or bad lines are reported in issues and skipped. A missing file is an
// empty manifest.
util::Status read_manifest(const std::string& path,
                           const std::function<void(const ManifestEntry&)>& on_entry,
                           std::vector<ReadIssue>* issues);

// As read_manifest, and tells on_entry where each entry was read (for `ledger verify`).
util::Status read_manifest_at(
    const std::string& path,
    const std::function<void(const ManifestEntry&, const LinePlace&)>& on_entry,
    std::vector<ReadIssue>* issues);

}  // namespace assetgen::ledger
