#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "auth/iam_signer.hpp"
#include "core/auth/oauth_fake_process.hpp"
#include "net/curl_transport.hpp"
#include "signing/rsa_signer.hpp"
#include "signing/url_refresh.hpp"
#include "support/fake_clock.hpp"
#include "support/http_server.hpp"
#include "support/temp_dir.hpp"
#include "util/base64.hpp"

using namespace assetgen;
using nlohmann::json;
using test::HttpServer;
using util::Code;

namespace {

const std::string k_vectors = std::string(ASSETGEN_GCS_VECTORS_DIR) + "/";
const std::string k_key_file = k_vectors + "test_service_account.not-a-test.json";
const std::string k_email = "test-iam-credentials@dummy-project-id.iam.gserviceaccount.com";
constexpr const char* k_token = "ya29.secret-token-value";

json load_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

class FixedTokens final : public auth::TokenSource {
public:
    util::Result<std::string> token() override {
        ++calls;
        if (fail) {
            return util::error(Code::unauthenticated, "no token today");
        }
        return std::string(k_token);
    }
    std::string describe() const override { return "fixed token"; }
    std::atomic<int> calls{0};
    bool fail = false;
};

// A signBlob endpoint: answers with the statuses queued in `script` (then 200), checks the
// request's shape, and signs with the conformance key.
class FakeSignBlob {
public:
    FakeSignBlob() : m_server([this](const HttpServer::Request& r) { return handle(r); }) {
        auto signer = signing::RsaSigner::from_pem(
            load_json(k_key_file).at("private_key").get<std::string>(), k_email);
        REQUIRE(signer.ok());
        m_key = std::move(signer).value();
    }
    std::string base_url() const { return m_server.base_url(); }

    std::vector<int> script;  // statuses of the next answers; 200 when empty
    std::string body_override;
    std::vector<HttpServer::Request> requests() {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }

private:
    HttpServer::Response handle(const HttpServer::Request& r) {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(r);
        HttpServer::Response out;
        out.headers = {{"Content-Type", "application/json"}};
        if (!script.empty()) {
            out.status = script.front();
            script.erase(script.begin());
            if (out.status != 200) {
                out.body =
                    json{{"error",
                          {{"code", out.status},
                           {"message", "scripted failure"},
                           {"status", out.status == 403 ? "PERMISSION_DENIED" : "UNAVAILABLE"}}}}
                        .dump();
                return out;
            }
        }
        if (!body_override.empty()) {
            out.body = body_override;
            return out;
        }
        // No Catch2 assertions here: this runs on the server's thread.
        json body = json::parse(r.body, nullptr, false);
        auto payload =
            body.is_object() && body.contains("payload") && body["payload"].is_string()
                ? util::base64_decode(body["payload"].get<std::string>())
                : util::Result<std::string>(util::error(Code::invalid_input, "no payload"));
        auto sig =
            payload.ok() ? m_key->sign(*payload) : util::Result<std::string>(payload.status());
        if (!sig.ok()) {
            out.status = 400;
            out.body = R"({"error":{"code":400,"status":"INVALID_ARGUMENT"}})";
            return out;
        }
        out.body = json{{"keyId", "key-42"}, {"signedBlob", util::base64_encode(*sig)}}.dump();
        return out;
    }

    std::mutex m_mutex;
    std::vector<HttpServer::Request> m_requests;
    std::unique_ptr<signing::RsaSigner> m_key;
    HttpServer m_server;
};

auth::IamSigner make_signer(FakeSignBlob& fake, std::shared_ptr<FixedTokens> tokens,
                            net::HttpTransport& transport, util::Clock& clock) {
    auth::IamSignerOptions o;
    o.endpoint = fake.base_url() + "/";
    return auth::IamSigner(std::move(tokens), transport, clock, k_email, o);
}

// The "Simple GET" conformance case.
signing::SignRequest simple_get() {
    signing::SignRequest r;
    r.bucket = "test-bucket";
    r.object = "test-object";
    r.ttl_seconds = 10;
    r.at = signing::parse_utc_time("2019-02-01T09:00:00Z").value();
    return r;
}

std::string simple_get_expected_url() {
    return load_json(k_vectors + "v4_signatures.json").at("signingV4Tests").at(0).at("expectedUrl");
}

}  // namespace

