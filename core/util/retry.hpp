#pragma once
// The one retry loop. Every caller that repeats a request (model calls, Cloud Storage, reference
// fetches, IAM signing, the ledger's compare-and-swap appends, lease updates) describes its rules
// in a RetryPolicy and hands retry_loop one attempt and a classifier; the loop counts attempts,
// draws jittered exponential backoff from an injected random source, honours server hints,
// keeps the overall deadline and waits only through util::Clock (tests never sleep).
// Modelled on google-cloud-cpp's RetryLoop (retry, backoff and idempotency policies) and
// Google's retry strategy: https://cloud.google.com/storage/docs/retry-strategy

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "util/clock.hpp"
#include "util/status.hpp"

namespace assetgen::util {

// splitmix64 (Steele, Lea, Flood 2014): a stable 64-bit mix for jitter and simulated faults,
// the same on every machine, so a seed reproduces a run.
std::uint64_t splitmix64(std::uint64_t x);

// A thread-safe random source for jitter: splitmix64 of a counter that starts at the seed.
class SplitMix {
public:
    explicit SplitMix(std::uint64_t seed) : m_counter(seed) {}
    std::uint64_t operator()() { return splitmix64(m_counter.fetch_add(1)); }

private:
    std::atomic<std::uint64_t> m_counter;
};

// Where each wait is drawn: full jitter is uniform in [0, ceiling] (Google's and AWS's
// recommendation); decorrelated is uniform in [initial, previous × multiplier], capped; none
// waits the ceiling itself (deterministic, for callers that must not add randomness).
enum class Jitter { full, decorrelated, none };

// A caller's retry rules. Attempts count the first one: max_attempts 3 is 1 try + 2 retries.
struct RetryPolicy {
    int max_attempts = 4;          // at least 1; a value below 1 is read as 1
    Millis initial_backoff{1000};  // the ceiling of the first wait
    Millis max_backoff{32'000};    // no drawn wait exceeds this (a server hint may)
    double multiplier = 2.0;       // ceiling growth per attempt (values below 1 read as 1)
    Jitter jitter = Jitter::full;
    // Overall time limit from the first attempt: a wait that would end past it is not taken.
    std::optional<Millis> deadline;
    // A server hint longer than this stops the loop (StopReason::hint_too_long) instead of
    // waiting; unset: any hint is honoured.
    std::optional<Millis> max_hint;
};

// Google's recommended shape: max_attempts, full jitter under a ceiling that starts at initial
// and doubles up to max (no deadline, no hint limit; callers add theirs).
RetryPolicy exponential_full_jitter(int max_attempts, Millis initial, Millis max);

// What the caller's classifier says about one failure.
struct RetryClass {
    bool retryable = false;      // a retry may cure it (transient: 408, 429, 5xx, timeouts, resets)
    bool idempotent = true;      // repeating is safe (false: a write without precondition was sent)
    std::optional<Millis> hint;  // the server's delay (Retry-After, RetryInfo.retryDelay)
    // Retry at once, without a wait (the caller already removed the cause, e.g. re-uploaded a
    // part); the attempt still counts against max_attempts and the deadline.
    bool immediate = false;
};

// The default classification: transient codes are retried, with the Status's retry_after hint.
RetryClass classify_transient(const Status& status);

// Why the loop ended.
enum class StopReason {
    succeeded,
    not_retryable,       // the classifier said a retry cannot cure it
    not_idempotent,      // a retry could cure it, but repeating is not safe
    attempts_exhausted,  // max_attempts made
    deadline,            // the next wait would end past the policy's deadline
    hint_too_long,       // the server asked to wait longer than max_hint
    cancelled,           // the caller's wait hook refused to wait (shutdown)
};
// "attempts exhausted" and so on, for logs.
std::string_view stop_reason_name(StopReason reason);

// One retry about to happen (after failed attempt `attempt`, waiting `delay`).
struct RetryNotice {
    int attempt = 0;
    const Status* status = nullptr;
    Millis delay{0};
};

// Optional hooks; each empty one has a default.
struct RetryHooks {
    // The jitter's random source; default: a process-wide SplitMix seeded from the clock.
    std::function<std::uint64_t()> random;
    // Called before each wait (log lines, events, retry counters).
    std::function<void(const RetryNotice&)> on_retry;
    // Waits d; returns false to stop the loop as cancelled. Default: clock.sleep_for(d).
    std::function<bool(Millis)> wait;
};

// The pure backoff rule: the drawn wait after failed attempt `attempt` (1-based), given the
// previous drawn wait (decorrelated jitter only) and a uniform 64-bit random number. Never
// negative, never above max_backoff.
Millis backoff_delay(const RetryPolicy& policy, int attempt, Millis previous, std::uint64_t random);

// The decisions of one loop, without the calling: next() after each failed attempt says how
// long to wait before the next one, or why to stop. retry_loop drives it; callers whose attempts
// cannot be a function call may drive it themselves.
class RetryState {
public:
    RetryState(const Clock& clock, const RetryPolicy& policy,
               std::function<std::uint64_t()> random = {});
    // After failed attempt `attempt` (1-based) classified as c: the wait before the next one,
    // or the reason to stop (then stop() says it too).
    std::optional<Millis> next(int attempt, const RetryClass& c);
    StopReason stop() const { return m_stop; }

private:
    const Clock& m_clock;
    RetryPolicy m_policy;
    std::function<std::uint64_t()> m_random;
    SteadyTime m_start;
    Millis m_previous{0};
    StopReason m_stop = StopReason::succeeded;
};

// What retry_loop returns: the last attempt's value (or failure), how many attempts were
// made, and why the loop stopped.
template <typename R>
struct RetryOutcome {
    R value;
    int attempts = 0;
    StopReason stop = StopReason::succeeded;
    bool ok() const { return value.ok(); }
};

// Runs fn(attempt) (attempt 1-based; fn returns Status or Result<T>) until it succeeds or the
// policy, the classifier or the wait hook stops it. classify(const Status&) -> RetryClass is
// asked only about failures. Returns the last attempt's value with the count and the reason.
template <typename Fn, typename Classify>
requires std::is_invocable_r_v<RetryClass, Classify&, const Status&>
auto retry_loop(Clock& clock, const RetryPolicy& policy, Fn&& fn, Classify&& classify,
                const RetryHooks& hooks = {}) -> RetryOutcome<std::invoke_result_t<Fn&, int>> {
    using R = std::invoke_result_t<Fn&, int>;
    RetryState state(clock, policy, hooks.random);
    for (int attempt = 1;; ++attempt) {
        R value = fn(attempt);
        if (value.ok()) {
            return {std::move(value), attempt, StopReason::succeeded};
        }
        const Status& failed = detail::status_of(value);
        std::optional<Millis> wait = state.next(attempt, classify(failed));
        if (!wait) {
            return {std::move(value), attempt, state.stop()};
        }
        if (hooks.on_retry) {
            hooks.on_retry(RetryNotice{attempt, &failed, *wait});
        }
        if (hooks.wait) {
            if (!hooks.wait(*wait)) {
                return {std::move(value), attempt, StopReason::cancelled};
            }
        } else {
            clock.sleep_for(*wait);
        }
    }
}

// retry_loop with the default classification (transient codes, the Status's hint).
template <typename Fn>
auto retry_loop(Clock& clock, const RetryPolicy& policy, Fn&& fn, const RetryHooks& hooks = {}) {
    return retry_loop(clock, policy, std::forward<Fn>(fn), classify_transient, hooks);
}

// status with " (after N attempts)" added to its message when N > 1, keeping its code, HTTP
// status and hint; the wording every retried failure ends with.
Status with_attempts(const Status& status, int attempts);

}  // namespace assetgen::util
