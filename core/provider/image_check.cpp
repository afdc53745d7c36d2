#include "provider/image_check.hpp"

#include <cstdint>
#include <cstdio>

#include "provider/crc32_fast.hpp"

namespace assetgen::provider {
namespace {

util::Status bad(const std::string& what) {
    return util::Status(util::Code::bad_response, what);
}

std::uint32_t be32(std::string_view d, std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 3]));
}
std::uint32_t be16(std::string_view d, std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 1]));
}
std::uint32_t le16(std::string_view d, std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(d[at])) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 1])) << 8);
}
std::uint32_t le24(std::string_view d, std::size_t at) {
    return le16(d, at) | (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 2])) << 16);
}
std::uint32_t le32(std::string_view d, std::size_t at) {
    return le24(d, at) | (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 3])) << 24);
}
unsigned char byte(std::string_view d, std::size_t at) {
    return static_cast<unsigned char>(d[at]);
}

util::Status check_png(std::string_view d, ImageInfo& info) {
    std::size_t pos = 8;
    bool first = true, idat = false, iend = false;
    while (pos < d.size()) {
        if (iend) {
            break;  // bytes after IEND are ignored by decoders
        }
        if (d.size() - pos < 12) {
            return bad("PNG: a chunk header at byte " + std::to_string(pos) + " is cut off");
        }
        const std::uint32_t len = be32(d, pos);
        const std::string_view type = d.substr(pos + 4, 4);
        if (len > d.size() - pos - 12) {
            return bad("PNG: chunk " + std::string(type) + " at byte " + std::to_string(pos) +
                       " runs past the end (" + std::to_string(len) + " bytes)");
        }
        if (crc32_fast(0, d.substr(pos + 4, len + 4)) != be32(d, pos + 8 + len)) {
            return bad("PNG: chunk " + std::string(type) + " at byte " + std::to_string(pos) +
                       " has a bad CRC");
        }
        if (first) {
            if (type != "IHDR" || len != 13) {
                return bad("PNG: the first chunk is not a 13-byte IHDR");
            }
            const std::uint32_t w = be32(d, pos + 8), h = be32(d, pos + 12);
            const unsigned depth = byte(d, pos + 16), colour = byte(d, pos + 17);
            if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu) {
                return bad("PNG: IHDR size " + std::to_string(w) + "x" + std::to_string(h) +
                           " is not valid");
            }
            const bool depth_ok =
                (colour == 0 &&
                 (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) ||
                (colour == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
                ((colour == 2 || colour == 4 || colour == 6) && (depth == 8 || depth == 16));
            if (!depth_ok || byte(d, pos + 18) != 0 || byte(d, pos + 19) != 0 ||
                byte(d, pos + 20) > 1) {
                return bad("PNG: IHDR depth " + std::to_string(depth) + ", colour type " +
                           std::to_string(colour) + " or its methods are not valid");
            }
            info.width = w;
            info.height = h;
            first = false;
        }
        idat = idat || type == "IDAT";
        iend = type == "IEND";
        pos += 12 + len;
    }
    if (!idat || !iend) {
        return bad(std::string("PNG: no ") +
                   (idat ? "IEND (the image is cut off)" : "IDAT (no pixels)"));
    }
    return util::ok_status();
}

util::Status check_jpeg(std::string_view d, ImageInfo& info) {
    std::size_t pos = 2;
    bool sof = false;
    for (;;) {
        while (pos < d.size() && byte(d, pos) == 0xFF && pos + 1 < d.size() &&
               byte(d, pos + 1) == 0xFF) {
            ++pos;  // fill bytes
        }
        if (d.size() < 4 || pos > d.size() - 4) {
            return bad("JPEG: the markers are cut off before the image data");
        }
        if (byte(d, pos) != 0xFF) {
            return bad("JPEG: no marker at byte " + std::to_string(pos));
        }
        const unsigned marker = byte(d, pos + 1);
        if (marker == 0xD8 || marker == 0xD9 || (marker >= 0xD0 && marker <= 0xD7) ||
            marker == 0x01) {
            return bad("JPEG: marker " + std::to_string(marker) + " before the image data");
        }
        const std::uint32_t len = be16(d, pos + 2);
        if (len < 2 || len > d.size() - pos - 2) {
            return bad("JPEG: a segment at byte " + std::to_string(pos) + " runs past the end");
        }
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC) {
            if (len < 8) {
                return bad("JPEG: a short frame header");
            }
            const std::uint32_t width = be16(d, pos + 7);
            const unsigned components = byte(d, pos + 9);
            if (width == 0 || components < 1 || components > 4 || len < 8 + 3 * components) {
                return bad("JPEG: the frame header's width or components are not valid");
            }
            if (!sof) {
                info.width = width;
                info.height = be16(d, pos + 5);  // 0 = set by a later DNL marker
            }
            sof = true;
        }
        if (marker == 0xDA) {
            break;
        }
        pos += 2 + len;
    }
    if (!sof) {
        return bad("JPEG: no frame header (SOF) before the image data");
    }
    const std::size_t tail = d.size() > 64 ? d.size() - 64 : 0;
    if (d.substr(tail).find("\xFF\xD9") == std::string_view::npos) {
        return bad("JPEG: no end marker (the image is cut off)");
    }
    return util::ok_status();
}

