#include <catch2/catch.hpp>

#include <string>

#include "budget/usage_check.hpp"
#include "ledger/audit.hpp"
#include "ledger/entry.hpp"
#include "provider/gemini_wire.hpp"
#include "util/base64.hpp"

using namespace assetgen;

// A lying server's usageMetadata: the readers keep the counts as sent, budget::bill judges them.
// A count that cannot be a bill charges the request's worst case (its reservation), never less
// (a negative count read as 0 recorded the image at almost $0) and never an absurd amount (2^63
// tokens wrote hundreds of billions of dollars, which `ledger verify` rejects as bad_cost).

namespace {

std::string answer(const std::string& usage) {
    return R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":")" +
           util::base64_encode("\x89PNG\r\n\x1a\nxxxx") +
           R"("}}]},"finishReason":"STOP"}],"usageMetadata":)" + usage + "}";
}

struct Priced {
    std::string anomaly;
    util::Micros cost = 0;
    util::Micros worst = 0;
    std::int64_t max_output_tokens = 0;
};

// The answer through both readers (they must agree) and the pricing of a 1K gemini-3-pro-image
// request.
Priced price(const std::string& usage) {
    const auto prices = budget::PriceTable::builtin();
    const auto ceiling = prices.ceiling({"gemini-3-pro-image", "1K", 40, 0}).value();
    auto fast = provider::parse_gemini_response(answer(usage));
    auto dom = provider::parse_gemini_response_dom(answer(usage));
    REQUIRE(fast.ok());
    REQUIRE(dom.ok());
    CHECK(fast->usage.prompt_tokens == dom->usage.prompt_tokens);
    CHECK(fast->usage.output_tokens == dom->usage.output_tokens);
    CHECK(fast->usage.thoughts_tokens == dom->usage.thoughts_tokens);
    CHECK(fast->usage.output_image_tokens == dom->usage.output_image_tokens);
    const budget::Bill b = budget::bill(prices, "gemini-3-pro-image", "1K", fast->usage,
                                        budget::Tier::standard, ceiling.worst_case);
    CHECK(b.priced);
    return {b.anomaly, b.cost, ceiling.worst_case, ceiling.max_output_tokens};
}

}  // namespace

TEST_CASE("usage: a count that cannot be a bill charges the request's worst case, named",
          "[budget][usage][money]") {
    struct Case {
        const char* usage;
        const char* anomaly;
    };
    const Case cases[] = {
        {R"({"promptTokenCount":17,"candidatesTokenCount":-5000})",
         "candidatesTokenCount:negative"},
        {R"({"promptTokenCount":-5,"candidatesTokenCount":1120})", "promptTokenCount:negative"},
        {R"({"promptTokenCount":17,"candidatesTokenCount":1120,"thoughtsTokenCount":"-3"})",
         "thoughtsTokenCount:negative"},
        {R"({"promptTokenCount":17,"candidatesTokenCount":9223372036854775808})",
         "candidatesTokenCount:above_limit"},
        {R"({"promptTokenCount":17,"candidatesTokenCount":1000000000000000})",
         "candidatesTokenCount:above_limit"},
        {R"({"promptTokenCount":17,"candidatesTokenCount":1e300})",
         "candidatesTokenCount:above_limit"},
        {R"({"promptTokenCount":17,"candidatesTokenCount":1120,"thoughtsTokenCount":"99999999999999999999999"})",
         "thoughtsTokenCount:above_limit"},
        {R"({"promptTokenCount":17,"candidatesTokenCount":1120.5})",
         "candidatesTokenCount:not_a_count"},
        {R"({"promptTokenCount":"12abc","candidatesTokenCount":1120})",
         "promptTokenCount:not_a_count"},
        {R"({"promptTokenCount":17,"candidatesTokenCount":true})",
         "candidatesTokenCount:not_a_count"},
        {R"({"promptTokenCount":17,"candidatesTokenCount":1120,)"
         R"("candidatesTokensDetails":[{"modality":"IMAGE","tokenCount":-1120}]})",
         "candidatesTokensDetails:negative"},
        // Plausible each, but together past any Gemini model's context window.
        {R"({"promptTokenCount":600000,"candidatesTokenCount":1120,"thoughtsTokenCount":600000})",
         "promptTokenCount:above_limit"},
    };
    for (const Case& c : cases) {
        INFO(c.usage);
        const Priced p = price(c.usage);
        CHECK(p.anomaly == c.anomaly);
        CHECK(p.cost == p.worst);
        CHECK(p.cost > 0);
        CHECK(p.cost <= ledger::k_absurd_line_cost);
    }
}

TEST_CASE(
    "usage: counts far past the request's maxOutputTokens are an anomaly; a plausible "
    "overrun is charged as reported",
    "[budget][usage][money]") {
    const Priced base = price(R"({"promptTokenCount":17,"candidatesTokenCount":1120})");
    REQUIRE(base.max_output_tokens > 0);
    // 1000 x the cap: past the largest context window, whatever the model.
    const Priced lie = price(R"({"promptTokenCount":17,"candidatesTokenCount":1120,)"
                             R"("thoughtsTokenCount":)" +
                             std::to_string(base.max_output_tokens * 1000) + "}");
    CHECK(lie.anomaly == "thoughtsTokenCount:above_limit");
    CHECK(lie.cost == lie.worst);
    // 400,000 thoughts (~100 x the cap) is what a thinking model may bill past its cap: charged
    // as reported, above the reservation (the runner's overrun path halts dispatch).
    const Priced overrun =
        price(R"({"promptTokenCount":17,"candidatesTokenCount":1120,"thoughtsTokenCount":400000})");
    CHECK(overrun.anomaly.empty());
    CHECK(overrun.cost > overrun.worst);
    // An honest answer costs its tokens, below the worst case.
    CHECK(base.anomaly.empty());
    CHECK(base.cost < base.worst);
    CHECK(budget::usage_anomaly(util::TokenUsage{}).empty());  // absent counts are 0
}

TEST_CASE("usage: the ledger line names the anomaly and round-trips it",
          "[budget][usage][ledger]") {
    ledger::Entry e;
    e.v = 1;
    e.id = "j/s/v1";
    e.cost = 134'000;
    e.usage_anomaly = "candidatesTokenCount:negative";
    const std::string line = ledger::to_line(e);
    CHECK(line.find(R"("usage_anomaly":"candidatesTokenCount:negative")") != std::string::npos);
    CHECK(line.find("output_tokens") == std::string::npos);
    auto back = ledger::parse_line(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(back.ok());
    CHECK(back->usage_anomaly == e.usage_anomaly);
    CHECK(*back == e);
}
