#include "ledger/manifest.hpp"

#include <filesystem>

#include "ledger/json_line.hpp"
#include "util/atomic_file.hpp"

namespace assetgen::ledger {

std::string to_line(const ManifestEntry& entry) {
    JsonLineWriter w;
    w.add_int("v", entry.v)
        .add_int("ts", entry.ts)
        .add_string("job_id", entry.job_id)
        .add_string("user_id", entry.user_id)
        .add_string("scene_id", entry.scene_id)
        .add_int("variant", entry.variant)
        .add_string("prompt", entry.prompt)
        .add_string("uri", entry.uri)
        .add_string("sha256", entry.sha256)
        .add_int("bytes", entry.bytes)
        .add_string("mime", entry.mime)
        .add_int("latency_ms", entry.latency_ms)
        .add_int("attempts", entry.attempts)
        .add_money("cost", entry.cost)
        .add_money("estimated", entry.estimated)
        .add_string("model", entry.model)
        .add_string("mode", entry.mode)
        .add_string("ledger_id", entry.ledger_id);
    if (!entry.signed_url.empty()) {
        w.add_string("signed_url", entry.signed_url);
        w.add_int("signed_url_expires", entry.signed_url_expires);
    }
    w.add_string("shard", entry.shard);
    if (!entry.content.empty()) {
        w.add_string("content", entry.content);
    }
    if (!entry.tier.empty() && entry.tier != "standard") {
        w.add_string("tier", entry.tier);
    }
    if (!entry.reservation.empty()) {
        w.add_string("reservation", entry.reservation);
        w.add_int("reservation_ts", entry.reservation_ts);
    }
    return w.finish();
}

util::Result<ManifestEntry> parse_manifest_line(std::string_view line) {
    TRY_ASSIGN(auto f, JsonLineFields::parse(line));
    ManifestEntry e;
    TRY_ASSIGN(e.v, f.get_int32("v"));
    if (e.v < 1) {
        return util::error(util::Code::invalid_input,
                           "v: \"" + std::to_string(e.v) + "\" is not a manifest version");
    }
    TRY_ASSIGN(e.ts, f.get_int("ts"));
    TRY_ASSIGN(e.job_id, f.get_string("job_id"));
    if (f.has("user_id")) {  // optional: added after the first manifests were written
        TRY_ASSIGN(e.user_id, f.get_string("user_id"));
    }
    TRY_ASSIGN(e.scene_id, f.get_string("scene_id"));
    TRY_ASSIGN(e.variant, f.get_int32("variant"));
    if (f.has("prompt")) {
        TRY_ASSIGN(e.prompt, f.get_string("prompt"));
    }
    TRY_ASSIGN(e.uri, f.get_string("uri"));
    TRY_ASSIGN(e.sha256, f.get_string("sha256"));
    TRY_ASSIGN(e.bytes, f.get_int("bytes"));
    TRY_ASSIGN(e.mime, f.get_string("mime"));
    TRY_ASSIGN(e.latency_ms, f.get_int("latency_ms"));
    TRY_ASSIGN(e.attempts, f.get_int32("attempts"));
    TRY_ASSIGN(e.cost, f.get_money("cost"));
    TRY_ASSIGN(e.estimated, f.get_money("estimated"));
    TRY_ASSIGN(e.model, f.get_string("model"));
    TRY_ASSIGN(e.mode, f.get_string("mode"));
    TRY_ASSIGN(e.ledger_id, f.get_string("ledger_id"));
    if (f.has("signed_url")) {
        TRY_ASSIGN(e.signed_url, f.get_string("signed_url"));
    }
    if (f.has("signed_url_expires")) {
        TRY_ASSIGN(e.signed_url_expires, f.get_int("signed_url_expires"));
    }
    TRY_ASSIGN(e.shard, f.get_string("shard"));
    if (f.has("content")) {  // optional: added after the first manifests were written
        TRY_ASSIGN(e.content, f.get_string("content"));
    }
    if (f.has("tier")) {  // optional: only on lines of another tier than standard
        TRY_ASSIGN(e.tier, f.get_string("tier"));
    }
    if (f.has("reservation")) {  // optional: only on images of a batch
        TRY_ASSIGN(e.reservation, f.get_string("reservation"));
        TRY_ASSIGN(e.reservation_ts, f.get_int("reservation_ts"));
    }
    return e;
}

util::Result<ManifestWriter> ManifestWriter::open(const std::string& path) {
    TRY_ASSIGN(auto file, util::AppendFile::open(path));
    // The file may be new: make its name durable too, once, here.
    auto dir = std::filesystem::path(path).parent_path().string();
    TRY(util::fsync_dir(dir.empty() ? "." : dir));
    ManifestWriter writer;
    writer.m_file = std::move(file);
    return writer;
}

util::Status ManifestWriter::append(const ManifestEntry& entry) {
    return m_file.append(to_line(entry));
}

util::Status ManifestWriter::append_lines(std::string_view lines) {
    return m_file.append(lines);
}

util::Status ManifestWriter::commit() {
    return m_file.sync();
}

util::Status read_manifest_at(
    const std::string& path,
    const std::function<void(const ManifestEntry&, const LinePlace&)>& on_entry,
    std::vector<ReadIssue>* issues) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return util::ok_status();
    }
    std::size_t line_no = 0;
    auto report = [&](std::size_t line, std::string message) {
        if (issues != nullptr) {
            issues->push_back(ReadIssue{path, line, std::move(message)});
        }
    };
    return util::read_lines(
        path,
        [&](std::string_view line) {
            ++line_no;
            auto entry = parse_manifest_line(line);
            if (entry.ok()) {
                on_entry(*entry, LinePlace{path, line_no});
            } else {
                report(line_no, entry.status().message());
            }
        },
        [&](std::string_view) { report(line_no + 1, k_torn_line_message); });
}

util::Status read_manifest(const std::string& path,
                           const std::function<void(const ManifestEntry&)>& on_entry,
                           std::vector<ReadIssue>* issues) {
    return read_manifest_at(
        path, [&](const ManifestEntry& entry, const LinePlace&) { on_entry(entry); }, issues);
}

}  // namespace assetgen::ledger
