#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "refs/http_cache.hpp"
#include "refs/ref_cache.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "util/hash.hpp"

using namespace assetgen;
using refs::freshness_of;
using refs::RefCache;

namespace {

constexpr std::int64_t k_now = 1'764'000'000'000;  // 2025-11-24T16:00:00Z

net::HttpResponse answer(net::Headers headers) {
    net::HttpResponse r;
    r.status = 200;
    r.headers = std::move(headers);
    return r;
}

refs::Freshness fresh_for(std::int64_t ms) {
    refs::Freshness f;
    f.fresh_until_ms = k_now + ms;
    return f;
}

}  // namespace

TEST_CASE("refs: HTTP dates parse in all three forms", "[refs]") {
    const std::int64_t t = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
    CHECK(refs::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == t);
    CHECK(refs::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == t);
    CHECK(refs::parse_http_date("Sun Nov  6 08:49:37 1994") == t);
    CHECK_FALSE(refs::parse_http_date("0"));
    CHECK_FALSE(refs::parse_http_date("yesterday"));
}

TEST_CASE("refs: Cache-Control max-age, no-cache and no-store decide freshness", "[refs]") {
    auto a =
        freshness_of(answer({{"cache-control", "public, max-age=600"}, {"etag", "\"v1\""}}), k_now);
    CHECK(a.store);
    CHECK(a.fresh_until_ms == k_now + 600'000);
    CHECK(a.etag == "\"v1\"");

    auto aged = freshness_of(answer({{"cache-control", "max-age=600"}, {"age", "100"}}), k_now);
    CHECK(aged.fresh_until_ms == k_now + 500'000);

    auto two = freshness_of(
        answer({{"cache-control", "max-age=600"}, {"cache-control", "max-age=60"}}), k_now);
    CHECK(two.fresh_until_ms == k_now + 60'000);

    auto no_cache = freshness_of(answer({{"cache-control", "max-age=600, no-cache"}}), k_now);
    CHECK(no_cache.store);
    CHECK(no_cache.fresh_until_ms <= k_now);

    auto no_store = freshness_of(answer({{"cache-control", "no-store"}}), k_now);
    CHECK_FALSE(no_store.store);

    auto zero = freshness_of(answer({{"cache-control", "max-age=0"}, {"etag", "\"e\""}}), k_now);
    CHECK(zero.fresh_until_ms <= k_now);
}

TEST_CASE("refs: Expires counts from Date, and Last-Modified gives a heuristic lifetime",
          "[refs]") {
    auto e = freshness_of(answer({{"date", "Sun, 06 Nov 1994 08:49:37 GMT"},
                                  {"expires", "Sun, 06 Nov 1994 09:49:37 GMT"}}),
                          k_now);
    CHECK(e.fresh_until_ms == k_now + 3'600'000);

    auto bad = freshness_of(answer({{"expires", "0"}}), k_now);
    CHECK(bad.fresh_until_ms <= k_now);

    auto max_age_wins = freshness_of(
        answer({{"cache-control", "max-age=10"}, {"expires", "Sun, 06 Nov 2094 09:49:37 GMT"}}),
        k_now);
    CHECK(max_age_wins.fresh_until_ms == k_now + 10'000);

    // Modified ten hours before Date: fresh for a tenth of that, one hour.
    auto h = freshness_of(answer({{"date", "Sun, 06 Nov 1994 18:49:37 GMT"},
                                  {"last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"}}),
                          k_now);
    CHECK(h.fresh_until_ms == k_now + 3'600'000);
    CHECK(h.last_modified == "Sun, 06 Nov 1994 08:49:37 GMT");

    auto nothing = freshness_of(answer({}), k_now);
    CHECK(nothing.fresh_until_ms <= k_now);
}

TEST_CASE("refs: the cache keeps bytes by content hash and survives a restart", "[refs]") {
    test::TempDir dir;
    test::FakeClock clock(k_now);
    const std::string data = "\x89PNG\r\n\x1a\nabc";
    const std::string sha = util::sha256_hex(data);
    {
        RefCache cache(dir.path(), 1 << 20, clock);
        REQUIRE(cache
                    .store("https://x.test/a.png?sig=SECRET", "https://x.test/a.png", data, sha,
                           "image/png", fresh_for(60'000))
                    .ok());
        auto hit = cache.lookup("https://x.test/a.png?sig=SECRET");
        REQUIRE(hit);
        CHECK(hit->data == data);
        CHECK(hit->fresh(clock.unix_ms()));
    }
    RefCache again(dir.path(), 1 << 20, clock);
    auto hit = again.lookup("https://x.test/a.png?sig=SECRET");
    REQUIRE(hit);
    CHECK(hit->sha256 == sha);
    CHECK(hit->mime_type == "image/png");
    CHECK_FALSE(again.lookup("https://x.test/a.png"));
    clock.advance(std::chrono::seconds(61));
    CHECK_FALSE(again.lookup("https://x.test/a.png?sig=SECRET")->fresh(clock.unix_ms()));
    // Signatures never reach the disk.
    CHECK(dir.read("index.json").find("SECRET") == std::string::npos);
    CHECK(std::filesystem::exists(dir.file("blobs/" + sha.substr(0, 2) + "/" + sha)));
}

TEST_CASE("refs: the cache evicts the least recently used blobs beyond its size", "[refs]") {
    test::TempDir dir;
    test::FakeClock clock(k_now);
    RefCache cache(dir.path(), 250, clock);
    auto put = [&](const std::string& name) {
        std::string data(100, name[0]);
        REQUIRE(cache
                    .store("https://x.test/" + name, name, data, util::sha256_hex(data),
                           "image/png", fresh_for(60'000))
                    .ok());
    };
    put("a");
    put("b");
    REQUIRE(cache.lookup("https://x.test/a"));  // a is now more recent than b
    put("c");                                   // 300 bytes > 250: b goes
    CHECK(cache.lookup("https://x.test/a"));
    CHECK_FALSE(cache.lookup("https://x.test/b"));
    CHECK(cache.lookup("https://x.test/c"));
    CHECK(cache.size_bytes() == 200);

    // Larger than the whole cache: not stored at all.
    std::string big(300, 'z');
    REQUIRE(cache
                .store("https://x.test/big", "big", big, util::sha256_hex(big), "image/png",
                       fresh_for(1))
                .ok());
    CHECK_FALSE(cache.lookup("https://x.test/big"));
    CHECK(cache.size_bytes() == 200);
}

TEST_CASE("refs: a damaged blob or index is a miss, never wrong bytes", "[refs]") {
    test::TempDir dir;
    test::FakeClock clock(k_now);
    const std::string data = "original";
    const std::string sha = util::sha256_hex(data);
    {
        RefCache cache(dir.path(), 1 << 20, clock);
        REQUIRE(cache.store("u", "u", data, sha, "image/png", fresh_for(60'000)).ok());
        std::ofstream(dir.file("blobs/" + sha.substr(0, 2) + "/" + sha), std::ios::trunc)
            << "tampered";
        CHECK_FALSE(cache.lookup("u"));
    }
    dir.write("index.json", "{\"v\":1,\"urls\":{\"x\":");
    RefCache broken(dir.path(), 1 << 20, clock);
    CHECK_FALSE(broken.lookup("u"));
    REQUIRE(broken.store("u", "u", data, sha, "image/png", fresh_for(60'000)).ok());
    CHECK(broken.lookup("u"));
}

TEST_CASE("refs: a no-store answer is never written, a 304 refreshes the entry", "[refs]") {
    test::TempDir dir;
    test::FakeClock clock(k_now);
    RefCache cache(dir.path(), 1 << 20, clock);
    refs::Freshness no_store;
    no_store.store = false;
    REQUIRE(cache.store("u", "u", "data", util::sha256_hex("data"), "image/png", no_store).ok());
    CHECK_FALSE(cache.lookup("u"));

    refs::Freshness stale;
    stale.etag = "\"v1\"";
    REQUIRE(cache.store("u", "u", "data", util::sha256_hex("data"), "image/png", stale).ok());
    CHECK_FALSE(cache.lookup("u")->fresh(clock.unix_ms()));
    REQUIRE(cache.refresh("u", fresh_for(60'000)).ok());
    auto hit = cache.lookup("u");
    REQUIRE(hit);
    CHECK(hit->fresh(clock.unix_ms()));
    CHECK(hit->freshness.etag == "\"v1\"");
    CHECK(cache.refresh("other", fresh_for(1)).code() == util::Code::not_found);

    RefCache off("", 1 << 20, clock);
    CHECK_FALSE(off.enabled());
    CHECK(off.store("u", "u", "data", util::sha256_hex("data"), "image/png", fresh_for(1)).ok());
    CHECK_FALSE(off.lookup("u"));
}
