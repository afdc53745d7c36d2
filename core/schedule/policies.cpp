#include "schedule/policies.hpp"

namespace assetgen::schedule {

milliseconds BackoffPolicy::delay(int attempt, std::uint64_t random,
                                  std::optional<milliseconds> hint) const {
    util::RetryPolicy p;
    p.initial_backoff = base;
    p.max_backoff = cap;
    milliseconds jitter = util::backoff_delay(p, attempt, milliseconds(0), random);
    if (hint && *hint > jitter) {
        return *hint;
    }
    return jitter;
}

util::RetryPolicy model_retry_policy(const RetryPolicy& retry, const BackoffPolicy& backoff,
                                     milliseconds max_retry_delay) {
    util::RetryPolicy p =
        util::exponential_full_jitter(retry.max_attempts, backoff.base, backoff.cap);
    p.max_hint = max_retry_delay;
    return p;
}

}  // namespace assetgen::schedule
