#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/chain.hpp"
#include "auth/metadata.hpp"
#include "net/curl_transport.hpp"
#include "support/fake_clock.hpp"
#include "support/http_server.hpp"

using namespace assetgen;
using test::HttpServer;
using util::Code;

namespace {

// A metadata server that, like the real one, answers 403 without "Metadata-Flavor: Google".
class FakeMetadataServer {
public:
    FakeMetadataServer() : m_server([this](const HttpServer::Request& r) { return handle(r); }) {}

    std::string host() const { return m_server.host(); }
    int tokens_issued() const { return m_issued.load(); }
    // Answer token requests with this status (0: issue tokens).
    std::atomic<int> fail_status{0};

private:
    HttpServer::Response handle(const HttpServer::Request& r) {
        HttpServer::Response out;
        out.headers = {{"Metadata-Flavor", "Google"}};
        if (r.header("metadata-flavor") != "Google" || r.method != "GET") {
            out.status = 403;
            out.body = "missing Metadata-Flavor header";
            return out;
        }
        if (r.path == "/computeMetadata/v1/instance/service-accounts/default/token") {
            if (fail_status.load() != 0) {
                out.status = fail_status.load();
                out.body = "not available\n";
                return out;
            }
            int n = ++m_issued;
            out.headers.emplace_back("Content-Type", "application/json");
            out.body = nlohmann::json{
                {"access_token", "ya29.metadata-" + std::to_string(n)},
                {"expires_in", 1800},
                {"token_type",
                 "Bearer"}}.dump();
        } else if (r.path == "/computeMetadata/v1/instance/service-accounts/default/email") {
            out.body = "runner@my-project.iam.gserviceaccount.com";
        } else if (r.path == "/computeMetadata/v1/project/project-id") {
            out.body = "my-project";
        } else {
            out.status = 404;
            out.body = "not found";
        }
        return out;
    }

    std::atomic<int> m_issued{0};
    HttpServer m_server;
};

}  // namespace

TEST_CASE("auth: metadata_host honours GCE_METADATA_HOST", "[auth]") {
    CHECK(auth::metadata_host("") == "metadata.google.internal");
    CHECK(auth::metadata_host("  ") == "metadata.google.internal");
    CHECK(auth::metadata_host("127.0.0.1:8080") == "127.0.0.1:8080");
}

TEST_CASE("auth: the metadata server's token is fetched with Metadata-Flavor and cached",
          "[auth][integration]") {
    FakeMetadataServer metadata;
    test::FakeClock clock;
    net::CurlTransport transport;
    auth::MetadataTokenSource source(transport, clock, metadata.host());
    CHECK(source.token().value() == "ya29.metadata-1");
    clock.advance(std::chrono::seconds(1800 - 301));
    CHECK(source.token().value() == "ya29.metadata-1");
    clock.advance(std::chrono::seconds(2));
    CHECK(source.token().value() == "ya29.metadata-2");
    CHECK(metadata.tokens_issued() == 2);
    CHECK(source.describe() == "metadata server " + metadata.host() + " (default service account)");
}

TEST_CASE("auth: the chain reaches the metadata server through an injected GCE_METADATA_HOST",
          "[auth][integration]") {
    FakeMetadataServer metadata;
    test::FakeClock clock;
    net::CurlTransport transport;
    auto env = auth::Env::from_map({{"GCE_METADATA_HOST", metadata.host()}});
    auto source = auth::default_token_source(env, transport, clock,
                                             std::string(auth::k_cloud_platform_scope));
    REQUIRE(source.ok());
    CHECK((*source)->token().value() == "ya29.metadata-1");
}

TEST_CASE("auth: the metadata server gives the account email and project id",
          "[auth][integration]") {
    FakeMetadataServer metadata;
    net::CurlTransport transport;
    CHECK(auth::metadata_service_account_email(transport, metadata.host()).value() ==
          "runner@my-project.iam.gserviceaccount.com");
    CHECK(auth::metadata_project_id(transport, metadata.host()).value() == "my-project");
}

TEST_CASE("auth: metadata server failures map to codes", "[auth][integration]") {
    auto [status, code] = GENERATE(
        std::make_pair(404, Code::unauthenticated), std::make_pair(403, Code::permission_denied),
        std::make_pair(500, Code::unavailable), std::make_pair(503, Code::unavailable));
    INFO(status);
    FakeMetadataServer metadata;
    metadata.fail_status = status;
    test::FakeClock clock;
    net::CurlTransport transport;
    auth::MetadataTokenSource source(transport, clock, metadata.host());
    auto token = source.token();
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == code);
    CHECK(token.status().http_status() == status);
}

TEST_CASE("auth: an unreachable metadata server is transient and says how to configure a key",
          "[auth][integration]") {
    std::string host;
    {
        FakeMetadataServer metadata;
        host = metadata.host();
    }
    test::FakeClock clock;
    net::CurlTransport transport;
    auth::MetadataTokenSource source(transport, clock, host);
    auto token = source.token();
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == Code::unavailable);
    CHECK(token.status().message().find("GOOGLE_APPLICATION_CREDENTIALS") != std::string::npos);
}
