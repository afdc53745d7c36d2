// The table is Google's (see the header). One entry of it is not used as printed: 3.1 Flash
// Image at 512 and 21:9 is documented as 792x168, which is not 21:9 and contradicts the 1K/2K/4K
// rows (1584x672 and up); 792x336, half of 1584x672 like every other 512 entry, is used.
#include "provider/image_sizes.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>

#include "util/text.hpp"

namespace assetgen::provider {
namespace {

struct Row {
    std::string_view ratio;
    PixelSize flash25;  // gemini-2.5-flash-image
    PixelSize k1;       // 3.x at 1K (3.1 Flash's 512 is half of it)
};

// 2.5 Flash Image, and the 3.x models at 1K; 2K and 4K are 2x and 4x the 1K size.
constexpr std::array<Row, 10> k_rows = {{
    {"1:1", {1024, 1024}, {1024, 1024}},
    {"2:3", {832, 1248}, {848, 1264}},
    {"3:2", {1248, 832}, {1264, 848}},
    {"3:4", {864, 1184}, {896, 1200}},
    {"4:3", {1184, 864}, {1200, 896}},
    {"4:5", {896, 1152}, {928, 1152}},
    {"5:4", {1152, 896}, {1152, 928}},
    {"9:16", {768, 1344}, {768, 1376}},
    {"16:9", {1344, 768}, {1376, 768}},
    {"21:9", {1536, 672}, {1584, 672}},
}};

}  // namespace

std::optional<PixelSize> documented_size(const std::string& model, const std::string& image_size,
                                         const std::string& aspect_ratio) {
    std::string_view id = model;
    if (util::starts_with(id, "models/")) {
        id.remove_prefix(7);
    }
    const std::string_view ratio = aspect_ratio.empty() ? std::string_view("1:1") : aspect_ratio;
    const auto row =
        std::find_if(k_rows.begin(), k_rows.end(), [&](const Row& r) { return r.ratio == ratio; });
    if (row == k_rows.end()) {
        return std::nullopt;  // 1:4, 4:1, 1:8, 8:1: the table has no pixel sizes for them
    }
    if (util::starts_with(id, "gemini-2.5-flash-image")) {
        return row->flash25;
    }
    const bool pro = util::starts_with(id, "gemini-3-pro-image");
    const bool flash = util::starts_with(id, "gemini-3.1-flash-image");
    const bool lite = util::starts_with(id, "gemini-3.1-flash-lite-image");
    if (!pro && !flash && !lite) {
        return std::nullopt;
    }
    const std::string size = image_size.empty() ? "1K" : image_size;
    std::uint32_t num = 0, den = 1;
    if (size == "1K") {
        num = 1;
    } else if (size == "2K" && !lite) {
        num = 2;
    } else if (size == "4K" && !lite) {
        num = 4;
    } else if (size == "512" && flash) {
        num = 1;
        den = 2;
    } else {
        return std::nullopt;
    }
    return PixelSize{row->k1.width * num / den, row->k1.height * num / den};
}

bool size_matches(const PixelSize& want, const PixelSize& got) {
    auto close = [](std::uint32_t w, std::uint32_t g) {
        const long slack = std::max<long>(16, static_cast<long>(w) / 50);
        return std::labs(static_cast<long>(w) - static_cast<long>(g)) <= slack;
    };
    return close(want.width, got.width) && close(want.height, got.height);
}

}  // namespace assetgen::provider
