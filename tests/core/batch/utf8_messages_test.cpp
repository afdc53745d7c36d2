// Found by fuzzing (tests/fuzz/batch_jsonl): a syntax error's message quotes nlohmann's "last
// read" token, which can stop inside a multi-byte character; the message then broke the JSON
// it is written into (events, --json), which threw "this is a bug".
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "batch/reader.hpp"
#include "core/batch/batch_test_support.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using batch::Format;
using test::read_all;

TEST_CASE("batch: a JSONL syntax error inside a character gives a UTF-8 problem", "[batch]") {
    test::TempDir dir;
    // A BOM where a value should start: nlohmann stops after its first byte.
    auto r = read_all(dir.write("b.jsonl",
                                "{\"scene_id\": \xEF\xBB\xBF\"A-1\", \"prompt\": \"p\"}\n"
                                "{\"scene_id\": \"A-2\", \"prompt\": \"p\"}\n"),
                      Format::jsonl, "b.jsonl");
    REQUIRE(r.error.empty());
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0].where == "b.jsonl:1");
    CHECK(r.rows[0].problem.find("invalid JSON at column") == 0);
    CHECK_NOTHROW(nlohmann::json(r.rows[0].problem).dump());
    CHECK(r.rows[1].problem.empty());
}

TEST_CASE("batch: a JSON syntax error inside a character gives a UTF-8 message", "[batch]") {
    test::TempDir dir;
    auto r = read_all(dir.write("b.json", "[{\"scene_id\": \xC3\xA9t\xC3\xA9, \"prompt\": \"p\"}]"),
                      Format::json, "b.json");
    INFO(r.error);
    CHECK(r.error.find("b.json: invalid JSON at byte ") == 0);
    CHECK_NOTHROW(nlohmann::json(r.error).dump());
}
