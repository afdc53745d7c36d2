#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"
#include "util/append_file.hpp"
#include "util/atomic_file.hpp"

using namespace assetgen;

TEST_CASE("util: a torn last line is sealed before the next append and reported by readers",
          "[util]") {
    test::TempDir dir;
    auto path = dir.write("log.jsonl", "{\"a\":1}\n{\"b\":");  // crash mid-line
    auto f = util::AppendFile::open(path);
    REQUIRE(f.ok());
    REQUIRE(f->append("{\"c\":3}\n").ok());
    REQUIRE(f->sync().ok());
    CHECK(dir.read("log.jsonl") == "{\"a\":1}\n{\"b\":\n{\"c\":3}\n");

    std::vector<std::string> lines, torn;
    REQUIRE(util::read_lines(
                path, [&](std::string_view l) { lines.emplace_back(l); },
                [&](std::string_view l) { torn.emplace_back(l); })
                .ok());
    CHECK(lines.size() == 3);
    CHECK(torn.empty());

    dir.write("torn.jsonl", "{\"a\":1}\n{\"b\":");
    lines.clear();
    REQUIRE(util::read_lines(
                dir.file("torn.jsonl"), [&](std::string_view l) { lines.emplace_back(l); },
                [&](std::string_view l) { torn.emplace_back(l); })
                .ok());
    CHECK(lines == std::vector<std::string>{"{\"a\":1}"});
    CHECK(torn == std::vector<std::string>{"{\"b\":"});
}

TEST_CASE("util: appends from many threads never interleave", "[util]") {
    test::TempDir dir;
    auto path = dir.file("log.txt");
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            auto f = util::AppendFile::open(path);
            REQUIRE(f.ok());
            std::string line(1000, static_cast<char>('a' + t));
            line.push_back('\n');
            for (int i = 0; i < 200; ++i) {
                REQUIRE(f->append(line).ok());
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    std::size_t n = 0;
    REQUIRE(util::read_lines(path, [&](std::string_view l) {
                ++n;
                REQUIRE(l.size() == 1000);
                CHECK(l.find_first_not_of(l[0]) == std::string_view::npos);
            }).ok());
    CHECK(n == 1600);
}

TEST_CASE("util: atomic write replaces the whole file and leaves no temp files", "[util]") {
    test::TempDir dir;
    auto path = dir.file("sub/state.json");
    REQUIRE(util::write_file_atomic(path, "old").ok());
    REQUIRE(util::write_file_atomic(path, "new contents").ok());
    CHECK(util::read_file(path).value() == "new contents");
    std::size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.file("sub"))) {
        (void)e;
        ++files;
    }
    CHECK(files == 1);
    CHECK(util::read_file(dir.file("missing")).status().code() == util::Code::not_found);
}