util::Status check_webp(std::string_view d, ImageInfo& info) {
    if (d.size() < 30) {
        return bad("WebP: " + std::to_string(d.size()) + " bytes is too short");
    }
    const std::uint32_t riff = le32(d, 4);
    if (riff < 22 || riff > d.size() - 8) {
        return bad("WebP: the RIFF size " + std::to_string(riff) + " does not fit the " +
                   std::to_string(d.size()) + " bytes (cut off?)");
    }
    const std::string_view chunk = d.substr(12, 4);
    const std::uint32_t len = le32(d, 16);
    if (len > riff - 12) {
        return bad("WebP: chunk " + std::string(chunk) + " runs past the RIFF size");
    }
    std::uint32_t w = 0, h = 0;
    if (chunk == "VP8 ") {
        if (len < 10 || byte(d, 23) != 0x9D || byte(d, 24) != 0x01 || byte(d, 25) != 0x2A) {
            return bad("WebP: VP8 without a key frame start code");
        }
        w = le16(d, 26) & 0x3fff;
        h = le16(d, 28) & 0x3fff;
    } else if (chunk == "VP8L") {
        if (len < 5 || byte(d, 20) != 0x2F) {
            return bad("WebP: VP8L without its signature byte");
        }
        const std::uint32_t bits = le32(d, 21);
        w = (bits & 0x3fff) + 1;
        h = ((bits >> 14) & 0x3fff) + 1;
    } else if (chunk == "VP8X") {
        if (len < 10) {
            return bad("WebP: a short VP8X chunk");
        }
        w = le24(d, 24) + 1;
        h = le24(d, 27) + 1;
    } else {
        return bad("WebP: the first chunk \"" + std::string(chunk) + "\" is not VP8, VP8L or VP8X");
    }
    if (w == 0 || h == 0) {
        return bad("WebP: a zero width or height");
    }
    info.width = w;
    info.height = h;
    return util::ok_status();
}

std::string first_bytes(std::string_view d) {
    std::string out;
    for (std::size_t i = 0; i < d.size() && i < 8; ++i) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", byte(d, i));
        out += buf;
    }
    return out.empty() ? "nothing" : out;
}

}  // namespace

util::Result<ImageInfo> inspect_image(std::string_view d) {
    static constexpr std::string_view png_signature("\x89PNG\r\n\x1a\n", 8);
    ImageInfo info;
    if (d.size() >= 8 && d.substr(0, 8) == png_signature) {
        TRY(check_png(d, info));
        info.mime_type = "image/png";
        return info;
    }
    if (d.size() >= 3 && byte(d, 0) == 0xFF && byte(d, 1) == 0xD8 && byte(d, 2) == 0xFF) {
        TRY(check_jpeg(d, info));
        info.mime_type = "image/jpeg";
        return info;
    }
    if (d.size() >= 12 && d.substr(0, 4) == "RIFF" && d.substr(8, 4) == "WEBP") {
        TRY(check_webp(d, info));
        info.mime_type = "image/webp";
        return info;
    }
    return util::error(util::Code::bad_response, "not a PNG, JPEG or WebP image (" +
                                                     std::to_string(d.size()) +
                                                     " bytes, starting " + first_bytes(d) + ")");
}

util::Result<std::string> check_image_bytes(std::string_view d) {
    TRY_ASSIGN(ImageInfo info, inspect_image(d));
    return info.mime_type;
}

}  // namespace assetgen::provider
