#include "ledger/audit.hpp"

// `ledger verify`: one streaming pass over the day files through read_ledger_at, keeping one map
// from id to the place it was first seen (for duplicates) and one total per job (for the
// manifest checks), then each job's manifests read once. Memory grows with the number of jobs
// and ids, not with lines. The reservation findings are in audit_reservations.cpp.

#include <algorithm>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "ledger/gcs_manifests.hpp"
#include "ledger/job_manifests.hpp"
#include "ledger/manifest.hpp"
#include "storage/storage.hpp"
#include "util/money.hpp"
#include "util/text.hpp"

namespace assetgen::ledger {
namespace {

namespace fs = std::filesystem;
using util::Code;

std::string place(std::string_view file, std::size_t line) {
    return std::string(file) + ":" + std::to_string(line);
}

// ReadIssues become findings: torn lines apart, everything else a bad line.
void add_issue_findings(const std::vector<ReadIssue>& issues, std::vector<Finding>& out) {
    for (const auto& issue : issues) {
        const bool torn = issue.message == k_torn_line_message;
        out.push_back(Finding{torn ? FindingKind::torn_line : FindingKind::bad_line,
                              place(issue.file, issue.line), issue.message});
    }
}

std::string shard_name(const std::string& shard) {
    return shard.empty() ? "unsharded" : "by shard " + shard;
}

// bad_cost and cost_vs_tokens for one line.
void check_cost(const Entry& e, const std::string& here, const VerifyOptions& options,
                std::vector<Finding>& findings) {
    if (!e.cost_problem.empty()) {
        findings.push_back(Finding{FindingKind::bad_cost, here,
                                   e.cost_problem + " (the budget counts it as " +
                                       util::format_usd(e.cost) + ", never as a credit)"});
        return;
    }
    if (e.cost > k_absurd_line_cost) {
        findings.push_back(Finding{FindingKind::bad_cost, here,
                                   "cost: " + util::format_usd(e.cost) +
                                       " is absurd for one request (above " +
                                       util::format_usd(k_absurd_line_cost) + ")"});
        return;
    }
    if (!e.has_tokens || !options.expected_cost) {
        return;
    }
    const std::optional<util::Micros> expected = options.expected_cost(e);
    if (expected && *expected != e.cost) {
        findings.push_back(Finding{
            FindingKind::cost_vs_tokens, here,
            "cost " + util::format_usd(e.cost) + " disagrees with its tokens (prompt " +
                std::to_string(e.prompt_tokens) + ", output " + std::to_string(e.output_tokens) +
                (e.output_image_tokens >= 0
                     ? " of which image " + std::to_string(e.output_image_tokens)
                     : "") +
                ", thoughts " + std::to_string(e.thoughts_tokens) + "): " + e.model +
                " prices them at " + util::format_usd(*expected)});
    }
}

struct JobTotals {
    std::int64_t images = 0;
    util::Micros cost = 0;
};

}  // namespace

std::string_view finding_kind_name(FindingKind kind) {
    switch (kind) {
        case FindingKind::bad_line:
            return "bad_line";
        case FindingKind::torn_line:
            return "torn_line";
        case FindingKind::unknown_version:
            return "unknown_version";
        case FindingKind::duplicate_id:
            return "duplicate_id";
        case FindingKind::missing_ledger_entry:
            return "missing_ledger_entry";
        case FindingKind::image_mismatch:
            return "image_mismatch";
        case FindingKind::cost_mismatch:
            return "cost_mismatch";
        case FindingKind::bad_cost:
            return "bad_cost";
        case FindingKind::cost_vs_tokens:
            return "cost_vs_tokens";
        case FindingKind::unrecorded_image:
            return "unrecorded_image";
        case FindingKind::shard_overlap:
            return "shard_overlap";
        case FindingKind::settle_without_reserve:
            return "settle_without_reserve";
        case FindingKind::settled_twice:
            return "settled_twice";
        case FindingKind::stale_reservation:
            return "stale_reservation";
        case FindingKind::settle_mismatch:
            return "settle_mismatch";
        case FindingKind::paid_without_reserve:
            return "paid_without_reserve";
        case FindingKind::paid_after_settle:
            return "paid_after_settle";
    }
    return "bad_line";
}

std::string Finding::to_string() const {
    return where + ": " + message;
}

util::Result<std::vector<Finding>> verify(const LedgerLocation& folder,
                                          const std::vector<std::string>& manifest_paths,
                                          const VerifyOptions& options) {
    TRY_ASSIGN(VerifyReport report, verify_report(folder, manifest_paths, options));
    return std::move(report.findings);
}

util::Result<VerifyReport> verify_report(const LedgerLocation& folder,
                                         const std::vector<std::string>& manifest_paths,
                                         const VerifyOptions& options) {
    VerifyReport report;
    std::vector<Finding>& findings = report.findings;
    TRY_ASSIGN(const auto day_files, list_day_files(folder, ReadOptions{}));
    report.files = day_files.size();
    std::vector<ReadIssue> issues;
    std::unordered_map<std::string, std::string> first_seen;  // id → "<file>:<line>"
    std::unordered_map<std::string, JobTotals> ledger_ok;     // job → ok images and cost
    // job → (id, place) of its ok lines with images, for unrecorded_image
    std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> ok_images;
    // "<job>\n<scene>\n<variant>" → (shard, place) of its first ok line, for shard_overlap
    std::unordered_map<std::string, std::pair<std::string, std::string>> charged;
    ReservationBook reservations;

    // Ledger: issues are flushed into findings after each line so that findings stay in
    // read order (an issue is always reported before the next good line is).
    TRY(read_ledger_at(
        folder, ReadOptions{},
        [&](const Entry& e, const LinePlace& at) {
            add_issue_findings(issues, findings);
            issues.clear();
            ++report.entries;
            const std::string here = place(at.file, at.line);
            if (e.v > k_schema_version) {
                findings.push_back(Finding{FindingKind::unknown_version, here,
                                           "v: " + std::to_string(e.v) +
                                               " is newer than this build knows (" +
                                               std::to_string(k_schema_version) + ")"});
            }
            if (!e.id.empty()) {
                auto [it, fresh] = first_seen.emplace(e.id, here);
                if (!fresh) {
                    findings.push_back(
                        Finding{FindingKind::duplicate_id, here,
                                "duplicate id \"" + e.id + "\" (first at " + it->second + ")"});
                }
            }
            check_cost(e, here, options, findings);
            reservations.add(e, here);
            if (e.status == "ok") {
                auto& job = ledger_ok[e.job_id];
                job.images += e.images;
                job.cost = util::add_sat(job.cost, e.cost);
                if (e.images > 0 && !e.id.empty()) {
                    ok_images[e.job_id].emplace_back(e.id, here);
                }
                if (e.v >= 1 && e.images > 0) {
                    const std::string key =
                        e.job_id + '\n' + e.scene_id + '\n' + std::to_string(e.variant);
                    auto [it, fresh] = charged.emplace(key, std::make_pair(e.shard, here));
                    if (!fresh && it->second.first != e.shard) {
                        findings.push_back(Finding{
                            FindingKind::shard_overlap, here,
                            "scene_id \"" + e.scene_id + "\" v" + std::to_string(e.variant) +
                                " of job " + e.job_id + " is charged " + shard_name(e.shard) +
                                " here and " + shard_name(it->second.first) + " at " +
                                it->second.second + ": one image paid twice"});
                    }
                }
            }
        },
        &issues));
    add_issue_findings(issues, findings);
    add_reservation_findings(reservations, options.now_ms, report);

    // A job's manifests are checked as one set: its own and its shards' (job_manifests.hpp).
    for (const auto& group : group_job_manifests(manifest_paths)) {
        const std::string path = group.name();
        std::vector<ReadIssue> manifest_issues;
        std::map<std::string, JobTotals> manifest_jobs;              // job → images, cost
        std::unordered_map<std::string, std::string> manifest_seen;  // ledger_id → place
        std::unordered_set<std::string> image_seen;  // each image once over the set's files
        std::unordered_set<std::string> file_seen;   // ledger_ids of the file being read
        const std::function<void(const ManifestEntry&, const LinePlace&)> on_manifest_line =
            [&](const ManifestEntry& m, const LinePlace& at) {
                add_issue_findings(manifest_issues, findings);
                manifest_issues.clear();
                ++report.manifest_lines;
                const std::string here = place(at.file, at.line);
                // The merged manifest repeats its shards' lines: one image, counted once.
                const std::string image = m.ledger_id.empty()
                                              ? m.job_id + '\n' + m.scene_id + '\n' +
                                                    std::to_string(m.variant) + '\n' + m.uri
                                              : m.ledger_id;
                const bool again_in_file = !m.ledger_id.empty() && !file_seen.insert(image).second;
                if (!image_seen.insert(image).second && !again_in_file) {
                    return;
                }
                auto& job = manifest_jobs[m.job_id];
                job.images += 1;
                job.cost += m.cost;
                if (m.ledger_id.empty()) {
                    return;
                }
                auto [it, fresh] = manifest_seen.emplace(m.ledger_id, here);
                if (!fresh) {
                    findings.push_back(Finding{FindingKind::duplicate_id, here,
                                               "duplicate ledger_id \"" + m.ledger_id +
                                                   "\" (first at " + it->second + ")"});
                }
                if (first_seen.count(m.ledger_id) == 0) {
                    findings.push_back(
                        Finding{FindingKind::missing_ledger_entry, here,
                                "ledger_id \"" + m.ledger_id + "\" is in no ledger line"});
                }
            };
        for (const auto& file : group.paths) {
            file_seen.clear();
            if (storage::is_gcs(file)) {
                if (options.manifests_gcs == nullptr) {
                    return util::error(Code::config,
                                       file + ": a gs:// manifest needs a Cloud Storage client");
                }
                TRY(read_gcs_manifest_at(*options.manifests_gcs, file, on_manifest_line,
                                         &manifest_issues));
            } else {
                TRY(read_manifest_at(file, on_manifest_line, &manifest_issues));
            }
            add_issue_findings(manifest_issues, findings);
            manifest_issues.clear();
        }
        for (const auto& [job, m] : manifest_jobs) {
            auto it = ok_images.find(job);
            if (it == ok_images.end()) {
                continue;
            }
            for (const auto& [id, at] : it->second) {
                if (manifest_seen.count(id) == 0) {
                    findings.push_back(Finding{FindingKind::unrecorded_image, at,
                                               "ok line \"" + id + "\" has no image in " + path});
                }
            }
        }
        for (const auto& [job, m] : manifest_jobs) {
            const JobTotals l = ledger_ok.count(job) ? ledger_ok.at(job) : JobTotals{};
            const std::string where = "job " + job;
            if (m.images != l.images) {
                findings.push_back(Finding{FindingKind::image_mismatch, where,
                                           "manifest " + path + " has " + std::to_string(m.images) +
                                               " images, the ledger has " +
                                               std::to_string(l.images) + " ok images"});
            }
            if (m.cost != l.cost) {
                findings.push_back(
                    Finding{FindingKind::cost_mismatch, where,
                            "manifest " + path + " costs " + util::format_usd(m.cost) +
                                ", the ledger's ok lines " + util::format_usd(l.cost)});
            }
        }
    }
    return report;
}

util::Result<std::vector<std::string>> find_manifests(const std::string& out_folder) {
    std::vector<std::string> paths;
    std::error_code ec;
    if (!fs::exists(out_folder, ec)) {
        return paths;
    }
    fs::directory_iterator it(out_folder, ec);
    if (ec) {
        return util::io_error(out_folder + ": cannot list", ec.value());
    }
    for (const auto& dirent : it) {
        if (!dirent.is_directory(ec)) {
            continue;
        }
        auto manifest = dirent.path() / "manifest.jsonl";
        if (fs::is_regular_file(manifest, ec)) {
            paths.push_back(manifest.string());
        }
        // A sharded job's records: <job>/shards/I-of-N/manifest.jsonl, before and after --merge.
        for (const auto& shard : fs::directory_iterator(dirent.path() / "shards", ec)) {
            manifest = shard.path() / "manifest.jsonl";
            if (is_shard_folder_name(shard.path().filename().string()) &&
                fs::is_regular_file(manifest, ec)) {
                paths.push_back(manifest.string());
            }
        }
    }
    std::sort(paths.begin(), paths.end());
    return paths;
}

}  // namespace assetgen::ledger
