#include <catch2/catch.hpp>

#include <string>

#include "core/storage/gcs_test_support.hpp"
#include "storage/gcs_storage.hpp"
#include "support/fake_clock.hpp"

using namespace assetgen;
using namespace assetgen::storage;
using test::FakeClock;
using test::gcs::error_json;
using test::gcs::object_json;
using test::gcs::ScriptedTransport;
using util::Code;

namespace {

struct StorageRig {
    ScriptedTransport transport;
    FakeClock clock;
    GcsStorage storage{std::make_unique<GcsClient>(transport, nullptr, clock)};

    std::string url(std::size_t i) const { return transport.requests.at(i).url; }
};

const std::string k_loc = "gs://assets-bucket/job-1/scene/scene_v1.png";

std::string precondition_failed() {
    return error_json(412, "conditionNotMet",
                      "At least one of the pre-conditions you specified did not hold.");
}

}  // namespace

TEST_CASE("storage: GcsStorage puts create-only, so a failed put can be retried", "[storage]") {
    StorageRig rig;
    rig.transport.push(503, "");
    rig.transport.push(
        200, object_json("assets-bucket", "job-1/scene/scene_v1.png", 5, "PNG", "image/png"));
    REQUIRE(rig.storage.put(k_loc, "PNG", "image/png").ok());
    REQUIRE(rig.transport.requests.size() == 2);
    CHECK(rig.url(0).find("name=job-1%2Fscene%2Fscene_v1.png&ifGenerationMatch=0") !=
          std::string::npos);
    CHECK(rig.url(1) == rig.url(0));
}

TEST_CASE("storage: a put whose first answer was lost finds its own bytes and succeeds",
          "[storage]") {
    StorageRig rig;
    rig.transport.push(503, "");  // applied, but the answer never came
    rig.transport.push(412, precondition_failed());
    rig.transport.push(
        200, object_json("assets-bucket", "job-1/scene/scene_v1.png", 5, "PNG", "image/png"));
    REQUIRE(rig.storage.put(k_loc, "PNG", "image/png").ok());
    REQUIRE(rig.transport.requests.size() == 3);
    CHECK(rig.transport.requests[2].method == "GET");  // metadata, no second write
}

TEST_CASE("storage: a put over different bytes replaces them under the seen generation",
          "[storage]") {
    StorageRig rig;
    rig.transport.push(412, precondition_failed());
    rig.transport.push(
        200, object_json("assets-bucket", "job-1/scene/scene_v1.png", 9, "OLD", "image/png"));
    rig.transport.push(
        200, object_json("assets-bucket", "job-1/scene/scene_v1.png", 10, "NEW", "image/png"));
    REQUIRE(rig.storage.put(k_loc, "NEW", "image/png").ok());
    REQUIRE(rig.transport.requests.size() == 3);
    CHECK(rig.url(2).find("ifGenerationMatch=9") != std::string::npos);

    SECTION("and gives up when other writers keep winning") {
        for (int i = 0; i < 4; ++i) {
            rig.transport.push(412, precondition_failed());
            rig.transport.push(
                200, object_json("assets-bucket", "job-1/scene/scene_v1.png", 20 + i, "THEIRS"));
        }
        auto s = rig.storage.put(k_loc, "MINE", "image/png");
        CHECK(s.code() == Code::storage_io);
        CHECK(s.message().find("other writers") != std::string::npos);
    }
}

TEST_CASE("storage: GcsStorage reads, checks existence and lists", "[storage]") {
    StorageRig rig;
    rig.transport.push(200, "hello");
    CHECK(rig.storage.get(k_loc).value() == "hello");
    rig.transport.push(404, error_json(404, "notFound", "No such object"));
    CHECK(rig.storage.get(k_loc).status().code() == Code::not_found);

    rig.transport.push(200, object_json("assets-bucket", "x", 1, ""));
    CHECK(rig.storage.exists(k_loc).value());
    rig.transport.push(404, error_json(404, "notFound", "No such object"));
    CHECK_FALSE(rig.storage.exists(k_loc).value());
    rig.transport.push(403, error_json(403, "forbidden", "denied"));
    CHECK(rig.storage.exists(k_loc).status().code() == Code::permission_denied);

    rig.transport.push(
        200,
        R"({"items":[{"name":"job-1/b.png","generation":"2"},{"name":"job-1/a.png","generation":"1"}]})");
    auto l = rig.storage.list("gs://assets-bucket/job-1/");
    REQUIRE(l.ok());
    CHECK(*l == std::vector<std::string>{"gs://assets-bucket/job-1/a.png",
                                         "gs://assets-bucket/job-1/b.png"});
    CHECK(rig.transport.requests.back().url.find("?prefix=job-1%2F&") != std::string::npos);

    CHECK(rig.storage.get("gs://assets-bucket/").status().code() == Code::invalid_input);
    CHECK(rig.storage.put("/tmp/x", "x", "").code() == Code::invalid_input);
}

TEST_CASE("storage: make_storage_for picks the local folder or Cloud Storage", "[storage]") {
    ScriptedTransport transport;
    FakeClock clock;
    StorageContext context{&transport, nullptr, &clock, {}};

    auto local = make_storage_for("out/job", context);
    REQUIRE(local.ok());
    CHECK(dynamic_cast<LocalStorage*>(local->get()) != nullptr);

    auto gcs = make_storage_for("gs://assets-bucket/out", context);
    REQUIRE(gcs.ok());
    auto* g = dynamic_cast<GcsStorage*>(gcs->get());
    REQUIRE(g != nullptr);
    CHECK(g->client().options().endpoint.base == "https://storage.googleapis.com");

    CHECK(make_storage_for("gs://Bad_Bucket/x", context).status().code() == Code::invalid_input);
    CHECK(make_storage_for("gs://assets-bucket", StorageContext{}).status().code() == Code::config);
}
