// --api vertex --tier batch: where the staging prefix is, and the errors that name the fix.

#include <catch2/catch.hpp>

#include "provider/vertex_batch_factory.hpp"
#include "support/fake_clock.hpp"

using namespace assetgen;
using namespace assetgen::provider;
using util::Code;

namespace {

class NoNetwork final : public net::HttpTransport {
public:
    util::Result<net::HttpResponse> send(const net::HttpRequest& r) override {
        ++sent;
        return util::Status(Code::internal, "no network in this test: " + r.describe());
    }
    int sent = 0;
};

}  // namespace

TEST_CASE("vertex batch staging: the flag, else beside a gs:// --out, else a usage error",
          "[provider][vertex-batch]") {
    CHECK(*resolve_vertex_batch_staging("gs://stage-bkt/batches/", "out") ==
          "gs://stage-bkt/batches");
    CHECK(*resolve_vertex_batch_staging("gs://stage-bkt", "gs://b/x") == "gs://stage-bkt");
    CHECK(*resolve_vertex_batch_staging("", "gs://assets/renders/") ==
          "gs://assets/renders.batch-staging");
    CHECK(*resolve_vertex_batch_staging("", "gs://assets") == "gs://assets/assetgen-batch-staging");

    auto local = resolve_vertex_batch_staging("", "out/images");
    REQUIRE_FALSE(local.ok());
    CHECK(local.status().code() == Code::usage);
    CHECK_THAT(local.status().message(),
               Catch::StartsWith("--batch-staging: needed with --api vertex --tier batch") &&
                   Catch::Contains("\"out/images\"") &&
                   Catch::Contains("give --batch-staging gs://bucket/prefix"));
    auto not_gs = resolve_vertex_batch_staging("/tmp/stage", "gs://b/o");
    REQUIRE_FALSE(not_gs.ok());
    CHECK(not_gs.status().code() == Code::usage);
    CHECK_THAT(not_gs.status().message(),
               Catch::StartsWith("--batch-staging: not a gs:// location \"/tmp/stage\""));
    CHECK(resolve_vertex_batch_staging("gs://Bad_Bucket!/x", "").status().code() == Code::usage);
}

TEST_CASE("vertex batch service: no project is a config error before any request",
          "[provider][vertex-batch]") {
    NoNetwork transport;
    test::FakeClock clock;
    ProviderConfig config;
    config.live = true;
    config.api = "vertex";
    auto made = make_vertex_batch_service(config, "gs://b/stage", auth::Env::from_map({}),
                                          transport, clock, storage::GcsClientOptions{});
    REQUIRE_FALSE(made.ok());
    CHECK(made.status().code() == Code::config);
    CHECK_THAT(made.status().message(), Catch::Contains("--project"));
    CHECK(transport.sent == 0);
}
