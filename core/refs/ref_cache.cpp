// How this works: blobs live in <dir>/blobs/<first two hex digits>/<sha256> and are written
// with the atomic-file helper, so a blob is whole or absent; a blob's name is its content hash,
// which is checked again on every read. <dir>/index.json ({"v":1,"urls":{...},"blobs":{...}})
// maps SHA-256(URL key) to the blob, its type and the HTTP freshness, and records each blob's
// size and last use. The index is read once, kept in memory, and rewritten atomically after
// every change. Eviction removes the least recently used blobs (and the URLs that point to
// them) until the total is within the limit.

#include "refs/ref_cache.hpp"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/atomic_file.hpp"
#include "util/hash.hpp"
#include "util/user_dirs.hpp"

namespace assetgen::refs {
namespace {

constexpr int k_index_version = 1;

std::string index_path(const std::string& dir) {
    return dir + "/index.json";
}

}  // namespace

std::string default_cache_dir(const util::UserDirEnv& env) {
    return util::preferred_user_dir(util::UserDirKind::cache, "assetgen/refs", env);
}

RefCache::RefCache(std::string dir, std::uint64_t max_bytes, util::Clock& clock)
    : m_dir(std::move(dir)), m_max_bytes(max_bytes), m_clock(clock) {
    while (m_dir.size() > 1 && m_dir.back() == '/') {
        m_dir.pop_back();
    }
    if (enabled()) {
        load();
    }
}

std::string RefCache::blob_path(const std::string& sha256) const {
    return m_dir + "/blobs/" + sha256.substr(0, 2) + "/" + sha256;
}

void RefCache::load() {
    auto text = util::read_file(index_path(m_dir));
    if (!text.ok()) {
        return;
    }
    auto doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || doc.value("v", 0) != k_index_version) {
        return;  // unreadable or from another version: start afresh, blobs get overwritten
    }
    try {
        for (const auto& [sha, b] : doc.at("blobs").items()) {
            Blob blob;
            blob.size = b.at("size").get<std::uint64_t>();
            blob.used = b.at("used").get<std::int64_t>();
            m_blobs[sha] = blob;
            m_last_use = std::max(m_last_use, blob.used);
        }
        for (const auto& [key, u] : doc.at("urls").items()) {
            UrlEntry e;
            e.display = u.value("url", "");
            e.sha256 = u.at("sha256").get<std::string>();
            e.mime_type = u.at("mime").get<std::string>();
            e.freshness.fresh_until_ms = u.value("fresh_until_ms", std::int64_t{0});
            e.freshness.etag = u.value("etag", "");
            e.freshness.last_modified = u.value("last_modified", "");
            if (m_blobs.count(e.sha256) != 0) {
                m_urls[key] = std::move(e);
            }
        }
    } catch (const nlohmann::json::exception&) {
        m_urls.clear();
        m_blobs.clear();
    }
}

