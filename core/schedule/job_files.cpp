#include "schedule/job_files.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "ledger/manifest.hpp"
#include "util/append_file.hpp"
#include "util/atomic_file.hpp"
#include "util/hash.hpp"
#include "util/user_dirs.hpp"

namespace assetgen::schedule {

namespace {

std::string hex16(std::uint64_t v) {
    static const char* digits = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i) {
        out[static_cast<size_t>(i)] = digits[v & 0xf];
        v >>= 4;
    }
    return out;
}

}  // namespace

JobPlace job_place(const std::string& out, const std::string& job_id, const std::string& spool_dir,
                   const std::string& shard) {
    JobPlace p;
    p.job_id = job_id;
    p.dir = storage::join(out, job_id);
    p.shard = shard;
    const std::string below = shard.empty() ? std::string() : "/shards/" + shard;
    p.records = shard.empty() ? p.dir : storage::join(p.dir, "shards/" + shard);
    if (storage::is_gcs(out)) {
        p.local_root = spool_dir + "/jobs/" + hex16(util::fnv1a64(out)) + "-" + job_id;
        p.local_dir = p.local_root + below;
    } else {
        p.local_root = p.dir;
        p.local_dir = p.records;
    }
    return p;
}

util::Result<util::UserDir> default_spool_dir(const std::string& env_spool,
                                              const util::UserDirEnv& state_dirs) {
    if (!env_spool.empty()) {
        return util::UserDir{env_spool, ""};
    }
    return util::resolve_user_dir(util::UserDirKind::state, "assetgen/spool", state_dirs);
}

namespace {

// Each whole line of text (a torn last line is left out).
void for_each_line(const std::string& text, const std::function<void(std::string_view)>& on_line) {
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            break;
        }
        on_line(std::string_view(text.data() + start, nl - start));
        start = nl + 1;
    }
}

// The manifests of the job's other runs: the local ones, then (gs://) the published ones.
util::Status add_other_manifests(const JobPlace& place, storage::Storage& storage, JobHistory& h) {
    auto add = [&h](const ledger::ManifestEntry& m) {
        if (h.done
                .emplace(done_key(m.scene_id, m.variant),
                         DoneImage{m.uri, m.cost, m.content, m.reservation})
                .second) {
            ++h.images_elsewhere;
        }
    };
    const std::string own = place.shard.empty() ? std::string() : "shards/" + place.shard;
    std::vector<std::string> local;
    if (!own.empty()) {
        local.push_back(place.local_root + "/manifest.jsonl");
    }
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(place.local_root + "/shards", ec)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_directory(ec) && "shards/" + name != own) {
            local.push_back(entry.path().string() + "/manifest.jsonl");
        }
    }
    for (const auto& path : local) {
        std::vector<ledger::ReadIssue> ignored;  // another process may be appending right now
        TRY(ledger::read_manifest(path, add, &ignored));
    }
    if (!place.remote()) {
        return util::ok_status();
    }
    std::vector<std::string> published;
    if (!own.empty()) {
        published.push_back(storage::join(place.dir, "manifest.jsonl"));
    }
    TRY_ASSIGN(const auto listed, storage.list(storage::join(place.dir, "shards/")));
    for (const auto& object : listed) {
        const std::string suffix = "/manifest.jsonl";
        if (object.size() > suffix.size() &&
            object.compare(object.size() - suffix.size(), suffix.size(), suffix) == 0 &&
            object != place.published_manifest()) {
            published.push_back(object);
        }
    }
    for (const auto& object : published) {
        auto text = storage.get(object);
        if (!text.ok()) {
            if (text.status().code() == util::Code::not_found) {
                continue;
            }
            return text.status();
        }
        for_each_line(*text, [&](std::string_view line) {
            auto m = ledger::parse_manifest_line(line);
            if (m.ok()) {
                add(*m);
            }
        });
    }
    return util::ok_status();
}

}  // namespace

