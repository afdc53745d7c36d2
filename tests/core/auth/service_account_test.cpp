#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "auth/service_account.hpp"
#include "net/curl_transport.hpp"
#include "support/fake_clock.hpp"
#include "support/http_server.hpp"
#include "support/temp_dir.hpp"
#include "util/base64.hpp"

using namespace assetgen;
using auth::ServiceAccountKey;
using auth::ServiceAccountTokenSource;
using nlohmann::json;
using test::HttpServer;
using util::Code;

namespace {

const char* const k_email = "robot@test-project.iam.gserviceaccount.com";
const char* const k_key_id = "0123456789abcdef";
const char* const k_scope = "https://www.googleapis.com/auth/cloud-platform";

struct TestKey {
    std::string private_pem;  // PKCS#8 "BEGIN PRIVATE KEY", as in key files
    std::string public_pem;
};

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

// A fresh 2048-bit RSA key made once per test run.
const TestKey& test_key() {
    static const TestKey key = [] {
        TestKey k;
        EVP_PKEY* pkey = EVP_RSA_gen(2048);
        REQUIRE(pkey != nullptr);
        BIO* priv = BIO_new(BIO_s_mem());
        BIO* pub = BIO_new(BIO_s_mem());
        REQUIRE(PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1);
        REQUIRE(PEM_write_bio_PUBKEY(pub, pkey) == 1);
        k.private_pem = bio_text(priv);
        k.public_pem = bio_text(pub);
        BIO_free(priv);
        BIO_free(pub);
        EVP_PKEY_free(pkey);
        return k;
    }();
    return key;
}

// Checks an RS256 signature with the public half only.
bool verify_rs256(const std::string& public_pem, const std::string& input, const std::string& sig) {
    BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
    EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (pkey == nullptr) {
        return false;
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok =
        EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}

// A token endpoint that verifies each assertion like Google's would, then issues
// "ya29.test-token-<n>". Problems found are collected in problems().
class FakeTokenEndpoint {
public:
    explicit FakeTokenEndpoint(const test::FakeClock& clock)
        : m_clock(clock), m_server([this](const HttpServer::Request& r) { return handle(r); }) {}

    std::string token_uri() const { return m_server.url("/token"); }
    HttpServer& server() { return m_server; }
    int issued() const { return m_issued.load(); }
    std::vector<std::string> problems() {
        std::lock_guard lock(m_mutex);
        return m_problems;
    }
    std::string last_assertion() {
        std::lock_guard lock(m_mutex);
        return m_last_assertion;
    }
    // Answer every request with this status and body instead of a token (0: issue tokens).
    void fail_with(int status, std::string body) {
        std::lock_guard lock(m_mutex);
        m_fail_status = status;
        m_fail_body = std::move(body);
    }
    std::chrono::milliseconds delay{0};
    int expires_in = 3599;

private:
    void problem(std::string what) {
        std::lock_guard lock(m_mutex);
        m_problems.push_back(std::move(what));
    }

    HttpServer::Response handle(const HttpServer::Request& r) {
        HttpServer::Response out;
        out.delay = delay;
        out.headers = {{"Content-Type", "application/json"}};
        if (r.method != "POST" || r.path != "/token") {
            problem("wrong method or path: " + r.method + " " + r.path);
        }
        if (r.header("content-type") != "application/x-www-form-urlencoded") {
            problem("content-type " + r.header("content-type"));
        }
        HttpServer::Request form = r;
        form.query = r.body;
        if (form.query_param("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer") {
            problem("grant_type " + form.query_param("grant_type"));
        }
        std::string assertion = form.query_param("assertion");
        {
            std::lock_guard lock(m_mutex);
            m_last_assertion = assertion;
            if (m_fail_status != 0) {
                out.status = m_fail_status;
                out.body = m_fail_body;
                return out;
            }
        }
        check_assertion(assertion);
        int n = ++m_issued;
        out.body = json{
            {"access_token", "ya29.test-token-" + std::to_string(n)},
            {"expires_in", expires_in},
            {"token_type",
             "Bearer"}}.dump();
        return out;
    }

    void check_assertion(const std::string& jwt) {
        auto dot1 = jwt.find('.');
        auto dot2 = jwt.rfind('.');
        if (dot1 == std::string::npos || dot1 == dot2) {
            return problem("assertion is not a JWT");
        }
        auto header = util::base64url_decode(jwt.substr(0, dot1));
        auto claims = util::base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
        auto sig = util::base64url_decode(jwt.substr(dot2 + 1));
        if (!header.ok() || !claims.ok() || !sig.ok()) {
            return problem("assertion parts are not base64url");
        }
        if (!verify_rs256(test_key().public_pem, jwt.substr(0, dot2), *sig)) {
            problem("RS256 signature does not verify");
        }
        json h = json::parse(*header);
        json c = json::parse(*claims);
        if (h != json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", k_key_id}}) {
            problem("header " + h.dump());
        }
        std::int64_t now = m_clock.unix_ms() / 1000;
        if (c.value("iss", "") != k_email || c.value("scope", "") != k_scope ||
            c.value("aud", "") != token_uri() || c.value("iat", 0) != now ||
            c.value("exp", 0) - c.value("iat", 0) != 3600) {
            problem("claims " + c.dump() + " at " + std::to_string(now));
        }
    }

    const test::FakeClock& m_clock;
    std::mutex m_mutex;
    std::vector<std::string> m_problems;
    std::string m_last_assertion;
    int m_fail_status = 0;
    std::string m_fail_body;
    std::atomic<int> m_issued{0};
    HttpServer m_server;  // last: stops before the fields its handler uses go away
};

ServiceAccountKey test_account(const std::string& token_uri) {
    ServiceAccountKey key;
    key.client_email = k_email;
    key.private_key = test_key().private_pem;
    key.private_key_id = k_key_id;
    key.token_uri = token_uri;
    return key;
}

std::unique_ptr<ServiceAccountTokenSource> make_source(const std::string& token_uri,
                                                       net::HttpTransport& transport,
                                                       test::FakeClock& clock) {
    auto source =
        ServiceAccountTokenSource::create(test_account(token_uri), transport, clock, k_scope);
    REQUIRE(source.ok());
    return std::move(source).value();
}

}  // namespace

TEST_CASE("auth: a service account gets a token through a verified JWT bearer grant",
          "[auth][integration]") {
    test::FakeClock clock;
    FakeTokenEndpoint endpoint(clock);
    net::CurlTransport transport;
    auto source = make_source(endpoint.token_uri(), transport, clock);
    auto token = source->token();
    REQUIRE(token.ok());
    CHECK(*token == "ya29.test-token-1");
    for (const auto& p : endpoint.problems()) {
        UNSCOPED_INFO(p);
    }
    CHECK(endpoint.problems().empty());
    CHECK(source->describe() == std::string("service account ") + k_email);
}

TEST_CASE("auth: a token is reused until it is within the margin of expiry, then refreshed",
          "[auth][integration]") {
    test::FakeClock clock;
    FakeTokenEndpoint endpoint(clock);
    net::CurlTransport transport;
    auto source = make_source(endpoint.token_uri(), transport, clock);
    CHECK(source->token().value() == "ya29.test-token-1");
    CHECK(source->token().value() == "ya29.test-token-1");
    // 3599 s lifetime, 300 s margin: reused up to 3299 s, refreshed from then on.
    clock.advance(std::chrono::seconds(3298));
    CHECK(source->token().value() == "ya29.test-token-1");
    CHECK(endpoint.issued() == 1);
    clock.advance(std::chrono::seconds(2));
    CHECK(source->token().value() == "ya29.test-token-2");
    CHECK(source->token().value() == "ya29.test-token-2");
    CHECK(endpoint.issued() == 2);
    CHECK(endpoint.problems().empty());  // the second JWT carried the later iat
}

TEST_CASE("auth: concurrent callers share one refresh", "[auth][integration]") {
    test::FakeClock clock;
    FakeTokenEndpoint endpoint(clock);
    endpoint.delay = std::chrono::milliseconds(100);
    net::CurlTransport transport;
    auto source = make_source(endpoint.token_uri(), transport, clock);
    std::vector<std::string> tokens(8);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        threads.emplace_back([&, i] { tokens[i] = source->token().value(); });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (const auto& t : tokens) {
        CHECK(t == "ya29.test-token-1");
    }
    CHECK(endpoint.issued() == 1);
}

TEST_CASE("auth: a refused grant is AUTH_FAILED and no secret reaches the message",
          "[auth][integration]") {
    test::FakeClock clock;
    FakeTokenEndpoint endpoint(clock);
    endpoint.fail_with(400,
                       R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})");
    net::CurlTransport transport;
    auto source = make_source(endpoint.token_uri(), transport, clock);
    auto token = source->token();
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == Code::unauthenticated);
    CHECK(token.status().http_status() == 400);
    const std::string& message = token.status().message();
    CHECK(message.find("invalid_grant") != std::string::npos);
    CHECK(message.find(k_email) != std::string::npos);
    std::string assertion = endpoint.last_assertion();
    REQUIRE(assertion.size() > 100);
    CHECK(message.find(assertion.substr(0, 40)) == std::string::npos);
    CHECK(message.find(assertion.substr(assertion.size() - 40)) == std::string::npos);
    CHECK(message.find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE("auth: token endpoint failures map to codes", "[auth][integration]") {
    struct Case {
        int status;
        std::string body;
        Code code;
    };
    auto c =
        GENERATE(Case{401, R"({"error":"invalid_client"})", Code::unauthenticated},
                 Case{403, R"({"error":{"code":403,"status":"PERMISSION_DENIED","message":"no"}})",
                      Code::permission_denied},
                 Case{429, "{}", Code::rate_limited}, Case{500, "oops", Code::unavailable},
                 Case{503, "", Code::unavailable},
                 Case{200, R"({"access_token":"","expires_in":3600})", Code::bad_response},
                 Case{200, "not json", Code::bad_response});
    INFO(c.status << " " << c.body);
    test::FakeClock clock;
    FakeTokenEndpoint endpoint(clock);
    endpoint.fail_with(c.status, c.body);
    net::CurlTransport transport;
    auto source = make_source(endpoint.token_uri(), transport, clock);
    auto token = source->token();
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == c.code);
    if (c.status != 200) {
        CHECK(util::is_transient(c.code) == (c.status >= 429));
    }
}

TEST_CASE("auth: an unreachable token endpoint is a transient failure", "[auth][integration]") {
    test::FakeClock clock;
    std::string uri;
    {
        FakeTokenEndpoint endpoint(clock);
        uri = endpoint.token_uri();
    }
    net::CurlTransport transport;
    auto source = make_source(uri, transport, clock);
    auto token = source->token();
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == Code::unavailable);
    CHECK(token.status().message().find(k_email) != std::string::npos);
}

