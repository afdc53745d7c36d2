// Reference fetching against a real loopback HTTP server through libcurl. The fake resolver
// maps img.test to 127.0.0.1, so these run with allow_private (loopback is refused otherwise;
// ref_fetcher_guard_test.cpp checks the refusals).

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/refs/refs_test_support.hpp"
#include "net/curl_transport.hpp"
#include "refs/ref_fetcher.hpp"
#include "support/http_server.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using namespace std::chrono_literals;
using refs::DropReason;
using refs::RefFetcher;
using test::HttpServer;
using util::Code;

namespace {

// A server of PNGs whose bytes depend on the path, plus per-path request counts.
struct ImageSite {
    std::mutex mutex;
    std::map<std::string, int> hits;
    std::function<HttpServer::Response(const HttpServer::Request&, int hit)> answer;

    HttpServer::Handler handler() {
        return [this](const HttpServer::Request& req) {
            int n = 0;
            {
                std::lock_guard lock(mutex);
                n = ++hits[req.path];
            }
            return answer(req, n);
        };
    }
    int count(const std::string& path) {
        std::lock_guard lock(mutex);
        return hits.count(path) != 0 ? hits[path] : 0;
    }
};

HttpServer::Response image(const std::string& body, HttpServer::Headers headers = {}) {
    HttpServer::Response r;
    r.body = body;
    r.headers = std::move(headers);
    r.headers.emplace_back("Content-Type", "image/png");
    return r;
}

std::string url(const HttpServer& server, const std::string& path) {
    return "http://img.test:" + std::to_string(server.port()) + path;
}

refs::RefsOptions loopback_options() {
    refs::RefsOptions o;
    o.allow_private = true;
    o.timeout = 5s;
    return o;
}

refs::FixedResolver loopback_resolver() {
    return refs::FixedResolver({{"img.test", {"127.0.0.1"}}});
}

}  // namespace

TEST_CASE("refs: 100 rows sharing 10 URLs fetch each URL exactly once", "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request& req, int) {
        auto r = image(test::png(req.path));
        r.delay = 20ms;  // long enough for rows to ask while a fetch is in flight
        return r;
    };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    RefFetcher fetcher(loopback_options(), transport, nullptr, clock, resolver);

    std::atomic<int> good_rows{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int row = t; row < 100; row += 8) {
                std::vector<std::string> refs = {
                    url(server, "/img/" + std::to_string(row % 10) + ".png"),
                    url(server, "/img/" + std::to_string((row + 3) % 10) + ".png")};
                auto r = fetcher.resolve_row(refs, {}, "batch.csv:" + std::to_string(row + 2));
                if (r.ok() && r->refs.size() == 2 && r->dropped.empty()) {
                    good_rows.fetch_add(1);
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(good_rows.load() == 100);
    CHECK(server.requests_handled() == 10);
    auto stats = fetcher.stats();
    CHECK(stats.fetched == 10);
    CHECK(stats.attempts == 10);
    CHECK(stats.bytes_fetched > 0);
}

TEST_CASE("refs: a second run with the same cache fetches nothing still fresh",
          "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request& req, int) {
        return image(test::png(req.path), {{"Cache-Control", "max-age=3600"}});
    };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    test::TempDir cache;
    auto options = loopback_options();
    options.cache_dir = cache.path();
    const std::vector<std::string> row = {url(server, "/a.png"), url(server, "/b.png?sig=1"),
                                          url(server, "/c.png")};

    std::vector<std::string> first_hashes;
    {
        RefFetcher first(options, transport, nullptr, clock, resolver);
        auto r = first.resolve_row(row, {}, "batch.csv:2");
        REQUIRE(r.ok());
        for (const auto& ref : r->refs) {
            first_hashes.push_back(ref.sha256);
        }
        CHECK(first.stats().fetched == 3);
    }
    REQUIRE(server.requests_handled() == 3);

    clock.advance(10min);
    RefFetcher second(options, transport, nullptr, clock, resolver);
    auto r = second.resolve_row(row, {}, "batch.csv:2");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(r->refs[i].sha256 == first_hashes[i]);
        CHECK(r->refs[i].mime_type == "image/png");
    }
    CHECK(server.requests_handled() == 3);
    auto stats = second.stats();
    CHECK(stats.cache_hits == 3);
    CHECK(stats.fetched == 0);
    CHECK(stats.bytes_fetched == 0);
}