TEST_CASE(
    "iam signer: signBlob gets the base64 payload with a bearer token and its answer signs the URL",
    "[auth][integration]") {
    FakeSignBlob fake;
    auto tokens = std::make_shared<FixedTokens>();
    test::FakeClock clock;
    net::CurlTransport transport;
    auto signer = make_signer(fake, tokens, transport, clock);
    CHECK(signer.client_email() == k_email);
    CHECK(signer.key_id().empty());

    auto url = signing::sign_url(simple_get(), signer);
    REQUIRE(url.ok());
    CHECK(*url == simple_get_expected_url());
    CHECK(signer.key_id() == "key-42");

    auto seen = fake.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].path == "/v1/projects/-/serviceAccounts/" + k_email + ":signBlob");
    CHECK(seen[0].header("authorization") == std::string("Bearer ") + k_token);
    CHECK(seen[0].header("content-type") == "application/json");
    json body = json::parse(seen[0].body);
    CHECK(body.size() == 1);
    CHECK(util::base64_decode(body.at("payload").get<std::string>())
              .value()
              .rfind("GOOG4-RSA-SHA256\n", 0) == 0);
}

TEST_CASE(
    "iam signer: transient failures are retried with backoff on the clock, others end at once",
    "[auth][integration]") {
    FakeSignBlob fake;
    auto tokens = std::make_shared<FixedTokens>();
    test::FakeClock clock;
    net::CurlTransport transport;
    auto signer = make_signer(fake, tokens, transport, clock);

    SECTION("503, 503, then a signature") {
        fake.script = {503, 503};
        auto t0 = clock.steady();
        auto sig = signer.sign("bytes");
        REQUIRE(sig.ok());
        CHECK(fake.requests().size() == 3);
        // Full jitter under ceilings of 0.5 s and 1 s: at most 1.5 s waited, on the clock.
        CHECK(clock.steady() - t0 <= std::chrono::milliseconds(1500));
    }
    SECTION("three 503s give up with MODEL_UNAVAILABLE") {
        fake.script = {503, 503, 503, 503};
        auto sig = signer.sign("bytes");
        REQUIRE_FALSE(sig.ok());
        CHECK(sig.status().code() == Code::unavailable);
        CHECK(fake.requests().size() == 3);
    }
    SECTION("403 names the role and is not retried; the token never shows") {
        fake.script = {403};
        auto sig = signer.sign("bytes");
        REQUIRE_FALSE(sig.ok());
        CHECK(sig.status().code() == Code::permission_denied);
        CHECK_THAT(sig.status().message(), Catch::Contains("roles/iam.serviceAccountTokenCreator"));
        CHECK_THAT(sig.status().message(), Catch::Contains(k_email));
        CHECK_THAT(sig.status().message(), !Catch::Contains(k_token));
        CHECK(fake.requests().size() == 1);
    }
    SECTION("an answer without signedBlob is a BAD_RESPONSE") {
        fake.body_override = R"({"keyId":"k"})";
        auto sig = signer.sign("bytes");
        REQUIRE_FALSE(sig.ok());
        CHECK(sig.status().code() == Code::bad_response);
    }
    SECTION("no token, no request") {
        tokens->fail = true;
        auto sig = signer.sign("bytes");
        REQUIRE_FALSE(sig.ok());
        CHECK(sig.status().code() == Code::unauthenticated);
        CHECK(fake.requests().empty());
    }
}

