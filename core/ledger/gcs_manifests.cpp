#include "ledger/gcs_manifests.hpp"

#include <algorithm>

#include "ledger/job_manifests.hpp"
#include "storage/gcs_url.hpp"

namespace assetgen::ledger {

util::Result<std::vector<std::string>> find_gcs_manifests(storage::GcsClient& client,
                                                          const std::string& out) {
    TRY_ASSIGN(const storage::GcsUrl root, storage::parse_gcs_prefix(out));
    std::string prefix = root.object;
    if (!prefix.empty() && prefix.back() != '/') {
        prefix += '/';
    }
    TRY_ASSIGN(const auto listed, client.list(root.bucket, prefix));
    const std::string tail = "/manifest.jsonl";
    std::vector<std::string> found;
    for (const auto& o : listed) {
        const std::string_view rest = std::string_view(o.name).substr(prefix.size());
        // <job>/manifest.jsonl and <job>/shards/I-of-N/manifest.jsonl, as find_manifests
        // finds them in a local folder.
        if (rest.size() <= tail.size() || rest.substr(rest.size() - tail.size()) != tail) {
            continue;
        }
        const std::string_view folder = rest.substr(0, rest.size() - tail.size());
        const auto slash = folder.find('/');
        const bool job = slash == std::string_view::npos;
        const std::string_view below = job ? std::string_view() : folder.substr(slash + 1);
        const bool shard = !job && below.substr(0, 7) == "shards/" &&
                           is_shard_folder_name(std::string(below.substr(7)));
        if (job || shard) {
            found.push_back(storage::gcs_url(root.bucket, o.name));
        }
    }
    std::sort(found.begin(), found.end());
    return found;
}

void read_manifest_text(const std::string& name, std::string_view text,
                        const std::function<void(const ManifestEntry&, const LinePlace&)>& on_entry,
                        std::vector<ReadIssue>* issues) {
    std::size_t line_no = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t nl = text.find('\n', start);
        ++line_no;
        if (nl == std::string_view::npos) {
            if (issues != nullptr) {
                issues->push_back(ReadIssue{name, line_no, k_torn_line_message});
            }
            return;
        }
        const std::string_view line = text.substr(start, nl - start);
        start = nl + 1;
        auto entry = parse_manifest_line(line);
        if (entry.ok()) {
            on_entry(*entry, LinePlace{name, line_no});
        } else if (issues != nullptr) {
            issues->push_back(ReadIssue{name, line_no, entry.status().message()});
        }
    }
}

util::Status read_gcs_manifest_at(
    storage::GcsClient& client, const std::string& url,
    const std::function<void(const ManifestEntry&, const LinePlace&)>& on_entry,
    std::vector<ReadIssue>* issues) {
    TRY_ASSIGN(const storage::GcsUrl target, storage::parse_gcs_url(url));
    auto read = client.read(target);
    if (!read.ok()) {
        if (read.status().code() == util::Code::not_found) {
            return util::ok_status();
        }
        return util::error(read.status().code(), url + ": " + read.status().message());
    }
    read_manifest_text(url, read->data, on_entry, issues);
    return util::ok_status();
}

}  // namespace assetgen::ledger
