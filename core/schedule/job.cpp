#include "schedule/job.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <unordered_set>

#include "ledger/entry.hpp"
#include "util/append_file.hpp"
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
    add("mode", std::string(ledger::run_mode_name(id.mode)));
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

namespace {

// Opens (creating) a lock file and flocks it; -1 with errno when taken or on error.
int lock_file(const std::string& path, int how) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -1;
    }
    if (::flock(fd, how | LOCK_NB) != 0) {
        const int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

util::Status cannot_open(const std::string& path) {
    return util::io_error(path + ": cannot open", errno);
}

// "I-of-N" → "N".
std::string count_of(const std::string& shard) {
    const auto at = shard.rfind("-of-");
    return at == std::string::npos ? shard : shard.substr(at + 4);
}

std::string shard_text(const std::string& shard) {
    const auto at = shard.rfind("-of-");
    return at == std::string::npos ? shard : shard.substr(0, at) + "/" + shard.substr(at + 4);
}

}  // namespace

util::Result<JobLock> JobLock::acquire(const std::string& job_root, const std::string& shard,
                                       const std::string& job_id) {
    TRY(util::make_dirs(job_root));
    JobLock lock;
    const std::string wait =
        "; wait for it to finish (or stop it), or give this run another --job-id";
    const std::string root_lock = job_root + "/.lock";
    int fd = lock_file(root_lock, shard.empty() ? LOCK_EX : LOCK_SH);
    if (fd < 0) {
        if (errno != EWOULDBLOCK) {
            return cannot_open(root_lock);
        }
        return util::error(
            util::Code::config,
            shard.empty()
                ? "job " + job_id +
                      " is being run by another process right now (unsharded or a shard of it)" +
                      wait
                : "job " + job_id +
                      " is being run unsharded by another process right now, so shard " +
                      shard_text(shard) + " cannot run beside it" + wait);
    }
    lock.m_fds.push_back(fd);
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    if (shard.empty()) {
        // The job is ours now: temp files a killed run left (images, state) go.
        util::remove_orphan_temps(job_root, now, true);
        return lock;
    }
    const std::string shards_dir = job_root + "/shards";
    TRY(util::make_dirs(shards_dir + "/" + shard));
    const std::string own_lock = shards_dir + "/" + shard + "/.lock";
    fd = lock_file(own_lock, LOCK_EX);
    if (fd < 0) {
        if (errno != EWOULDBLOCK) {
            return cannot_open(own_lock);
        }
        return util::error(util::Code::config, "shard " + shard_text(shard) + " of job " + job_id +
                                                   " is being run by another process right now" +
                                                   wait);
    }
    lock.m_fds.push_back(fd);
    // The shard count: shared among the shards of one count; another count's holders are
    // found by trying their lock exclusively (two counts starting at once may both refuse,
    // never both run).
    const std::string count = count_of(shard);
    const std::string count_lock = shards_dir + "/.count-" + count + ".lock";
    fd = lock_file(count_lock, LOCK_SH);
    for (int tries = 0; fd < 0 && errno == EWOULDBLOCK && tries < 100; ++tries) {
        ::usleep(1000);  // another count's process is testing it this very moment
        fd = lock_file(count_lock, LOCK_SH);
    }
    if (fd < 0) {
        return errno == EWOULDBLOCK
                   ? util::error(
                         util::Code::config,
                         "job " + job_id + ": another shard count is starting right now" + wait)
                   : cannot_open(count_lock);
    }
    lock.m_fds.push_back(fd);
    util::remove_orphan_temps(shards_dir + "/" + shard, now, true);  // this shard's records
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(shards_dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(".count-", 0) != 0 || name == ".count-" + count + ".lock") {
            continue;
        }
        const std::string other = name.substr(7, name.size() - 7 - 5);
        const int probe = lock_file(entry.path().string(), LOCK_EX);
        if (probe >= 0) {
            ::close(probe);
            continue;
        }
        return util::error(util::Code::config,
                           "job " + job_id + " is being run by shards of another count (" + other +
                               ") right now, so shard " + shard_text(shard) +
                               " cannot run beside them (their rows overlap)" + wait);
    }
    return lock;
}

JobLock::~JobLock() {
    for (int fd : m_fds) {
        ::close(fd);
    }
}

util::Result<JobHistory> load_history(const std::string& manifest_path) {
    JobHistory h;
    TRY(ledger::read_manifest(
        manifest_path,
        [&](const ledger::ManifestEntry& m) {
            auto [it, inserted] =
                h.done.emplace(done_key(m.scene_id, m.variant),
                               DoneImage{m.uri, m.cost, m.content, m.reservation});
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
                                           ledger::LedgerWriter& writer, std::int64_t now_ms,
                                           const std::unordered_set<std::string>& known_ids) {
    return reconcile_ledger(std::vector<std::string>{manifest_path}, ledger, writer, now_ms,
                            known_ids);
}

util::Result<std::size_t> reconcile_ledger(const std::vector<std::string>& manifest_paths,
                                           const ledger::LedgerLocation& ledger,
                                           ledger::LedgerWriter& writer, std::int64_t now_ms,
                                           const std::unordered_set<std::string>& known_ids) {
    std::vector<ledger::ManifestEntry> entries;
    std::vector<ledger::ReadIssue> issues;
    for (const auto& manifest_path : manifest_paths) {
        TRY(ledger::read_manifest(
            manifest_path, [&](const ledger::ManifestEntry& m) { entries.push_back(m); }, &issues));
    }
    if (entries.empty()) {
        return std::size_t{0};
    }
    // A batch's lines carry their reservation's ts, which may be days before the image's.
    const auto ledger_ts = [](const ledger::ManifestEntry& m) {
        return m.reservation.empty() ? m.ts : m.reservation_ts;
    };
    std::int64_t first = ledger_ts(entries.front());
    for (const auto& m : entries) {
        first = std::min(first, ledger_ts(m));
    }
    std::unordered_set<std::string> ids;
    ledger::ReadOptions opts;
    opts.from_day = util::utc_date(first);
    opts.to_day = util::utc_date(now_ms + 86'400'000);
    TRY(ledger::read_ledger(
        ledger, opts,
        [&](const ledger::Entry& e) {
            if (e.job_id == entries.front().job_id) {
                ids.insert(e.id);
            }
        },
        &issues));
    std::size_t added = 0;
    std::unordered_set<std::string> seen;
    for (const auto& m : entries) {
        if (m.ledger_id.empty() || ids.count(m.ledger_id) || known_ids.count(m.ledger_id) ||
            !seen.insert(m.ledger_id).second) {
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
        if (!m.tier.empty()) {
            e.tier = m.tier;
        }
        if (!m.reservation.empty()) {  // as ledger::bind_to_reservation wrote it
            e.ts = m.reservation_ts;
            e.reservation = m.reservation;
            e.recorded_ts = now_ms;
        }
        TRY(writer.append(e));
        ++added;
    }
    if (added) {
        TRY(writer.flush());
    }
    return added;
}

util::Result<std::unordered_set<std::string>> spooled_ledger_ids(const std::string& spool_dir) {
    std::unordered_set<std::string> ids;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(spool_dir, ec)) {
        if (entry.path().extension() != ".jsonl") {
            continue;
        }
        TRY(util::read_lines(
            entry.path().string(),
            [&](std::string_view line) {
                if (auto e = ledger::parse_line(line); e.ok() && !e->id.empty()) {
                    ids.insert(e->id);
                }
            },
            [](std::string_view) {}));
    }
    return ids;
}

}  // namespace assetgen::schedule