TEST_CASE(
    "iam signer: a key file gives a local signer, no key and no metadata server a CONFIG_ERROR",
    "[auth][integration]") {
    test::FakeClock clock;
    net::CurlTransport transport;
    auto with_key =
        auth::make_url_signer(auth::Env::from_map({{"GOOGLE_APPLICATION_CREDENTIALS", k_key_file},
                                                   {"GCE_METADATA_HOST", "127.0.0.1:1"}}),
                              transport, clock);
    REQUIRE(with_key.ok());
    CHECK_FALSE(with_key->remote);
    CHECK(with_key->signer->client_email() == k_email);
    CHECK_THAT(with_key->description, Catch::Contains("GOOGLE_APPLICATION_CREDENTIALS"));
    CHECK(signing::sign_url(simple_get(), *with_key->signer).value() == simple_get_expected_url());

    // Port 1 on loopback: nothing listens, the connection is refused at once.
    auto nothing = auth::make_url_signer(
        auth::Env::from_map({{"GCE_METADATA_HOST", "127.0.0.1:1"}}), transport, clock);
    REQUIRE_FALSE(nothing.ok());
    CHECK(nothing.status().code() == Code::config);
    CHECK_THAT(nothing.status().message(), Catch::Contains("GOOGLE_APPLICATION_CREDENTIALS"));
    CHECK_THAT(nothing.status().message(), Catch::Contains("127.0.0.1:1"));

    test::TempDir dir;
    auto bad_key = auth::make_url_signer(
        auth::Env::from_map({{"GOOGLE_APPLICATION_CREDENTIALS", dir.write("k.json", "{}")}}),
        transport, clock);
    REQUIRE_FALSE(bad_key.ok());
    CHECK(bad_key.status().code() == Code::config);

    auto bad_endpoint = auth::make_url_signer(
        auth::Env::from_map({{"GCE_METADATA_HOST", "127.0.0.1:1"}, {"ASSETGEN_IAM_ENDPOINT", "x"}}),
        transport, clock);
    CHECK(bad_endpoint.status().code() == Code::config);
}

TEST_CASE(
    "iam signer: with only the metadata server, URLs are signed through the OAuth fake's signBlob",
    "[auth][integration]") {
    test::TempDir dir;
    std::string pem =
        dir.write("key.pem", load_json(k_key_file).at("private_key").get<std::string>());
    test::oauth::FakeOAuthProcess fake({"--client-email", k_email, "--signing-key", pem, "--key-id",
                                        "kid-7", "--issue-token", "ya29.meta", "--sign-fail-first",
                                        "1"});
    test::FakeClock clock;
    net::CurlTransport transport;
    auto made =
        auth::make_url_signer(auth::Env::from_map({{"GCE_METADATA_HOST", fake.host()},
                                                   {"ASSETGEN_IAM_ENDPOINT", fake.base_url()}}),
                              transport, clock);
    REQUIRE(made.ok());
    CHECK(made->remote);
    CHECK(made->signer->client_email() == k_email);
    CHECK_THAT(made->description, Catch::Contains("IAM signBlob as " + k_email));
    // The first signBlob answers 503 and is retried; the signature is the key's, so the URL is
    // byte for byte the conformance vector's.
    auto url = signing::sign_url(simple_get(), *made->signer);
    REQUIRE(url.ok());
    CHECK(*url == simple_get_expected_url());
    CHECK(static_cast<auth::IamSigner&>(*made->signer).key_id() == "kid-7");
    CHECK(clock.sleeps() == 1);

    // And refresh re-signs through it too.
    signing::RefreshOptions o;
    o.now = simple_get().at + 3600;
    o.ttl_seconds = 600;
    auto r = signing::refresh_signed_urls("[\"" + *url + "\"]", o, *made->signer);
    REQUIRE(r.ok());
    CHECK(r->refreshed == 1);
    auto info = signing::parse_signed_url(json::parse(r->text)[0].get<std::string>());
    REQUIRE(info.ok());
    CHECK(info->signed_at == o.now);
    CHECK(info->expires_seconds == 600);
}
