#include <catch2/catch.hpp>

#include <string>

#include "storage/crc32c.hpp"
#include "storage/gcs_url.hpp"

using namespace assetgen::storage;
using assetgen::util::Code;

TEST_CASE("storage: gs:// URLs split into bucket and object", "[storage]") {
    auto u = parse_gcs_url("gs://my-bucket/ledger/2025-11-24.jsonl");
    REQUIRE(u.ok());
    CHECK(u->bucket == "my-bucket");
    CHECK(u->object == "ledger/2025-11-24.jsonl");
    CHECK(u->to_string() == "gs://my-bucket/ledger/2025-11-24.jsonl");
    // Leading, doubled and trailing slashes belong to the object name.
    CHECK(parse_gcs_url("gs://b-1/a//b/").value().object == "a//b/");
    CHECK(parse_gcs_url("gs://b-1//x").value().object == "/x");
    CHECK(gcs_url("b-1", "") == "gs://b-1/");

    for (const char* bad : {"", "gs:/b/o", "s3://bucket/o", "gs://", "gs://bucket", "gs://bucket/",
                            "gs:///object", "GS://bucket/o", "gs://Bucket/o"}) {
        INFO(bad);
        auto r = parse_gcs_url(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::invalid_input);
    }
}

TEST_CASE("storage: gs:// prefixes may name only a bucket", "[storage]") {
    CHECK(parse_gcs_prefix("gs://bucket").value().object.empty());
    CHECK(parse_gcs_prefix("gs://bucket/").value().object.empty());
    CHECK(parse_gcs_prefix("gs://bucket/assets/job-1/").value().object == "assets/job-1/");
    CHECK_FALSE(parse_gcs_prefix("gs://bucket/a\nb").ok());
    CHECK_FALSE(parse_gcs_prefix("gs://bucket/\xC3\x28").ok());
    CHECK_FALSE(parse_gcs_prefix("gs://ab").ok());
}

TEST_CASE("storage: bucket names follow Google's naming rules", "[storage]") {
    for (const char* good : {"abc", "my-bucket", "my_bucket", "0bucket9", "a.b.c",
                             "assets.example.com", "1.2.3", "1.2.3.4.5"}) {
        INFO(good);
        CHECK(validate_bucket_name(good).ok());
    }
    std::string label63(63, 'a');
    CHECK(validate_bucket_name(label63).ok());
    CHECK_FALSE(validate_bucket_name(label63 + "a").ok());  // 64 without dots
    // With dots: up to 222 characters, each part at most 63.
    std::string dotted = label63 + "." + label63 + "." + label63 + "." + std::string(30, 'b');
    REQUIRE(dotted.size() == 222);
    CHECK(validate_bucket_name(dotted).ok());
    CHECK_FALSE(validate_bucket_name(dotted + "b").ok());
    CHECK_FALSE(validate_bucket_name(label63 + "a.b").ok());

    for (const char* bad : {"", "ab", "Bucket", "my bucket", "-abc", "abc-", "_abc", "abc.", ".abc",
                            "a..b", "b/c", "bück", "192.168.5.4", "goog-bucket", "googbucket",
                            "my-google-bucket", "g00gle-assets", "assets-go0gle"}) {
        INFO(bad);
        auto s = validate_bucket_name(bad);
        REQUIRE_FALSE(s.ok());
        CHECK(s.code() == Code::invalid_input);
        CHECK(s.message().find("naming-buckets") != std::string::npos);
    }
}

TEST_CASE("storage: object names are 1-1024 bytes of UTF-8 without line breaks", "[storage]") {
    for (const char* good :
         {"a", "ledger/2025-11-24.jsonl", "ünïcödé/名前.png", "emoji-\xF0\x9F\x98\x80",
          "with space", "a#1", "...", "./x", ".well-known/other"}) {
        INFO(good);
        CHECK(validate_object_name(good).ok());
    }
    CHECK(validate_object_name(std::string(1024, 'x')).ok());
    CHECK_FALSE(validate_object_name(std::string(1025, 'x')).ok());
    for (const char* bad : {"", ".", "..", "a\nb", "a\rb", ".well-known/acme-challenge/token",
                            "\xC3\x28",          // invalid continuation
                            "\xC0\xAF",          // overlong '/'
                            "\xED\xA0\x80",      // UTF-16 surrogate
                            "\xE2\x82",          // cut short
                            "\xF4\x90\x80\x80",  // above U+10FFFF
                            "\xFF"}) {
        INFO(bad);
        auto s = validate_object_name(bad);
        REQUIRE_FALSE(s.ok());
        CHECK(s.code() == Code::invalid_input);
    }
}

TEST_CASE("storage: object names are percent-encoded as one path segment", "[storage]") {
    CHECK(percent_encode("ledger/2024-03-05.jsonl") == "ledger%2F2024-03-05.jsonl");
    CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(percent_encode("a b+c?#[]*&=%") == "a%20b%2Bc%3F%23%5B%5D%2A%26%3D%25");
    CHECK(percent_encode("é/名") == "%C3%A9%2F%E5%90%8D");
    CHECK(percent_encode(std::string("\x00\x7f", 2)) == "%00%7F");
}

TEST_CASE("storage: crc32c matches the published check values", "[storage]") {
    // RFC 3720 B.4 check value and the values worked out in research/gcs.md §1.6.
    CHECK(crc32c("123456789") == 0xE3069283u);
    CHECK(crc32c_base64("123456789") == "4waSgw==");
    CHECK(crc32c_base64("") == "AAAAAA==");
    CHECK(crc32c_base64("{\"line\":1}\n{\"line\":2}\n") == "tQDepA==");
    CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);  // RFC 3720 B.4: 32 zero bytes
    // Continuing from a previous value equals one pass over the concatenation.
    CHECK(crc32c("56789", crc32c("1234")) == crc32c("123456789"));
}
