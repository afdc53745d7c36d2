#include "util/retry.hpp"

#include <algorithm>
#include <cmath>

namespace assetgen::util {

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

RetryPolicy exponential_full_jitter(int max_attempts, Millis initial, Millis max) {
    RetryPolicy p;
    p.max_attempts = max_attempts;
    p.initial_backoff = initial;
    p.max_backoff = max;
    p.multiplier = 2.0;
    p.jitter = Jitter::full;
    return p;
}

RetryClass classify_transient(const Status& status) {
    RetryClass c;
    c.retryable = is_transient(status.code());
    c.hint = status.retry_after();
    return c;
}

std::string_view stop_reason_name(StopReason reason) {
    switch (reason) {
        case StopReason::succeeded:
            return "succeeded";
        case StopReason::not_retryable:
            return "not retryable";
        case StopReason::not_idempotent:
            return "not idempotent";
        case StopReason::attempts_exhausted:
            return "attempts exhausted";
        case StopReason::deadline:
            return "deadline reached";
        case StopReason::hint_too_long:
            return "server hint too long";
        case StopReason::cancelled:
            return "cancelled";
    }
    return "unknown";
}

namespace {

// Uniform in [lo, hi] from a 64-bit random number (lo <= hi, both >= 0).
std::int64_t uniform(std::int64_t lo, std::int64_t hi, std::uint64_t random) {
    if (hi <= lo) {
        return lo;
    }
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<std::int64_t>(random % span);
}

// min(cap, initial × multiplier^(attempt-1)) in milliseconds, without overflow.
std::int64_t ceiling_of(const RetryPolicy& p, int attempt) {
    const std::int64_t cap = std::max<std::int64_t>(0, p.max_backoff.count());
    const double mult = std::max(1.0, p.multiplier);
    const double raw = static_cast<double>(std::max<std::int64_t>(0, p.initial_backoff.count())) *
                       std::pow(mult, std::clamp(attempt - 1, 0, 1000));
    if (!(raw < static_cast<double>(cap))) {  // also catches inf
        return cap;
    }
    return static_cast<std::int64_t>(raw);
}

std::uint64_t default_random() {
    static SplitMix source(
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    return source();
}

}  // namespace

Millis backoff_delay(const RetryPolicy& policy, int attempt, Millis previous,
                     std::uint64_t random) {
    const std::int64_t cap = std::max<std::int64_t>(0, policy.max_backoff.count());
    switch (policy.jitter) {
        case Jitter::full:
            return Millis(uniform(0, ceiling_of(policy, attempt), random));
        case Jitter::none:
            return Millis(ceiling_of(policy, attempt));
        case Jitter::decorrelated: {
            const std::int64_t lo =
                std::clamp<std::int64_t>(policy.initial_backoff.count(), 0, cap);
            const double mult = std::max(1.0, policy.multiplier);
            const double grown =
                static_cast<double>(std::max<std::int64_t>(previous.count(), lo)) * mult;
            const std::int64_t hi =
                grown < static_cast<double>(cap) ? static_cast<std::int64_t>(grown) : cap;
            return Millis(std::min(cap, uniform(lo, std::max(lo, hi), random)));
        }
    }
    return Millis(0);
}

RetryState::RetryState(const Clock& clock, const RetryPolicy& policy,
                       std::function<std::uint64_t()> random)
    : m_clock(clock),
      m_policy(policy),
      m_random(random ? std::move(random) : std::function<std::uint64_t()>(default_random)),
      m_start(clock.steady()) {}

std::optional<Millis> RetryState::next(int attempt, const RetryClass& c) {
    if (!c.retryable) {
        m_stop = StopReason::not_retryable;
        return std::nullopt;
    }
    if (!c.idempotent) {
        m_stop = StopReason::not_idempotent;
        return std::nullopt;
    }
    if (attempt >= std::max(1, m_policy.max_attempts)) {
        m_stop = StopReason::attempts_exhausted;
        return std::nullopt;
    }
    if (c.hint && m_policy.max_hint && *c.hint > *m_policy.max_hint) {
        m_stop = StopReason::hint_too_long;
        return std::nullopt;
    }
    Millis wait(0);
    if (!c.immediate) {
        const Millis drawn = backoff_delay(m_policy, attempt, m_previous, m_random());
        m_previous = drawn;
        wait = drawn;
        if (c.hint && *c.hint > wait) {
            wait = *c.hint;
        }
    }
    if (m_policy.deadline) {
        const auto elapsed = std::chrono::duration_cast<Millis>(m_clock.steady() - m_start);
        if (elapsed + wait > *m_policy.deadline) {
            m_stop = StopReason::deadline;
            return std::nullopt;
        }
    }
    return wait;
}

Status with_attempts(const Status& status, int attempts) {
    if (attempts <= 1) {
        return status;
    }
    Status out(status.code(),
               status.message() + " (after " + std::to_string(attempts) + " attempts)");
    out.with_http_status(status.http_status());
    if (status.retry_after()) {
        out.with_retry_after(*status.retry_after());
    }
    if (status.usage()) {
        out.with_usage(*status.usage());
    }
    return out;
}

}  // namespace assetgen::util
