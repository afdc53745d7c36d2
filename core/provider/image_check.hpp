#pragma once
// An answer's image bytes checked before they are stored: an image is counted as made only when
// its bytes are a PNG, JPEG or WebP whose header decodes. A 200 answer with anything else (an
// HTML page, a truncated body that still decoded from base64) is a BAD_RESPONSE that the model
// has billed: the runner records its cost and makes the image again.
//
// What is checked:
//   PNG   the signature; every chunk within the bytes with a correct CRC-32; IHDR first, 13 bytes,
//         width and height 1..2^31-1, a valid bit depth for its colour type; an IDAT; IEND last
//   JPEG  SOI; marker segments within the bytes up to the first SOS; a SOF (C0..CF but C4, C8,
//         CC) before it with width ≥ 1 and 1..4 components; EOI within the last 64 bytes
//   WebP  RIFF … WEBP with the RIFF size within the bytes; a first chunk VP8 (key frame start
//         code 9D 01 2A), VP8L (signature 0x2F) or VP8X, each with a width and height ≥ 1

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.hpp"

namespace assetgen::provider {

// What an image's header says.
struct ImageInfo {
    std::string mime_type;     // "image/png", "image/jpeg", "image/webp"
    std::uint32_t width = 0;   // pixels
    std::uint32_t height = 0;  // pixels; 0 for a JPEG whose height comes in a later DNL marker
};

// The checks of check_image_bytes, and the size from the header (PNG IHDR, JPEG SOF, WebP
// VP8/VP8L/VP8X). Errors as check_image_bytes.
util::Result<ImageInfo> inspect_image(std::string_view data);

// The MIME type the bytes are ("image/png", "image/jpeg", "image/webp"), or BAD_RESPONSE saying
// what is wrong ("not a PNG, JPEG or WebP image (starts with 3c 68 74 6d)", "PNG: IHDR CRC …").
util::Result<std::string> check_image_bytes(std::string_view data);

}  // namespace assetgen::provider
