#pragma once
// Reference images for the rows of one batch: fetched through one pool, each distinct ref once
// per batch (rows naming the same ref share the fetch, even while it is in flight), cached on
// disk across runs, checked (address guard, size, type sniffed from the bytes), then merged
// per row: row refs before global refs, duplicates by URL and by content removed, capped.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/http.hpp"
#include "refs/address_guard.hpp"
#include "refs/ref_cache.hpp"
#include "refs/ref_location.hpp"
#include "storage/storage.hpp"
#include "util/clock.hpp"
#include "util/retry.hpp"
#include "util/status.hpp"

namespace assetgen::refs {

// What happens to a row when one of its refs cannot be used (--ref-failure).
enum class RefFailurePolicy {
    fail,  // the row fails with REF_FETCH_FAILED
    skip,  // the ref is dropped (and reported); the row goes on without it
};

struct RefsOptions {
    std::size_t concurrency = 4;                // fetches in flight for the whole batch
    std::chrono::milliseconds timeout{10'000};  // per HTTP request (each redirect hop)
    int retries = 2;  // extra attempts after a transient failure (http(s) and gs://)
    // Waits between HTTP attempts: 1 s, then 2 s (and 2 s after that), no jitter.
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{2000};
    std::size_t max_refs = 6;                   // refs kept per row, after de-duplication
    std::size_t max_bytes_per_ref = 20u << 20;  // a larger ref is refused
    // Budget for a row's refs inline in one request, counted as base64 (4 bytes per 3): the
    // caller passes the request limit minus what the prompt needs. Refs that would go over
    // are dropped (reported), in order.
    std::size_t max_total_bytes = 20u << 20;
    bool allow_private = false;  // --allow-private-refs
    RefFailurePolicy failure_policy = RefFailurePolicy::fail;
    std::string cache_dir;  // "" = no disk cache; see default_cache_dir()
    std::uint64_t cache_max_bytes = 1ull << 30;
    // A dry run without --fetch-refs: refs are merged, de-duplicated by address and capped, but
    // nothing is fetched or read (no network, no DNS, no file); each planned ref comes back
    // with its URL and no bytes. A ref that is not a valid address still fails (or is skipped).
    bool plan_only = false;
    std::string base_dir;  // relative local paths start here (batch's folder; "" = working folder)
    // Local files are read only from base_dir and these folders (--allow-local-refs), checked
    // on the file actually opened (symbolic links resolved); others fail as outside.
    std::vector<std::string> allowed_local_dirs;
    int max_redirects = 5;
    // Called before each HTTP attempt with the URL to fetch; a value replaces it (e.g. a
    // re-signed V4 URL when the old one expires soon). Must be thread-safe.
    std::function<std::optional<std::string>(const std::string& url)> resign;
};

// One usable reference image.
struct FetchedRef {
    std::string mime_type;  // image/png, image/jpeg, image/webp, image/heic or image/heif
    std::string data;       // raw bytes
    std::string sha256;     // lower-case hex of data
    std::string url;        // the ref as shown in messages (no query string)
};

enum class DropReason {
    duplicate_url,      // names the same URL as an earlier ref (after normalisation)
    duplicate_content,  // its bytes equal an earlier ref's
    over_cap,           // beyond max_refs
    over_total_bytes,   // would push the row's inline data over max_total_bytes
    failed,             // could not be used, and the policy is skip
};

// "duplicate_url", "duplicate_content", "over_cap", "over_total_bytes", "failed".
std::string_view drop_reason_name(DropReason reason);

struct DroppedRef {
    std::string url;  // as shown in messages (no query string)
    DropReason reason;
    std::string message;  // "<where>: refs: \"<url>\" dropped: duplicate content of \"<other>\""
};

struct ResolvedRefs {
    std::vector<FetchedRef> refs;     // in order: row refs, then global refs
    std::vector<DroppedRef> dropped;  // in the order the refs were written
};

// Counters for the summary and events; refs de-duplicated or dropped count once per row,
// fetches, hits and bytes once per distinct ref of the batch.
struct RefStats {
    std::uint64_t fetched = 0;            // downloaded (HTTP 200 bodies and gs:// reads)
    std::uint64_t cache_hits = 0;         // served fresh from the disk cache, nothing sent
    std::uint64_t revalidated = 0;        // served from the disk cache after a 304
    std::uint64_t local_reads = 0;        // local files read
    std::uint64_t bytes_fetched = 0;      // bytes downloaded (bodies only)
    std::uint64_t attempts = 0;           // HTTP and gs:// attempts, retries included
    std::uint64_t retries = 0;            // attempts after a transient failure
    std::uint64_t failed = 0;             // distinct refs that could not be used
    std::uint64_t duplicate_urls = 0;     // removed from rows as the same URL
    std::uint64_t duplicate_content = 0;  // removed from rows as the same bytes
    std::uint64_t dropped_by_cap = 0;     // beyond max_refs
    std::uint64_t dropped_by_size = 0;    // over max_total_bytes
    std::uint64_t skipped = 0;            // failed refs dropped under RefFailurePolicy::skip
    std::uint64_t planned = 0;            // plan_only: distinct refs that would be fetched
};

// Thread-safe: rows may be resolved from several threads at once. The fetched images stay in
// memory until the fetcher is destroyed (one copy per distinct ref), so rows share them.
class RefFetcher {
public:
    // transport, resolver, clock and storage must outlive the fetcher. storage reads gs://
    // refs (nullptr: they fail with CONFIG_ERROR); local files are read directly, from the
    // allowed folders only. Starts options.concurrency worker threads.
    RefFetcher(RefsOptions options, net::HttpTransport& transport, storage::Storage* storage,
               util::Clock& clock, Resolver& resolver);
    // Stops the workers; fetches still queued fail with CANCELLED.
    ~RefFetcher();
    RefFetcher(const RefFetcher&) = delete;
    RefFetcher& operator=(const RefFetcher&) = delete;

