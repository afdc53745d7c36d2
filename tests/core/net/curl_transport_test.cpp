#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "net/curl_transport.hpp"
#include "support/http_server.hpp"
#include "util/buffer_pool.hpp"
#include "util/text.hpp"

using namespace assetgen;
using net::CurlTransport;
using net::HttpRequest;
using test::HttpServer;
using util::Code;

namespace {

HttpRequest get(const std::string& url) {
    HttpRequest r;
    r.url = url;
    r.timeout = std::chrono::seconds(10);
    return r;
}

HttpServer::Response ok(std::string body) {
    HttpServer::Response r;
    r.body = std::move(body);
    return r;
}

}  // namespace

TEST_CASE("net: describe shows method and url without secrets, headers or body", "[net]") {
    HttpRequest r;
    r.method = "POST";
    r.url =
        "https://generativelanguage.googleapis.com/v1beta/models/"
        "m:generateContent?key=AIzaSyA1234567890abcdefghijklmnop";
    r.headers = {{"x-goog-api-key", "AIzaSyA1234567890abcdefghijklmnop"},
                 {"Authorization", "Bearer ya29.secret"}};
    r.body = R"({"prompt":"hello"})";
    std::string d = r.describe();
    CHECK(d.rfind(
              "POST https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=",
              0) == 0);
    CHECK(d.find("AIzaSy") == std::string::npos);
    CHECK(d.find("ya29") == std::string::npos);
    CHECK(d.find("hello") == std::string::npos);
    CHECK(d.find("[REDACTED]") != std::string::npos);
}

TEST_CASE("net: response headers are found by any case", "[net]") {
    net::HttpResponse r;
    r.headers = {{"content-type", "application/json"},
                 {"x-goog-hash", "crc32c=a"},
                 {"x-goog-hash", "md5=b"}};
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(r.header("X-GOOG-HASH") == "crc32c=a");
    CHECK(r.header("missing").empty());
}

TEST_CASE("net: a GET returns status, body and lower-cased headers", "[net][integration]") {
    HttpServer server([](const HttpServer::Request& req) {
        HttpServer::Response r = ok("hello " + req.path + " " + req.header("x-custom"));
        r.headers = {{"X-Answer", "  42 "}, {"Set-Thing", "a"}, {"Set-Thing", "b"}};
        return r;
    });
    CurlTransport transport;
    auto req = get(server.url("/a/b?c=d"));
    req.headers = {{"X-Custom", "yes"}};
    auto res = transport.send(req);
    REQUIRE(res.ok());
    CHECK(res->status == 200);
    CHECK(res->body == "hello /a/b yes");
    CHECK(res->header("x-answer") == "42");
    int things = 0;
    for (const auto& [name, value] : res->headers) {
        CHECK(name == util::to_lower(name));
        things += name == "set-thing" ? 1 : 0;
    }
    CHECK(things == 2);
}

TEST_CASE("net: bodies of POST, PUT and PATCH arrive intact, binary included",
          "[net][integration]") {
    HttpServer server([](const HttpServer::Request& req) {
        return ok(req.method + ":" + req.header("content-type") + ":" + req.body);
    });
    CurlTransport transport;
    std::string binary("a\0b\r\n\xff", 6);
    for (const char* method : {"POST", "PUT", "PATCH"}) {
        INFO(method);
        auto req = get(server.url("/upload"));
        req.method = method;
        req.headers = {{"Content-Type", "application/octet-stream"}};
        req.body = binary;
        auto res = transport.send(req);
        REQUIRE(res.ok());
        CHECK(res->body == std::string(method) + ":application/octet-stream:" + binary);
    }
    // Without a Content-Type from the caller, libcurl's form default is not sent.
    auto req = get(server.url("/upload"));
    req.method = "PUT";
    auto res = transport.send(req);
    REQUIRE(res.ok());
    CHECK(res->body == "PUT::");
}

TEST_CASE("net: HTTP errors are responses, not transport failures", "[net][integration]") {
    HttpServer server([](const HttpServer::Request&) {
        HttpServer::Response r = ok(R"({"error":{"code":503}})");
        r.status = 503;
        return r;
    });
    CurlTransport transport;
    auto res = transport.send(get(server.url("/x")));
    REQUIRE(res.ok());
    CHECK(res->status == 503);
    CHECK(res->body == R"({"error":{"code":503}})");
}

