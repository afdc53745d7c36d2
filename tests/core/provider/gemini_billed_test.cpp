#include <catch2/catch.hpp>

#include "provider/gemini_wire.hpp"

using namespace assetgen::provider;
using assetgen::util::Code;

// Google bills an answer that carries no image (blocked for safety, prompt blocked, text only)
// its prompt and thoughts: the failure must say what was billed, so the runner can charge it.

TEST_CASE("gemini: an answer withheld for safety carries its usage", "[gemini][provider][billed]") {
    // The shape of a captured Gemini 3 Pro Image refusal (research: litellm#20357).
    auto r = parse_gemini_response(
        R"({"candidates":[{"content":{"role":"model"},"finishReason":"IMAGE_PROHIBITED_CONTENT"}],)"
        R"("usageMetadata":{"promptTokenCount":1119,"totalTokenCount":1359,"thoughtsTokenCount":240,)"
        R"("promptTokensDetails":[{"modality":"IMAGE","tokenCount":1069},{"modality":"TEXT","tokenCount":50}]}})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::blocked);
    REQUIRE(r.status().usage().has_value());
    CHECK(r.status().usage()->prompt_tokens == 1119);
    CHECK(r.status().usage()->thoughts_tokens == 240);
    CHECK(r.status().usage()->output_tokens == 0);
    CHECK(r.status().usage()->output_image_tokens == -1);
}

TEST_CASE("gemini: a blocked prompt and a text-only answer carry their usage",
          "[gemini][provider][billed]") {
    auto prompt = parse_gemini_response(
        R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"prompt_token_count":"31"}})");
    REQUIRE_FALSE(prompt.ok());
    CHECK(prompt.status().code() == Code::blocked);
    REQUIRE(prompt.status().usage().has_value());
    CHECK(prompt.status().usage()->prompt_tokens == 31);

    auto text = parse_gemini_response(
        R"({"candidates":[{"content":{"role":"model","parts":[{"text":"I cannot draw that."}]},)"
        R"("finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":8,)"
        R"("candidatesTokensDetails":[{"modality":"TEXT","tokenCount":8}]}})");
    REQUIRE_FALSE(text.ok());
    CHECK(text.status().code() == Code::model_error);
    REQUIRE(text.status().usage().has_value());
    CHECK(text.status().usage()->output_tokens == 8);
    CHECK(text.status().usage()->output_image_tokens == 0);
}

TEST_CASE("gemini: a refusal without usageMetadata says nothing was reported",
          "[gemini][provider][billed]") {
    auto r = parse_gemini_response(R"({"promptFeedback":{"blockReason":"SAFETY"}})");
    REQUIRE_FALSE(r.ok());
    CHECK_FALSE(r.status().usage().has_value());
    auto cut = parse_gemini_response(R"({"candidates":[{"content":)");
    REQUIRE_FALSE(cut.ok());
    CHECK_FALSE(cut.status().usage().has_value());
}
