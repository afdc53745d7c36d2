// How this works: the fetcher owns `concurrency` worker threads and a queue. A distinct ref
// (by RefLocation::key, the normalised URL or absolute path) becomes a flight the first time a
// row asks for it: a promise queued for the workers, whose shared_future is kept for the rest
// of the batch, so every later row, whether the fetch is still running or long done, waits on
// the same future instead of fetching again. A worker serves an http(s) ref from the disk
// cache when it is fresh, revalidates it when stale (If-None-Match / If-Modified-Since → 304),
// and otherwise downloads it through guarded_get (address checks, pinning, redirects); gs://
// refs are read through Storage, which is handed the fetcher's retry policy for that one read
// (storage::CallRetry) and is the only loop (no second one here: the attempts would
// multiply), local files directly (only inside the allowed folders). Transient http(s)
// failures are retried by the same policy, with the backoff waited on the Clock while the
// worker keeps its slot, so no more than `concurrency` fetches are ever in flight. resolve_row
// merges a row's refs in waves: it fetches only as many refs as could still fit under the cap, and
// asks for more only when duplicates of content or skipped failures free a slot, so refs beyond the
// cap are never fetched. With plan_only (a dry run without --fetch-refs) nothing is fetched: refs
// are merged by address.

#include "refs/ref_fetcher.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>

#include "refs/guarded_http.hpp"
#include "refs/http_cache.hpp"
#include "refs/image_type.hpp"
#include "util/hash.hpp"
#include "util/retry.hpp"
#include "util/safe_dir.hpp"
#include "util/text.hpp"

