#pragma once
// The one retry loop of the GCS client and its three small policies: which failures are
// retried and how often, how long to wait, and which calls are safe to repeat. They mirror
// schedule/policies.hpp on purpose: storage sits below schedule and may not include it (to be
// merged into one set in a lower module later). Waiting goes through util::Clock only.
// Google's strategy: https://cloud.google.com/storage/docs/retry-strategy

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/clock.hpp"
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

// Which failures are retried, and for how long.
struct GcsRetryPolicy {
    int max_attempts = 6;
    milliseconds max_elapsed{120'000};  // no new attempt would start after this much time
    // True when a failed attempt (1-based) may be followed by another: transient codes only
    // (408, 429, 5xx, transport errors, truncated answers); never 412, 404, 401, 403 or 400.
    bool should_retry(const util::Status& status, int attempt) const {
        return util::is_transient(status.code()) && attempt < max_attempts;
    }
};

// Truncated exponential backoff with full jitter, as Google recommends.
struct GcsBackoffPolicy {
    milliseconds base{1000};
    milliseconds cap{32'000};
    // The wait after failed attempt `attempt` (1-based): uniform in [0, min(cap, base ×
    // 2^(attempt-1))] drawn from random; a server hint (Retry-After) wins when longer.
    milliseconds delay(int attempt, std::uint64_t random,
                       std::optional<milliseconds> hint = std::nullopt) const;
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
        const util::SteadyTime start = m_clock.steady();
        for (int n = 1;; ++n) {
            bool sent = true;
            util::Result<T> result = attempt(sent);
            if (result.ok()) {
                return result;
            }
            auto wait = next_delay(result.status(), n, idempotent, sent, start, what);
            if (!wait) {
                return n > 1 ? annotate(result.status(), n) : result.status();
            }
            m_clock.sleep_for(*wait);
        }
    }

    // The policies in effect.
    const GcsRetryOptions& options() const { return m_options; }

private:
    // The wait before attempt n + 1, or nullopt to stop (and say why in the log).
    std::optional<milliseconds> next_delay(const util::Status& status, int n, bool idempotent,
                                           bool sent, util::SteadyTime start,
                                           std::string_view what);
    static util::Status annotate(const util::Status& status, int attempts);
    void log(const std::string& line) const;

    GcsRetryOptions m_options;
    util::Clock& m_clock;
    std::atomic<std::uint64_t> m_counter;
    GcsLog m_log;
};

}  // namespace assetgen::storage
