// How a 429 is told apart, and what each kind relies on (read 2026-12-06):
//
// - Per-day quota → QUOTA_DAILY. The Gemini API names the violated quota in
//   QuotaFailure.violations[].quotaId, and per-day quotas carry "PerDay" in it, e.g.
//   "GenerateRequestsPerDayPerProjectPerModel-FreeTier" next to the per-minute
//   "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" (captured 429 bodies:
//   https://github.com/google-gemini/api-examples/issues/98,
//   https://github.com/google-gemini/gemini-cli/issues/8437). "Requests per day (RPD) quotas
//   reset at midnight Pacific time" (https://ai.google.dev/gemini-api/docs/rate-limits), so a
//   retry before then is pointless; the RetryInfo of such an answer (seconds) is not believed.
//   A quotaMetric or quotaId saying "per_day"/"PerDay" counts too.
// - Spend-based limit → SPEND_CAP. The rate-limits page's "Spend-based rate limits": dollars
//   per usage tier "evaluated over a rolling 10-minute window", answered with 429
//   RESOURCE_EXHAUSTED. Google documents no body for it; we take the word "spend" in a
//   violation's quotaId or quotaMetric, or "spend-based"/"spend rate"/"spend limit" in the
//   message. (The fake's body for it is our construction, not a capture.)
// - Billing cap → BILLING_CAP. Captured 429s with no details: "Your billing account has
//   exceeded its monthly spending cap" (AI Studio's project/billing-tier spend caps, mandatory
//   since 2026-04-01;
//   https://help.apiyi.com/en/ai-studio-monthly-spending-cap-429-solution-en.html) and "Your
//   prepayment credits are depleted" (https://discuss.ai.google.dev/t/
//   gemini-api-tier-1-postpay-project-still-returns-prepayment-credits-are-depleted/165579).
//   Also a violation or ErrorInfo.reason naming billing. Checked first: "spending cap" also
//   contains "spend".
// - Anything else (per-minute or per-second requests/tokens/images, Vertex's shared-capacity
//   "Resource exhausted, please try again later.", no body at all) → MODEL_RATE_LIMIT, retried
//   after RetryInfo.retryDelay / Retry-After as before.
#include "provider/quota_failure.hpp"

#include <date/tz.h>

#include <chrono>

#include "util/text.hpp"

namespace assetgen::provider {
namespace {

bool has(const std::string& lower_text, std::string_view needle) {
    return lower_text.find(needle) != std::string::npos;
}

std::string utc_minute(std::int64_t unix_ms) {
    auto tp = date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(unix_ms));
    return date::format("%F %H:%M UTC", date::floor<std::chrono::minutes>(tp));
}

}  // namespace

util::Code classify_quota(const QuotaDetails& d) {
    const std::string message = util::to_lower(d.message);
    const std::string reason = util::to_lower(d.reason);
    bool billing = has(message, "spending cap") || has(message, "prepayment credit") ||
                   has(message, "billing account has exceeded") || has(reason, "billing");
    bool spend =
        has(message, "spend-based") || has(message, "spend rate") || has(message, "spend limit");
    bool daily = false;
    for (const QuotaViolation& v : d.violations) {
        const std::string id = util::to_lower(v.quota_id);
        const std::string metric = util::to_lower(v.quota_metric);
        billing = billing || has(id, "billing") || has(metric, "billing");
        spend = spend || has(id, "spend") || has(metric, "spend");
        daily = daily || has(id, "perday") || has(metric, "per_day") || has(metric, "perday");
    }
    if (billing) {
        return util::Code::billing_cap;
    }
    if (spend) {
        return util::Code::spend_cap;
    }
    if (daily) {
        return util::Code::quota_daily;
    }
    return util::Code::rate_limited;
}

std::optional<std::int64_t> next_pacific_midnight(std::int64_t unix_ms) {
    try {
        const date::time_zone* zone = date::locate_zone("America/Los_Angeles");
        auto tp = date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(unix_ms));
        auto local_day = date::floor<date::days>(zone->to_local(tp));
        auto next =
            zone->to_sys(date::local_days(local_day + date::days(1)), date::choose::earliest);
        return std::chrono::duration_cast<std::chrono::milliseconds>(next.time_since_epoch())
            .count();
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string quota_reset_text(util::Code code, std::int64_t now_ms,
                             std::optional<std::chrono::milliseconds> retry_after) {
    switch (code) {
        case util::Code::quota_daily: {
            auto at = next_pacific_midnight(now_ms);
            if (!at) {
                return "the per-day quota resets at midnight Pacific time";
            }
            return "the per-day quota resets at " + utc_minute(*at) + " (midnight Pacific), in " +
                   util::format_duration(std::chrono::milliseconds(*at - now_ms));
        }
        case util::Code::spend_cap:
            if (retry_after) {
                return "the spend window frees up at " + utc_minute(now_ms + retry_after->count()) +
                       " (in " + util::format_duration(*retry_after) +
                       ", as the answer said); the limit is over a rolling 10 minutes";
            }
            return "the spend limit is over a rolling 10 minutes; the answer did not say when it "
                   "frees "
                   "up (--max-spend-rate keeps a run under it)";
        case util::Code::billing_cap:
            return "the answer gives no reset: raise the cap or add credit in AI Studio "
                   "(https://aistudio.google.com), or wait for the next billing period";
        default:
            return "";
    }
}

bool is_quota_stop(util::Code code) {
    return code == util::Code::quota_daily || code == util::Code::spend_cap ||
           code == util::Code::billing_cap;
}

}  // namespace assetgen::provider