namespace assetgen::refs {
namespace {

using util::Code;

constexpr std::string_view k_accept =
    "image/png,image/jpeg,image/webp,image/heic,image/heif;q=0.9,*/*;q=0.1";

std::size_t base64_size(std::size_t n) {
    return 4 * ((n + 2) / 3);
}

std::string in_quotes(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

}  // namespace

std::string_view drop_reason_name(DropReason reason) {
    switch (reason) {
        case DropReason::duplicate_url:
            return "duplicate_url";
        case DropReason::duplicate_content:
            return "duplicate_content";
        case DropReason::over_cap:
            return "over_cap";
        case DropReason::over_total_bytes:
            return "over_total_bytes";
        case DropReason::failed:
            break;
    }
    return "failed";
}

RefFetcher::RefFetcher(RefsOptions options, net::HttpTransport& transport,
                       storage::Storage* storage, util::Clock& clock, Resolver& resolver)
    : m_options(std::move(options)),
      m_transport(transport),
      m_storage(storage),
      m_clock(clock),
      m_resolver(resolver),
      m_cache(m_options.cache_dir, m_options.cache_max_bytes, clock) {
    std::size_t workers = std::max<std::size_t>(1, m_options.concurrency);
    for (std::size_t i = 0; i < workers; ++i) {
        m_workers.emplace_back([this] { work(); });
    }
}

RefFetcher::~RefFetcher() {
    std::deque<Task> abandoned;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        abandoned.swap(m_queue);
    }
    m_wake.notify_all();
    for (auto& task : abandoned) {
        task.promise.set_value(
            Outcome{util::error(Code::cancelled, "was not fetched: shutting down"), nullptr});
    }
    for (auto& worker : m_workers) {
        worker.join();
    }
}

RefStats RefFetcher::stats() const {
    std::lock_guard lock(m_stats_mutex);
    return m_stats;
}

void RefFetcher::count(std::uint64_t RefStats::*field, std::uint64_t n) {
    std::lock_guard lock(m_stats_mutex);
    m_stats.*field += n;
}

std::shared_future<RefFetcher::Outcome> RefFetcher::start(const RefLocation& location) {
    std::lock_guard lock(m_mutex);
    if (auto it = m_flights.find(location.key); it != m_flights.end()) {
        return it->second;
    }
    Task task{location, {}};
    auto future = task.promise.get_future().share();
    if (m_stopping) {
        task.promise.set_value(
            Outcome{util::error(Code::cancelled, "was not fetched: shutting down"), nullptr});
        return future;
    }
    m_flights.emplace(location.key, future);
    m_queue.push_back(std::move(task));
    m_wake.notify_one();
    return future;
}

void RefFetcher::work() {
    for (;;) {
        std::unique_lock lock(m_mutex);
        m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
        if (m_stopping) {
            return;  // the destructor answers what is still queued
        }
        Task task = std::move(m_queue.front());
        m_queue.pop_front();
        lock.unlock();
        Outcome outcome;
        try {
            outcome = fetch(task.location);
        } catch (const std::exception& e) {
            // A worker must answer its promise whatever happens, or rows would wait forever.
            outcome =
                Outcome{util::error(Code::internal, std::string("failed: ") + e.what()), nullptr};
        }
        task.promise.set_value(std::move(outcome));
    }
}

util::RetryPolicy RefFetcher::retry_policy() const {
    util::RetryPolicy policy;
    policy.max_attempts = m_options.retries + 1;
    policy.initial_backoff = m_options.backoff_initial;
    policy.max_backoff = m_options.backoff_max;
    policy.jitter = util::Jitter::none;
    return policy;
}

template <typename F>
auto RefFetcher::with_retries(F&& attempt) -> decltype(attempt()) {
    util::RetryHooks hooks;
    hooks.on_retry = [this](const util::RetryNotice&) { count(&RefStats::retries); };
    auto outcome = util::retry_loop(
        m_clock, retry_policy(),
        [&](int) {
            count(&RefStats::attempts);
            return attempt();
        },
        hooks);
    if (outcome.ok()) {
        return std::move(outcome.value);
    }
    return util::with_attempts(outcome.value.status(), outcome.attempts);
}

RefFetcher::Outcome RefFetcher::fetch(const RefLocation& location) {
    Outcome outcome =
        location.kind == RefKind::http ? fetch_http(location) : fetch_stored(location);
    if (!outcome.status.ok()) {
        count(&RefStats::failed);
    }
    return outcome;
}

RefFetcher::Outcome RefFetcher::accept(const RefLocation& location, std::string data,
                                       std::string_view content_type) {
    if (data.size() > m_options.max_bytes_per_ref) {
        return Outcome{
            util::error(Code::invalid_input, "is larger than the " +
                                                 format_bytes(m_options.max_bytes_per_ref) +
                                                 " limit for one reference"),
            nullptr};
    }
    auto mime = sniff_image_type(data);
    if (!mime) {
        std::string guess = guess_type(data, content_type);
        std::string what;
        if (data.empty()) {
            what = "is empty, not an image";
        } else if (is_unsupported_image(guess)) {
            what = "is not a supported image (" + guess + "; use PNG, JPEG, WEBP, HEIC or HEIF)";
        } else {
            what = "is not an image (" +
                   (guess.empty() ? std::string("unknown type") : guess + "?") + ")";
        }
        return Outcome{util::error(Code::invalid_input, what), nullptr};
    }
    auto ref = std::make_shared<FetchedRef>();
    ref->mime_type = *mime;
    ref->sha256 = util::sha256_hex(data);
    ref->data = std::move(data);
    ref->url = location.display;
    return Outcome{util::ok_status(), std::move(ref)};
}

util::Result<std::string> RefFetcher::read_local(const RefLocation& location) const {
    // Opened first, then judged by what was opened: the folder check looks at the path the
    // descriptor names (every link resolved), so a link swapped in after validation cannot
    // send the read elsewhere. Only regular files within the size limit are read: a path like
    // /dev/zero or a FIFO must not be read at all (it would never end), hence O_NONBLOCK.
    util::UniqueFd fd(::open(location.fetch.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd.get() < 0) {
        return util::error(errno == ENOENT ? Code::not_found : Code::storage_io,
                           errno == ENOENT
                               ? "does not exist"
                               : std::string("could not be read: ") + std::strerror(errno));
    }
    const std::string real = util::fd_path(fd.get());
    const std::string base =
        m_options.base_dir.empty() ? std::filesystem::current_path().string() : m_options.base_dir;
    bool allowed = !real.empty() && util::is_within(real, base);
    for (const auto& dir : m_options.allowed_local_dirs) {
        allowed = allowed || (!real.empty() && util::is_within(real, dir));
    }
    if (!allowed) {
        return util::error(Code::invalid_input,
                           "is outside the batch's folder (it is " + in_quotes(real) +
                               "); move it into " + in_quotes(base) +
                               ", or allow its folder with --allow-local-refs DIR");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return util::error(Code::invalid_input, "is not a regular file");
    }
    if (static_cast<std::uint64_t>(st.st_size) > m_options.max_bytes_per_ref) {
        return util::error(Code::invalid_input, "is larger than the " +
                                                    format_bytes(m_options.max_bytes_per_ref) +
                                                    " limit for one reference");
    }
    std::string data;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return util::error(Code::storage_io,
                               std::string("could not be read: ") + std::strerror(errno));
        }
        if (n == 0 || data.size() + static_cast<std::size_t>(n) > m_options.max_bytes_per_ref) {
            break;
        }
        data.append(buf, static_cast<std::size_t>(n));
    }
    return data;
}

