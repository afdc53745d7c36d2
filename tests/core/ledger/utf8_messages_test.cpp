// Found by fuzzing (tests/fuzz/ledger_line): "bad JSON" quoted a token cut inside a character.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "ledger/entry.hpp"

using namespace assetgen;

TEST_CASE("ledger: a line broken inside a character says bad JSON in valid UTF-8", "[ledger]") {
    auto e = ledger::parse_line("{\"ts\":1,\"userId\":\xEF\xBB\xBF\"u\"}");
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().message().find("bad JSON: ") == 0);
    CHECK_NOTHROW(nlohmann::json(e.status().message()).dump());
}
