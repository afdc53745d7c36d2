#include <catch2/catch.hpp>

#include "budget/prices.hpp"

using namespace assetgen;
using namespace assetgen::budget;

// Every ledger line is settled from usageMetadata: each kind of token at its own rate.

TEST_CASE("budget: prompt, image, text and thinking tokens each cost their own rate",
          "[budget][billed]") {
    PriceTable t;
    REQUIRE(
        t.load_json(
             R"({"models":{"m":{"input_per_mtok":1,"output_image_per_mtok":100,)"
             R"("output_text_per_mtok":10,"output_thinking_per_mtok":20,"image_tokens":{"":1000}}}})",
             "p.json")
            .ok());
    // 1000 prompt at $1/M = 1000 µ$; 1000 image at $100/M = 100000; 10 text at $10/M = 100;
    // 100 thoughts at $20/M = 2000.
    CHECK(t.actual("m", "", 1000, 1010, 100, 1000).value() == 1000 + 100'000 + 100 + 2000);
    // Without a thinking price, thoughts cost the text rate.
    PriceTable u;
    REQUIRE(u.load_json(R"({"models":{"m":{"input_per_mtok":1,"output_image_per_mtok":100,)"
                        R"("output_text_per_mtok":10,"image_tokens":{"":1000}}}})",
                        "p.json")
                .ok());
    CHECK(u.actual("m", "", 0, 0, 100, -1).value() == 1000);
    // The worst case covers the thinking allowance at the dearer thinking rate.
    PriceTable w;
    REQUIRE(
        w.load_json(
             R"({"models":{"m":{"input_per_mtok":1,"output_image_per_mtok":100,)"
             R"("output_text_per_mtok":10,"output_thinking_per_mtok":20,"image_tokens":{"":1000},)"
             R"("max_thinking_tokens":2000}}})",
             "p.json")
            .ok());
    const auto worst = w.worst_case({"m", "", 40, 0}).value();
    CHECK(worst >= w.actual("m", "", 40 / 4 + 60, 1000 + 256, 2000, 1000).value());
}

TEST_CASE("budget: an answer without an image costs its prompt and thoughts", "[budget][billed]") {
    auto t = PriceTable::builtin();
    // gemini-2.5-flash-image: $0.30/M input, $2.50/M text and thinking.
    // 1119 prompt tokens = 335.7 → 336 µ$; 240 thoughts = 600 µ$.
    CHECK(t.actual("gemini-2.5-flash-image", "", 1119, 0, 240).value() == 336 + 600);
    // gemini-3-pro-image-preview: $2/M input, $12/M text: 2238 + 2880.
    CHECK(t.actual("gemini-3-pro-image-preview", "", 1119, 0, 240).value() == 2238 + 2880);
}

TEST_CASE("budget: --price-per-image charges nothing for an answer that made no image",
          "[budget][billed]") {
    auto t = PriceTable::builtin();
    t.set_price_per_image(10'000);
    // A text-only answer with a breakdown: 8 text tokens at $2.50/M = 20 µ$, no image price.
    CHECK(t.actual("gemini-2.5-flash-image", "", 0, 8, 0, 0).value() == 20);
    // A refusal: its prompt and thoughts only.
    CHECK(t.actual("gemini-2.5-flash-image", "", 1119, 0, 240, -1).value() == 336 + 600);
    // An image: the override exactly, its text at the text rate.
    CHECK(t.actual("gemini-2.5-flash-image", "", 0, 1298, 0, 1290).value() == 10'000 + 20);
}
