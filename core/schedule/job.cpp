#include "schedule/job.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <unordered_set>

#include "util/atomic_file.hpp"

#include "util/hash.hpp"
#include "util/safe_dir.hpp"

namespace assetgen::schedule {

std::string make_job_id(const JobIdentity& id) {
    std::string canon;
    auto add = [&](const std::string& k, const std::string& v) {
        canon += k;
        canon += '=';
        canon += v;
        canon += '\n';
    };
    add("input", id.input_sha256);
    add("mode", id.mode);
    add("model", id.model);
    add("image_size", id.image_size);
    add("max_variants", std::to_string(id.max_variants));
    add("ref_mode", id.default_ref_mode);
    for (const auto& r : id.global_refs) {
        add("global_ref", r);
    }
    add("shard", id.shard);
    return "job-" + util::sha256_hex(canon).substr(0, 16);
}

util::Status check_job_id(const std::string& id) {
    bool ok = !id.empty() && id.size() <= 100 && id != "." && id != "..";
    for (char c : id) {
        bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
        ok = ok && allowed;
    }
    if (!ok) {
        return util::error(util::Code::invalid_input,
                           "--job-id: \"" + id + "\" must be 1 to 100 of A-Z a-z 0-9 . _ -");
    }
    return util::ok_status();
}

util::Result<JobLock> JobLock::acquire(const std::string& job_dir, const std::string& job_id) {
    const std::string path = job_dir + "/.lock";
    TRY_ASSIGN(util::UniqueFd file, util::open_file(path, O_RDWR | O_CREAT));
    const int fd = file.release();
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return util::error(util::Code::config,
                           "job " + job_id + " is being run by another process right now; wait for it "
                           "to finish (or stop it), or give this run another --job-id");
    }
    // The job is ours now: temp files a killed run left (images, state) go.
    util::remove_orphan_temps(job_dir, static_cast<std::int64_t>(std::time(nullptr)), true);
    return JobLock(fd);
}

JobLock::~JobLock() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

util::Result<JobHistory> load_history(const std::string& manifest_path) {
    JobHistory h;
    TRY(ledger::read_manifest(
        manifest_path,
        [&](const ledger::ManifestEntry& m) {
            auto [it, inserted] = h.done.emplace(done_key(m.scene_id, m.variant), DoneImage{m.uri, m.cost});
            (void)it;
            if (inserted) {
                ++h.images;
            }
            if (h.first_ts == 0 || m.ts < h.first_ts) {
                h.first_ts = m.ts;
            }
        },
        &h.issues));
    return h;
}

util::Result<std::size_t> reconcile_ledger(const std::string& manifest_path,
                                           const ledger::LedgerLocation& ledger,
                                           ledger::LedgerWriter& writer, std::int64_t now_ms) {
    std::vector<ledger::ManifestEntry> entries;
    std::vector<ledger::ReadIssue> issues;
    TRY(ledger::read_manifest(manifest_path, [&](const ledger::ManifestEntry& m) { entries.push_back(m); },
                              &issues));
    if (entries.empty()) {
        return std::size_t{0};
    }
    std::int64_t first = entries.front().ts;
    for (const auto& m : entries) {
        first = std::min(first, m.ts);
    }
    std::unordered_set<std::string> ids;
    ledger::ReadOptions opts;
    opts.from_day = util::utc_date(first);
    opts.to_day = util::utc_date(now_ms + 86'400'000);
    TRY(ledger::read_ledger(ledger, opts,
                            [&](const ledger::Entry& e) {
                                if (e.job_id == entries.front().job_id) {
                                    ids.insert(e.id);
                                }
                            },
                            &issues));
    std::size_t added = 0;
    std::unordered_set<std::string> seen;
    for (const auto& m : entries) {
        if (m.ledger_id.empty() || ids.count(m.ledger_id) || !seen.insert(m.ledger_id).second) {
            continue;
        }
        ledger::Entry e;
        e.ts = m.ts;
        e.user_id = m.user_id;
        e.job_id = m.job_id;
        e.prompt = m.prompt;
        e.images = 1;
        e.cost = m.cost;
        e.id = m.ledger_id;
        e.scene_id = m.scene_id;
        e.variant = m.variant;
        e.model = m.model;
        e.mode = m.mode;
        e.status = "ok";
        e.estimated = m.estimated;
        e.shard = m.shard;
        TRY(writer.append(e));
        ++added;
    }
    if (added) {
        TRY(writer.flush());
    }
    return added;
}

}  // namespace assetgen::schedule