TEST_CASE("net: HEAD and DELETE work without a body", "[net][integration]") {
    HttpServer server([](const HttpServer::Request& req) {
        HttpServer::Response r = ok("ignored-for-head");
        r.status = req.method == "DELETE" ? 204 : 200;
        if (req.method == "DELETE") {
            r.body.clear();
        }
        return r;
    });
    CurlTransport transport;
    auto head = get(server.url("/o"));
    head.method = "HEAD";
    auto res = transport.send(head);
    REQUIRE(res.ok());
    CHECK(res->status == 200);
    CHECK(res->body.empty());
    auto del = get(server.url("/o"));
    del.method = "DELETE";
    res = transport.send(del);
    REQUIRE(res.ok());
    CHECK(res->status == 204);
}

TEST_CASE("net: sequential requests reuse one connection", "[net][integration]") {
    HttpServer server([](const HttpServer::Request&) { return ok("x"); });
    CurlTransport transport;
    for (int i = 0; i < 5; ++i) {
        auto res = transport.send(get(server.url("/n")));
        REQUIRE(res.ok());
    }
    CHECK(server.requests_handled() == 5);
    CHECK(server.connections_accepted() == 1);
}

TEST_CASE("net: one transport serves several threads at once", "[net][integration]") {
    HttpServer server([](const HttpServer::Request& req) {
        HttpServer::Response r = ok(req.query);
        r.delay = std::chrono::milliseconds(20);
        return r;
    });
    CurlTransport transport;
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                std::string q = std::to_string(t) + "-" + std::to_string(i);
                auto res = transport.send(get(server.url("/c?" + q)));
                if (res.ok() && res->body == q) {
                    good.fetch_add(1);
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    CHECK(good.load() == 40);
    CHECK(server.max_concurrent_requests() > 1);
    CHECK(server.connections_accepted() <= 8);  // handles, and their connections, are reused
}

TEST_CASE("net: a body over the size cap fails with BAD_RESPONSE", "[net][integration]") {
    bool chunked = GENERATE(false, true);
    INFO("chunked " << chunked);
    HttpServer server([chunked](const HttpServer::Request&) {
        HttpServer::Response r = ok(std::string(5000, 'a'));
        r.chunked = chunked;
        return r;
    });
    CurlTransport transport;
    auto req = get(server.url("/big"));
    req.max_response_bytes = 4999;
    auto res = transport.send(req);
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().code() == Code::bad_response);
    CHECK(res.status().message().find("4999") != std::string::npos);

    req.max_response_bytes = 5000;
    res = transport.send(req);
    REQUIRE(res.ok());
    CHECK(res->body.size() == 5000);
}

TEST_CASE("net: a body shorter than its Content-Length fails with BAD_RESPONSE",
          "[net][integration]") {
    HttpServer server([](const HttpServer::Request&) {
        HttpServer::Response r = ok("only ten b");
        r.content_length = 1000;
        return r;
    });
    CurlTransport transport;
    auto res = transport.send(get(server.url("/short")));
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().code() == Code::bad_response);
    CHECK(res.status().message().find("truncated") != std::string::npos);
}

TEST_CASE("net: a slow answer fails with TIMEOUT after the request's timeout",
          "[net][integration]") {
    HttpServer server([](const HttpServer::Request&) {
        HttpServer::Response r = ok("late");
        r.delay = std::chrono::milliseconds(3000);
        return r;
    });
    CurlTransport transport;
    auto req = get(server.url("/slow"));
    req.timeout = std::chrono::milliseconds(200);
    auto start = std::chrono::steady_clock::now();
    auto res = transport.send(req);
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().code() == Code::deadline_exceeded);
    CHECK(took < std::chrono::milliseconds(2000));
}

TEST_CASE("net: connection refused fails with MODEL_UNAVAILABLE", "[net][integration]") {
    std::string url;
    {
        HttpServer server([](const HttpServer::Request&) { return ok(""); });
        url = server.url("/gone?key=AIzaSyA1234567890abcdefghijklmnop");
    }
    CurlTransport transport;
    auto res = transport.send(get(url));
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().code() == Code::unavailable);
    CHECK(util::is_transient(res.status().code()));
    CHECK(res.status().message().find("AIzaSy") == std::string::npos);
    CHECK(res.status().message().find("127.0.0.1") != std::string::npos);
}

TEST_CASE("net: a connection closed without an answer fails with MODEL_UNAVAILABLE",
          "[net][integration]") {
    HttpServer server([](const HttpServer::Request&) {
        HttpServer::Response r;
        r.drop = true;
        return r;
    });
    CurlTransport transport;
    auto res = transport.send(get(server.url("/drop")));
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().code() == Code::unavailable);
}

