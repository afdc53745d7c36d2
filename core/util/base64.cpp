#include "util/base64.hpp"

#include <array>
#include <cstdint>

namespace assetgen::util {
namespace {

constexpr std::string_view k_standard =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view k_url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view bytes, std::string_view alphabet, bool pad) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                          (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                          static_cast<unsigned char>(bytes[i + 2]);
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        if (pad) {
            out.append("==");
        }
    } else if (rest == 2) {
        std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                          (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        if (pad) {
            out.push_back('=');
        }
    }
    return out;
}

// Decoding tables: the value of each character, pre-shifted to its place in a 24-bit group;
// k_bad (bit 24) for characters outside the alphabet, so one OR of four lookups decodes a group
// and one test finds any bad character in it.
constexpr std::uint32_t k_bad = 1u << 24;
struct DecodeTables {
    std::array<std::uint32_t, 256> t0{}, t1{}, t2{}, t3{};
};

constexpr DecodeTables make_tables(std::string_view alphabet) {
    DecodeTables t;
    for (std::size_t c = 0; c < 256; ++c) {
        t.t0[c] = t.t1[c] = t.t2[c] = t.t3[c] = k_bad;
    }
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        const auto c = static_cast<unsigned char>(alphabet[i]);
        const auto v = static_cast<std::uint32_t>(i);
        t.t0[c] = v << 18;
        t.t1[c] = v << 12;
        t.t2[c] = v << 6;
        t.t3[c] = v;
    }
    return t;
}

constexpr DecodeTables k_standard_tables = make_tables(k_standard);
constexpr DecodeTables k_url_tables = make_tables(k_url);

Result<std::string> decode(std::string_view text, const DecodeTables& t, const char* what) {
    auto bad = [&] { return error(Code::invalid_input, std::string(what) + ": malformed input"); };
    std::size_t len = text.size();
    while (len > 0 && text[len - 1] == '=') {
        --len;
    }
    // At most two pad characters, and when present they complete a 4-character group.
    if (text.size() - len > 2 || (len != text.size() && text.size() % 4 != 0) || len % 4 == 1) {
        return bad();
    }
    const std::size_t groups = len / 4;
    const std::size_t rest = len % 4;  // 0, 2 or 3 characters: 0, 1 or 2 more bytes
    std::string out(groups * 3 + (rest == 0 ? 0 : rest - 1), '\0');
    const auto* in = reinterpret_cast<const unsigned char*>(text.data());
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    std::uint32_t any_bad = 0;
    for (std::size_t g = 0; g < groups; ++g, in += 4, o += 3) {
        const std::uint32_t v = t.t0[in[0]] | t.t1[in[1]] | t.t2[in[2]] | t.t3[in[3]];
        any_bad |= v;
        o[0] = static_cast<unsigned char>(v >> 16);
        o[1] = static_cast<unsigned char>(v >> 8);
        o[2] = static_cast<unsigned char>(v);
    }
    if ((any_bad & k_bad) != 0) {
        return bad();
    }
    if (rest != 0) {
        std::uint32_t v = t.t0[in[0]] | t.t1[in[1]] | (rest == 3 ? t.t2[in[2]] : 0);
        // Leftover bits must be zero, or the text is not a canonical encoding.
        const std::uint32_t leftover = rest == 2 ? 0xFFFFu : 0xFFu;
        if ((v & k_bad) != 0 || (v & leftover) != 0) {
            return bad();
        }
        o[0] = static_cast<unsigned char>(v >> 16);
        if (rest == 3) {
            o[1] = static_cast<unsigned char>(v >> 8);
        }
    }
    return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    return encode(bytes, k_standard, true);
}

Result<std::string> base64_decode(std::string_view text) {
    return decode(text, k_standard_tables, "base64");
}

std::string base64url_encode(std::string_view bytes) {
    return encode(bytes, k_url, false);
}

Result<std::string> base64url_decode(std::string_view text) {
    return decode(text, k_url_tables, "base64url");
}

}  // namespace assetgen::util
