#include <catch2/catch.hpp>

#include <string>

#include "provider/dry_run.hpp"
#include "provider/image_check.hpp"

using namespace assetgen;
using provider::check_image_bytes;

namespace {

std::string a_png() {
    return provider::encode_png_rgb(4, 3, std::string(4 * 3 * 3, '\x40'));
}

// A minimal baseline JPEG's markers: SOI, SOF0 (8 bit, 16x8, 3 components), SOS, scan bytes, EOI.
std::string a_jpeg() {
    std::string j = "\xFF\xD8";
    j += std::string("\xFF\xC0\x00\x11\x08\x00\x08\x00\x10\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01",
                     19);
    j += std::string("\xFF\xDA\x00\x0C\x03\x01\x00\x02\x11\x03\x11\x00\x3F\x00", 14);
    j += std::string(40, '\x55');
    j += "\xFF\xD9";
    return j;
}

std::string le32(std::uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) {
        s[static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
    }
    return s;
}

// RIFF/WEBP with a VP8L chunk of a 16x8 image (only the header matters here).
std::string a_webp() {
    std::string payload = "\x2F";
    const std::uint32_t bits = (16 - 1) | ((8 - 1) << 14);
    payload += le32(bits);
    payload += std::string(7, '\0');
    std::string body = "WEBPVP8L" + le32(static_cast<std::uint32_t>(payload.size())) + payload;
    return "RIFF" + le32(static_cast<std::uint32_t>(body.size())) + body;
}

}  // namespace

TEST_CASE("image bytes: a PNG, a JPEG and a WebP pass and say what they are",
          "[provider][image_check]") {
    CHECK(check_image_bytes(a_png()).value() == "image/png");
    CHECK(check_image_bytes(a_jpeg()).value() == "image/jpeg");
    CHECK(check_image_bytes(a_webp()).value() == "image/webp");
}

TEST_CASE("image bytes: what is not an image is a BAD_RESPONSE naming why",
          "[provider][image_check]") {
    auto html = check_image_bytes("<!DOCTYPE html><html>error</html>");
    REQUIRE_FALSE(html.ok());
    CHECK(html.status().code() == util::Code::bad_response);
    CHECK(html.status().message().find(
              "not a PNG, JPEG or WebP image (33 bytes, starting 3c 21 44") != std::string::npos);
    CHECK_FALSE(check_image_bytes("").ok());

    std::string png = a_png();
    std::string bad_crc = png;
    bad_crc[20] ^= 0x01;  // inside IHDR's data
    auto crc = check_image_bytes(bad_crc);
    REQUIRE_FALSE(crc.ok());
    CHECK(crc.status().message() == "PNG: chunk IHDR at byte 8 has a bad CRC");
    auto cut = check_image_bytes(png.substr(0, png.size() - 12));  // no IEND
    REQUIRE_FALSE(cut.ok());
    CHECK(cut.status().message() == "PNG: no IEND (the image is cut off)");
    CHECK_FALSE(check_image_bytes(png.substr(0, png.size() - 20)).ok());

    std::string jpeg = a_jpeg();
    CHECK_FALSE(check_image_bytes(jpeg.substr(0, jpeg.size() - 2)).ok());  // no EOI
    CHECK_FALSE(check_image_bytes(jpeg.substr(0, 10)).ok());               // cut in SOF
    std::string no_sof = "\xFF\xD8" + jpeg.substr(2 + 19);                 // SOS first
    CHECK(check_image_bytes(no_sof).status().message() ==
          "JPEG: no frame header (SOF) before the image data");

    std::string webp = a_webp();
    CHECK_FALSE(check_image_bytes(webp.substr(0, webp.size() - 4)).ok());  // RIFF size past the end
    std::string vp8x = webp;
    vp8x.replace(12, 4, "ABCD");
    CHECK_FALSE(check_image_bytes(vp8x).ok());
}