RefFetcher::Outcome RefFetcher::fetch_stored(const RefLocation& location) {
    const bool gcs = location.kind == RefKind::gcs;
    if (gcs && m_storage == nullptr) {
        return Outcome{util::error(Code::config, "is a gs:// ref, but no storage is configured"),
                       nullptr};
    }
    if (!gcs) {
        auto data = read_local(location);
        if (!data.ok()) {
            return Outcome{data.status(), nullptr};
        }
        count(&RefStats::local_reads);
        return accept(location, std::move(*data), "");
    }
    // Storage makes the attempts under the fetcher's policy (DESIGN §4: 2 retries, 1 s then
    // 2 s) in place of its own (Cloud Storage's 6); this is the one loop, none runs on top.
    storage::ReadOptions read;
    read.retry.policy = retry_policy();
    read.retry.on_retry = [this](const util::RetryNotice&) {
        count(&RefStats::retries);
        count(&RefStats::attempts);
    };
    count(&RefStats::attempts);
    util::Result<storage::ObjectRead> got = m_storage->read(location.fetch, read);
    if (!got.ok()) {
        if (got.status().code() == Code::not_found) {
            return Outcome{util::error(Code::not_found, "does not exist"), nullptr};
        }
        return Outcome{util::error(got.status().code(),
                                   "could not be read: " + util::redact(got.status().message())),
                       nullptr};
    }
    count(&RefStats::fetched);
    count(&RefStats::bytes_fetched, got->data.size());
    return accept(location, std::move(got->data), "");
}

RefFetcher::Outcome RefFetcher::fetch_http(const RefLocation& location) {
    std::optional<CachedRef> cached = m_cache.lookup(location.key);
    auto from_cache = [&](const CachedRef& c) {
        auto ref = std::make_shared<FetchedRef>();
        ref->mime_type = c.mime_type;
        ref->data = c.data;
        ref->sha256 = c.sha256;
        ref->url = location.display;
        return Outcome{util::ok_status(), std::move(ref)};
    };
    if (cached && cached->fresh(m_clock.unix_ms())) {
        count(&RefStats::cache_hits);
        return from_cache(*cached);
    }

    GuardedGetOptions get;
    get.timeout = m_options.timeout;
    get.max_bytes = m_options.max_bytes_per_ref;
    get.allow_private = m_options.allow_private;
    get.max_redirects = m_options.max_redirects;
    get.headers = {{"Accept", std::string(k_accept)}};
    if (cached && !cached->freshness.etag.empty()) {
        get.headers.emplace_back("If-None-Match", cached->freshness.etag);
    }
    if (cached && !cached->freshness.last_modified.empty()) {
        get.headers.emplace_back("If-Modified-Since", cached->freshness.last_modified);
    }
    auto response = with_retries([&]() -> util::Result<net::HttpResponse> {
        std::string target = location.fetch;
        if (m_options.resign) {
            if (auto resigned = m_options.resign(target)) {
                target = *resigned;
            }
        }
        TRY_ASSIGN(Url url, parse_url(target));
        return guarded_get(m_transport, m_resolver, url, get);
    });
    if (!response.ok()) {
        return Outcome{response.status(), nullptr};
    }
    const std::int64_t now = m_clock.unix_ms();
    if (response->status == 304) {
        if (!cached) {
            return Outcome{util::error(Code::bad_response,
                                       "answered HTTP 304 to a request without validators"),
                           nullptr};
        }
        // The cache only saves downloads: unrefreshed, the entry is revalidated sooner.
        m_cache.refresh(location.key, freshness_of(*response, now)).ignore_error();
        count(&RefStats::revalidated);
        return from_cache(*cached);
    }
    count(&RefStats::fetched);
    count(&RefStats::bytes_fetched, response->body.size());
    Outcome outcome = accept(location, std::move(response->body), response->header("content-type"));
    if (outcome.status.ok()) {
        // The cache only saves downloads: unstored, the next run fetches the image again.
        m_cache
            .store(location.key, location.display, outcome.ref->data, outcome.ref->sha256,
                   outcome.ref->mime_type, freshness_of(*response, now))
            .ignore_error();
    }
    return outcome;
}