util::Result<JobHistory> open_job_history(const JobPlace& place, storage::Storage& storage) {
    if (place.remote()) {
        auto published = storage.get(place.published_manifest());
        if (!published.ok() && published.status().code() != util::Code::not_found) {
            return published.status();
        }
        if (published.ok() && !published->empty()) {
            std::unordered_set<std::string> have;
            TRY(ledger::read_manifest(
                place.manifest(),
                [&](const ledger::ManifestEntry& m) {
                    have.insert(done_key(m.scene_id, m.variant));
                },
                nullptr));
            std::string missing;
            std::size_t start = 0;
            const std::string& text = *published;
            while (start < text.size()) {
                std::size_t nl = text.find('\n', start);
                if (nl == std::string::npos) {
                    break;  // a torn last line of an interrupted upload cannot happen, but skip it
                }
                const std::string_view line(text.data() + start, nl - start);
                start = nl + 1;
                auto m = ledger::parse_manifest_line(line);
                if (m.ok() && have.insert(done_key(m->scene_id, m->variant)).second) {
                    missing.append(line);
                    missing.push_back('\n');
                }
            }
            if (!missing.empty()) {
                TRY_ASSIGN(auto file, util::AppendFile::open(place.manifest()));
                TRY(file.append(missing));
                TRY(file.sync());
            }
        }
    }
    TRY_ASSIGN(JobHistory h, load_history(place.manifest()));
    TRY(add_other_manifests(place, storage, h));
    return h;
}

std::vector<std::string> local_shard_manifests(const JobPlace& place) {
    std::vector<std::string> out;
    if (!place.shard.empty()) {
        return out;
    }
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(place.local_root + "/shards", ec)) {
        const std::string path = entry.path().string() + "/manifest.jsonl";
        if (entry.is_directory(ec) && std::filesystem::exists(path, ec)) {
            out.push_back(path);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

util::Result<std::vector<std::pair<std::string, std::string>>> missing_images(
    const JobPlace& place, const DoneIndex& done, storage::Storage& storage) {
    std::vector<std::pair<std::string, std::string>> missing;
    if (!storage::is_gcs(place.dir) || done.empty()) {
        return missing;
    }
    const std::string prefix = storage::join(place.dir, "");
    TRY_ASSIGN(const auto listed, storage.list(prefix));
    const std::unordered_set<std::string> present(listed.begin(), listed.end());
    for (const auto& [key, image] : done) {
        if (image.uri.rfind(prefix, 0) == 0 && !present.count(image.uri)) {
            missing.emplace_back(key, image.uri);
        }
    }
    return missing;
}

std::string snapshot_name(std::int64_t unix_ms) {
    const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(unix_ms % 1000));
    return std::string("state-") + buf + ms + ".json";
}

JobCheckpoints::JobCheckpoints(JobPlace place, storage::Storage& storage, util::Clock& clock)
    : m_place(std::move(place)), m_storage(storage), m_clock(clock) {}

util::Status JobCheckpoints::checkpoint(nlohmann::json state, bool synced) {
    std::lock_guard lock(m_mutex);
    if (m_place.remote()) {
        // The local manifest only grows, and every line in it is durable: any copy of it is a
        // correct (if not the latest) published manifest.
        auto local = util::read_file(m_place.manifest());
        if (!local.ok() && local.status().code() != util::Code::not_found) {
            return local.status();
        }
        TRY(m_storage.put(m_place.published_manifest(), local.ok() ? *local : std::string(),
                          "application/x-ndjson"));
    }
    const std::int64_t now = m_clock.unix_ms();
    std::string name = snapshot_name(now);
    if (name == m_last_name) {  // two checkpoints in one millisecond: keep both
        name.insert(name.size() - 5, "-" + std::to_string(m_count));
    }
    m_last_name = name;
    state["ts"] = now;
    state["snapshot"] = storage::join(m_place.records, name);
    const std::string text =
        state.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    auto put = [&](const std::string& location) {
        return synced ? m_storage.put(location, text, "application/json")
                      : m_storage.put_unsynced(location, text, "application/json");
    };
    TRY(put(storage::join(m_place.records, name)));
    TRY(put(storage::join(m_place.records, "state.json")));
    ++m_count;
    return util::ok_status();
}

std::uint64_t JobCheckpoints::count() const {
    std::lock_guard lock(m_mutex);
    return m_count;
}

}  // namespace assetgen::schedule
