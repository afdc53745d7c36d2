#pragma once
// The GCS client's retry rules: how often and how long (GcsRetryPolicy, GcsBackoffPolicy) and
// which calls are safe to repeat (GcsIdempotencyPolicy), driven by the one util::retry_loop.
// Waiting goes through util::Clock only.
// Google's strategy: https://cloud.google.com/storage/docs/retry-strategy

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/clock.hpp"
#include "util/retry.hpp"
#include "util/status.hpp"

namespace assetgen::storage {

using std::chrono::milliseconds;

// The JSON API methods GcsClient calls, with the names retry_tests.json uses.
enum class GcsOp { objects_get, objects_list, objects_insert, objects_delete, objects_compose };

// "storage.objects.get" and so on.
std::string_view gcs_op_name(GcsOp op);
// Google's classification (retry-strategy page; retry_tests.json): reads and lists are always
// idempotent; insert and compose only with ifGenerationMatch, delete with ifGenerationMatch or
// a generation (generation_pinned). ifMetagenerationMatch alone does not make a write safe.
bool is_idempotent(GcsOp op, bool generation_pinned);

// How often, and for how long, a failed call is repeated (util::retry_loop does the work).
struct GcsRetryPolicy {
    int max_attempts = 6;
    milliseconds max_elapsed{120'000};  // no new attempt would start after this much time
};

// Truncated exponential backoff with full jitter, as Google recommends: the wait after failed
// attempt n is uniform in [0, min(cap, base × 2^(n-1))]; a server hint (Retry-After) wins
// when longer.
struct GcsBackoffPolicy {
    milliseconds base{1000};
    milliseconds cap{32'000};
};

// Whether repeating a call is safe.
struct GcsIdempotencyPolicy {
    // Google's "strict" rule is the default; true retries every write (as google-cloud-cpp's
    // AlwaysRetryIdempotencyPolicy does), for callers who accept duplicate effects.
    bool retry_writes_without_precondition = false;
    // True when a call may be repeated: reads always, writes with a precondition or when allowed.
    bool may_retry(bool is_write, bool has_precondition) const {
        return !is_write || has_precondition || retry_writes_without_precondition;
    }
    // Whether op may be repeated after it may have reached the server (see is_idempotent).
    bool allows(GcsOp op, bool generation_pinned) const {
        return is_idempotent(op, generation_pinned) || retry_writes_without_precondition;
    }
};

struct GcsRetryOptions {
    GcsRetryPolicy retry;
    GcsBackoffPolicy backoff;
    GcsIdempotencyPolicy idempotency;
    // When set, the whole rule of attempts, backoff, jitter and deadline, in place of retry and
    // backoff: a caller's own policy for its calls (storage::CallRetry, e.g. the reference
    // fetcher's 3 attempts), or a test's short waits. idempotency still applies.
    std::optional<util::RetryPolicy> custom;
    // Called before each wait, after the log line (a caller's counters).
    std::function<void(const util::RetryNotice&)> on_retry;
    // The same rules as util::retry_loop's policy (custom when set); transient codes only are
    // retried (408, 429, 5xx, transport errors, truncated answers), never 412, 404, 401, 403 or
    // 400.
    util::RetryPolicy policy() const;
};

// Receives one line per retry decision; lines are already redacted.
using GcsLog = std::function<void(const std::string&)>;

// Drives attempts of one call: run() calls attempt(sent) until it succeeds, fails for good, or
// the policies stop it, sleeping on the clock between attempts. attempt sets sent = false when
// it failed before anything reached the server (e.g. no token), which makes a retry safe even
// for a write. Thread-safe; jitter comes from a seeded counter so tests are repeatable.
class GcsRetryLoop {
public:
    // clock must outlive the loop.
    GcsRetryLoop(GcsRetryOptions options, util::Clock& clock, std::uint64_t seed, GcsLog log);

    // The first success, or the last failure; after more than one attempt its message ends
    // with "(after N attempts)". what names the call in log lines ("read gs://b/o").
    template <typename T, typename Attempt>
    util::Result<T> run(std::string_view what, bool idempotent, Attempt&& attempt) {
        bool sent = true;
        auto outcome = util::retry_loop(
            m_clock, m_policy,
            [&](int) -> util::Result<T> {
                sent = true;
                return attempt(sent);
            },
            [&](const util::Status& s) {
                // A request that never left may always be repeated; one that did, only when
                // idempotent.
                util::RetryClass c = util::classify_transient(s);
                c.idempotent = idempotent || !sent;
                return c;
            },
            hooks(what));
        if (outcome.ok()) {
            return std::move(outcome.value);
        }
        return finish(what, outcome.value.status(), outcome.attempts, outcome.stop);
    }

    // The policies in effect.
    const GcsRetryOptions& options() const { return m_options; }
    // The util::retry_loop policy every call runs under.
    const util::RetryPolicy& policy() const { return m_policy; }
    // A number from the loop's jitter source (a seed for another loop).
    std::uint64_t draw() { return m_random(); }

private:
    // The retry_loop hooks of one call: its jitter source and its "retrying in" log line.
    util::RetryHooks hooks(std::string_view what);
    // The failure a call ends with (annotated with its attempt count), and why in the log.
    util::Status finish(std::string_view what, const util::Status& status, int attempts,
                        util::StopReason stop) const;
    void log(const std::string& line) const;

    GcsRetryOptions m_options;
    util::RetryPolicy m_policy;
    util::Clock& m_clock;
    util::SplitMix m_random;
    GcsLog m_log;
};

}  // namespace assetgen::storage
