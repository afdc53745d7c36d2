#include "refs/image_type.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "util/text.hpp"

namespace assetgen::refs {
namespace {

constexpr std::array<std::string_view, 5> k_heic_brands = {"heic", "heix", "hevc", "heim", "heis"};
constexpr std::array<std::string_view, 2> k_heif_brands = {"mif1", "msf1"};
constexpr std::array<std::string_view, 2> k_avif_brands = {"avif", "avis"};

template <std::size_t N>
bool is_one_of(std::string_view brand, const std::array<std::string_view, N>& set) {
    return std::find(set.begin(), set.end(), brand) != set.end();
}

// The major brand and the compatible brands of a leading ISO-BMFF "ftyp" box; empty if none.
std::vector<std::string_view> ftyp_brands(std::string_view data) {
    std::vector<std::string_view> brands;
    if (data.size() < 16 || data.substr(4, 4) != "ftyp") {
        return brands;
    }
    std::uint32_t size = 0;
    for (int i = 0; i < 4; ++i) {
        size = (size << 8) | static_cast<unsigned char>(data[static_cast<std::size_t>(i)]);
    }
    std::size_t end = std::min<std::size_t>(size < 16 ? 16 : size, data.size());
    brands.push_back(data.substr(8, 4));  // major brand; 12..16 is the minor version
    for (std::size_t at = 16; at + 4 <= end; at += 4) {
        brands.push_back(data.substr(at, 4));
    }
    return brands;
}

// "image/heic", "image/heif", "image/avif" or "" for an ftyp box's brands.
std::string isobmff_type(std::string_view data) {
    auto brands = ftyp_brands(data);
    if (brands.empty()) {
        return "";
    }
    // The major brand decides first: an AVIF file lists mif1 among its compatible brands.
    if (is_one_of(brands[0], k_heic_brands)) {
        return "image/heic";
    }
    if (is_one_of(brands[0], k_heif_brands)) {
        return "image/heif";
    }
    if (is_one_of(brands[0], k_avif_brands)) {
        return "image/avif";
    }
    for (auto b : brands) {
        if (is_one_of(b, k_heic_brands)) {
            return "image/heic";
        }
    }
    for (auto b : brands) {
        if (is_one_of(b, k_heif_brands)) {
            return "image/heif";
        }
    }
    for (auto b : brands) {
        if (is_one_of(b, k_avif_brands)) {
            return "image/avif";
        }
    }
    return "video/mp4";  // some other ISO-BMFF file (mp4, mov, ...)
}

bool looks_like_text(std::string_view data) {
    std::size_t n = std::min<std::size_t>(data.size(), 512);
    for (std::size_t i = 0; i < n; ++i) {
        auto c = static_cast<unsigned char>(data[i]);
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') {
            return false;
        }
    }
    return n > 0;
}

}  // namespace

std::optional<std::string> sniff_image_type(std::string_view data) {
    if (util::starts_with(data, "\x89PNG\r\n\x1a\n")) {
        return "image/png";
    }
    if (util::starts_with(data, "\xff\xd8\xff")) {
        return "image/jpeg";
    }
    if (data.size() >= 12 && data.substr(0, 4) == "RIFF" && data.substr(8, 4) == "WEBP") {
        return "image/webp";
    }
    std::string iso = isobmff_type(data);
    if (iso == "image/heic" || iso == "image/heif") {
        return iso;
    }
    return std::nullopt;
}

std::string guess_type(std::string_view data, std::string_view content_type) {
    std::string iso = isobmff_type(data);
    if (!iso.empty()) {
        return iso;
    }
    if (util::starts_with(data, "GIF87a") || util::starts_with(data, "GIF89a")) {
        return "image/gif";
    }
    if (util::starts_with(data, "BM")) {
        return "image/bmp";
    }
    if (util::starts_with(data, std::string_view("II*\0", 4)) ||
        util::starts_with(data, std::string_view("MM\0*", 4))) {
        return "image/tiff";
    }
    if (util::starts_with(data, "%PDF-")) {
        return "application/pdf";
    }
    if (looks_like_text(data)) {
        std::string head = util::to_lower(util::trim(data.substr(0, 512)));
        if (util::starts_with(head, "\xef\xbb\xbf")) {
            head = head.substr(3);
        }
        if (head.find("<svg") != std::string::npos) {
            return "image/svg+xml";
        }
        if (util::starts_with(head, "<!doctype html") || util::starts_with(head, "<html")) {
            return "text/html";
        }
        if (util::starts_with(head, "<?xml")) {
            return "application/xml";
        }
        if (util::starts_with(head, "{") || util::starts_with(head, "[")) {
            return "application/json";
        }
        return "text/plain";
    }
    std::string declared =
        util::to_lower(util::trim(content_type.substr(0, content_type.find(';'))));
    return declared;
}

bool is_unsupported_image(std::string_view guessed_type) {
    return util::starts_with(guessed_type, "image/");
}

}  // namespace assetgen::refs
