#include <catch2/catch.hpp>

#include <string>

#include "budget/catalog.hpp"
#include "budget/prices.hpp"

using namespace assetgen;
using namespace assetgen::budget;

namespace {

// A one-model catalog; `patch` replaces the text between the markers to break one fact.
std::string one_model(const std::string& model_extra = "", const std::string& flex_input = "0.25") {
    const std::string src = R"("source": {"url": "https://ai.google.dev/x", "read": "2026-12-06"})";
    auto tier = [&](const std::string& input, const std::string& img, const std::string& img_mtok) {
        return R"({"input_per_mtok": )" + input +
               R"(, "output_text_per_mtok": 3, "thinking_per_mtok": 3,
          "output_image_per_mtok": )" +
               img_mtok + R"(, "per_image": {"1K": )" + img + "}, " + src + "}";
    };
    return R"({"catalog": 1, "read": "2026-12-06", "default_model": "m1",
  "models": [
    {"id": "m1", "aliases": ["m1-alias"], "apis": ["gemini"],)" +
           model_extra + R"(
     "lifecycle": {"state": "ga", )" +
           src + R"(},
     "sizes": {"values": ["1K"], "default": "1K", "aspect_ratios": ["1:1", "16:9"], )" +
           src + R"(},
     "image_tokens": {"by_size": {"1K": 1120}, )" +
           src + R"(},
     "tokens_per_ref_image": {"value": 258, )" +
           src + R"(},
     "thinking": {"max_tokens": 0, "level": "", "text_allowance_tokens": 256, )" +
           src + R"(},
     "prices": {"standard": )" +
           tier("0.5", "0.067", "60") + R"(, "flex": )" + tier(flex_input, "0.0335", "30") +
           R"(, "batch": )" + tier("0.25", "0.0335", "30") + R"(, "priority": )" +
           tier("1", "0.134", "120") + R"(}},
    {"id": "m1-preview", "like": "m1",
     "lifecycle": {"state": "shutdown", "date": "2026-06-25", "replacement": "m1", )" +
           src + R"(}}
  ],
  "notes": ["a note"]})";
}

}  // namespace

TEST_CASE("catalog: the built-in catalog reads, and every model has every tier", "[catalog]") {
    auto c = parse_catalog(std::string(builtin_catalog_text()), "models.json");
    REQUIRE(c.ok());
    CHECK(builtin_catalog().models.size() == c->models.size());
    CHECK(c->read == "2026-12-06");
    REQUIRE(c->find(c->default_model) != nullptr);
    CHECK(c->find(c->default_model)->lifecycle != Lifecycle::shutdown);
    CHECK_FALSE(c->notes.empty());
    for (const auto& m : c->models) {
        INFO(m.id);
        CHECK(m.prices.size() == 4);
        CHECK_FALSE(m.sources.at("lifecycle").url.empty());
        const auto& standard = m.prices.at(Tier::standard);
        // flex and batch are half of standard, priority twice it (the pages' ratios; notes).
        for (const auto& [size, price] : standard.per_image) {
            CHECK(m.prices.at(Tier::flex).per_image.at(size) * 2 == price);
            CHECK(m.prices.at(Tier::batch).per_image.at(size) * 2 == price);
            CHECK(m.prices.at(Tier::priority).per_image.at(size) == price * 2);
        }
        CHECK(m.prices.at(Tier::flex).output_image_per_mtok * 2 == standard.output_image_per_mtok);
        CHECK(m.prices.at(Tier::priority).input_per_mtok == standard.input_per_mtok * 2);
    }
}

