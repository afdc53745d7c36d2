#include <catch2/catch.hpp>

#include "budget/catalog.hpp"
#include "schedule/plan.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;

namespace {

struct Planned {
    util::Status status;
    schedule::Plan plan;
};

Planned plan_of(const std::string& csv, schedule::PlanOptions o) {
    test::TempDir dir;
    const std::string path = dir.write("b.csv", csv);
    auto input = schedule::BatchInput::open(path, "", nullptr);
    REQUIRE(input.ok());
    o.catalog = std::make_shared<const budget::Catalog>(budget::builtin_catalog());
    o.today = "2026-12-06";
    const auto prices = budget::PriceTable::builtin();
    auto plan = schedule::plan_batch(**input, o, prices, schedule::DoneIndex{});
    if (!plan.ok()) {
        return {plan.status(), {}};
    }
    return {util::ok_status(), *plan};
}

schedule::PlanOptions options(const std::string& model, const std::string& size = "") {
    schedule::PlanOptions o;
    o.model = model;
    o.image_size = size;
    return o;
}

}  // namespace

TEST_CASE("plan: a shut-down model is refused, naming --model or the first row", "[schedule]") {
    const std::string csv =
        "scene_id,prompt,variants,model\nA,a,1,\nB,b,1,gemini-3-pro-image-preview\n"
        "C,c,1,gemini-3-pro-image-preview\n";
    auto by_row = plan_of(csv, options("gemini-3.1-flash-image"));
    REQUIRE_FALSE(by_row.status.ok());
    CHECK(by_row.status.code() == util::Code::config);
    CHECK_THAT(
        by_row.status.message(),
        Catch::Contains("/b.csv:3: model: model \"gemini-3-pro-image-preview\" was shut down on "
                        "2026-06-25; use gemini-3-pro-image instead"));

    auto by_flag = plan_of("scene_id,prompt\nA,a\n", options("gemini-2.5-flash-image"));
    REQUIRE_FALSE(by_flag.status.ok());
    CHECK_THAT(by_flag.status.message(),
               Catch::StartsWith("--model: model \"gemini-2.5-flash-image\" was shut "
                                 "down on 2026-10-02"));

    auto o = options("gemini-2.5-flash-image");
    o.allow_retired_model = true;
    auto allowed = plan_of("scene_id,prompt\nA,a\nB,b\n", o);
    REQUIRE(allowed.status.ok());
    REQUIRE(allowed.plan.warnings.size() == 1);
    CHECK_THAT(allowed.plan.warnings[0], Catch::Contains("sent anyway"));
}

TEST_CASE("plan: a size or aspect ratio the row's model does not offer is a row problem",
          "[schedule]") {
    const std::string csv =
        "scene_id,prompt,model,aspect_ratio\nA,a,,16:9\nB,b,gemini-3.1-flash-image,\n";
    auto planned = plan_of(csv, options("gemini-3-pro-image", "512"));
    REQUIRE(planned.status.ok());
    REQUIRE(planned.plan.problems.size() == 1);  // row B's model offers 512
    CHECK_THAT(planned.plan.problems[0].text(),
               Catch::EndsWith("/b.csv:2: --image-size: \"512\" is not offered by "
                               "gemini-3-pro-image (it offers 1K, 2K, "
                               "4K); give one of those, or a model that offers it"));

    auto fine = plan_of(csv, options("gemini-3-pro-image", "2K"));
    REQUIRE(fine.status.ok());
    CHECK(fine.plan.problems.empty());
    CHECK(fine.plan.warnings.empty());
}
