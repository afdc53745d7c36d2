#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "provider/gemini_wire.hpp"
#include "util/base64.hpp"

using namespace assetgen::provider;
using assetgen::util::Code;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

const std::chrono::system_clock::time_point k_now{
    std::chrono::seconds(784111777)};  // Sun, 06 Nov 1994 08:49:37 GMT

std::string b64(std::string_view s) {
    return assetgen::util::base64_encode(s);
}

// A 200 answer with the given parts and finish reason.
std::string answer(const json& parts, const std::string& finish = "STOP") {
    json body = {
        {"candidates", json::array({{{"content", {{"role", "model"}, {"parts", parts}}},
                                     {"finishReason", finish},
                                     {"index", 0}}})},
        {"usageMetadata",
         {{"promptTokenCount", 275},
          {"candidatesTokenCount", 1290},
          {"thoughtsTokenCount", 37},
          {"totalTokenCount", 1602}}},
        {"modelVersion", "gemini-2.5-flash-image"},
        {"responseId", "abc"},
    };
    return body.dump();
}

json image_part(std::string_view bytes, std::string mime = "image/png") {
    return {{"inlineData", {{"mimeType", mime}, {"data", b64(bytes)}}}};
}

}  // namespace

TEST_CASE("gemini: the request is one user turn, prompt first, then refs as base64 inlineData",
          "[gemini][provider]") {
    ImageRequest r;
    r.model = "gemini-3-pro-image";
    r.prompt = "a cat on a mat";
    r.aspect_ratio = "16:9";
    r.image_size = "2K";
    r.refs.push_back({"image/png", std::string("\x89PNG\r\n\x1a\n", 8)});
    r.refs.push_back({"image/jpeg", "\xff\xd8\xff"});
    std::string body = build_gemini_request(r);
    CHECK(body == R"({"contents":[{"parts":[{"text":"a cat on a mat"},)"
                  R"({"inlineData":{"data":"iVBORw0KGgo=","mimeType":"image/png"}},)"
                  R"({"inlineData":{"data":"/9j/","mimeType":"image/jpeg"}}],"role":"user"}],)"
                  R"("generationConfig":{"imageConfig":{"aspectRatio":"16:9","imageSize":"2K"},)"
                  R"("responseModalities":["IMAGE"]}})");
    CHECK(body.find("andidate") == std::string::npos);
}

TEST_CASE("gemini: imageConfig is sent only with what is set", "[gemini][provider]") {
    ImageRequest r;
    r.prompt = "p";
    json none = json::parse(build_gemini_request(r));
    CHECK_FALSE(none["generationConfig"].contains("imageConfig"));
    CHECK(none["contents"][0]["parts"].size() == 1);

    r.aspect_ratio = "1:1";
    json ratio_only = json::parse(build_gemini_request(r));
    CHECK(ratio_only["generationConfig"]["imageConfig"] == json{{"aspectRatio", "1:1"}});

    r.aspect_ratio.clear();
    r.image_size = "4K";
    json size_only = json::parse(build_gemini_request(r));
    CHECK(size_only["generationConfig"]["imageConfig"] == json{{"imageSize", "4K"}});
}

TEST_CASE("gemini: the service tier is the body's service_tier, absent at standard",
          "[gemini][provider][tier]") {
    ImageRequest r;
    r.prompt = "p";
    json standard = json::parse(build_gemini_request(r));
    CHECK_FALSE(standard.contains("service_tier"));
    CHECK_FALSE(standard.contains("serviceTier"));
    GeminiWireOptions flex;
    flex.service_tier = "flex";
    json body = json::parse(build_gemini_request(r, flex));
    CHECK(body["service_tier"] == "flex");
    CHECK_FALSE(body["generationConfig"].contains("service_tier"));
}

TEST_CASE("gemini: text and image modalities on request; bad UTF-8 in a prompt does not throw",
          "[gemini][provider]") {
    ImageRequest r;
    r.prompt = "caf\xe9 \xff";
    GeminiWireOptions both;
    both.image_only = false;
    json body = json::parse(build_gemini_request(r, both));
    CHECK(body["generationConfig"]["responseModalities"] == json::array({"TEXT", "IMAGE"}));
    CHECK(body["contents"][0]["parts"][0]["text"].get<std::string>().find("caf") == 0);
}

