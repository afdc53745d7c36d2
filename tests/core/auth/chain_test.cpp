#include <catch2/catch.hpp>

#include <string>

#include "auth/chain.hpp"
#include "net/http.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using util::Code;

namespace {

// Fails every request: the chain itself must not touch the network.
class NoNetwork final : public net::HttpTransport {
public:
    util::Result<net::HttpResponse> send(const net::HttpRequest& request) override {
        ++calls;
        return util::error(Code::unavailable, request.describe() + ": no network in this test");
    }
    int calls = 0;
};

std::string vector_key_path() {
    return std::string(ASSETGEN_GCS_VECTORS_DIR) + "/test_service_account.not-a-test.json";
}

}  // namespace

TEST_CASE("auth: a storage emulator means no authentication", "[auth]") {
    for (const char* var : {"STORAGE_EMULATOR_HOST", "CLOUD_STORAGE_EMULATOR_ENDPOINT"}) {
        INFO(var);
        NoNetwork net;
        test::FakeClock clock;
        auto env = auth::Env::from_map({{var, "http://localhost:9023"},
                                        {"GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent.json"}});
        auto source = auth::default_token_source(env, net, clock, "s");
        REQUIRE(source.ok());
        CHECK((*source)->token().value().empty());
        CHECK((*source)->describe() == "no authentication (storage emulator)");
        CHECK(net.calls == 0);
    }
}

TEST_CASE("auth: GOOGLE_APPLICATION_CREDENTIALS selects the service-account key", "[auth]") {
    NoNetwork net;
    test::FakeClock clock;
    auto env = auth::Env::from_map({{"GOOGLE_APPLICATION_CREDENTIALS", vector_key_path()},
                                    {"GCE_METADATA_HOST", "127.0.0.1:9"}});
    auto source =
        auth::default_token_source(env, net, clock, std::string(auth::k_storage_read_write_scope));
    REQUIRE(source.ok());
    CHECK((*source)->describe() ==
          "service account test-iam-credentials@dummy-project-id.iam.gserviceaccount.com");
    CHECK(net.calls == 0);
    auto token = (*source)->token();  // goes to oauth2.googleapis.com through the fake transport
    REQUIRE_FALSE(token.ok());
    CHECK(net.calls == 1);
    CHECK(token.status().message().find("oauth2.googleapis.com/token") != std::string::npos);
}

TEST_CASE("auth: a missing or wrong key file is a config error", "[auth]") {
    NoNetwork net;
    test::FakeClock clock;
    test::TempDir dir;
    for (const std::string& path :
         {dir.file("absent.json"), dir.write("user.json", R"({"type":"authorized_user"})")}) {
        INFO(path);
        auto env = auth::Env::from_map({{"GOOGLE_APPLICATION_CREDENTIALS", path}});
        auto source = auth::default_token_source(env, net, clock, "s");
        REQUIRE_FALSE(source.ok());
        CHECK(source.status().code() == Code::config);
        CHECK(source.status().message().find(path) != std::string::npos);
    }
}

TEST_CASE("auth: with nothing configured the metadata server is used", "[auth]") {
    NoNetwork net;
    test::FakeClock clock;
    auto source = auth::default_token_source(auth::Env::from_map({}), net, clock, "s");
    REQUIRE(source.ok());
    CHECK((*source)->describe() ==
          "metadata server metadata.google.internal (default service account)");
    CHECK(net.calls == 0);
    auto token = (*source)->token();
    REQUIRE_FALSE(token.ok());
    CHECK(util::is_transient(token.status().code()));
    // An empty variable counts as unset.
    auto empty = auth::Env::from_map(
        {{"GOOGLE_APPLICATION_CREDENTIALS", ""}, {"STORAGE_EMULATOR_HOST", ""}});
    source = auth::default_token_source(empty, net, clock, "s");
    REQUIRE(source.ok());
    CHECK((*source)->describe().rfind("metadata server", 0) == 0);
}

TEST_CASE("auth: the API key comes from GEMINI_API_KEY, else GOOGLE_API_KEY", "[auth]") {
    CHECK(auth::api_key_from_env(
              auth::Env::from_map({{"GEMINI_API_KEY", "g"}, {"GOOGLE_API_KEY", "o"}})) == "g");
    CHECK(auth::api_key_from_env(auth::Env::from_map({{"GOOGLE_API_KEY", "o"}})) == "o");
    CHECK(auth::api_key_from_env(
              auth::Env::from_map({{"GEMINI_API_KEY", ""}, {"GOOGLE_API_KEY", "o"}})) == "o");
    CHECK(auth::api_key_from_env(auth::Env::from_map({})).empty());
}

TEST_CASE("auth: Env::process reads the real environment", "[auth]") {
    auto env = auth::Env::process();
    CHECK(env.get("ASSETGEN_SURELY_UNSET_VARIABLE_12345").empty());
    CHECK_FALSE(env.get("PATH").empty());
}