TEST_CASE("net: a server closing after each answer still works", "[net][integration]") {
    HttpServer server([](const HttpServer::Request&) {
        HttpServer::Response r = ok("bye");
        r.close = true;
        return r;
    });
    CurlTransport transport;
    for (int i = 0; i < 3; ++i) {
        auto res = transport.send(get(server.url("/close")));
        REQUIRE(res.ok());
        CHECK(res->body == "bye");
    }
    CHECK(server.connections_accepted() == 3);
}

TEST_CASE("net: malformed URLs, other schemes and header injection are refused", "[net]") {
    CurlTransport transport;
    for (const char* url : {"ftp://127.0.0.1/x", "file:///etc/passwd", "http://[::1"}) {
        INFO(url);
        auto res = transport.send(get(url));
        REQUIRE_FALSE(res.ok());
        CHECK(res.status().code() == Code::invalid_input);
    }
    auto req = get("http://127.0.0.1:9/x");
    req.headers = {{"X-Bad", "a\r\nInjected: yes"}};
    auto res = transport.send(req);
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().code() == Code::invalid_input);
}

TEST_CASE("net: the abort flag stops a transfer that hangs, with CANCELLED", "[net][integration]") {
    HttpServer server([](const HttpServer::Request&) {
        HttpServer::Response r = ok("late");
        r.delay = std::chrono::seconds(60);
        return r;
    });
    std::atomic<bool> abort{false};
    net::CurlTransportOptions options;
    options.abort = &abort;
    CurlTransport transport(options);
    auto req = get(server.url("/hang"));
    req.timeout = std::chrono::seconds(60);
    util::Result<net::HttpResponse> res = util::error(Code::internal, "not sent");
    std::thread sender([&] { res = transport.send(req); });
    // No sleep needed for correctness: the flag is checked whenever libcurl reports progress
    // (about once a second while idle), before or after the request reached the server.
    abort.store(true);
    sender.join();
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().code() == Code::cancelled);
    CHECK(res.status().message().find("abandoned") != std::string::npos);
    server.stop();
}

TEST_CASE("net: one shared transport: a request's own abort flag stops only that request",
          "[net][integration]") {
    HttpServer server([](const HttpServer::Request& request) {
        HttpServer::Response r = ok("done");
        if (request.path == "/hang") {
            r.delay = std::chrono::seconds(60);
        }
        return r;
    });
    std::atomic<bool> abort{true};  // already set: the model's requests are being abandoned
    CurlTransport shared;
    net::AbortableTransport model_side(shared, &abort);

    // The provider's request, through the wrapper: abandoned (CANCELLED).
    auto hang = get(server.url("/hang"));
    hang.timeout = std::chrono::seconds(60);
    auto res = model_side.send(hang);
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().code() == Code::cancelled);
    // A storage write on the same transport, without the flag: still completes.
    auto quick = shared.send(get(server.url("/quick")));
    REQUIRE(quick.ok());
    CHECK(quick->status == 200);
    CHECK(quick->body == "done");
    // The flag set on the request itself works without the wrapper too.
    hang.abort = &abort;
    auto direct = shared.send(hang);
    REQUIRE_FALSE(direct.ok());
    CHECK(direct.status().code() == Code::cancelled);
    server.stop();
}

TEST_CASE("net: is_body_too_large tells the size cap from other bad answers", "[net]") {
    CHECK(net::is_body_too_large(
        util::error(Code::bad_response, "GET x: response body over 10 bytes")));
    CHECK_FALSE(
        net::is_body_too_large(util::error(Code::bad_response, "GET x: truncated response body")));
    CHECK_FALSE(
        net::is_body_too_large(util::error(Code::storage_io, "response body over 10 bytes")));
}

TEST_CASE("net: a big answer's body is read into a pooled buffer, not a fresh one",
          "[net][integration]") {
    // A 2 MB answer in a fresh buffer costs ~500 page faults; the pool's buffer is already mapped.
    const std::string body(2'000'000, 'b');
    HttpServer server([&](const HttpServer::Request&) { return ok(body); });
    CurlTransport transport;
    std::string spare;
    spare.reserve(2'100'000);
    const char* where = spare.data();
    auto& pool = util::BufferPool::shared();
    const std::size_t idle_before = pool.idle();  // other tests may have left some
    pool.give(std::move(spare));
    REQUIRE(pool.idle() == idle_before + 1);
    auto res = transport.send(get(server.url("/big")));
    REQUIRE(res.ok());
    CHECK(res->body == body);
    CHECK(pool.idle() == idle_before);
    if (idle_before == 0) {
        CHECK(res->body.data() == where);
    }
}