TEST_CASE("gemini: thought images are skipped and the last final image is returned",
          "[gemini][provider]") {
    json parts = json::array({
        {{"text", "thinking about composition"}, {"thought", true}},
        {{"inlineData", {{"mimeType", "image/png"}, {"data", b64("draft-1")}}}, {"thought", true}},
        {{"text", "Here is your image"}, {"thoughtSignature", "c2ln"}},
        {{"inlineData", {{"mimeType", "image/jpeg"}, {"data", b64("final")}}},
         {"thoughtSignature", "c2ln"}},
    });
    auto r = parse_gemini_response(answer(parts));
    REQUIRE(r.ok());
    CHECK(r->data == "final");
    CHECK(r->mime_type == "image/jpeg");
    CHECK(r->usage.prompt_tokens == 275);
    CHECK(r->usage.output_tokens == 1290);
    CHECK(r->usage.thoughts_tokens == 37);
    CHECK(r->model_version == "gemini-2.5-flash-image");
}

TEST_CASE("gemini: snake_case inline_data and URL-safe base64 are read", "[gemini][provider]") {
    json parts = json::array({{{"inline_data", {{"mime_type", "image/png"}, {"data", "-_8"}}}}});
    auto r = parse_gemini_response(answer(parts));
    REQUIRE(r.ok());
    CHECK(r->data == "\xfb\xff");
    CHECK(r->mime_type == "image/png");
}

TEST_CASE("gemini: only thought images is a model error, not an output", "[gemini][provider]") {
    json parts = json::array(
        {{{"inlineData", {{"mimeType", "image/png"}, {"data", b64("draft")}}}, {"thought", true}}});
    auto r = parse_gemini_response(answer(parts));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::model_error);
}

TEST_CASE("gemini: a blocked prompt is BLOCKED with its reason", "[gemini][provider]") {
    auto r = parse_gemini_response(
        R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":9}})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::blocked);
    CHECK(r.status().message().rfind("SAFETY", 0) == 0);
    CHECK(r.status().message().find("prompt blocked") != std::string::npos);

    auto vertex = parse_gemini_response(
        R"({"promptFeedback":{"blockReason":"PROHIBITED_CONTENT","blockReasonMessage":"The prompt was blocked."}})");
    REQUIRE_FALSE(vertex.ok());
    CHECK(vertex.status().code() == Code::blocked);
    CHECK(vertex.status().message().find("The prompt was blocked.") != std::string::npos);
}

TEST_CASE(
    "gemini: policy finish reasons are BLOCKED, other reasons without an image are MODEL_ERROR",
    "[gemini][provider]") {
    for (const char* reason :
         {"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST",
          "SPII", "RECITATION", "IMAGE_RECITATION", "NO_IMAGE"}) {
        INFO(reason);
        auto r = parse_gemini_response(answer(json::array(), reason));
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::blocked);
        CHECK(r.status().message().rfind(reason, 0) == 0);
        CHECK(r.status().http_status() == 200);
    }
    for (const char* reason :
         {"IMAGE_OTHER", "OTHER", "MAX_TOKENS", "LANGUAGE", "STOP", "SOMETHING_NEW"}) {
        INFO(reason);
        auto r = parse_gemini_response(
            answer(json::array({{{"text", "I can only describe it."}}}), reason));
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::model_error);
        CHECK(r.status().message().find(reason) != std::string::npos);
    }
}

TEST_CASE("gemini: a safety finish wins over an image part", "[gemini][provider]") {
    auto r = parse_gemini_response(answer(json::array({image_part("x")}), "IMAGE_SAFETY"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::blocked);
}

TEST_CASE("gemini: the finish message of a block is kept", "[gemini][provider]") {
    std::string body =
        R"({"candidates":[{"content":{"role":"model"},"finishReason":"IMAGE_PROHIBITED_CONTENT",)"
        R"("finishMessage":"The model output could not be generated. Support code: 42876398."}]})";
    auto r = parse_gemini_response(body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().rfind("IMAGE_PROHIBITED_CONTENT: ", 0) == 0);
    CHECK(r.status().message().find("Support code: 42876398") != std::string::npos);
}

TEST_CASE("gemini: truncated, malformed or empty answers are BAD_RESPONSE", "[gemini][provider]") {
    std::string full = answer(json::array({image_part("final")}));
    for (const std::string& body :
         {full.substr(0, full.size() / 2), std::string(""), std::string("<html>oops</html>"),
          std::string("[1,2]"), std::string(R"({"candidates":[]})"), std::string("{}"),
          answer(json::array({{{"inlineData", {{"mimeType", "image/png"}, {"data", "!!"}}}}})),
          answer(json::array({{{"inlineData", {{"mimeType", "image/png"}, {"data", ""}}}}}))}) {
        INFO(body.substr(0, 80));
        auto r = parse_gemini_response(body);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::bad_response);
        CHECK(assetgen::util::is_transient(r.status().code()));
    }
}

