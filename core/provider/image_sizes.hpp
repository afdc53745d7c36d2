#pragma once
// The pixel size Google documents for an image of a model, imageSize and aspect ratio, and the
// check of a returned image against it. A small local table, kept apart so that it can later be
// read from the model catalog. Source: "Gemini image generation", section "Aspect ratios and
// image size", https://ai.google.dev/gemini-api/docs/image-generation (page "Last updated
// 2026-04-24", read 2026-12-06 through the project's research notes).

#include <cstdint>
#include <optional>
#include <string>

namespace assetgen::provider {

struct PixelSize {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
};

// The documented size, or std::nullopt when the table does not know the model family, the
// size or the ratio (then nothing is checked). "" size = the model's default (1K); "" ratio =
// 1:1 (the documented default without an input image; callers pass "" only then).
//   gemini-2.5-flash-image*            one size class (~1024 px), imageSize not offered
//   gemini-3-pro-image*                1K, 2K, 4K
//   gemini-3.1-flash-image*            512, 1K, 2K, 4K
//   gemini-3.1-flash-lite-image*       1K
std::optional<PixelSize> documented_size(const std::string& model, const std::string& image_size,
                                         const std::string& aspect_ratio);

// True when `got` is the documented size give or take the model's rounding: each side within
// 2% or 16 px of it, whichever is more.
bool size_matches(const PixelSize& want, const PixelSize& got);

}  // namespace assetgen::provider
