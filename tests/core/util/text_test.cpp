#include <catch2/catch.hpp>

#include "util/text.hpp"

using namespace assetgen::util;
using std::chrono::milliseconds;

TEST_CASE("util: durations parse the human way", "[util]") {
    CHECK(parse_duration("250ms").value() == milliseconds(250));
    CHECK(parse_duration("90s").value() == milliseconds(90'000));
    CHECK(parse_duration("1.5s").value() == milliseconds(1'500));
    CHECK(parse_duration("5m").value() == milliseconds(300'000));
    CHECK(parse_duration("1h").value() == milliseconds(3'600'000));
    CHECK(parse_duration("7d").value() == milliseconds(604'800'000));
    CHECK(parse_duration("0").value() == milliseconds(0));
    for (const char* bad : {"", "5", "ms", "5 parsecs", "1.2.3s", "-5s", "5sec"}) {
        INFO(bad);
        auto r = parse_duration(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::invalid_input);
    }
}

TEST_CASE("util: durations are written the human way", "[util]") {
    CHECK(format_duration(milliseconds(250)) == "250ms");
    CHECK(format_duration(milliseconds(1'500)) == "1.5s");
    CHECK(format_duration(milliseconds(30'000)) == "30s");
    CHECK(format_duration(milliseconds(90'000)) == "1m30s");
    CHECK(format_duration(milliseconds(300'000)) == "5m");
    CHECK(format_duration(milliseconds(3'600'000)) == "1h");
    CHECK(format_duration(milliseconds(604'800'000)) == "7d");
}

TEST_CASE("util: money is exact in micro-dollars", "[util]") {
    CHECK(to_micros(0.039) == 39'000);
    Micros sum = 0;
    for (int i = 0; i < 199; ++i) {
        sum += to_micros(0.039);
    }
    CHECK(sum == 7'761'000);
    CHECK(format_usd(7'761'000) == "$7.761000");
}

TEST_CASE("util: redact removes keys, tokens and signatures but keeps the rest", "[util]") {
    std::string key = "AIzaSyA1234567890abcdefghijklmnopqrstu";
    auto out = redact("GET https://x/v1/m:generateContent?key=" + key + "&alt=json");
    CHECK(out.find(key) == std::string::npos);
    CHECK(out.find("alt=json") != std::string::npos);
    CHECK(redact("Authorization: Bearer ya29.abc-DEF_123").find("ya29") == std::string::npos);
    CHECK(redact(R"({"access_token":"tok-123","expires_in":3599})").find("tok-123") ==
          std::string::npos);
    CHECK(redact("https://storage.googleapis.com/b/o?X-Goog-Signature=abcdef0123&X-Goog-Expires=60")
              .find("abcdef0123") == std::string::npos);
    CHECK(redact("x-goog-api-key: secret-value").find("secret-value") == std::string::npos);
    CHECK(redact("plain message about row 17") == "plain message about row 17");
}

TEST_CASE("util: UTC dates and timestamps", "[util]") {
    CHECK(utc_date(0) == "1970-01-01");
    CHECK(utc_date(1'764'028'799'999) == "2025-11-24");
    CHECK(utc_date(1'764'028'800'000) == "2025-11-25");
    CHECK(utc_timestamp(1'764'028'800'123) == "2025-11-25T00:00:00.123Z");
}

TEST_CASE("util: redact survives a 1 MB secret and never shows a cut-off private key", "[util]") {
    const std::string key = "-----BEGIN RSA PRIVATE KEY-----\n" + std::string(1 << 20, 'A') +
                            "\n-----END RSA PRIVATE KEY-----";
    auto out = redact("error: " + key);
    CHECK(out.find("AAAA") == std::string::npos);
    CHECK(out.find("[REDACTED PRIVATE KEY]") != std::string::npos);
    CHECK(out.size() < 9000);
    auto header = redact("authorization: Bearer " + std::string(200'000, 'x'));
    CHECK(header.find("xxxx") == std::string::npos);
    CHECK(redact(std::string(50'000, 'z') + " tail").find("more bytes not shown") !=
          std::string::npos);
}