TEST_CASE("catalog: the facts read from the pages", "[catalog]") {
    const Catalog& c = builtin_catalog();
    const CatalogModel* flash = c.find("gemini-3.1-flash-image");
    REQUIRE(flash);
    CHECK(flash->lifecycle == Lifecycle::ga);
    CHECK(flash->offers_size("512"));
    CHECK(flash->offers_size("4K"));
    CHECK(flash->offers_aspect_ratio("8:1"));
    CHECK(flash->prices.at(Tier::standard).per_image.at("1K") == 67'000);
    CHECK(flash->prices.at(Tier::standard).image_tokens.at("2K") == 1680);
    const CatalogModel* old = c.find("models/gemini-2.5-flash-image");
    REQUIRE(old);
    CHECK(old->lifecycle == Lifecycle::shutdown);
    CHECK(old->lifecycle_date == "2026-10-02");
    CHECK(old->replacement == "gemini-3.1-flash-image");
    CHECK_FALSE(old->offers_size("2K"));
    const CatalogModel* preview = c.find("gemini-3-pro-image-preview");
    REQUIRE(preview);
    CHECK(preview->lifecycle == Lifecycle::shutdown);
    CHECK(preview->prices.at(Tier::standard).per_image.at("4K") ==
          240'000);  // like gemini-3-pro-image
}

TEST_CASE("catalog: a valid file reads, with aliases and a model like another", "[catalog]") {
    auto c = parse_catalog(one_model(), "my.json");
    REQUIRE(c.ok());
    REQUIRE(c->find("m1-alias"));
    CHECK(c->find("m1-alias")->id == "m1");
    REQUIRE(c->find("m1-preview"));
    CHECK(c->find("m1-preview")->replacement == "m1");
    CHECK(c->find("m1-preview")->prices.at(Tier::flex).input_per_mtok == 250'000);
    CHECK(c->find("m1")->prices.at(Tier::standard).per_image.at("") == 67'000);  // the default size
}

TEST_CASE("catalog: a bad file is a configuration error naming the file, line and key",
          "[catalog]") {
    auto unknown = parse_catalog(one_model(R"( "colour": "blue",)"), "my.json");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.status().code() == util::Code::config);
    CHECK_THAT(unknown.status().message(),
               Catch::Contains("my.json:3: models.m1.colour: unknown key"));

    auto price = parse_catalog(one_model("", "\"cheap\""), "my.json");
    REQUIRE_FALSE(price.ok());
    CHECK_THAT(price.status().message(), Catch::Contains("models.m1.prices.flex.input_per_mtok"));
    CHECK_THAT(price.status().message(), Catch::Contains("\"cheap\""));

    auto absurd = parse_catalog(one_model("", "1e9"), "my.json");
    REQUIRE_FALSE(absurd.ok());
    CHECK(absurd.status().code() == util::Code::config);

    std::string text = one_model();
    text.replace(text.find("\"batch\""), 7, "\"bulk\"");
    auto tier = parse_catalog(text, "my.json");
    REQUIRE_FALSE(tier.ok());
    CHECK_THAT(tier.status().message(), Catch::Contains("models.m1.prices.bulk: unknown key"));

    text = one_model();
    text.replace(text.find(R"("date": "2026-06-25", )"), 22, "");
    auto undated = parse_catalog(text, "my.json");
    REQUIRE_FALSE(undated.ok());
    CHECK_THAT(undated.status().message(),
               Catch::Contains("models.m1-preview.lifecycle.date: missing"));

    text = one_model();
    text.replace(text.find(R"("like": "m1")"), 12, R"("like": "m9")");
    CHECK_THAT(parse_catalog(text, "my.json").status().message(),
               Catch::Contains("names no model above it"));

    text = one_model();
    text.replace(text.find(R"("default_model": "m1")"), 21, R"("default_model": "m1-preview")");
    CHECK_THAT(parse_catalog(text, "my.json").status().message(), Catch::Contains("default_model"));

    CHECK(parse_catalog("[]", "my.json").status().code() == util::Code::config);
    CHECK(load_catalog_file("/nonexistent/models.json").status().code() == util::Code::config);
}

TEST_CASE("catalog: the price table prices every tier from the catalog", "[catalog]") {
    auto c = parse_catalog(one_model(), "my.json");
    REQUIRE(c.ok());
    const PriceTable t = PriceTable::from_catalog(*c);
    RequestShape shape{"m1", "1K", 0, 0};
    const auto standard = t.ceiling(shape).value();
    shape.tier = Tier::flex;
    const auto flex = t.ceiling(shape).value();
    shape.tier = Tier::priority;
    const auto priority = t.ceiling(shape).value();
    CHECK(standard.estimate == 67'000 + 30);  // 60 prompt tokens at $0.50/1M
    CHECK(flex.estimate == 33'500 + 15);
    CHECK(priority.estimate == 134'000 + 60);
    // 1120 image tokens at $60 / $30 / $120 per 1M and 100 prompt tokens.
    CHECK(t.actual("m1", "1K", 100, 1120, 0, 1120, Tier::standard).value() == 67'200 + 50);
    CHECK(t.actual("m1", "1K", 100, 1120, 0, 1120, Tier::flex).value() == 33'600 + 25);
    CHECK(t.actual("m1-alias", "1K", 100, 1120, 0, 1120, Tier::priority).value() == 134'400 + 100);
}

TEST_CASE("catalog: a shut-down model is refused naming its replacement; a deprecated one warns",
          "[catalog][lifecycle]") {
    const Catalog& c = builtin_catalog();
    std::string warning;
    auto gone = check_lifecycle(c, "gemini-2.5-flash-image", "2026-12-06", false, warning);
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.code() == util::Code::config);
    CHECK_THAT(gone.message(), Catch::Contains("shut down on 2026-10-02"));
    CHECK_THAT(gone.message(), Catch::Contains("use gemini-3.1-flash-image instead"));
    CHECK_THAT(gone.message(), Catch::Contains("--allow-retired-model"));
    CHECK(warning.empty());

    REQUIRE(check_lifecycle(c, "gemini-2.5-flash-image", "2026-12-06", true, warning).ok());
    CHECK_THAT(warning, Catch::Contains("sent anyway"));

    REQUIRE(check_lifecycle(c, "gemini-3.1-flash-image", "2026-12-06", false, warning).ok());
    CHECK(warning.empty());
    REQUIRE(check_lifecycle(c, "imagen-9", "2026-12-06", false, warning).ok());  // priced elsewhere

    // A deprecated model warns before its date and is refused from it on.
    std::string text = one_model();
    text.replace(text.find(R"("state": "shutdown")"), 19, R"("state": "deprecated")");
    auto dep = parse_catalog(text, "my.json");
    REQUIRE(dep.ok());
    REQUIRE(check_lifecycle(*dep, "m1-preview", "2026-06-24", false, warning).ok());
    CHECK(warning ==
          "model \"m1-preview\" is deprecated: Google shuts it down on 2026-06-25; use m1 instead");
    CHECK_FALSE(check_lifecycle(*dep, "m1-preview", "2026-06-25", false, warning).ok());
}
