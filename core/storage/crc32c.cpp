#include "storage/crc32c.hpp"

#include <array>

#include "util/base64.hpp"

namespace assetgen::storage {
namespace {

// Reflected polynomial 0x82F63B78 (RFC 3720 App. B.4), one entry per byte value.
constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) {
            c = (c & 1u) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        }
        table[i] = c;
    }
    return table;
}

constexpr std::array<std::uint32_t, 256> k_table = make_table();

}  // namespace

std::uint32_t crc32c(std::string_view data, std::uint32_t previous) {
    std::uint32_t c = ~previous;
    for (char ch : data) {
        c = k_table[(c ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (c >> 8);
    }
    return ~c;
}

std::string crc32c_base64(std::string_view data) {
    return crc32c_value_base64(crc32c(data));
}

std::string crc32c_value_base64(std::uint32_t v) {
    std::string bytes = {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xFF),
                         static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)};
    return util::base64_encode(bytes);
}

}  // namespace assetgen::storage