util::Status RefCache::save_locked() {
    nlohmann::json urls = nlohmann::json::object();
    for (const auto& [key, e] : m_urls) {
        urls[key] = {{"url", e.display},         {"sha256", e.sha256},
                     {"mime", e.mime_type},      {"fresh_until_ms", e.freshness.fresh_until_ms},
                     {"etag", e.freshness.etag}, {"last_modified", e.freshness.last_modified}};
    }
    nlohmann::json blobs = nlohmann::json::object();
    for (const auto& [sha, b] : m_blobs) {
        blobs[sha] = {{"size", b.size}, {"used", b.used}};
    }
    nlohmann::json doc = {{"v", k_index_version}, {"urls", urls}, {"blobs", blobs}};
    return util::write_file_atomic(
        index_path(m_dir),
        doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

std::int64_t RefCache::next_use_locked() {
    m_last_use = std::max(m_clock.unix_ms(), m_last_use + 1);
    return m_last_use;
}

std::optional<CachedRef> RefCache::lookup(const std::string& url_key) {
    if (!enabled()) {
        return std::nullopt;
    }
    const std::string key = util::sha256_hex(url_key);
    CachedRef out;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_urls.find(key);
        if (it == m_urls.end()) {
            return std::nullopt;
        }
        out.sha256 = it->second.sha256;
        out.mime_type = it->second.mime_type;
        out.freshness = it->second.freshness;
    }
    auto data = util::read_file(blob_path(out.sha256));
    bool intact = data.ok() && util::sha256_hex(*data) == out.sha256;
    std::lock_guard lock(m_mutex);
    if (!intact) {
        // Missing or damaged: forget the blob and every URL that used it.
        std::error_code ec;
        std::filesystem::remove(blob_path(out.sha256), ec);
        m_blobs.erase(out.sha256);
        std::erase_if(m_urls, [&](const auto& kv) { return kv.second.sha256 == out.sha256; });
        // An index left unsaved still names the blob: the next lookup checks it again.
        save_locked().ignore_error();
        return std::nullopt;
    }
    if (auto blob = m_blobs.find(out.sha256); blob != m_blobs.end()) {
        blob->second.used = next_use_locked();
        // Only the eviction order: an unsaved use may evict this blob a little early.
        save_locked().ignore_error();
    }
    out.data = std::move(*data);
    return out;
}

util::Status RefCache::store(const std::string& url_key, const std::string& display,
                             std::string_view data, const std::string& sha256,
                             const std::string& mime_type, const Freshness& freshness) {
    if (!enabled() || !freshness.store || data.size() > m_max_bytes) {
        return util::ok_status();
    }
    const std::string path = blob_path(sha256);
    bool known = false;
    {
        std::lock_guard lock(m_mutex);
        known = m_blobs.count(sha256) != 0;
    }
    std::error_code ec;
    if (!known || std::filesystem::file_size(path, ec) != data.size() || ec) {
        TRY(util::write_file_atomic(path, data));
    }
    std::lock_guard lock(m_mutex);
    Blob& blob = m_blobs[sha256];
    blob.size = data.size();
    blob.used = next_use_locked();
    m_urls[util::sha256_hex(url_key)] = UrlEntry{display, sha256, mime_type, freshness};
    evict_locked(sha256);
    return save_locked();
}

util::Status RefCache::refresh(const std::string& url_key, const Freshness& freshness) {
    if (!enabled()) {
        return util::ok_status();
    }
    std::lock_guard lock(m_mutex);
    auto it = m_urls.find(util::sha256_hex(url_key));
    if (it == m_urls.end()) {
        return util::error(util::Code::not_found, "no cache entry to refresh");
    }
    if (!freshness.store) {
        m_urls.erase(it);
        return save_locked();
    }
    Freshness merged = freshness;
    // A 304 need not repeat the validators; keep the ones we had.
    if (merged.etag.empty()) {
        merged.etag = it->second.freshness.etag;
    }
    if (merged.last_modified.empty()) {
        merged.last_modified = it->second.freshness.last_modified;
    }
    it->second.freshness = merged;
    return save_locked();
}

std::uint64_t RefCache::size_bytes() const {
    std::lock_guard lock(m_mutex);
    std::uint64_t total = 0;
    for (const auto& [sha, b] : m_blobs) {
        total += b.size;
    }
    return total;
}

void RefCache::evict_locked(const std::string& keep) {
    std::uint64_t total = 0;
    for (const auto& [sha, b] : m_blobs) {
        total += b.size;
    }
    while (total > m_max_bytes) {
        auto victim = m_blobs.end();
        for (auto it = m_blobs.begin(); it != m_blobs.end(); ++it) {
            if (it->first != keep &&
                (victim == m_blobs.end() || it->second.used < victim->second.used)) {
                victim = it;
            }
        }
        if (victim == m_blobs.end()) {
            return;
        }
        std::error_code ec;
        std::filesystem::remove(blob_path(victim->first), ec);
        total -= victim->second.size;
        const std::string sha = victim->first;
        std::erase_if(m_urls, [&](const auto& kv) { return kv.second.sha256 == sha; });
        m_blobs.erase(victim);
    }
}

}  // namespace assetgen::refs
