#include <catch2/catch.hpp>

#include <string>

#include "batch/id_index.hpp"

using namespace assetgen;
using batch::IdIndex;

TEST_CASE("id index: a repeated id returns its first row, exactly", "[batch]") {
    IdIndex index;
    CHECK_FALSE(index.insert("A-1", "A-1", "b.csv:2"));
    CHECK_FALSE(index.insert("A_2", "A 2", "b.csv:3"));
    auto again = index.insert("A-1", "A-1", "b.csv:9");
    REQUIRE(again);
    CHECK(again->scene_id == "A-1");
    CHECK(again->where == "b.csv:2");
    // Another id that sanitises alike names the first one as written.
    auto alike = index.insert("A_2", "A/2", "b.csv:10");
    REQUIRE(alike);
    CHECK(alike->scene_id == "A 2");
    CHECK(alike->where == "b.csv:3");
    CHECK(index.size() == 2);
}

TEST_CASE("id index: a million ids stay exact and take about 50 bytes each", "[batch]") {
    IdIndex index;
    constexpr int n = 1'000'000;
    for (int i = 0; i < n; ++i) {
        const std::string id = "BATCH-" + std::to_string(1'000'000 + i);
        REQUIRE_FALSE(index.insert(id, id, "big.csv:" + std::to_string(i + 2)));
    }
    CHECK(index.size() == static_cast<std::size_t>(n));
    for (int i : {0, 1, 524'287, 999'999}) {
        const std::string id = "BATCH-" + std::to_string(1'000'000 + i);
        auto seen = index.insert(id, id, "big.csv:0");
        REQUIRE(seen);
        CHECK(seen->where == "big.csv:" + std::to_string(i + 2));
    }
    CHECK_FALSE(index.insert("BATCH-2000000", "BATCH-2000000", "big.csv:0"));
    CHECK(index.bytes() < 50u * n);
}

TEST_CASE("id index: long ids and places survive block boundaries", "[batch]") {
    IdIndex index;
    const std::string pad(100, 'x');
    for (int i = 0; i < 20'000; ++i) {  // ~4 MB of entries: several 1 MiB blocks
        const std::string id = pad + std::to_string(i);
        REQUIRE_FALSE(index.insert(id, id + "!", std::string(300, 'w') + std::to_string(i)));
    }
    auto seen = index.insert(pad + "12345", "x", "later");
    REQUIRE(seen);
    CHECK(seen->scene_id == pad + "12345!");
    CHECK(seen->where == std::string(300, 'w') + "12345");
}
