// Found by fuzzing (tests/fuzz/signed_url): percent-decoding let bytes that are not UTF-8 into
// the bucket, object and credential (and into messages), which then broke JSON and logs.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "signing/url_refresh.hpp"

using namespace assetgen;

namespace {
const std::string k_query =
    "?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=x%40p.iam.gserviceaccount.com%2F20240305"
    "%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20240305T060708Z&X-Goog-Expires=60&"
    "X-Goog-SignedHeaders=host&X-Goog-Signature=abcd";
}

TEST_CASE("signed url: names that are not UTF-8 once decoded are not signed URLs", "[signing]") {
    CHECK(
        signing::parse_signed_url("https://storage.googleapis.com/b/caf%C3%A9.png" + k_query).ok());
    auto bad = signing::parse_signed_url("https://storage.googleapis.com/b/%FF.png" + k_query);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message() ==
          "signed url: the bucket, object or X-Goog-Credential is not UTF-8 once percent-decoded");
    // find_signed_urls leaves such a URL out, so refresh keeps its bytes as they are.
    CHECK(
        signing::find_signed_urls("a,https://storage.googleapis.com/b/%FF.png" + k_query).empty());

    auto date = signing::parse_signed_url(
        "https://storage.googleapis.com/b/o" +
        std::string(k_query).replace(
            k_query.find("20240305T060708Z"), 16,
            "%E2%82%AC%E2%82%AC%E2%82%AC%E2%82%AC%E2%82%AC%E2%82%AC%E2%82%AC"));
    REQUIRE_FALSE(date.ok());
    CHECK_NOTHROW(nlohmann::json(date.status().message()).dump());
}

TEST_CASE("signed url: why a URL cannot be re-signed is said in valid UTF-8", "[signing]") {
    // X-Goog-SignedHeaders decodes to bytes that are not UTF-8; the reason quotes it.
    const std::string url = "https://storage.googleapis.com/b/o" +
                            std::string(k_query).replace(k_query.find("SignedHeaders=host"), 18,
                                                         "SignedHeaders=host%3Bx%80");
    auto found = signing::find_signed_urls(url);
    REQUIRE(found.size() == 1);
    REQUIRE(found[0].info.signed_headers == "host;x\x80");
    class NoSigner final : public signing::Signer {
    public:
        util::Result<std::string> sign(std::string_view) override { return std::string("s"); }
        std::string client_email() const override { return "a@b.iam.gserviceaccount.com"; }
    } signer;
    signing::RefreshOptions options;
    options.now = 1709618828 + 3600;  // long after it expired
    auto r = signing::refresh_signed_urls(url, options, signer);
    REQUIRE(r.ok());
    REQUIRE(r->decisions.size() == 1);
    CHECK(r->skipped == 1);
    CHECK(r->decisions[0].reason ==
          "it signs headers besides host (host;x\xEF\xBF\xBD), whose values are not in the URL");
    CHECK_NOTHROW(nlohmann::json(r->decisions[0].reason).dump());
}
