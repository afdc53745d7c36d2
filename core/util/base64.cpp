#include "util/base64.hpp"

#include <array>
#include <cstdint>
#include <optional>

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
// and one test finds any bad character in it. The table of both alphabets marks the characters
// only one of them has (k_standard_only: '+' '/', k_url_only: '-' '_'), so one pass decodes
// either and the same OR tells a text that mixes them.
constexpr std::uint32_t k_bad = 1u << 24;
constexpr std::uint32_t k_standard_only = 1u << 25;
constexpr std::uint32_t k_url_only = 1u << 26;
struct DecodeTables {
    std::array<std::uint32_t, 256> t0{}, t1{}, t2{}, t3{};
};

constexpr void add_alphabet(DecodeTables& t, std::string_view alphabet, std::uint32_t mark) {
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        const auto c = static_cast<unsigned char>(alphabet[i]);
        const auto v = static_cast<std::uint32_t>(i);
        const std::uint32_t m = i >= 62 ? mark : 0;  // the two characters the alphabets differ in
        t.t0[c] = (v << 18) | m;
        t.t1[c] = (v << 12) | m;
        t.t2[c] = (v << 6) | m;
        t.t3[c] = v | m;
    }
}

constexpr DecodeTables make_tables(std::string_view alphabet, std::string_view other = {}) {
    DecodeTables t;
    for (std::size_t c = 0; c < 256; ++c) {
        t.t0[c] = t.t1[c] = t.t2[c] = t.t3[c] = k_bad;
    }
    if (other.empty()) {
        add_alphabet(t, alphabet, 0);
    } else {
        add_alphabet(t, alphabet, k_standard_only);
        add_alphabet(t, other, k_url_only);
    }
    return t;
}

constexpr DecodeTables k_standard_tables = make_tables(k_standard);
constexpr DecodeTables k_url_tables = make_tables(k_url);
constexpr DecodeTables k_either_tables = make_tables(k_standard, k_url);

// The checks of the text's length and padding; the number of characters to decode.
std::optional<std::size_t> data_length(std::string_view text) {
    std::size_t len = text.size();
    while (len > 0 && text[len - 1] == '=') {
        --len;
    }
    // At most two pad characters, and when present they complete a 4-character group.
    if (text.size() - len > 2 || (len != text.size() && text.size() % 4 != 0) || len % 4 == 1) {
        return std::nullopt;
    }
    return len;
}

// Decodes `len` characters of `text` into `o` (see base64_decode_into for when they may share a
// buffer); the number of bytes written, or nullopt when a character is outside the tables'
// alphabet, the alphabets are mixed, or the last group's leftover bits are not zero.
std::optional<std::size_t> decode_to(const char* text, std::size_t len, const DecodeTables& t,
                                     unsigned char* o) {
    const std::size_t groups = len / 4;
    const std::size_t rest = len % 4;  // 0, 2 or 3 characters: 0, 1 or 2 more bytes
    const auto* in = reinterpret_cast<const unsigned char*>(text);
    std::uint32_t any = 0;
    for (std::size_t g = 0; g < groups; ++g, in += 4, o += 3) {
        const std::uint32_t v = t.t0[in[0]] | t.t1[in[1]] | t.t2[in[2]] | t.t3[in[3]];
        any |= v;
        o[0] = static_cast<unsigned char>(v >> 16);
        o[1] = static_cast<unsigned char>(v >> 8);
        o[2] = static_cast<unsigned char>(v);
    }
    if (rest != 0) {
        std::uint32_t v = t.t0[in[0]] | t.t1[in[1]] | (rest == 3 ? t.t2[in[2]] : 0);
        // Leftover bits must be zero, or the text is not a canonical encoding.
        const std::uint32_t leftover = rest == 2 ? 0xFFFFu : 0xFFu;
        if ((v & leftover) != 0) {
            return std::nullopt;
        }
        any |= v;
        o[0] = static_cast<unsigned char>(v >> 16);
        if (rest == 3) {
            o[1] = static_cast<unsigned char>(v >> 8);
        }
    }
    if ((any & k_bad) != 0 || ((any & k_standard_only) != 0 && (any & k_url_only) != 0)) {
        return std::nullopt;
    }
    return groups * 3 + (rest == 0 ? 0 : rest - 1);
}

Result<std::string> decode(std::string_view text, const DecodeTables& t, const char* what) {
    auto bad = [&] { return error(Code::invalid_input, std::string(what) + ": malformed input"); };
    const std::optional<std::size_t> len = data_length(text);
    if (!len) {
        return bad();
    }
    std::string out(*len / 4 * 3 + (*len % 4 == 0 ? 0 : *len % 4 - 1), '\0');
    if (!decode_to(text.data(), *len, t, reinterpret_cast<unsigned char*>(out.data()))) {
        return bad();
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

Result<std::size_t> base64_decode_into(std::string_view text, char* out) {
    const std::optional<std::size_t> len = data_length(text);
    std::optional<std::size_t> n;
    if (len) {
        n = decode_to(text.data(), *len, k_either_tables, reinterpret_cast<unsigned char*>(out));
    }
    if (!n) {
        return error(Code::invalid_input, "base64: malformed input");
    }
    return *n;
}

}  // namespace assetgen::util
