#pragma once
// What a 429 says about the limit it hit, told apart from its google.rpc details: a per-minute
// (or per-second) rate limit that a retry after RetryInfo cures, a per-day quota, a spend-based
// rate limit (dollars per rolling 10 minutes) and a billing cap, which no retry cures soon.
// Pure functions; gemini_wire.cpp reads the body and calls classify_quota.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace assetgen::provider {

// One google.rpc.QuotaFailure.Violation as the Gemini API fills it.
struct QuotaViolation {
    std::string quota_id;  // "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    std::string
        quota_metric;  // "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    std::string quota_value;  // "20" (int64 as a string in proto-JSON)
};

// What an error body of a 429 carries.
struct QuotaDetails {
    std::string status;   // "RESOURCE_EXHAUSTED"
    std::string message;  // Google's text
    std::string reason;   // ErrorInfo.reason, e.g. "RATE_LIMIT_EXCEEDED"
    std::vector<QuotaViolation> violations;
    std::optional<std::chrono::milliseconds> retry_delay;  // RetryInfo.retryDelay
};

// The kind of limit a 429 hit, as a Code: rate_limited (MODEL_RATE_LIMIT, retried after the
// hint), quota_daily (QUOTA_DAILY), spend_cap (SPEND_CAP), billing_cap (BILLING_CAP). The
// evidence each relies on is in quota_failure.cpp.
util::Code classify_quota(const QuotaDetails& details);

// Unix ms of the next midnight in America/Los_Angeles after unix_ms (when per-day quotas of the
// Gemini API reset). std::nullopt when the time-zone database has no such zone.
std::optional<std::int64_t> next_pacific_midnight(std::int64_t unix_ms);

// For a stopping code (QUOTA_DAILY, SPEND_CAP, BILLING_CAP): when the limit lets requests through
// again, as far as the answer (and the documentation) says: "resets at 2026-12-07 08:00 UTC
// (midnight Pacific)", "the spend window frees up in about 42s", or what to do when nothing
// says when. now_ms from the injected clock; retry_after is the answer's hint.
std::string quota_reset_text(util::Code code, std::int64_t now_ms,
                             std::optional<std::chrono::milliseconds> retry_after);

// True for the codes that stop a run's new requests at once (QUOTA_DAILY, SPEND_CAP, BILLING_CAP).
bool is_quota_stop(util::Code code);

}  // namespace assetgen::provider