    // The refs of one row, merged (see the file comment) and fetched as needed; refs beyond
    // the cap are reported, never fetched. where names the row in messages ("batch.csv:12").
    // REF_FETCH_FAILED naming every failed ref (URL without query) under the fail policy;
    // never fails under the skip policy.
    util::Result<ResolvedRefs> resolve_row(const std::vector<std::string>& row_refs,
                                           const std::vector<std::string>& global_refs,
                                           const std::string& where);

    // A snapshot of the counters.
    RefStats stats() const;

private:
    // What became of one distinct ref: the image, or a message that follows its quoted URL.
    struct Outcome {
        util::Status status;
        std::shared_ptr<const FetchedRef> ref;
    };
    struct Task {
        RefLocation location;
        std::promise<Outcome> promise;
    };

    std::shared_future<Outcome> start(const RefLocation& location);
    void work();
    Outcome fetch(const RefLocation& location);
    Outcome fetch_http(const RefLocation& location);
    Outcome fetch_stored(const RefLocation& location);
    // A local file's bytes, when it lies in base_dir or allowed_local_dirs and is a regular
    // file within the size limit; the error's message follows the quoted ref.
    util::Result<std::string> read_local(const RefLocation& location) const;
    Outcome accept(const RefLocation& location, std::string data, std::string_view content_type);
    // The retry rules of every fetch (retries, backoff_initial, backoff_max; no jitter).
    util::RetryPolicy retry_policy() const;
    template <typename F>
    auto with_retries(F&& attempt) -> decltype(attempt());
    void count(std::uint64_t RefStats::*field, std::uint64_t n = 1);

    RefsOptions m_options;
    net::HttpTransport& m_transport;
    storage::Storage* m_storage;
    util::Clock& m_clock;
    Resolver& m_resolver;
    RefCache m_cache;

    std::mutex m_mutex;  // guards the queue, the flights and m_stopping
    std::condition_variable m_wake;
    std::deque<Task> m_queue;
    std::map<std::string, std::shared_future<Outcome>> m_flights;  // by RefLocation::key
    std::set<std::string> m_planned;  // plan_only: RefLocation::key of every planned ref
    bool m_stopping = false;
    std::vector<std::thread> m_workers;

    mutable std::mutex m_stats_mutex;
    RefStats m_stats;
};

}  // namespace assetgen::refs