TEST_CASE("auth: a failed refresh keeps the old token until it really expires",
          "[auth][integration]") {
    test::FakeClock clock;
    FakeTokenEndpoint endpoint(clock);
    net::CurlTransport transport;
    auto source = make_source(endpoint.token_uri(), transport, clock);
    CHECK(source->token().value() == "ya29.test-token-1");
    endpoint.fail_with(503, "");
    clock.advance(std::chrono::seconds(3400));  // inside the margin, not yet expired
    CHECK(source->token().value() == "ya29.test-token-1");
    clock.advance(std::chrono::seconds(200));  // expired
    auto token = source->token();
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == Code::unavailable);
    CHECK(token.status().message().find("ya29") == std::string::npos);
}

TEST_CASE("auth: key files are parsed and checked", "[auth]") {
    json good = {{"type", "service_account"},
                 {"project_id", "p"},
                 {"private_key_id", k_key_id},
                 {"private_key", test_key().private_pem},
                 {"client_email", k_email}};
    auto key = auth::parse_service_account_key(good.dump(), "key.json");
    REQUIRE(key.ok());
    CHECK(key->client_email == k_email);
    CHECK(key->private_key_id == k_key_id);
    CHECK(key->project_id == "p");
    CHECK(key->token_uri == "https://oauth2.googleapis.com/token");

    test::TempDir dir;
    auto loaded = auth::load_service_account_key(dir.write("sa.json", good.dump()));
    REQUIRE(loaded.ok());
    CHECK(loaded->private_key == test_key().private_pem);

    json user = {{"type", "authorized_user"}, {"refresh_token", "1//secret"}};
    json no_email = good;
    no_email.erase("client_email");
    json no_key = good;
    no_key.erase("private_key");
    for (const std::string& text :
         {user.dump(), no_email.dump(), no_key.dump(), std::string("{nope")}) {
        auto r = auth::parse_service_account_key(text, "key.json");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::config);
        CHECK(r.status().message().rfind("key.json: ", 0) == 0);
        CHECK(r.status().message().find("secret") == std::string::npos);
        CHECK(r.status().message().find("PRIVATE KEY") == std::string::npos);
    }
    auto missing = auth::load_service_account_key(dir.file("absent.json"));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == Code::config);
}

