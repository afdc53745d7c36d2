#include "schedule/gcs_job_lock.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "storage/gcs_wire.hpp"
#include "util/hash.hpp"
#include "util/json_fields.hpp"
#include "util/retry.hpp"
#include "util/text.hpp"

namespace assetgen::schedule {
namespace {

constexpr int k_doc_version = 1;

util::Status bad(const std::string& what) {
    return util::error(util::Code::invalid_input, "job lock document: " + what);
}

util::Result<std::int64_t> int_at(const nlohmann::json& j, const char* key,
                                  const std::string& where) {
    return util::json_int_at(j, key, where, "job lock document");
}

util::Result<std::string> string_at(const nlohmann::json& j, const char* key,
                                    const std::string& where) {
    return util::json_string_at(j, key, where, "job lock document");
}

// A time for people: UTC to the second.
std::string when(std::int64_t unix_ms) {
    std::string t = util::utc_timestamp(unix_ms);
    const auto dot = t.find('.');
    return dot == std::string::npos ? t : t.substr(0, dot) + "Z";
}

// "I-of-N" → "N"; "" → "".
std::string count_of(const std::string& shard) {
    const auto at = shard.rfind("-of-");
    return at == std::string::npos ? std::string() : shard.substr(at + 4);
}

// "I-of-N" → "I/N".
std::string shard_text(const std::string& shard) {
    const auto at = shard.rfind("-of-");
    return at == std::string::npos ? shard : shard.substr(0, at) + "/" + shard.substr(at + 4);
}

std::string random_id() {
    std::random_device rd;
    const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

// The document (an empty one for the job when there is none) and its generation (0 then).
util::Result<std::pair<JobLockDoc, std::int64_t>> read_document(storage::GcsClient& client,
                                                                const storage::GcsUrl& url,
                                                                const std::string& job_id) {
    auto read = client.read(url);
    if (!read.ok()) {
        if (read.status().code() == util::Code::not_found) {
            return std::make_pair(JobLockDoc{job_id, 0, {}}, std::int64_t{0});
        }
        return util::error(read.status().code(), url.to_string() + ": " + read.status().message());
    }
    auto parsed = parse_job_lock_doc(read->data);
    if (!parsed.ok()) {
        return util::error(util::Code::invalid_input,
                           url.to_string() + ": " + parsed.status().message() +
                               "; delete it once no run of the job is running");
    }
    return std::make_pair(std::move(parsed).value(), read->generation);
}

}  // namespace

std::string to_json(const JobLockDoc& doc) {
    nlohmann::json holders = nlohmann::json::object();
    for (const auto& [id, h] : doc.holders) {
        holders[id] = {{"shard", h.shard},
                       {"host", h.host},
                       {"pid", h.pid},
                       {"started_ms", h.started_ms},
                       {"expires_ms", h.expires_ms},
                       {"local", h.local}};
    }
    nlohmann::json j = {{"v", k_doc_version},
                        {"job", doc.job_id},
                        {"updated_ms", doc.updated_ms},
                        {"holders", std::move(holders)}};
    return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

util::Result<JobLockDoc> parse_job_lock_doc(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return bad("not a JSON object");
    }
    TRY_ASSIGN(const std::int64_t v, int_at(j, "v", ""));
    if (v != k_doc_version) {
        return bad("version " + std::to_string(v) + " is not known to this build (" +
                   std::to_string(k_doc_version) + "); use the newer assetgen");
    }
    JobLockDoc doc;
    TRY_ASSIGN(doc.job_id, string_at(j, "job", ""));
    TRY_ASSIGN(doc.updated_ms, int_at(j, "updated_ms", ""));
    auto holders = j.find("holders");
    if (holders == j.end() || !holders->is_object()) {
        return bad("holders must be an object");
    }
    for (const auto& [id, h] : holders->items()) {
        const std::string at = "holders." + id + ".";
        if (!h.is_object()) {
            return bad(at + " must be an object");
        }
        JobLockHolder holder;
        TRY_ASSIGN(holder.shard, string_at(h, "shard", at));
        TRY_ASSIGN(holder.host, string_at(h, "host", at));
        TRY_ASSIGN(holder.pid, int_at(h, "pid", at));
        TRY_ASSIGN(holder.started_ms, int_at(h, "started_ms", at));
        TRY_ASSIGN(holder.expires_ms, int_at(h, "expires_ms", at));
        TRY_ASSIGN(holder.local, string_at(h, "local", at));
        doc.holders.emplace(id, std::move(holder));
    }
    return doc;
}

std::string describe_holder(const JobLockHolder& h) {
    return "pid " + std::to_string(h.pid) + " on " + h.host +
           (h.shard.empty() ? std::string(" (unsharded)")
                            : " (shard " + shard_text(h.shard) + ")") +
           ", started " + when(h.started_ms);
}

JobLockDecision decide_job_lock(JobLockDoc& doc, const std::string& id, const JobLockHolder& me,
                                std::int64_t now_ms, std::int64_t grace_ms,
                                const std::string& where,
                                const std::function<bool(const JobLockHolder&)>& is_dead) {
    JobLockDecision d;
    JobLockDoc next = doc;
    for (auto it = next.holders.begin(); it != next.holders.end();) {
        if (it->first != id &&
            (now_ms > it->second.expires_ms + grace_ms || (is_dead && is_dead(it->second)))) {
            d.taken_over.emplace_back(it->first, it->second);
            it = next.holders.erase(it);
        } else {
            ++it;
        }
    }
    const std::string job = doc.job_id;
    const std::string wait =
        "; wait for it to finish (or stop it), or give this run another --job-id";
    for (const auto& [other_id, h] : next.holders) {
        if (other_id == id) {
            continue;
        }
        std::string why;
        if (me.shard.empty()) {
            why = "job " + job +
                  " is being run by another process right now (unsharded or a shard of it)";
        } else if (h.shard.empty()) {
            why = "job " + job + " is being run unsharded by another process right now, so shard " +
                  shard_text(me.shard) + " cannot run beside it";
        } else if (h.shard == me.shard) {
            why = "shard " + shard_text(me.shard) + " of job " + job +
                  " is being run by another process right now";
        } else if (count_of(h.shard) != count_of(me.shard)) {
            why = "job " + job + " is being run by shards of another count (" + count_of(h.shard) +
                  ") right now, so shard " + shard_text(me.shard) +
                  " cannot run beside them (their rows overlap)";
        } else {
            continue;  // another shard of the same count
        }
        d.refusal = why + ": " + describe_holder(h) + "; its lock " + where + " expires at " +
                    when(h.expires_ms + grace_ms) + " unless that run renews it" + wait;
        d.taken_over.clear();
        return d;
    }
    JobLockHolder& mine = next.holders[id];
    mine = me;
    next.updated_ms = now_ms;
    doc = std::move(next);
    d.granted = true;
    return d;
}

bool gone_from_this_host(const JobLockHolder& h, const std::string& host,
                         const std::string& local) {
    if (h.host != host || h.local != local || h.pid <= 0 || h.pid == ::getpid()) {
        return false;
    }
    return ::kill(static_cast<pid_t>(h.pid), 0) != 0 && errno == ESRCH;
}

util::Result<GcsJobLockOptions> job_lock_options(
    storage::GcsClient& client, const std::string& job_dir, const std::string& job_id,
    const std::string& shard, const std::string& local_root, std::chrono::milliseconds ttl) {
    GcsJobLockOptions o;
    o.client = &client;
    TRY_ASSIGN(o.document, storage::parse_gcs_url(job_dir + "/lock.json"));
    o.job_id = job_id;
    o.shard = shard;
    o.ttl = ttl;
    char host[256] = {};
    o.host = ::gethostname(host, sizeof host - 1) == 0 ? host : "?";
    o.pid = ::getpid();
    std::error_code ec;
    const auto local = std::filesystem::absolute(local_root, ec);
    o.local = ec ? local_root : local.lexically_normal().string();
    return o;
}

GcsJobLock::GcsJobLock(GcsJobLockOptions options, util::Clock& clock)
    : m_options(std::move(options)), m_clock(clock), m_id(random_id()) {}

util::Result<std::unique_ptr<GcsJobLock>> GcsJobLock::acquire(GcsJobLockOptions options,
                                                              util::Clock& clock) {
    if (options.client == nullptr) {
        return util::error(util::Code::config, "a job lock in Cloud Storage needs its client");
    }
    if (options.ttl < std::chrono::seconds(1)) {
        return util::error(util::Code::config, "--job-lock-ttl must be at least 1s");
    }
    std::unique_ptr<GcsJobLock> lock(new GcsJobLock(std::move(options), clock));
    lock->m_grace_ms = lock->m_options.ttl.count() / 4;
    lock->m_started_ms = clock.unix_ms();
    TRY(lock->update(Change::take));
    if (lock->m_options.renew_thread) {
        lock->m_thread = std::thread([p = lock.get()] { p->renew_loop(); });
    }
    return lock;
}

GcsJobLock::~GcsJobLock() {
    // The session releases it and reports the error; here (an early exit) it can only be said.
    if (auto st = release(); !st.ok()) {
        say("job lock: " + st.to_string() + " (the lock is taken over once it expires)");
    }
}

std::int64_t GcsJobLock::expires_ms() const {
    std::lock_guard lock(m_mutex);
    return m_expires_ms;
}

util::Status GcsJobLock::still_held() const {
    std::lock_guard lock(m_mutex);
    if (!m_lost.empty()) {
        return util::error(util::Code::config, m_lost);
    }
    if (m_held && m_clock.unix_ms() >= m_expires_ms) {
        return util::error(util::Code::config,
                           "job lock: this run's entry in " + m_options.document.to_string() +
                               " expired at " + when(m_expires_ms) +
                               " without a renewal (see the renewal errors above); another run "
                               "may take job " +
                               m_options.job_id + " over, so this run starts no new request");
    }
    return util::ok_status();
}

void GcsJobLock::say(const std::string& line) const {
    if (m_options.log) {
        m_options.log(line);
    }
}

util::Status GcsJobLock::update(Change change) {
    std::lock_guard doc_lock(m_doc_mutex);
    storage::GcsClient& client = *m_options.client;
    const storage::GcsUrl& url = m_options.document;
    const std::string where = url.to_string();
    // A 412 means another run changed the document first: read it again after a short,
    // jittered pause (5 ms doubling to 200 ms), a bounded number of times (it was unbounded).
    util::RetryPolicy rounds;
    rounds.max_attempts = 64;
    rounds.initial_backoff = std::chrono::milliseconds(5);
    rounds.max_backoff = std::chrono::milliseconds(200);
    rounds.jitter = util::Jitter::full;
    rounds.deadline = std::chrono::milliseconds(60'000);
    util::SplitMix jitter(util::fnv1a64(m_id));
    util::RetryHooks hooks;
    hooks.random = [&] { return jitter(); };
    auto round = [&](int) -> util::Status {
        if (change != Change::take) {
            std::lock_guard lock(m_mutex);
            if (!m_held) {
                return util::ok_status();
            }
        }
        TRY_ASSIGN(auto current, read_document(client, url, m_options.job_id));
        auto& [doc, generation] = current;
        const std::int64_t now = m_clock.unix_ms();
        storage::Preconditions pre;
        pre.if_generation_match = generation;
        JobLockDecision d;
        util::Status written = util::ok_status();
        if (change == Change::release) {
            doc.holders.erase(m_id);
            if (generation == 0) {
                written = util::ok_status();  // nothing to remove
            } else if (doc.holders.empty()) {
                written = client.remove(url, std::nullopt, pre);
                if (written.code() == util::Code::not_found) {
                    written = util::ok_status();  // a retried delete that had landed
                }
            } else {
                doc.updated_ms = now;
                written = client.upload(url, to_json(doc), "application/json", pre).status();
            }
        } else {
            if (change == Change::renew && doc.holders.count(m_id) == 0) {
                // Entries are dropped only by a run that was granted the job: another run holds
                // it now, or held it. Going on would pay for images that run pays for too.
                const std::string lost = "job lock: this run's entry in " + where +
                                         " expired unrenewed and another run took job " +
                                         m_options.job_id +
                                         " over; this run starts no new request (what it made is "
                                         "in the manifest; raise --job-lock-ttl if this machine "
                                         "stalls)";
                say(lost);
                std::lock_guard lock(m_mutex);
                m_held = false;
                m_lost = lost;
                return util::error(util::Code::config, lost);
            }
            JobLockHolder me{m_options.shard,
                             m_options.host,
                             m_options.pid,
                             m_started_ms,
                             now + m_options.ttl.count(),
                             m_options.local};
            d = decide_job_lock(doc, m_id, me, now, m_grace_ms, where,
                                [this](const JobLockHolder& h) {
                                    return gone_from_this_host(h, m_options.host, m_options.local);
                                });
            if (!d.granted) {
                return util::error(util::Code::config, d.refusal);
            }
            written = client.upload(url, to_json(doc), "application/json", pre).status();
        }
        if (!written.ok()) {
            if (!storage::is_precondition_failed(written)) {
                return util::error(written.code(), where + ": " + written.message());
            }
            return written;  // another run changed it first
        }
        for (const auto& [id, h] : d.taken_over) {
            say("job lock: took over job " + m_options.job_id + " from " + describe_holder(h) +
                ", whose lock in " + where + " expired at " + when(h.expires_ms) +
                " unrenewed (that run was killed or cut off); what its manifest lists counts as "
                "done");
        }
        std::lock_guard lock(m_mutex);
        m_held = change != Change::release;
        m_expires_ms = change == Change::release ? 0 : now + m_options.ttl.count();
        return util::ok_status();
    };
    auto updated = util::retry_loop(
        m_clock, rounds, round,
        [](const util::Status& st) {
            return util::RetryClass{storage::is_precondition_failed(st), true, std::nullopt};
        },
        hooks);
    if (updated.ok() || !storage::is_precondition_failed(updated.value)) {
        return updated.value;
    }
    return util::error(util::Code::storage_io, where + ": other runs changed it first " +
                                                   std::to_string(updated.attempts) +
                                                   " times in a row");
}

util::Status GcsJobLock::renew() {
    return update(Change::renew);
}

void GcsJobLock::renew_loop() {
    const auto every = m_options.ttl / 4;
    std::unique_lock lock(m_thread_mutex);
    // A real timed wait: renewal keeps the entry alive in wall-clock time for other machines.
    while (!m_wake.wait_for(lock, every, [&] { return m_stopping; })) {
        lock.unlock();
        if (auto st = renew(); !st.ok()) {
            say("job lock: renewing " + m_options.document.to_string() + " failed (retried in " +
                util::format_duration(every) + "): " + st.message());
        }
        lock.lock();
    }
}

util::Status GcsJobLock::release() {
    {
        std::lock_guard lock(m_thread_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
    return update(Change::release);
}

}  // namespace assetgen::schedule
