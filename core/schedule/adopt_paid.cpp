#include "schedule/adopt_paid.hpp"

#include <unordered_set>

#include "provider/image_check.hpp"
#include "schedule/runner.hpp"
#include "util/hash.hpp"

namespace assetgen::schedule {

namespace {

// The manifest line a run would have written, from the ledger line and the file's bytes.
ledger::ManifestEntry adopted_line(const ledger::Entry& e, const std::string& data,
                                   const std::string& mime) {
    ledger::ManifestEntry m;
    m.ts = e.ts;
    m.job_id = e.job_id;
    m.user_id = e.user_id;
    m.scene_id = e.scene_id;
    m.variant = e.variant;
    m.prompt = e.prompt;
    m.uri = e.uri;
    m.sha256 = e.sha256;
    m.bytes = static_cast<std::int64_t>(data.size());
    m.mime = mime;
    m.cost = e.cost;
    m.estimated = e.estimated;
    m.model = e.model;
    m.mode = e.mode;
    m.ledger_id = e.id;
    m.shard = e.shard;
    m.tier = e.tier;
    return m;
}

}  // namespace

util::Result<PaidOrphans> adopt_paid_images(const std::vector<std::string>& manifests,
                                            const ledger::LedgerLocation& ledger,
                                            storage::Storage& storage,
                                            const AdoptOptions& options) {
    PaidOrphans out;
    if (manifests.empty()) {
        return out;
    }
    std::unordered_set<std::string> recorded;  // ledger ids the manifests name
    std::unordered_set<std::string> done;      // done_keys the manifests list
    std::vector<ledger::ReadIssue> issues;
    for (const auto& path : manifests) {
        TRY(ledger::read_manifest(
            path,
            [&](const ledger::ManifestEntry& m) {
                recorded.insert(m.ledger_id);
                done.insert(done_key(m.scene_id, m.variant));
            },
            &issues));
    }
    std::vector<ledger::Entry> orphans;
    std::unordered_set<std::string> seen;
    ledger::ReadOptions read;
    read.from_day = options.from_day;
    read.to_day = options.to_day;
    TRY(ledger::read_ledger(
        ledger, read,
        [&](const ledger::Entry& e) {
            // An unsharded run holds the whole job (no shard runs meanwhile): it adopts the
            // lines of killed shards too, as it restores their manifests' lines.
            const bool mine =
                options.shard.empty() || e.shard == options.shard ||
                (e.shard.empty() && options.scene_in_shard && options.scene_in_shard(e.scene_id));
            const bool here = e.uri.size() > options.job_dir.size() &&
                              e.uri.compare(0, options.job_dir.size(), options.job_dir) == 0 &&
                              e.uri[options.job_dir.size()] == '/' && e.mode == options.mode;
            if (e.job_id != options.job_id || !mine || !here || e.status != "ok" || e.images <= 0 ||
                e.uri.empty() || e.sha256.empty() || recorded.count(e.id) ||
                done.count(done_key(e.scene_id, e.variant)) || !seen.insert(e.id).second) {
                return;
            }
            orphans.push_back(e);
        },
        &issues));
    std::string lines;
    std::vector<std::string> lost;
    for (const auto& e : orphans) {
        const std::string key = done_key(e.scene_id, e.variant);
        if (done.count(key)) {
            continue;  // a later line of the same image was adopted already
        }
        // One image at a time in memory; a file that cannot be read is not whole.
        auto data = storage.get(e.uri);
        if (data.ok() && util::sha256_hex(*data) == e.sha256) {
            auto format = provider::inspect_image(*data);
            out.adopted.push_back(
                adopted_line(e, *data, format.ok() ? format->mime_type : std::string()));
            lines += ledger::to_line(out.adopted.back());
            done.insert(key);
        } else {
            lost.push_back(key);
        }
    }
    // A lost line's image is made again unless another line of it was adopted (a remake of a
    // lost image, itself killed in the window, names the same file with other bytes).
    for (const auto& key : lost) {
        if (done.insert(key).second) {
            out.remade.push_back(key);
        }
    }
    if (!lines.empty()) {
        TRY_ASSIGN(auto writer, ledger::ManifestWriter::open(manifests.front()));
        TRY(writer.append_lines(lines));
        TRY(writer.commit());
    }
    return out;
}

}  // namespace assetgen::schedule