util::Result<ResolvedRefs> RefFetcher::resolve_row(const std::vector<std::string>& row_refs,
                                                   const std::vector<std::string>& global_refs,
                                                   const std::string& where) {
    struct Candidate {
        std::string display;
        util::Result<RefLocation> location;
    };
    ResolvedRefs out;
    const std::string prefix = where + ": refs: ";
    auto drop = [&](const std::string& display, DropReason reason, const std::string& why,
                    std::uint64_t RefStats::*counter) {
        out.dropped.push_back(
            DroppedRef{display, reason, prefix + in_quotes(display) + " dropped: " + why});
        count(counter);
    };

    // 1. Row refs then global refs, each URL once.
    std::vector<Candidate> candidates;
    std::map<std::string, std::string> first_by_key;
    for (const auto* list : {&row_refs, &global_refs}) {
        for (const auto& raw : *list) {
            std::string_view text = util::trim(raw);
            if (text.empty()) {
                continue;
            }
            auto location = parse_ref(text, m_options.base_dir);
            std::string key = location.ok() ? location->key : "invalid:" + std::string(text);
            std::string display = location.ok() ? location->display : without_query(text);
            auto [it, inserted] = first_by_key.emplace(key, display);
            if (!inserted) {
                drop(display, DropReason::duplicate_url, "same URL as " + in_quotes(it->second),
                     &RefStats::duplicate_urls);
                continue;
            }
            candidates.push_back(Candidate{display, std::move(location)});
        }
    }

    // 2'. A plan without fetches: the first max_refs valid refs are kept by address alone.
    if (m_options.plan_only) {
        std::vector<std::string> invalid;
        std::size_t i = 0;
        for (; i < candidates.size() && out.refs.size() < m_options.max_refs; ++i) {
            const Candidate& c = candidates[i];
            if (!c.location.ok()) {
                std::string message =
                    prefix + in_quotes(c.display) + " " + c.location.status().message();
                if (m_options.failure_policy == RefFailurePolicy::fail) {
                    invalid.push_back(std::move(message));
                } else {
                    out.dropped.push_back(
                        DroppedRef{c.display, DropReason::failed, message + " (skipped)"});
                    count(&RefStats::skipped);
                }
                continue;
            }
            bool first = false;
            {
                std::lock_guard lock(m_mutex);
                first = m_planned.insert(c.location->key).second;
            }
            if (first) {
                count(&RefStats::planned);
            }
            FetchedRef planned;
            planned.url = c.display;
            out.refs.push_back(std::move(planned));
        }
        if (!invalid.empty()) {
            std::string message;
            for (const auto& f : invalid) {
                message += (message.empty() ? "" : "; ") + f;
            }
            return util::error(Code::ref_fetch_failed, message);
        }
        for (; i < candidates.size(); ++i) {
            drop(candidates[i].display, DropReason::over_cap,
                 "over the cap of " + std::to_string(m_options.max_refs) + " references per row",
                 &RefStats::dropped_by_cap);
        }
        return out;
    }

    // 2. Fetch in waves, each only as large as the room left under the cap.
    std::vector<std::string> failures;
    std::map<std::string, std::string> first_by_content;
    std::size_t inline_bytes = 0;
    std::size_t next = 0;
    while (out.refs.size() < m_options.max_refs && next < candidates.size() && failures.empty()) {
        std::size_t end =
            std::min(candidates.size(), next + (m_options.max_refs - out.refs.size()));
        std::vector<std::shared_future<Outcome>> flights;
        for (std::size_t i = next; i < end; ++i) {
            flights.push_back(candidates[i].location.ok() ? start(*candidates[i].location)
                                                          : std::shared_future<Outcome>());
        }
        for (std::size_t i = next; i < end; ++i) {
            const Candidate& c = candidates[i];
            const auto& flight = flights[i - next];
            Outcome outcome = flight.valid() ? flight.get() : Outcome{c.location.status(), nullptr};
            if (!outcome.status.ok()) {
                std::string message =
                    prefix + in_quotes(c.display) + " " + outcome.status.message();
                if (m_options.failure_policy == RefFailurePolicy::fail) {
                    failures.push_back(std::move(message));
                } else {
                    out.dropped.push_back(
                        DroppedRef{c.display, DropReason::failed, message + " (skipped)"});
                    count(&RefStats::skipped);
                }
                continue;
            }
            const FetchedRef& ref = *outcome.ref;
            auto [it, inserted] = first_by_content.emplace(ref.sha256, c.display);
            if (!inserted) {
                drop(c.display, DropReason::duplicate_content,
                     "same content as " + in_quotes(it->second), &RefStats::duplicate_content);
                continue;
            }
            std::size_t size = base64_size(ref.data.size());
            if (inline_bytes + size > m_options.max_total_bytes) {
                first_by_content.erase(it);
                drop(c.display, DropReason::over_total_bytes,
                     "the row's references would exceed " +
                         format_bytes(m_options.max_total_bytes) + " inline (this one needs " +
                         format_bytes(size) + ")",
                     &RefStats::dropped_by_size);
                continue;
            }
            inline_bytes += size;
            out.refs.push_back(ref);
            out.refs.back().url = c.display;
        }
        next = end;
    }
    if (!failures.empty()) {
        std::string message;
        for (const auto& f : failures) {
            message += (message.empty() ? "" : "; ") + f;
        }
        return util::error(Code::ref_fetch_failed, message);
    }

    // 3. The rest is over the cap, and never fetched.
    for (std::size_t i = next; i < candidates.size(); ++i) {
        drop(candidates[i].display, DropReason::over_cap,
             "over the cap of " + std::to_string(m_options.max_refs) + " references per row",
             &RefStats::dropped_by_cap);
    }
    return out;
}

}  // namespace assetgen::refs