TEST_CASE("gemini: HTTP statuses map to codes", "[gemini][provider]") {
    struct Case {
        int http;
        Code code;
    };
    for (Case c : {Case{400, Code::model_error}, Case{401, Code::unauthenticated},
                   Case{402, Code::permission_denied}, Case{403, Code::permission_denied},
                   Case{404, Code::not_found}, Case{408, Code::deadline_exceeded},
                   Case{409, Code::model_error}, Case{429, Code::rate_limited},
                   Case{500, Code::unavailable}, Case{502, Code::unavailable},
                   Case{503, Code::unavailable}, Case{504, Code::deadline_exceeded}}) {
        INFO(c.http);
        auto s = parse_gemini_error(c.http, R"({"error":{"code":1,"message":"m","status":"X"}})",
                                    "", k_now);
        CHECK(s.code() == c.code);
        CHECK(s.http_status() == c.http);
        CHECK_FALSE(s.retry_after().has_value());
    }
}

TEST_CASE("gemini: a bad API key (400 API_KEY_INVALID) is AUTH_FAILED", "[gemini][provider]") {
    std::string body =
        R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.",)"
        R"("status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",)"
        R"("reason":"API_KEY_INVALID","domain":"googleapis.com",)"
        R"("metadata":{"service":"generativelanguage.googleapis.com"}}]}})";
    auto s = parse_gemini_error(400, body, "", k_now);
    CHECK(s.code() == Code::unauthenticated);
    CHECK(s.message().find("API key not valid") != std::string::npos);
    CHECK(s.message().find("API_KEY_INVALID") != std::string::npos);

    auto unknown_field = parse_gemini_error(
        400,
        R"({"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"foo\": Cannot find field.","status":"INVALID_ARGUMENT"}})",
        "", k_now);
    CHECK(unknown_field.code() == Code::model_error);
    CHECK(unknown_field.message().find("Unknown name") != std::string::npos);
}

