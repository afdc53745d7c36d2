// Found by fuzzing (tests/fuzz/gcs_wire): a non-JSON error body went into the message as it
// came, and the 300-byte cut could split a character; the message broke JSON output.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "storage/gcs_wire.hpp"

using namespace assetgen;

TEST_CASE("gcs: an error body that is not UTF-8 gives a UTF-8 message", "[gcs]") {
    net::HttpResponse r;
    r.status = 503;
    r.body = "Service \xFF Unavailable";
    auto s = storage::gcs_error(r, "read gs://b-1/o");
    CHECK(s.message() == "read gs://b-1/o: HTTP 503: Service \xEF\xBF\xBD Unavailable");
    CHECK_NOTHROW(nlohmann::json(s.message()).dump());

    r.status = 400;
    r.body.assign(299, 'a');  // (one string: g++ 12 warns falsely on a temporary's concatenation)
    r.body += "\xC3\xA9\xC3\xA9";
    s = storage::gcs_error(r, "read gs://b-1/o");
    CHECK(s.message().substr(s.message().size() - 4) == "a...");
    CHECK_NOTHROW(nlohmann::json(s.message()).dump());
}
