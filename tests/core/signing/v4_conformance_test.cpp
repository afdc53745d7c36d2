#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "signing/rsa_signer.hpp"
#include "signing/v4.hpp"

using namespace assetgen;
using namespace assetgen::signing;
using nlohmann::json;

namespace {

const std::string k_vectors = std::string(ASSETGEN_GCS_VECTORS_DIR) + "/";

json load_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

std::unique_ptr<RsaSigner> vector_signer() {
    json key = load_json(k_vectors + "test_service_account.not-a-test.json");
    auto signer = RsaSigner::from_pem(key.at("private_key").get<std::string>(),
                                      key.at("client_email").get<std::string>());
    REQUIRE(signer.ok());
    return std::move(signer).value();
}

// "2019-02-01T09:00:00Z" → Unix seconds.
std::int64_t parse_timestamp(const std::string& text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    REQUIRE(std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) == 6);
    using namespace std::chrono;
    auto date =
        sys_days{year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)}};
    return (date.time_since_epoch() + hours{h} + minutes{mi} + seconds{s}) / seconds{1};
}

Pairs pairs_of(const json& case_, const char* field) {
    Pairs out;
    if (case_.contains(field)) {
        for (const auto& [k, v] : case_.at(field).items()) {
            out.emplace_back(k, v.get<std::string>());
        }
    }
    return out;
}

V4Options options_of(const json& c) {
    V4Options o;
    o.method = c.at("method").get<std::string>();
    o.bucket = c.at("bucket").get<std::string>();
    o.object = c.value("object", "");
    o.expiration_seconds = c.at("expiration").get<std::int64_t>();
    o.timestamp = parse_timestamp(c.at("timestamp").get<std::string>());
    o.headers = pairs_of(c, "headers");
    o.query_parameters = pairs_of(c, "queryParameters");
    o.scheme = c.value("scheme", "");
    std::string style = c.value("urlStyle", "PATH_STYLE");
    if (style == "VIRTUAL_HOSTED_STYLE") {
        o.url_style = UrlStyle::virtual_hosted;
    } else if (style == "BUCKET_BOUND_HOSTNAME") {
        o.url_style = UrlStyle::bucket_bound_hostname;
    } else {
        REQUIRE(style == "PATH_STYLE");
    }
    o.bucket_bound_hostname = c.value("bucketBoundHostname", "");
    o.hostname = c.value("hostname", "");
    o.client_endpoint = c.value("clientEndpoint", "");
    o.emulator_host = c.value("emulatorHostname", "");
    o.universe_domain = c.value("universeDomain", "");
    return o;
}

}  // namespace

TEST_CASE("signing: every V4 conformance vector gives the expected URL", "[signing]") {
    json vectors = load_json(k_vectors + "v4_signatures.json");
    const json& cases = vectors.at("signingV4Tests");
    REQUIRE(cases.size() == 29);
    auto signer = vector_signer();
    std::size_t run = 0;
    std::size_t passed = 0;
    for (const json& c : cases) {
        std::string description = c.at("description").get<std::string>();
        INFO(description);
        ++run;
        auto parts = v4_prepare(options_of(c), signer->client_email());
        REQUIRE(parts.ok());
        // Upstream's canonical request for this one case was made with the path-style path;
        // its string-to-sign and URL use the right one (see tests/data/gcs/README.md).
        if (description != "Universe domain with virtual hosted style") {
            CHECK(parts->canonical_request == c.at("expectedCanonicalRequest").get<std::string>());
        }
        CHECK(parts->string_to_sign == c.at("expectedStringToSign").get<std::string>());
        auto url = v4_signed_url(options_of(c), *signer);
        REQUIRE(url.ok());
        CHECK(*url == c.at("expectedUrl").get<std::string>());
        passed += *url == c.at("expectedUrl").get<std::string>() ? 1 : 0;
    }
    CHECK(run == cases.size());
    CHECK(passed == cases.size());
}

