#include <catch2/catch.hpp>

#include "provider/model_lookup.hpp"

using namespace assetgen::provider;

TEST_CASE("model lookup: models.list keeps the image models that generate content",
          "[provider][models]") {
    auto listing = parse_model_listing(R"({"models":[
        {"name":"models/gemini-2.5-flash","supportedGenerationMethods":["generateContent"]},
        {"name":"models/gemini-2.5-flash-image","supportedGenerationMethods":["generateContent","countTokens"]},
        {"name":"models/imagen-4.0-generate-001","supportedGenerationMethods":["predict"]},
        {"name":"models/gemini-3-pro-image-preview"}],
        "nextPageToken":"abc"})");
    REQUIRE(listing.ok());
    CHECK(listing->image_models ==
          std::vector<std::string>{"gemini-2.5-flash-image", "gemini-3-pro-image-preview"});
    CHECK(listing->next_page_token == "abc");
    CHECK_FALSE(parse_model_listing("<html>").ok());
}

TEST_CASE("model lookup: Vertex's publishers.models.list keeps the image models by name",
          "[provider][models]") {
    auto listing = parse_model_listing(R"({"publisherModels":[
        {"name":"publishers/google/models/gemini-2.5-flash","launchStage":"GA"},
        {"name":"publishers/google/models/gemini-3-pro-image","launchStage":"GA"},
        {"name":"publishers/google/models/gemini-3.1-flash-image"}],
        "nextPageToken":"p2"})");
    REQUIRE(listing.ok());
    CHECK(listing->image_models ==
          std::vector<std::string>{"gemini-3-pro-image", "gemini-3.1-flash-image"});
    CHECK(listing->next_page_token == "p2");
}

TEST_CASE("model lookup: an unknown model is a configuration error naming what exists",
          "[provider][models]") {
    auto st = unknown_model("gemini", "gemini-9-image", "models.get answered 404",
                            {"gemini-2.5-flash-image", "gemini-3-pro-image"}, "");
    CHECK(st.code() == assetgen::util::Code::config);
    CHECK_THAT(st.message(), Catch::Contains("model \"gemini-9-image\" does not exist"));
    CHECK_THAT(st.message(), Catch::Contains("gemini-2.5-flash-image, gemini-3-pro-image"));
    CHECK_THAT(st.message(), Catch::Contains("nothing was spent"));
}
