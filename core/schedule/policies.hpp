#pragma once
// The model requests' retry rules as the run's flags set them: which failures are retried and
// how often (RetryPolicy), how long to wait between attempts (BackoffPolicy), and which writes
// are safe to repeat (IdempotencyPolicy). model_retry_policy turns them into the policy of the
// one loop, util::retry_loop.

#include <chrono>
#include <cstdint>
#include <optional>

#include "util/retry.hpp"
#include "util/status.hpp"

namespace assetgen::schedule {

using std::chrono::milliseconds;

struct RetryPolicy {
    int max_attempts = 4;
    // True when a failed attempt (1-based) may be followed by another: transient codes only
    // (429, 408, 5xx, timeouts, connection errors, truncated answers), never 400/401/402/403/404
    // or a safety block.
    bool should_retry(const util::Status& status, int attempt) const {
        return util::is_transient(status.code()) && attempt < max_attempts;
    }
};

struct BackoffPolicy {
    milliseconds base{1000};
    milliseconds cap{32'000};
    // The wait before the attempt after `attempt` (1-based): full jitter, uniform in
    // [0, min(cap, base × 2^(attempt-1))], drawn from `random`; a server hint wins when longer.
    milliseconds delay(int attempt, std::uint64_t random,
                       std::optional<milliseconds> hint = std::nullopt) const;
};

// Whether repeating a write is safe: only when a precondition (ifGenerationMatch) or an
// idempotency key makes a repeat detectable.
struct IdempotencyPolicy {
    bool retry_writes_without_precondition = false;
    bool may_retry(bool is_write, bool has_precondition) const {
        return !is_write || has_precondition || retry_writes_without_precondition;
    }
};

// A stable 64-bit mix (util::splitmix64) for jitter and simulated faults: reproducible with a seed.
inline std::uint64_t mix64(std::uint64_t x) {
    return util::splitmix64(x);
}

// The util::retry_loop policy of model requests (generateContent, models.get): max_attempts
// from --max-attempts, full jitter from base to cap, no overall deadline, and a server hint
// above max_retry_delay (--max-retry-delay) stops the retries.
util::RetryPolicy model_retry_policy(const RetryPolicy& retry, const BackoffPolicy& backoff,
                                     milliseconds max_retry_delay);

}  // namespace assetgen::schedule
