#include <catch2/catch.hpp>

#include <string>

#include "net/curl_transport.hpp"
#include "support/http_server.hpp"

using namespace assetgen;
using net::CurlTransport;
using net::HttpRequest;
using test::HttpServer;
using util::Code;

namespace {

HttpServer::Response answer(int status, std::string body) {
    HttpServer::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

}  // namespace

TEST_CASE("net: on_body receives a 2xx body in pieces and nothing is kept", "[net][integration]") {
    const std::string big(5'000'000, 'z');  // past a small max_response_bytes: not capped
    HttpServer server([&](const HttpServer::Request& req) {
        return req.path == "/missing" ? answer(404, "{\"error\":\"gone\"}") : answer(206, big);
    });
    CurlTransport transport;
    HttpRequest r;
    r.url = server.url("/file");
    r.max_response_bytes = 1000;
    std::size_t received = 0;
    int pieces = 0;
    int status = 0;
    r.on_body = [&](const net::HttpResponse& head, std::string_view piece) {
        status = head.status;
        received += piece.size();
        ++pieces;
        return util::ok_status();
    };
    auto res = transport.send(r);
    REQUIRE(res.ok());
    CHECK(res->status == 206);
    CHECK(res->body.empty());
    CHECK(received == big.size());
    CHECK(pieces > 1);
    CHECK(status == 206);

    // a non-2xx answer keeps its body for the error message; the sink sees nothing
    r.url = server.url("/missing");
    received = 0;
    auto missing = transport.send(r);
    REQUIRE(missing.ok());
    CHECK(missing->status == 404);
    CHECK(missing->body == "{\"error\":\"gone\"}");
    CHECK(received == 0);
}

TEST_CASE("net: a failing on_body stops the transfer with its status", "[net][integration]") {
    HttpServer server(
        [](const HttpServer::Request&) { return answer(200, std::string(3'000'000, 'a')); });
    CurlTransport transport;
    HttpRequest r;
    r.url = server.url("/file");
    std::size_t received = 0;
    r.on_body = [&](const net::HttpResponse&, std::string_view piece) {
        received += piece.size();
        return received > 100'000 ? util::Status(Code::storage_io, "disk full") : util::ok_status();
    };
    auto res = transport.send(r);
    CHECK(res.status().code() == Code::storage_io);
    CHECK(res.status().message() == "disk full");
    CHECK(received < 3'000'000);
}
