#include <catch2/catch.hpp>

#include "provider/image_check.hpp"
#include "provider/image_sizes.hpp"

using namespace assetgen::provider;

TEST_CASE("image sizes: Google's table per model, size and aspect ratio", "[provider][sizes]") {
    auto at = [](const char* model, const char* size, const char* ratio) {
        auto s = documented_size(model, size, ratio);
        REQUIRE(s.has_value());
        return std::make_pair(s->width, s->height);
    };
    CHECK(at("gemini-2.5-flash-image", "", "16:9") == std::make_pair(1344u, 768u));
    CHECK(at("gemini-2.5-flash-image", "", "") == std::make_pair(1024u, 1024u));
    CHECK(at("gemini-3-pro-image-preview", "", "2:3") == std::make_pair(848u, 1264u));
    CHECK(at("gemini-3-pro-image", "2K", "4:3") == std::make_pair(2400u, 1792u));
    CHECK(at("models/gemini-3-pro-image", "4K", "16:9") == std::make_pair(5504u, 3072u));
    CHECK(at("gemini-3.1-flash-image-preview", "512", "9:16") == std::make_pair(384u, 688u));
    CHECK(at("gemini-3.1-flash-image", "4K", "21:9") == std::make_pair(6336u, 2688u));
    // What the table does not know is not checked.
    CHECK_FALSE(documented_size("gemini-3-pro-image", "512", "1:1").has_value());
    CHECK_FALSE(documented_size("gemini-3.1-flash-lite-image", "2K", "1:1").has_value());
    CHECK_FALSE(documented_size("gemini-3.1-flash-image", "1K", "1:8").has_value());
    CHECK_FALSE(documented_size("my-model", "1K", "1:1").has_value());
}

TEST_CASE("image sizes: a match allows the model's rounding, not another size",
          "[provider][sizes]") {
    CHECK(size_matches({1344, 768}, {1344, 768}));
    CHECK(size_matches({1344, 768}, {1352, 760}));       // within 16 px
    CHECK(size_matches({5504, 3072}, {5600, 3100}));     // within 2%
    CHECK_FALSE(size_matches({1344, 768}, {672, 384}));  // half: the size was ignored
    CHECK_FALSE(size_matches({2048, 2048}, {1024, 1024}));
    CHECK_FALSE(size_matches({1024, 1024}, {1344, 768}));  // the ratio was ignored
}

TEST_CASE("image check: the header's size is read", "[provider][sizes]") {
    // A 3x2 RGB PNG made by zlib: IHDR, one IDAT, IEND.
    const unsigned char png[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
        0x44, 0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00,
        0x00, 0x12, 0x16, 0xf1, 0x4d, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78,
        0x9c, 0x63, 0x60, 0xc0, 0x04, 0x00, 0x00, 0x14, 0x00, 0x01, 0x7d, 0xfe, 0x1e, 0xee,
        0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
    auto info = inspect_image(std::string_view(reinterpret_cast<const char*>(png), sizeof png));
    REQUIRE(info.ok());
    CHECK(info->mime_type == "image/png");
    CHECK(info->width == 3);
    CHECK(info->height == 2);
}
