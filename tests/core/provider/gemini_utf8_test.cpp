// Found by fuzzing (tests/fuzz/gemini_wire): an error answer's text reached the Status message
// as it came (a non-JSON body) or cut inside a character, and the message broke the events file.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "provider/gemini_wire.hpp"

using namespace assetgen;

TEST_CASE("gemini: error text from the server is valid UTF-8 in the message",
          "[gemini][provider]") {
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1764979200));
    SECTION("a body that is not JSON, with bytes that are not UTF-8") {
        auto s = provider::parse_gemini_error(502, "<html>\xFF\xFE bad gateway</html>", "", now);
        CHECK(s.message().find("generateContent: HTTP 502: body \"<html>") == 0);
        CHECK(s.message().find("\xEF\xBF\xBD") != std::string::npos);
        CHECK_NOTHROW(nlohmann::json(s.message()).dump());
    }
    SECTION("a long JSON message cut where a character is") {
        const std::string text(299, 'x');
        std::string euros;
        for (int i = 0; i < 400; ++i) {
            euros += "\xE2\x82\xAC";
        }
        const std::string body = R"({"error":{"code":400,"message":")" + text + euros +
                                 R"(","status":"INVALID_ARGUMENT"}})";
        auto s = provider::parse_gemini_error(400, body, "", now);
        CHECK(s.message().size() < body.size());
        CHECK_NOTHROW(nlohmann::json(s.message()).dump());
    }
}
