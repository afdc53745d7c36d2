#include <catch2/catch.hpp>

#include <string>

#include "util/buffer_pool.hpp"

using assetgen::util::BufferPool;

namespace {

constexpr std::size_t k_mb = 1u << 20;

}  // namespace

TEST_CASE("util: a buffer given back is the one the next take returns, emptied", "[util]") {
    BufferPool pool(4);
    std::string a = pool.take(2 * k_mb);
    CHECK(a.empty());
    CHECK(a.capacity() >= 2 * k_mb);
    a.assign(1500000, 'x');  // as an image decoded over its body
    const char* where = a.data();
    pool.give(std::move(a));
    CHECK(a.empty());
    CHECK(pool.idle() == 1);
    std::string b = pool.take(2 * k_mb - 100);
    CHECK(b.data() == where);  // no new (page-faulting) buffer
    CHECK(b.empty());
    CHECK(pool.idle() == 0);
}

TEST_CASE("util: the buffer pool stays bounded", "[util]") {
    SECTION("small buffers are not kept") {
        BufferPool pool(4);
        std::string s(1000, 'x');
        pool.give(std::move(s));
        CHECK(pool.idle() == 0);
    }
    SECTION("no more idle buffers than its cap") {
        BufferPool pool(2);
        for (int i = 0; i < 5; ++i) {
            pool.give(std::string(k_mb, 'x'));
        }
        CHECK(pool.idle() == 2);
    }
    SECTION("a take that finds none big enough frees one, so sizes that grow do not pile up") {
        BufferPool pool(8);
        pool.give(std::string(k_mb, 'x'));
        pool.give(std::string(k_mb, 'y'));
        std::string big = pool.take(4 * k_mb);
        CHECK(big.capacity() >= 4 * k_mb);
        CHECK(pool.idle() == 1);
        pool.give(std::move(big));
        CHECK(pool.idle() == 2);
    }
}
