// The Context (core/context): the places the environment names are resolved once from the
// variables given (never the process's own), and its factories work over the transport given.
#include <catch2/catch.hpp>

#include "context/context.hpp"
#include "support/fake_clock.hpp"
#include "support/test_context.hpp"

using namespace assetgen;

TEST_CASE("context: places come from the environment given, with their defaults", "[context]") {
    const auto none = context::resolve_places(auth::Env::from_map({}));
    CHECK(none.gcs.base == "https://storage.googleapis.com");
    CHECK_FALSE(none.gcs.emulator);
    CHECK(none.emulator_host.empty());
    CHECK(none.temp_dir == "/tmp");
    CHECK(none.spool_dir.empty());
    CHECK(none.state_dirs.home.empty());

    const auto set = context::resolve_places(auth::Env::from_map({
        {"CLOUD_STORAGE_EMULATOR_ENDPOINT", "http://127.0.0.1:4443"},
        {"TMPDIR", "/var/tmp/x"},
        {"ASSETGEN_SPOOL_DIR", "/srv/spool"},
        {"HOME", "/home/u"},
        {"XDG_STATE_HOME", "/state"},
        {"XDG_CACHE_HOME", "/cache"},
    }));
    CHECK(set.gcs.base == "http://127.0.0.1:4443");
    CHECK(set.gcs.emulator);
    CHECK(set.emulator_host == "http://127.0.0.1:4443");
    CHECK(set.temp_dir == "/var/tmp/x");
    CHECK(set.spool_dir == "/srv/spool");
    CHECK(set.state_dirs.xdg == "/state");
    CHECK(set.cache_dirs.xdg == "/cache");
    CHECK(set.cache_dirs.home == "/home/u");
    CHECK(set.cache_dirs.tmpdir == "/var/tmp/x");
}

TEST_CASE("context: STORAGE_EMULATOR_HOST wins over CLOUD_STORAGE_EMULATOR_ENDPOINT", "[context]") {
    const auto p = context::resolve_places(auth::Env::from_map({
        {"STORAGE_EMULATOR_HOST", "localhost:9023"},
        {"CLOUD_STORAGE_EMULATOR_ENDPOINT", "http://127.0.0.1:4443"},
    }));
    CHECK(p.emulator_host == "localhost:9023");
    CHECK(p.gcs.base == "http://localhost:9023");
    CHECK(p.gcs.emulator);
}

TEST_CASE(
    "context: the provider factory makes a dry run without the network, and a live "
    "Gemini run without a key is refused before any request",
    "[context]") {
    test::FakeClock clock;
    test::TestContext ctx(clock);
    provider::ProviderConfig dry;
    auto stack = ctx.get().make_provider(dry);
    REQUIRE(stack.ok());
    CHECK(stack->provider != nullptr);

    provider::ProviderConfig live;
    live.live = true;
    auto refused = ctx.get().make_provider(live);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == util::Code::unauthenticated);
    CHECK(refused.status().message().find("GEMINI_API_KEY") != std::string::npos);
    CHECK(ctx.no_network().calls == 0);
}

TEST_CASE("context: the signer factory uses the context's transport and environment", "[context]") {
    // No key file and no metadata server but the context's transport, which refuses: the
    // signer is not made, and the one request it tried went through the context's transport.
    test::FakeClock clock;
    test::TestContext ctx(clock, {{"GCE_METADATA_HOST", "127.0.0.1:9"}});
    auto signer = ctx.get().make_signer();
    REQUIRE_FALSE(signer.ok());
    CHECK(ctx.no_network().calls >= 1);
}
