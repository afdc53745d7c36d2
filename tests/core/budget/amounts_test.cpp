#include <catch2/catch.hpp>

#include "budget/amounts.hpp"
#include "budget/prices.hpp"

using namespace assetgen;
using namespace assetgen::budget;

TEST_CASE("amounts: a flag's dollars are read strictly and name the flag and the fix",
          "[budget][money]") {
    CHECK(parse_amount("0.039", k_price_per_image, false, "--price-per-image").value() == 39'000);
    CHECK(parse_amount("10", k_price_per_image, false, "--price-per-image").value() == 10'000'000);
    CHECK(parse_amount("0", k_daily_limit, false, "--daily-budget-usd").value() == 0);
    auto message = [](std::string_view text, const AmountKind& kind, bool confirmed = false) {
        auto r = parse_amount(text, kind, confirmed, "--price-per-image");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == util::Code::config);
        return r.status().message();
    };
    CHECK(message("-1", k_price_per_image) ==
          "--price-per-image: \"-1\" is negative; give 0 or more");
    CHECK_THAT(message("nan", k_price_per_image),
               Catch::StartsWith("--price-per-image: \"nan\" is not a dollar amount"));
    CHECK_THAT(message("1e13", k_price_per_image), Catch::Contains("is not a dollar amount"));
    CHECK_THAT(message("0.0390001", k_price_per_image),
               Catch::Contains("has more than 6 decimals"));
    CHECK_THAT(message("10.000001", k_price_per_image),
               Catch::Contains("$10.000000, the sane ceiling"));
    CHECK_THAT(message("10.000001", k_price_per_image), Catch::Contains("--i-mean-it"));
    CHECK(parse_amount("25", k_price_per_image, true, "--price-per-image").value() == 25'000'000);
    // Confirmed or not, nothing above a billion dollars.
    CHECK_THAT(message("10000000000000", k_price_per_image, true),
               Catch::Contains("the most assetgen accepts"));
    CHECK_THAT(message("1000000.01", k_daily_limit), Catch::Contains("ceiling for a daily limit"));
    CHECK(parse_amount("1000000", k_daily_limit, false, "--daily-budget-usd").ok());
}

TEST_CASE("amounts: a pricing file's absurd or negative prices are refused at file:line",
          "[budget][money]") {
    auto t = PriceTable::builtin();
    const std::string file =
        "{\"models\": {\n  \"m\": {\n    \"input_per_mtok\": 0.3,\n"
        "    \"output_image_per_mtok\": 1e16,\n    \"per_image\": {\"\": 0.039}}}}";
    auto st = t.load_json(file, "prices.json");
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == util::Code::invalid_input);
    CHECK_THAT(st.message(),
               Catch::StartsWith("prices.json:4: models.m.output_image_per_mtok: \"1e+16\""));
    auto negative = t.load_json(R"({"models":{"m":{"per_image":{"":-1}}}})", "p.json");
    CHECK_THAT(negative.message(), Catch::Contains("is negative"));
    auto pricey = t.load_json(R"({"models":{"m":{"per_image":{"":20}}}})", "p.json");
    CHECK_THAT(pricey.message(), Catch::Contains("--i-mean-it"));
    CHECK(t.load_json(R"({"models":{"m":{"per_image":{"":20}}}})", "p.json", true).ok());
    auto fine = t.load_json(R"({"models":{"m":{"per_image":{"":0.0000001}}}})", "p.json");
    CHECK_THAT(fine.message(), Catch::Contains("more than 6 decimals"));
    auto tokens = t.load_json(R"({"models":{"m":{"per_image":{"":0.1},"max_thinking_tokens":-4}}})",
                              "p.json");
    CHECK_THAT(tokens.message(),
               Catch::Contains("max_thinking_tokens: \"-4\" is not a whole number of tokens"));
}

TEST_CASE("prices: one ceiling gives both the token cap sent and the reservation",
          "[budget][money]") {
    auto t = PriceTable::builtin();
    const RequestShape shape{"gemini-3-pro-image-preview", "1K", 40, 0};
    auto c = t.ceiling(shape).value();
    CHECK(c.image_tokens == 1120);
    CHECK(c.thinking_tokens == 2000);
    CHECK(c.text_tokens == 256);
    CHECK(c.max_output_tokens == 1120 + 2000 + 256);
    CHECK(c.thinking_level.empty());  // 3 Pro Image thinks always; only the cap bounds it
    CHECK(c.worst_case == t.worst_case(shape).value());
    CHECK(c.estimate == t.estimate(shape).value());
    // Whatever the server does within the cap, the bill stays within the reservation: the
    // image tokens at the image rate and every other output token at the text rate.
    const std::int64_t prompt = 40 / 4 + 60;
    CHECK(t.actual(shape.model, "1K", prompt, 1120 + 256, 2000, 1120).value() <= c.worst_case);
    // 400,000 thinking tokens (past the cap) cost $4.80 more: an overrun the runner must see.
    CHECK(t.actual(shape.model, "1K", prompt, 1120, 400'000, 1120).value() >
          c.worst_case + 4'700'000);
    CHECK(t.ceiling({"gemini-3.1-flash-image", "4K", 10, 0}).value().thinking_level == "minimal");
    CHECK(t.ceiling({"gemini-3.1-flash-image", "4K", 10, 0}).value().max_output_tokens ==
          2520 + 2000 + 256);
    CHECK(t.ceiling({"gemini-2.5-flash-image", "", 10, 0}).value().max_output_tokens == 1290 + 256);
}

TEST_CASE("prices: absurd token counts from a server saturate, never wrap into a credit",
          "[budget][money]") {
    auto t = PriceTable::builtin();
    const auto huge = std::numeric_limits<std::int64_t>::max();
    auto a = t.actual("gemini-3-pro-image", "1K", huge, huge, huge, -1).value();
    CHECK(a > 0);
    CHECK(a >= util::k_max_micros);
    CHECK(t.actual("gemini-3-pro-image", "1K", -5, -5, -5, -5).value() == 0);
}