TEST_CASE("gemini: a 429 carries RetryInfo.retryDelay, fractional seconds rounded up",
          "[gemini][provider]") {
    auto body = [](const std::string& delay) {
        return R"({"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED",)"
               R"("details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":)"
               R"("GenerateRequestsPerMinutePerProjectPerModel"}]},)"
               R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":")" +
               delay + R"("}]}})";
    };
    auto s = parse_gemini_error(429, body("45.8s"), "", k_now);
    CHECK(s.code() == Code::rate_limited);
    REQUIRE(s.retry_after().has_value());
    CHECK(*s.retry_after() == milliseconds(45'800));
    CHECK(s.message().find("GenerateRequestsPerMinutePerProjectPerModel") != std::string::npos);
    CHECK(*parse_gemini_error(429, body("0.5s"), "", k_now).retry_after() == milliseconds(500));
    CHECK(*parse_gemini_error(429, body("30s"), "", k_now).retry_after() == milliseconds(30'000));
    CHECK(*parse_gemini_error(429, body("19.424395716s"), "", k_now).retry_after() ==
          milliseconds(19'425));
}

TEST_CASE("gemini: Retry-After counts, and the longer hint wins", "[gemini][provider]") {
    std::string retry_info =
        R"({"error":{"code":503,"status":"UNAVAILABLE","message":"overloaded","details":[)"
        R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2.5s"}]}})";
    CHECK(*parse_gemini_error(503, "", "7", k_now).retry_after() == milliseconds(7'000));
    CHECK(*parse_gemini_error(503, retry_info, "1", k_now).retry_after() == milliseconds(2'500));
    CHECK(*parse_gemini_error(503, retry_info, "10", k_now).retry_after() == milliseconds(10'000));
    CHECK(*parse_gemini_error(429, "", "Sun, 06 Nov 1994 08:50:07 GMT", k_now).retry_after() ==
          milliseconds(30'000));
    CHECK(*parse_gemini_error(429, "", "Sun, 06 Nov 1994 08:00:00 GMT", k_now).retry_after() ==
          milliseconds(0));
    CHECK_FALSE(parse_gemini_error(429, "", "soon", k_now).retry_after().has_value());
}

TEST_CASE("gemini: durations and Retry-After values parse strictly", "[gemini][provider]") {
    CHECK(parse_proto_duration("1.000000001s") == milliseconds(1'001));
    CHECK(parse_proto_duration("0s") == milliseconds(0));
    CHECK(parse_proto_duration(".5s") == milliseconds(500));
    for (const char* bad : {"", "s", "5", "-1s", "1.5ms", "abc", "1..5s", "1 s"}) {
        INFO(bad);
        CHECK_FALSE(parse_proto_duration(bad).has_value());
    }
    CHECK(parse_retry_after(" 120 ", k_now) == milliseconds(120'000));
    CHECK_FALSE(parse_retry_after("-3", k_now).has_value());
    CHECK_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:37", k_now).has_value());
}

TEST_CASE("gemini: error messages keep Google's text but not secrets or HTML",
          "[gemini][provider]") {
    std::string body =
        R"({"error":{"code":403,"status":"PERMISSION_DENIED",)"
        R"("message":"Key AIzaSyA1234567890abcdefghijklmnopqrstu is blocked\nfor this project."}})";
    auto s = parse_gemini_error(403, body, "", k_now);
    CHECK(s.code() == Code::permission_denied);
    CHECK(s.message().find("AIzaSyA1234567890") == std::string::npos);
    CHECK(s.message().find("is blocked for this project") != std::string::npos);
    CHECK(s.message().find('\n') == std::string::npos);

    auto html = parse_gemini_error(502, "<html><body>" + std::string(5000, 'x') + "</body></html>",
                                   "", k_now);
    CHECK(html.code() == Code::unavailable);
    CHECK(html.message().size() < 700);
    CHECK(html.message().rfind("generateContent: HTTP 502", 0) == 0);
}

TEST_CASE("gemini: the request carries the reserved output cap and the thinking level",
          "[gemini][provider][money]") {
    ImageRequest r;
    r.model = "gemini-3.1-flash-image";
    r.prompt = "a lamp";
    json plain = json::parse(build_gemini_request(r));
    CHECK_FALSE(plain["generationConfig"].contains("maxOutputTokens"));
    CHECK_FALSE(plain["generationConfig"].contains("thinkingConfig"));
    r.max_output_tokens = 4776;
    r.thinking_level = "minimal";
    json capped = json::parse(build_gemini_request(r));
    CHECK(capped["generationConfig"]["maxOutputTokens"] == 4776);
    CHECK(capped["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "minimal");
    CHECK(capped["generationConfig"]["thinkingConfig"]["includeThoughts"] == false);
}

TEST_CASE("gemini: usage counts are read without wrapping, with the image share of the output",
          "[gemini][provider][money]") {
    const std::string image = b64("\x89PNG\r\n\x1a\nxxxx");
    auto answer = [&](const std::string& usage) {
        return R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":")" +
               image + R"("}}]},"finishReason":"STOP"}],"usageMetadata":)" + usage + "}";
    };
    auto r = parse_gemini_response(answer(
        R"({"promptTokenCount":17,"candidatesTokenCount":1306,"thoughtsTokenCount":"400000",
            "candidatesTokensDetails":[{"modality":"IMAGE","tokenCount":1290}]})"));
    REQUIRE(r.ok());
    CHECK(r->usage.output_tokens == 1306);
    CHECK(r->usage.output_image_tokens == 1290);
    CHECK(r->usage.thoughts_tokens == 400'000);
    auto absurd = parse_gemini_response(answer(
        R"({"promptTokenCount":-5,"candidatesTokenCount":1e300,"thoughtsTokenCount":"99999999999999999999999"})"));
    REQUIRE(absurd.ok());
    CHECK(absurd->usage.prompt_tokens == -5);  // kept as sent: budget::usage_anomaly judges it
    CHECK(absurd->usage.output_tokens > 1'000'000'000);
    CHECK(absurd->usage.thoughts_tokens > 1'000'000'000);
    CHECK(absurd->usage.output_image_tokens == -1);
}