TEST_CASE("refs: a stale cached ref with an ETag revalidates with a 304 and no body",
          "[refs][integration]") {
    ImageSite site;
    std::mutex seen_mutex;
    std::vector<std::string> if_none_match;
    site.answer = [&](const HttpServer::Request& req, int) {
        {
            std::lock_guard lock(seen_mutex);
            if_none_match.push_back(req.header("if-none-match"));
        }
        if (req.header("if-none-match") == "\"v1\"") {
            HttpServer::Response r;
            r.status = 304;
            r.headers = {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=0"}};
            return r;
        }
        return image(test::png("etagged"), {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=0"}});
    };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    test::TempDir cache;
    auto options = loopback_options();
    options.cache_dir = cache.path();
    const std::vector<std::string> row = {url(server, "/e.png")};
    {
        RefFetcher first(options, transport, nullptr, clock, resolver);
        REQUIRE(first.resolve_row(row, {}, "batch.csv:2").ok());
    }
    RefFetcher second(options, transport, nullptr, clock, resolver);
    auto r = second.resolve_row(row, {}, "batch.csv:2");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 1);
    CHECK(r->refs[0].data == test::png("etagged"));
    REQUIRE(if_none_match.size() == 2);
    CHECK(if_none_match[0].empty());
    CHECK(if_none_match[1] == "\"v1\"");
    auto stats = second.stats();
    CHECK(stats.revalidated == 1);
    CHECK(stats.fetched == 0);
    CHECK(stats.bytes_fetched == 0);
}

TEST_CASE("refs: a no-store answer is fetched again by the next run", "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request& req, int) {
        return image(test::png(req.path), {{"Cache-Control", "no-store, max-age=3600"}});
    };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    test::TempDir cache;
    auto options = loopback_options();
    options.cache_dir = cache.path();
    for (int run = 0; run < 2; ++run) {
        RefFetcher fetcher(options, transport, nullptr, clock, resolver);
        REQUIRE(fetcher.resolve_row({url(server, "/n.png")}, {}, "batch.csv:2").ok());
        REQUIRE(fetcher.resolve_row({url(server, "/n.png")}, {}, "batch.csv:3").ok());
    }
    CHECK(site.count("/n.png") == 2);  // once per run, not once per row
}

TEST_CASE("refs: two URLs serving identical bytes give one image", "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request&, int) { return image(test::png("same")); };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    RefFetcher fetcher(loopback_options(), transport, nullptr, clock, resolver);
    auto r =
        fetcher.resolve_row({url(server, "/one.png")}, {url(server, "/two.png")}, "batch.csv:4");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 1);
    CHECK(r->refs[0].url == url(server, "/one.png"));
    REQUIRE(r->dropped.size() == 1);
    CHECK(r->dropped[0].reason == DropReason::duplicate_content);
    CHECK(r->dropped[0].message == "batch.csv:4: refs: \"" + url(server, "/two.png") +
                                       "\" dropped: same content as \"" + url(server, "/one.png") +
                                       "\"");
    CHECK(server.requests_handled() == 2);
    CHECK(fetcher.stats().duplicate_content == 1);
}

TEST_CASE("refs: the cap keeps the first 6 in row-then-global order and never fetches the rest",
          "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request& req, int) { return image(test::png(req.path)); };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    RefFetcher fetcher(loopback_options(), transport, nullptr, clock, resolver);
    std::vector<std::string> row, global;
    for (int i = 1; i <= 5; ++i) {
        row.push_back(url(server, "/row" + std::to_string(i) + ".png"));
    }
    for (int i = 1; i <= 4; ++i) {
        global.push_back(url(server, "/global" + std::to_string(i) + ".png"));
    }
    auto r = fetcher.resolve_row(row, global, "batch.csv:9");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 6);
    for (int i = 0; i < 5; ++i) {
        CHECK(r->refs[static_cast<std::size_t>(i)].url == row[static_cast<std::size_t>(i)]);
    }
    CHECK(r->refs[5].url == global[0]);
    REQUIRE(r->dropped.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(r->dropped[i].reason == DropReason::over_cap);
        CHECK(r->dropped[i].url == global[i + 1]);
        CHECK(r->dropped[i].message.find("over the cap of 6") != std::string::npos);
        CHECK(site.count("/global" + std::to_string(i + 2) + ".png") == 0);
    }
    CHECK(server.requests_handled() == 6);
    CHECK(fetcher.stats().dropped_by_cap == 3);
}

