#include "util/temp_stream.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"
#include "util/atomic_file.hpp"

using namespace assetgen;

// Rows streamed past the buffer (64 KiB) land in the temp file in order, and the file is put
// in its place whole; read_all gives the same bytes (the gs:// path).
TEST_CASE("util: TempStream streams to a nameless file, copied into place atomically", "[util]") {
    test::TempDir dir;
    auto ts = util::TempStream::create("--results r.csv");
    REQUIRE(ts.ok());
    std::string expected;
    for (int i = 0; i < 20000; ++i) {
        const std::string line = "row-" + std::to_string(i) + ",some text\n";
        (*ts)->stream() << line;
        expected += line;
    }
    REQUIRE(expected.size() > (1u << 18));
    REQUIRE((*ts)->flush().ok());
    const std::string target = dir.file("sub/r.csv");
    REQUIRE(util::copy_file_atomic(target, (*ts)->fd()).ok());
    CHECK(dir.read("sub/r.csv") == expected);
    auto all = (*ts)->read_all();
    REQUIRE(all.ok());
    CHECK(*all == expected);
}
