#include <catch2/catch.hpp>

#include <string>

#include "refs/image_type.hpp"

using namespace assetgen;
using refs::guess_type;
using refs::sniff_image_type;

namespace {

// An ISO-BMFF file start: a ftyp box with a major brand and compatible brands.
std::string ftyp(const std::string& major, const std::string& compatible) {
    std::string box = "ftyp" + major + std::string("\0\0\0\0", 4) + compatible;
    auto size = static_cast<unsigned char>(box.size() + 4);
    return std::string("\0\0\0", 3) + static_cast<char>(size) + box + "mdat...";
}

}  // namespace

TEST_CASE("refs: PNG, JPEG and WEBP are told from their first bytes", "[refs]") {
    CHECK(sniff_image_type(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)) == "image/png");
    CHECK(sniff_image_type(std::string("\xff\xd8\xff\xe0\0\x10JFIF", 10)) == "image/jpeg");
    CHECK(sniff_image_type(std::string("RIFF\x24\0\0\0WEBPVP8 ", 16)) == "image/webp");
    CHECK_FALSE(sniff_image_type(std::string("RIFF\x24\0\0\0WAVEfmt ", 16)));
    CHECK_FALSE(sniff_image_type("\x89PNG"));
    CHECK_FALSE(sniff_image_type(""));
}

TEST_CASE("refs: HEIC and HEIF are told from the ftyp brands, AVIF is not HEIF", "[refs]") {
    for (const char* brand : {"heic", "heix", "hevc", "heim", "heis"}) {
        INFO(brand);
        CHECK(sniff_image_type(ftyp(brand, "mif1")) == "image/heic");
    }
    CHECK(sniff_image_type(ftyp("mif1", "heic")) == "image/heif");
    CHECK(sniff_image_type(ftyp("msf1", "iso8")) == "image/heif");
    CHECK(sniff_image_type(ftyp("iso8", "mif1heic")) == "image/heic");
    CHECK(sniff_image_type(ftyp("iso8", "isommif1")) == "image/heif");
    CHECK_FALSE(sniff_image_type(ftyp("avif", "mif1miaf")));
    CHECK(guess_type(ftyp("avif", "mif1miaf"), "") == "image/avif");
    CHECK_FALSE(sniff_image_type(ftyp("isom", "iso2mp41")));
    // Compatible brands beyond the box's own size do not count.
    std::string cut =
        std::string("\0\0\0\x10", 4) + "ftypisom" + std::string("\0\0\0\0", 4) + "heic";
    CHECK_FALSE(sniff_image_type(cut));
}

TEST_CASE("refs: what is not an image gets a best guess for the message", "[refs]") {
    CHECK(guess_type("hello, world\n", "image/png") == "text/plain");
    CHECK(guess_type("<!DOCTYPE html><html>", "") == "text/html");
    CHECK(guess_type("<?xml version=\"1.0\"?><svg xmlns=...>", "") == "image/svg+xml");
    CHECK(guess_type("{\"error\": 1}", "") == "application/json");
    CHECK(guess_type("%PDF-1.7\n%\xe2\xe3", "") == "application/pdf");
    CHECK(guess_type("GIF89a\x01\0", "") == "image/gif");
    CHECK(guess_type(std::string("\0\x01\x02\x03", 4), "application/octet-stream; x=y") ==
          "application/octet-stream");
    CHECK(guess_type(std::string("\0\x01\x02\x03", 4), "").empty());
    CHECK(refs::is_unsupported_image("image/gif"));
    CHECK_FALSE(refs::is_unsupported_image("text/plain"));
}
