// A minimal PNG writer for the dry run's synthetic images.
//
// How this works: a PNG is an 8-byte signature followed by chunks, each
// <length:u32 BE><type:4><data><crc:u32 BE> where the CRC-32 covers type and data. We write
// three: IHDR (size, 8-bit depth, colour type 2 = RGB, no interlace), one IDAT holding the
// zlib stream of all scanlines, each prefixed with filter byte 0 (None), and an empty IEND.
// zlib does both the deflate and the CRC, so any standard decoder reads the result.

#include <zlib.h>

#include <cstdint>
#include <string>

#include "provider/dry_run.hpp"

namespace assetgen::provider {
namespace {

constexpr unsigned char k_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
constexpr int k_max_side = 1 << 16;  // far beyond what the dry run asks for; keeps sizes sane

void put_u32(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>((v >> 24) & 0xff));
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}

void put_chunk(std::string& out, const char (&type)[5], const std::string& data) {
    put_u32(out, static_cast<std::uint32_t>(data.size()));
    std::size_t type_at = out.size();
    out.append(type, 4);
    out.append(data);
    // The CRC covers the chunk type and data, not the length.
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + type_at),
                static_cast<uInt>(4 + data.size()));
    put_u32(out, static_cast<std::uint32_t>(crc));
}

// One deflate state per thread, reset for each image: setting a state up costs a quarter of a
// megabyte of fresh (page-faulting) memory, several times the work of compressing a small
// image. The fastest level, too: the dry run makes thousands of small, very compressible images.
class Deflater {
public:
    Deflater() { m_ok = deflateInit(&m_stream, Z_BEST_SPEED) == Z_OK; }
    ~Deflater() {
        if (m_ok) {
            deflateEnd(&m_stream);
        }
    }
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    // The zlib stream of data; empty on failure.
    std::string compress(const std::string& data) {
        if (!m_ok || deflateReset(&m_stream) != Z_OK) {
            return {};
        }
        std::string out(deflateBound(&m_stream, static_cast<uLong>(data.size())), '\0');
        m_stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        m_stream.avail_in = static_cast<uInt>(data.size());
        m_stream.next_out = reinterpret_cast<Bytef*>(out.data());
        m_stream.avail_out = static_cast<uInt>(out.size());
        if (deflate(&m_stream, Z_FINISH) != Z_STREAM_END) {
            return {};
        }
        out.resize(m_stream.total_out);
        return out;
    }

private:
    z_stream m_stream{};
    bool m_ok = false;
};

std::string deflate_all(const std::string& data) {
    thread_local Deflater deflater;
    return deflater.compress(data);
}

}  // namespace

std::string encode_png_rgb(int width, int height, const std::string& rgb) {
    if (width <= 0 || height <= 0 || width > k_max_side || height > k_max_side) {
        return {};
    }
    const std::size_t row_bytes = static_cast<std::size_t>(width) * 3;
    if (rgb.size() != row_bytes * static_cast<std::size_t>(height)) {
        return {};
    }

    std::string ihdr;
    put_u32(ihdr, static_cast<std::uint32_t>(width));
    put_u32(ihdr, static_cast<std::uint32_t>(height));
    ihdr.push_back(8);  // bit depth
    ihdr.push_back(2);  // colour type: truecolour (RGB)
    ihdr.push_back(0);  // compression method: deflate
    ihdr.push_back(0);  // filter method: adaptive (each row says which filter; we use None)
    ihdr.push_back(0);  // interlace: none

    std::string raw;
    raw.reserve((row_bytes + 1) * static_cast<std::size_t>(height));
    for (int y = 0; y < height; ++y) {
        raw.push_back(0);  // filter type None
        raw.append(rgb, static_cast<std::size_t>(y) * row_bytes, row_bytes);
    }
    std::string idat = deflate_all(raw);
    if (idat.empty()) {
        return {};
    }

    std::string png(reinterpret_cast<const char*>(k_signature), sizeof k_signature);
    png.reserve(png.size() + 3 * 12 + ihdr.size() + idat.size());
    put_chunk(png, "IHDR", ihdr);
    put_chunk(png, "IDAT", idat);
    put_chunk(png, "IEND", std::string());
    return png;
}

}  // namespace assetgen::provider