TEST_CASE("signing: uri_encode keeps only unreserved characters (and '/' in paths)", "[signing]") {
    CHECK(uri_encode("aA0-._~", false) == "aA0-._~");
    CHECK(uri_encode("a b+c/d@e;f=g%", false) == "a%20b%2Bc%2Fd%40e%3Bf%3Dg%25");
    CHECK(uri_encode("a b+c/d@e;f=g%", true) == "a%20b%2Bc/d%40e%3Bf%3Dg%25");
    CHECK(uri_encode("//x//", true) == "//x//");
    CHECK(uri_encode("\xc3\xa9", false) == "%C3%A9");
    CHECK(uri_encode("aA0\xc3\xa9/=%-_.~", false) == "aA0%C3%A9%2F%3D%25-_.~");
}

TEST_CASE("signing: X-Goog-Date is the UTC time in basic format", "[signing]") {
    CHECK(goog_date_time(1549011600) == "20190201T090000Z");
    CHECK(goog_date_time(0) == "19700101T000000Z");
    CHECK(goog_date_time(1709596799) == "20240304T235959Z");
    CHECK(goog_date_time(1709251200) == "20240301T000000Z");  // after Feb 29
}

TEST_CASE("signing: canonical headers are lower-cased, sorted, trimmed and merged", "[signing]") {
    auto [block, names] = canonical_headers({{"X-Goog-Meta-B", "  two   words\t"},
                                             {"Content-Type", "image/png"},
                                             {"x-goog-meta-b", "again"}},
                                            "storage.googleapis.com");
    CHECK(block ==
          "content-type:image/png\nhost:storage.googleapis.com\nx-goog-meta-b:two words,again\n");
    CHECK(names == "content-type;host;x-goog-meta-b");
    // A caller's own Host header is signed instead of the URL's host.
    auto [block2, names2] =
        canonical_headers({{"Host", "cdn.example.com"}}, "storage.googleapis.com");
    CHECK(block2 == "host:cdn.example.com\n");
    CHECK(names2 == "host");
}

TEST_CASE("signing: the canonical request of a simple GET matches Google's worked example",
          "[signing]") {
    V4Options o;
    o.bucket = "test-bucket";
    o.object = "test-object";
    o.expiration_seconds = 10;
    o.timestamp = 1549011600;
    auto parts = v4_prepare(o, "test-iam-credentials@dummy-project-id.iam.gserviceaccount.com");
    REQUIRE(parts.ok());
    CHECK(parts->url_base == "https://storage.googleapis.com/test-bucket/test-object");
    CHECK(parts->string_to_sign ==
          "GOOG4-RSA-SHA256\n20190201T090000Z\n20190201/auto/storage/goog4_request\n"
          "00e2fb794ea93d7adb703edaebdd509821fcc7d4f1a79ac5c8d2b394df109320");
}

TEST_CASE("signing: expirations outside 1 s to 7 days and empty buckets are refused", "[signing]") {
    V4Options o;
    o.bucket = "b";
    o.object = "o";
    o.timestamp = 1549011600;
    for (std::int64_t e : {std::int64_t{0}, std::int64_t{-5}, k_max_expiration_seconds + 1}) {
        o.expiration_seconds = e;
        auto r = v4_prepare(o, "a@b");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == util::Code::invalid_input);
    }
    o.expiration_seconds = k_max_expiration_seconds;
    CHECK(v4_prepare(o, "a@b").ok());
    o.bucket.clear();
    CHECK(v4_prepare(o, "a@b").status().code() == util::Code::invalid_input);
    o.bucket = "b";
    o.url_style = UrlStyle::bucket_bound_hostname;
    CHECK(v4_prepare(o, "a@b").status().code() == util::Code::invalid_input);
}

TEST_CASE("signing: an emulator host without a scheme is signed as plain http", "[signing]") {
    V4Options o;
    o.bucket = "b";
    o.object = "a b/c.png";
    o.expiration_seconds = 60;
    o.timestamp = 1549011600;
    o.emulator_host = "localhost:9023";
    auto parts = v4_prepare(o, "a@b");
    REQUIRE(parts.ok());
    CHECK(parts->url_base == "http://localhost:9023/b/a%20b/c.png");
    CHECK(parts->canonical_request.find("\nhost:localhost\n") != std::string::npos);
}
