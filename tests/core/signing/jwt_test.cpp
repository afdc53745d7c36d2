#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "signing/jwt.hpp"
#include "signing/rsa_signer.hpp"
#include "util/base64.hpp"
#include "util/hash.hpp"

using namespace assetgen;
using namespace assetgen::signing;
using nlohmann::json;

namespace {

json vector_key() {
    std::ifstream in(std::string(ASSETGEN_GCS_VECTORS_DIR) +
                     "/test_service_account.not-a-test.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

std::unique_ptr<RsaSigner> vector_signer() {
    json key = vector_key();
    auto signer = RsaSigner::from_pem(key.at("private_key").get<std::string>(),
                                      key.at("client_email").get<std::string>());
    REQUIRE(signer.ok());
    return std::move(signer).value();
}

std::vector<std::string> split_dots(const std::string& s) {
    std::vector<std::string> out(1);
    for (char c : s) {
        if (c == '.') {
            out.emplace_back();
        } else {
            out.back().push_back(c);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("util: base64 follows RFC 4648 test vectors", "[signing]") {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        INFO(plain);
        CHECK(util::base64_encode(plain) == encoded);
        CHECK(util::base64_decode(encoded).value() == plain);
        CHECK(util::base64_decode(std::string(encoded).substr(0, std::string(encoded).find('=')))
                  .value() == plain);
    }
}

TEST_CASE("util: base64url uses - and _ and no padding", "[signing]") {
    std::string bytes("\xfb\xff\xbf", 3);
    CHECK(util::base64_encode(bytes) == "+/+/");
    CHECK(util::base64url_encode(bytes) == "-_-_");
    CHECK(util::base64url_encode("f") == "Zg");
    CHECK(util::base64url_decode("Zg").value() == "f");
    CHECK(util::base64url_decode("Zg==").value() == "f");
    CHECK(util::base64url_decode("-_-_").value() == bytes);
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all.push_back(static_cast<char>(i));
    }
    CHECK(util::base64url_decode(util::base64url_encode(all)).value() == all);
    CHECK(util::base64_decode(util::base64_encode(all)).value() == all);
}

TEST_CASE("util: malformed base64 is refused", "[signing]") {
    for (const char* bad : {"Zg=", "Z", "Zm9v!", "Zg===", "Zh==", "Zm 9v", "=Zg="}) {
        INFO(bad);
        auto r = util::base64_decode(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == util::Code::invalid_input);
    }
    CHECK_FALSE(util::base64url_decode("+/+/").ok());
    CHECK_FALSE(util::base64_decode("-_-_").ok());
}

TEST_CASE("signing: RSA signatures are PKCS#1 v1.5 SHA-256 and deterministic", "[signing]") {
    auto signer = vector_signer();
    CHECK(signer->client_email() ==
          "test-iam-credentials@dummy-project-id.iam.gserviceaccount.com");
    auto sig = signer->sign(
        "GOOG4-RSA-SHA256\n20190201T090000Z\n20190201/auto/storage/goog4_request\n"
        "00e2fb794ea93d7adb703edaebdd509821fcc7d4f1a79ac5c8d2b394df109320");
    REQUIRE(sig.ok());
    CHECK(sig->size() == 256);
    CHECK(util::to_hex(*sig).rfind("95e6a13d43a1d196", 0) == 0);  // research/gcs.md worked example

    // Several threads share one signer.
    std::vector<std::string> results(6);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < results.size(); ++i) {
        threads.emplace_back([&, i] { results[i] = signer->sign("same bytes").value(); });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& r : results) {
        CHECK(r == results[0]);
    }
}

TEST_CASE("signing: an unreadable private key is refused without echoing it", "[signing]") {
    std::string pem =
        "-----BEGIN PRIVATE KEY-----\nTUlJRXZBSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS1l3\n-----END "
        "PRIVATE KEY-----\n";
    for (const std::string& text : {pem, std::string("not a key"), std::string()}) {
        auto r = RsaSigner::from_pem(text, "a@b");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == util::Code::invalid_input);
        CHECK(r.status().message().find("TUlJRXZB") == std::string::npos);
        CHECK(r.status().message().find("BEGIN") == std::string::npos);
    }
}

TEST_CASE("signing: a JWT has the RS256 header, the claims, and a verifiable signature",
          "[signing]") {
    auto signer = vector_signer();
    JwtClaims claims;
    claims.issuer = signer->client_email();
    claims.scope = "https://www.googleapis.com/auth/cloud-platform";
    claims.audience = "https://oauth2.googleapis.com/token";
    claims.issued_at = 1'764'000'000;
    auto jwt = make_jwt(claims, "ffffffffffffffffffffffffffffffffffffffff", *signer);
    REQUIRE(jwt.ok());
    CHECK(jwt->find('=') == std::string::npos);
    CHECK(jwt->find('+') == std::string::npos);
    CHECK(jwt->find('/') == std::string::npos);
    auto parts = split_dots(*jwt);
    REQUIRE(parts.size() == 3);
    json header = json::parse(util::base64url_decode(parts[0]).value());
    CHECK(header == json{{"alg", "RS256"},
                         {"typ", "JWT"},
                         {"kid", "ffffffffffffffffffffffffffffffffffffffff"}});
    json body = json::parse(util::base64url_decode(parts[1]).value());
    CHECK(body.at("iss") == claims.issuer);
    CHECK(body.at("scope") == claims.scope);
    CHECK(body.at("aud") == claims.audience);
    CHECK(body.at("iat") == 1'764'000'000);
    CHECK(body.at("exp") == 1'764'003'600);
    // PKCS#1 v1.5 is deterministic: re-signing the signing input gives the same bytes.
    CHECK(util::base64url_decode(parts[2]).value() ==
          signer->sign(parts[0] + "." + parts[1]).value());

    claims.audience.clear();
    CHECK(make_jwt(claims, "k", *signer).status().code() == util::Code::invalid_input);
}