TEST_CASE("auth: a key that is not a usable RSA key is a config error without the key", "[auth]") {
    test::FakeClock clock;
    net::CurlTransport transport;
    auto key = test_account("http://127.0.0.1:9/token");
    key.private_key =
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n";
    auto source = ServiceAccountTokenSource::create(key, transport, clock, k_scope);
    REQUIRE_FALSE(source.ok());
    CHECK(source.status().code() == Code::config);
    CHECK(source.status().message().find("c2VjcmV0") == std::string::npos);
}

TEST_CASE("auth: token answers are parsed strictly", "[auth]") {
    auto t = auth::parse_token_response(
        R"({"access_token":"ya29.x","expires_in":"120","token_type":"Bearer"})", "w");
    REQUIRE(t.ok());
    CHECK(t->value == "ya29.x");
    CHECK(t->expires_in == std::chrono::seconds(120));
    CHECK(auth::parse_token_response(R"({"access_token":"a"})", "w")->expires_in ==
          std::chrono::seconds(3600));
    for (const char* bad :
         {R"({"access_token":"a","token_type":"MAC"})", R"({"access_token":"a","expires_in":0})",
          R"({"access_token":"a","expires_in":"soon"})", "[]"}) {
        INFO(bad);
        auto r = auth::parse_token_response(bad, "w");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::bad_response);
        CHECK(r.status().message().find("\"a\"") == std::string::npos);
    }
}
