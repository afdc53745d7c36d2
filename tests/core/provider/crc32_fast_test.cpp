#include <catch2/catch.hpp>

#include <zlib.h>

#include <random>
#include <string>

#include "provider/crc32_fast.hpp"

using assetgen::provider::crc32_fast;

TEST_CASE("provider: the fast CRC-32 gives zlib's values at every length and start", "[provider]") {
    std::mt19937 rng(18);
    std::string data(70'000, '\0');
    for (char& c : data) {
        c = static_cast<char>(rng());
    }
    CHECK(crc32_fast(0, "123456789") == 0xCBF43926u);  // the standard check value
    for (std::size_t len :
         {0, 1, 15, 16, 17, 63, 64, 65, 79, 80, 127, 128, 129, 1000, 4096, 65'537, 70'000}) {
        for (std::size_t at : {0, 1, 3}) {
            if (at + len > data.size()) {
                continue;
            }
            const std::string_view piece(data.data() + at, len);
            for (std::uint32_t start : {0u, 0x12345678u}) {
                INFO("len " << len << " at " << at << " start " << start);
                const auto want = static_cast<std::uint32_t>(
                    ::crc32(start, reinterpret_cast<const Bytef*>(piece.data()),
                            static_cast<uInt>(piece.size())));
                CHECK(crc32_fast(start, piece) == want);
            }
        }
    }
}