TEST_CASE("refs: never more than `concurrency` fetches are in flight", "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request& req, int) {
        auto r = image(test::png(req.path));
        r.delay = 60ms;
        return r;
    };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    auto options = loopback_options();
    options.concurrency = 4;
    RefFetcher fetcher(options, transport, nullptr, clock, resolver);
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int t = 0; t < 12; ++t) {
        threads.emplace_back([&, t] {
            std::vector<std::string> row = {url(server, "/c" + std::to_string(t) + "a.png"),
                                            url(server, "/c" + std::to_string(t) + "b.png")};
            if (fetcher.resolve_row(row, {}, "batch.csv:" + std::to_string(t)).ok()) {
                good.fetch_add(1);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(good.load() == 12);
    CHECK(server.requests_handled() == 24);
    CHECK(server.max_concurrent_requests() <= 4);
    CHECK(server.max_concurrent_requests() >= 2);
}

TEST_CASE("refs: a hanging URL gives up after the timeout, twice more after 1 s and 2 s",
          "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request&, int) {
        auto r = image(test::png("late"));
        r.delay = 10s;
        return r;
    };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    auto options = loopback_options();
    options.timeout = 200ms;
    RefFetcher fetcher(options, transport, nullptr, clock, resolver);
    auto r =
        fetcher.resolve_row({url(server, "/hang.png?X-Goog-Signature=s3cr3t")}, {}, "batch.csv:7");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::ref_fetch_failed);
    CHECK(r.status().message() == "batch.csv:7: refs: \"" + url(server, "/hang.png") +
                                      "\" timed out after 200ms (after 3 attempts)");
    CHECK(site.count("/hang.png") == 3);
    CHECK(clock.waits() == std::vector<std::chrono::milliseconds>{1000ms, 2000ms});
    auto stats = fetcher.stats();
    CHECK(stats.attempts == 3);
    CHECK(stats.retries == 2);
    CHECK(stats.failed == 1);

    // Another row naming the same URL shares the failure instead of fetching again.
    auto again =
        fetcher.resolve_row({url(server, "/hang.png?X-Goog-Signature=s3cr3t")}, {}, "batch.csv:8");
    CHECK(again.status().message().rfind("batch.csv:8: refs: ", 0) == 0);
    CHECK(site.count("/hang.png") == 3);
    server.stop();
}

TEST_CASE("refs: 5xx is retried with the backoff, 404 is final", "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request& req, int hit) {
        HttpServer::Response r;
        if (req.path == "/flaky.png" && hit <= 2) {
            r.status = 503;
        } else if (req.path == "/flaky.png") {
            r = image(test::png("flaky"));
        } else {
            r.status = 404;
        }
        return r;
    };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    RefFetcher fetcher(loopback_options(), transport, nullptr, clock, resolver);
    auto flaky = fetcher.resolve_row({url(server, "/flaky.png")}, {}, "batch.csv:2");
    REQUIRE(flaky.ok());
    CHECK(flaky->refs.size() == 1);
    CHECK(site.count("/flaky.png") == 3);
    CHECK(clock.waits() == std::vector<std::chrono::milliseconds>{1000ms, 2000ms});

    auto missing = fetcher.resolve_row({url(server, "/missing.png")}, {}, "batch.csv:3");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().message() ==
          "batch.csv:3: refs: \"" + url(server, "/missing.png") + "\" answered HTTP 404");
    CHECK(site.count("/missing.png") == 1);
    CHECK(clock.waits().size() == 2);
}

TEST_CASE("refs: a 30 MB ref is refused at once, whether announced or streamed",
          "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request& req, int) {
        HttpServer::Response r = image(test::png("head"));
        if (req.path == "/announced.png") {
            r.content_length = 30u << 20;  // Content-Length says it all
            r.close = true;
        } else {
            r.body = test::png(std::string(30u << 20, 'x'));
            r.chunked = true;  // no Content-Length: the body passes the limit on the way
        }
        return r;
    };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    RefFetcher fetcher(loopback_options(), transport, nullptr, clock, resolver);
    for (const std::string path : {"/announced.png", "/streamed.png"}) {
        INFO(path);
        auto r = fetcher.resolve_row({url(server, path + "?sig=abc")}, {}, "batch.csv:12");
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().code() == Code::ref_fetch_failed);
        CHECK(r.status().message() == "batch.csv:12: refs: \"" + url(server, path) +
                                          "\" is larger than the 20 MiB limit for one reference");
        CHECK(site.count(path) == 1);
    }
    CHECK(clock.waits().empty());
    server.stop();
}

TEST_CASE("refs: a text file posing as an image is refused, naming the row",
          "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request&, int) { return image("just some text\n"); };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    RefFetcher fetcher(loopback_options(), transport, nullptr, clock, resolver);
    auto r = fetcher.resolve_row({url(server, "/y.txt?token=t")}, {}, "batch.csv:12");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::ref_fetch_failed);
    CHECK(r.status().message() ==
          "batch.csv:12: refs: \"" + url(server, "/y.txt") + "\" is not an image (text/plain?)");
}

TEST_CASE("refs: redirects are followed by the fetcher, hop by hop", "[refs][integration]") {
    ImageSite site;
    site.answer = [](const HttpServer::Request& req, int) {
        HttpServer::Response r;
        if (req.path == "/old.png") {
            r.status = 301;
            r.headers = {{"Location", "/moved/new.png"}};
        } else if (req.path == "/moved/new.png") {
            r.status = 302;
            r.headers = {{"Location", "final.png?v=2"}};
        } else {
            r = image(test::png(req.target));
        }
        return r;
    };
    HttpServer server(site.handler());
    auto resolver = loopback_resolver();
    net::CurlTransport transport;
    test::RecordingClock clock;
    RefFetcher fetcher(loopback_options(), transport, nullptr, clock, resolver);
    auto r = fetcher.resolve_row({url(server, "/old.png")}, {}, "batch.csv:2");
    REQUIRE(r.ok());
    REQUIRE(r->refs.size() == 1);
    CHECK(r->refs[0].data == test::png("/moved/final.png?v=2"));
    CHECK(r->refs[0].url == url(server, "/old.png"));
    CHECK(server.requests_handled() == 3);
}
