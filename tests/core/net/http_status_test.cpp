#include <catch2/catch.hpp>

#include "net/http_status.hpp"

using namespace assetgen;
using util::Code;

TEST_CASE("net: one table maps HTTP status to a code, as DESIGN.md says", "[net][retry]") {
    // Pinned: every caller (model, GCS, refs, OAuth, IAM) reads the same code for a status.
    CHECK(net::code_for_http_status(401, Code::storage_io) == Code::unauthenticated);
    CHECK(net::code_for_http_status(403, Code::storage_io) == Code::permission_denied);
    CHECK(net::code_for_http_status(402, Code::model_error) == Code::permission_denied);
    CHECK(net::code_for_http_status(404, Code::storage_io) == Code::not_found);
    CHECK(net::code_for_http_status(410, Code::invalid_input) == Code::not_found);
    CHECK(net::code_for_http_status(408, Code::storage_io) == Code::deadline_exceeded);
    CHECK(net::code_for_http_status(504, Code::storage_io) == Code::deadline_exceeded);
    CHECK(net::code_for_http_status(429, Code::storage_io) == Code::rate_limited);
    for (int s : {500, 501, 502, 503, 599}) {
        CHECK(net::code_for_http_status(s, Code::model_error) == Code::unavailable);
    }
    // The rest is the caller's "refused" code, never a transient one.
    for (int s : {400, 409, 412, 413, 418, 302, 200, 600}) {
        CHECK(net::code_for_http_status(s, Code::model_error) == Code::model_error);
        CHECK(net::code_for_http_status(s, Code::storage_io) == Code::storage_io);
    }
    // Transient exactly where DESIGN.md §5 retries: 408, 429, 5xx.
    for (int s : {408, 429, 500, 502, 503, 504}) {
        CHECK(util::is_transient(net::code_for_http_status(s, Code::model_error)));
    }
    for (int s : {400, 401, 402, 403, 404}) {
        CHECK_FALSE(util::is_transient(net::code_for_http_status(s, Code::model_error)));
    }
}
