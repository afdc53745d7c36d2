// 429s told apart (issue 15 item 5): bodies shaped as the captures and pages named in
// core/provider/quota_failure.cpp say the Gemini API sends them.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "provider/gemini_wire.hpp"
#include "provider/quota_failure.hpp"

using namespace assetgen;
using namespace std::chrono_literals;
using util::Code;

namespace {

const auto k_now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796526000000));

// A Gemini API 429 with a QuotaFailure violation and, when given, a RetryInfo.
std::string quota_body(const std::string& quota_id, const std::string& metric,
                       const std::string& value, const std::string& retry_delay,
                       const std::string& message) {
    std::string body =
        R"({"error":{"code":429,"message":")" + message +
        R"(","status":"RESOURCE_EXHAUSTED","details":[)"
        R"({"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":")" +
        metric + R"(","quotaId":")" + quota_id +
        R"(","quotaDimensions":{"location":"global","model":"gemini-2.5-flash-image"},"quotaValue":")" +
        value +
        R"("}]},)"
        R"({"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more about Gemini API quotas","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]})";
    if (!retry_delay.empty()) {
        body += R"(,{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":")" +
                retry_delay + R"("})";
    }
    return body + "]}}";
}

}  // namespace

TEST_CASE("quota: a per-day quota is QUOTA_DAILY, whatever its RetryInfo says",
          "[quota][provider]") {
    // The captured free-tier body (api-examples#98, the research notes' 3p capture).
    auto body = quota_body(
        "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
        "generativelanguage.googleapis.com/generate_content_free_tier_requests", "20", "19s",
        "You exceeded your current quota, please check your plan and billing details. "
        "Please retry in 19.424395716s.");
    auto s = provider::parse_gemini_error(429, body, "", k_now);
    CHECK(s.code() == Code::quota_daily);
    CHECK(util::code_name(s.code()) == "QUOTA_DAILY");
    CHECK_FALSE(util::is_transient(s.code()));
    CHECK(s.message().find("quota \"GenerateRequestsPerDayPerProjectPerModel-FreeTier\"") !=
          std::string::npos);
    CHECK(s.message().find("limit 20") != std::string::npos);
    CHECK(s.http_status() == 429);
}

TEST_CASE("quota: per-minute limits stay MODEL_RATE_LIMIT with their RetryInfo hint",
          "[quota][provider]") {
    auto requests =
        quota_body("GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                   "generativelanguage.googleapis.com/generate_content_free_tier_requests", "10",
                   "45.837906927s", "You exceeded your current quota.");
    auto s = provider::parse_gemini_error(429, requests, "", k_now);
    CHECK(s.code() == Code::rate_limited);
    REQUIRE(s.retry_after());
    CHECK(*s.retry_after() == 45838ms);
    CHECK(util::is_transient(s.code()));

    // Tokens per minute (gemini-cli#8437's image-model quota) and a number-valued quotaValue.
    std::string tokens =
        quota_body("GenerateContentInputTokensPerModelPerMinute-FreeTier",
                   "generativelanguage.googleapis.com/generate_content_free_tier_input_token_count",
                   "125000", "15s", "Quota exceeded");
    auto t = provider::parse_gemini_error(429, tokens, "", k_now);
    CHECK(t.code() == Code::rate_limited);
    CHECK(t.message().find("limit 125000") != std::string::npos);

    // Vertex AI's shared-capacity 429 has no details; no body at all neither says more.
    auto v = provider::parse_gemini_error(
        429,
        R"({"error":{"code":429,"message":"Resource exhausted, please try again later.","status":"RESOURCE_EXHAUSTED"}})",
        "", k_now);
    CHECK(v.code() == Code::rate_limited);
    CHECK(provider::parse_gemini_error(429, "<html>Too Many Requests</html>", "2", k_now).code() ==
          Code::rate_limited);
}

TEST_CASE("quota: billing caps and used-up prepaid credit are BILLING_CAP", "[quota][provider]") {
    auto cap = provider::parse_gemini_error(
        429,
        R"({"error":{"code":429,"message":"Your billing account has exceeded its monthly spending cap. Please go to AI Studio at https://aistudio.google.com to manage your billing. Learn more at https://ai.google.dev/gemini-api/docs/billing.","status":"RESOURCE_EXHAUSTED"}})",
        "", k_now);
    CHECK(cap.code() == Code::billing_cap);
    CHECK(cap.message().find("monthly spending cap") != std::string::npos);
    auto prepay = provider::parse_gemini_error(
        429,
        R"({"error":{"code":429,"message":"Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.","status":"RESOURCE_EXHAUSTED"}})",
        "", k_now);
    CHECK(prepay.code() == Code::billing_cap);
    CHECK(util::code_name(prepay.code()) == "BILLING_CAP");
}

TEST_CASE("quota: a spend-based limit is SPEND_CAP and keeps its hint", "[quota][provider]") {
    auto body =
        quota_body("GenerateContentSpendPer10MinutesPerProject-Tier1",
                   "generativelanguage.googleapis.com/generate_content_spend_usd", "10", "42s",
                   "You exceeded your spend-based rate limit of $10 per 10 minutes.");
    auto s = provider::parse_gemini_error(429, body, "", k_now);
    CHECK(s.code() == Code::spend_cap);
    REQUIRE(s.retry_after());
    CHECK(*s.retry_after() == 42s);
    // The message alone is enough.
    provider::QuotaDetails d;
    d.message = "Spend-based rate limit exceeded";
    CHECK(provider::classify_quota(d) == Code::spend_cap);
    // Billing is checked first: "spending cap" also says "spend".
    d.message = "Your billing account has exceeded its monthly spending cap.";
    CHECK(provider::classify_quota(d) == Code::billing_cap);
}

TEST_CASE("quota: per-day quotas reset at the next midnight Pacific", "[quota][provider]") {
    // 2026-12-06 03:00 UTC is 19:00 PST the day before: midnight PST is 08:00 UTC.
    CHECK(provider::next_pacific_midnight(1796526000000) == 1796544000000);
    CHECK(provider::next_pacific_midnight(1796543999000) == 1796544000000);
    CHECK(provider::next_pacific_midnight(1796544000000) == 1796544000000 + 86'400'000);
    // Summer time: 2026-07-01 12:00 UTC → 2026-07-02 07:00 UTC (midnight PDT).
    CHECK(provider::next_pacific_midnight(1782907200000) == 1782975600000);
    // The day clocks go forward (2026-03-08) is 23 hours long.
    CHECK(provider::next_pacific_midnight(1772960400000) == 1773039600000);
    CHECK(provider::quota_reset_text(Code::quota_daily, 1796526000000, 19s) ==
          "the per-day quota resets at 2026-12-06 08:00 UTC (midnight Pacific), in 5h");
    CHECK(provider::quota_reset_text(Code::spend_cap, 1796526000000, 42s)
              .find("2026-12-06 03:00 UTC") != std::string::npos);
    CHECK(provider::quota_reset_text(Code::billing_cap, 1796526000000, std::nullopt)
              .find("AI Studio") != std::string::npos);
    CHECK(provider::is_quota_stop(Code::spend_cap));
    CHECK_FALSE(provider::is_quota_stop(Code::rate_limited));
}
