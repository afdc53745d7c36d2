#pragma once
// The on-disk cache of fetched references: content-addressed blobs (named by SHA-256) and a
// small JSON index mapping each URL to its blob, type and HTTP freshness, so that a re-run
// fetches nothing it already has that is still fresh, and revalidates what is stale.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "refs/http_cache.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"
#include "util/user_dirs.hpp"

namespace assetgen::refs {

// $XDG_CACHE_HOME/assetgen/refs, else $HOME/.cache/assetgen/refs, else the per-user temp folder's
// (util::preferred_user_dir; nothing is created: the run resolves a writable one, see
// schedule/default_folders.hpp). env: the cache folders' variables (Context::places).
std::string default_cache_dir(const util::UserDirEnv& env);

// One URL's cached answer with its bytes.
struct CachedRef {
    std::string sha256;     // lower-case hex of data
    std::string mime_type;  // as sniffed when stored
    std::string data;
    Freshness freshness;
    // True while the answer may be used without asking the server.
    bool fresh(std::int64_t now_ms) const { return now_ms < freshness.fresh_until_ms; }
};

// Thread-safe. Best effort: a cache that cannot be read or written behaves as empty (the
// Status results say why, for tests and debug logs). Several processes may share a folder:
// blobs are written atomically and verified on read, so the worst a race does is lose index
// entries (the last index written wins), which costs a re-fetch, never a wrong image.
class RefCache {
public:
    // dir "" disables the cache. Blobs beyond max_bytes in total are evicted, least recently
    // used first. The index is read here; a missing or unreadable one starts empty.
    RefCache(std::string dir, std::uint64_t max_bytes, util::Clock& clock);

    bool enabled() const { return !m_dir.empty(); }
    // The entry stored for url_key with its bytes, whether fresh or stale (the caller decides),
    // marked as used; std::nullopt when there is none or its blob is missing or corrupt.
    std::optional<CachedRef> lookup(const std::string& url_key);
    // Stores data as the answer for url_key (shown as display in the index, which must hold no
    // secrets) and evicts old blobs beyond the limit. Does nothing when freshness.store is false
    // or data alone is over the limit. STORAGE_IO when the folder cannot be written.
    util::Status store(const std::string& url_key, const std::string& display,
                       std::string_view data, const std::string& sha256,
                       const std::string& mime_type, const Freshness& freshness);
    // Replaces the freshness of url_key's entry after a 304. NOT_FOUND without an entry.
    util::Status refresh(const std::string& url_key, const Freshness& freshness);
    // Total bytes of the blobs in the index.
    std::uint64_t size_bytes() const;

private:
    struct UrlEntry {
        std::string display;
        std::string sha256;
        std::string mime_type;
        Freshness freshness;
    };
    struct Blob {
        std::uint64_t size = 0;
        std::int64_t used = 0;  // last use, Unix ms made strictly increasing
    };

    void load();
    util::Status save_locked();
    void evict_locked(const std::string& keep);
    std::int64_t next_use_locked();
    std::string blob_path(const std::string& sha256) const;

    std::string m_dir;
    std::uint64_t m_max_bytes;
    util::Clock& m_clock;
    mutable std::mutex m_mutex;
    std::map<std::string, UrlEntry> m_urls;  // keyed by SHA-256 of the URL key: no secrets on disk
    std::map<std::string, Blob> m_blobs;     // keyed by content SHA-256
    std::int64_t m_last_use = 0;
};

}  // namespace assetgen::refs
