#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "net/curl_transport.hpp"
#include "support/http_server.hpp"

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

TEST_CASE("net: a resolve entry connects a name that DNS does not know to the pinned address",
          "[net][integration]") {
    HttpServer server(
        [](const HttpServer::Request& req) { return ok("host " + req.header("host")); });
    CurlTransport transport;
    const std::string port = std::to_string(server.port());
    auto req = get("http://pinned.invalid:" + port + "/a");
    req.resolve = {"pinned.invalid:" + port + ":127.0.0.1"};
    auto res = transport.send(req);
    REQUIRE(res.ok());
    CHECK(res->status == 200);
    CHECK(res->body == "host pinned.invalid:" + port);
}

TEST_CASE("net: a resolve entry wins over DNS and does not outlive its request",
          "[net][integration]") {
    HttpServer server([](const HttpServer::Request&) { return ok("hi"); });
    CurlTransport transport;
    const std::string port = std::to_string(server.port());

    // localhost resolves to 127.0.0.1 where the server listens; pinned to 127.0.0.2, nothing
    // answers, so the connection fails: the pin was used, not DNS.
    auto pinned = get("http://localhost:" + port + "/a");
    pinned.resolve = {"localhost:" + port + ":127.0.0.2"};
    auto refused = transport.send(pinned);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == Code::unavailable);

    // The same transport, without a pin, resolves normally again.
    for (int i = 0; i < 3; ++i) {
        auto res = transport.send(get("http://localhost:" + port + "/b"));
        REQUIRE(res.ok());
        CHECK(res->body == "hi");
    }
    // And a pinned request after pooled ones still goes where it is pinned.
    auto again = transport.send(pinned);
    CHECK_FALSE(again.ok());
}

TEST_CASE("net: a malformed resolve entry is refused before anything is sent", "[net]") {
    CurlTransport transport;
    auto req = get("http://pinned.invalid:1/a");
    req.resolve = {"pinned.invalid:1:127.0.0.1\r\nX: y"};
    auto res = transport.send(req);
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().code() == Code::invalid_input);
    req.resolve = {""};
    CHECK(transport.send(req).status().code() == Code::invalid_input);
}
