#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "batch/reader.hpp"
#include "core/batch/batch_test_support.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using batch::Format;
using test::cell;
using test::read_all;

TEST_CASE("batch: a JSON array of row objects turns values into text", "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.json", R"([
  {"Scene ID": "A-1", "prompt": "red", "variants": 2, "weight": 1.5, "ok": true, "note": null},
  {"scene_id": "A-2", "prompt": "blue", "variants": 3.0, "refs": ["https://a/x.png", "gs://b/y.png"], "extra": "e"}
])");
    auto r = read_all(path, Format::json, "b.json");
    REQUIRE(r.error.empty());
    CHECK(r.header_where.empty());
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0].where == "b.json: row 1");
    CHECK(r.rows[0].number == 1);
    CHECK(cell(r.rows[0], "scene_id") == "A-1");
    CHECK(cell(r.rows[0], "variants") == "2");
    CHECK(cell(r.rows[0], "weight") == "1.5");
    CHECK(cell(r.rows[0], "ok") == "true");
    CHECK(cell(r.rows[0], "note") == "");
    CHECK(r.rows[1].where == "b.json: row 2");
    CHECK(cell(r.rows[1], "variants") == "3");
    CHECK(cell(r.rows[1], "refs") == "https://a/x.png\ngs://b/y.png");
    CHECK(r.columns == std::vector<std::string>{"scene_id", "prompt", "variants", "weight", "ok",
                                                "note", "refs", "extra"});
}

TEST_CASE("batch: JSON row cells come in order of first appearance", "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.json", R"([{"scene_id":"A","prompt":"p","notes":"n"},
                                        {"notes":"m","prompt":"q","scene_id":"B"}])");
    auto r = read_all(path, Format::json, "b.json");
    REQUIRE(r.rows.size() == 2);
    std::vector<std::string> keys;
    for (const auto& [k, v] : r.rows[1].cells) {
        keys.push_back(k);
    }
    CHECK(keys == std::vector<std::string>{"scene_id", "prompt", "notes"});
}

TEST_CASE("batch: a JSON object with rows and global_refs in either order", "[batch]") {
    test::TempDir dir;
    SECTION("global_refs after rows") {
        auto r = read_all(dir.write("b.json", R"({"sheet": {"name": "x", "n": [1, 2]},
            "rows": [{"scene_id": "A", "prompt": "p"}],
            "global_refs": ["https://e.com/g1.png", "gs://b/g2.png"]})"),
                          Format::json, "b.json");
        REQUIRE(r.error.empty());
        CHECK(r.rows.size() == 1);
        CHECK(r.global_refs == std::vector<std::string>{"https://e.com/g1.png", "gs://b/g2.png"});
    }
    SECTION("global_refs first, as one string") {
        auto r = read_all(
            dir.write("b.json", R"({"global_refs": "https://e.com/g1.png, https://e.com/g2.png",
                                                   "rows": [{"scene_id": "A", "prompt": "p"}, {"scene_id": "B", "prompt": "q"}]})"),
            Format::json, "b.json");
        REQUIRE(r.error.empty());
        CHECK(r.rows.size() == 2);
        CHECK(r.global_refs ==
              std::vector<std::string>{"https://e.com/g1.png", "https://e.com/g2.png"});
    }
    SECTION("empty rows") {
        auto r = read_all(dir.write("b.json", R"({"rows": []})"), Format::json, "b.json");
        CHECK(r.error.empty());
        CHECK(r.rows.empty());
    }
}

TEST_CASE("batch: Apps Script getValues() arrays use the first row as header", "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.json", R"([["Scene ID", "Prompt", "Variants", ""],
                                         ["A-1", "red", 2, ""],
                                         ["", "", "", ""],
                                         ["A-2", "blue", 1, ""]])");
    auto r = read_all(path, Format::json, "b.json");
    REQUIRE(r.error.empty());
    CHECK(r.columns == std::vector<std::string>{"scene_id", "prompt", "variants"});
    CHECK(r.header_where == "b.json: row 1");
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0].where == "b.json: row 2");  // sheet row numbers
    CHECK(r.rows[0].number == 1);
    CHECK(cell(r.rows[0], "variants") == "2");
    CHECK(r.rows[1].where == "b.json: row 4");
    CHECK(r.rows[1].number == 2);
}

TEST_CASE("batch: JSON of the wrong shape says what was expected", "[batch]") {
    test::TempDir dir;
    CHECK(read_all(dir.write("a.json", "42"), Format::json, "a.json").error ==
          "a.json: expected an array of rows or an object with \"rows\": [...], found a number");
    CHECK(read_all(dir.write("b.json", R"({"data": []})"), Format::json, "b.json").error ==
          "b.json: the JSON object has no \"rows\" (expected {\"rows\": [...]} or an array of row "
          "objects)");
    CHECK(read_all(dir.write("c.json", R"({"rows": "A"})"), Format::json, "c.json").error ==
          "c.json: \"rows\" must be an array of row objects, found '\"'");
    CHECK(read_all(dir.write("d.json", R"(["A", "B"])"), Format::json, "d.json")
              .error.find("d.json: row 1 is a string; expected a row object") == 0);
    CHECK(read_all(dir.write("e.json", "scene_id,prompt\nA,p\n"), Format::json, "e.json").error ==
          "e.json: invalid JSON at byte 1: expected '[' or '{', found 's' (is this a CSV file? "
          "pass --format csv)");
    CHECK(read_all(dir.write("f.json", " \n"), Format::json, "f.json").error ==
          "f.json: file is empty");
}

TEST_CASE("batch: a JSON row of the wrong kind is that row's problem", "[batch]") {
    test::TempDir dir;
    auto r = read_all(dir.write("b.json", R"([{"scene_id":"A","prompt":"p"}, 7, ["x"],
                                              {"scene_id":"B","prompt":{"text":"p"}},
                                              {"scene_id":"C","Prompt":"p","prompt":"q"}])"),
                      Format::json, "b.json");
    REQUIRE(r.error.empty());
    REQUIRE(r.rows.size() == 5);
    CHECK(r.rows[0].problem.empty());
    CHECK(r.rows[1].problem == "expected a row object {\"scene_id\": ..., ...}, found a number");
    CHECK(r.rows[2].problem == "expected a row object {\"scene_id\": ..., ...}, found an array");
    CHECK(r.rows[3].problem ==
          "prompt: a nested object or list; use text, a number or a list of texts");
    CHECK(r.rows[4].problem == "prompt: the column appears twice in this row");
    CHECK(r.rows[4].where == "b.json: row 5");
}

TEST_CASE("batch: JSON syntax errors name the byte in the file", "[batch]") {
    test::TempDir dir;
    SECTION("inside a row") {
        const std::string text =
            "[\n  {\"scene_id\": \"A\", \"prompt\": \"p\"},\n  {\"scene_id\": \"B\", \"prompt\": "
            "nope}\n]\n";
        const auto at = text.find("nope") + 1;  // 1-based
        auto r = read_all(dir.write("b.json", text), Format::json, "b.json");
        CHECK(r.rows.size() == 1);
        INFO(r.error);
        CHECK(r.error.find("b.json: invalid JSON at byte ") == 0);
        const auto byte =
            std::stoul(r.error.substr(std::string("b.json: invalid JSON at byte ").size()));
        CHECK(byte >= at);
        CHECK(byte <= at + 2);  // nlohmann reads a little into the bad literal
    }
    SECTION("a missing comma between rows") {
        auto r =
            read_all(dir.write("b.json", R"([{"scene_id":"A","prompt":"p"} {"scene_id":"B"}])"),
                     Format::json, "b.json");
        CHECK(r.error ==
              "b.json: invalid JSON at byte 32: expected ',' or ']' after row 1, found '{'");
    }
    SECTION("a trailing comma") {
        auto r = read_all(dir.write("b.json", R"([{"scene_id":"A","prompt":"p"},])"), Format::json,
                          "b.json");
        CHECK(r.error ==
              "b.json: invalid JSON at byte 32: a ',' after the last row (JSON allows none)");
    }
    SECTION("the end of the file inside the array") {
        auto r = read_all(dir.write("b.json", R"([{"scene_id":"A","prompt":"p"})"), Format::json,
                          "b.json");
        CHECK(r.rows.size() == 1);
        CHECK(r.error ==
              "b.json: invalid JSON at byte 30: expected ',' or ']' after row 1, found the end of "
              "the file");
    }
    SECTION("an unclosed string") {
        auto r = read_all(dir.write("b.json", R"([{"scene_id":"A,"prompt":"p"}])"), Format::json,
                          "b.json");
        CHECK(r.error.find("b.json: invalid JSON at byte") == 0);
    }
    SECTION("text after the end") {
        auto r = read_all(dir.write("b.json", R"([{"scene_id":"A","prompt":"p"}] x)"), Format::json,
                          "b.json");
        CHECK(r.error ==
              "b.json: invalid JSON at byte 33: text after the end of the JSON value, 'x'");
    }
    SECTION("binary data") {
        auto r =
            read_all(dir.write("b.json", std::string("[{\"scene_id\":\"A\",\"prompt\":\"\xFF\"}]")),
                     Format::json, "b.json");
        CHECK(r.error.find("b.json: not UTF-8 text (byte 0xff; is this really a JSON export?") ==
              0);
    }
}

TEST_CASE("batch: a 100,000-row JSON file is read one row at a time", "[batch]") {
    test::TempDir dir;
    const std::string path = dir.file("big.json");
    {
        std::ofstream out(path, std::ios::binary);
        out << "{\"rows\": [\n";
        for (int i = 1; i <= 100'000; ++i) {
            out << (i > 1 ? ",\n" : "") << "{\"scene_id\": \"S-" << i
                << "\", \"prompt\": \"product on clean bg #" << i
                << "\", \"variants\": " << (i % 3 + 1) << "}";
        }
        out << "\n], \"global_refs\": [\"https://e.com/g.png\"]}\n";
    }
    auto source = batch::open_rows(path, Format::json, "big.json");
    REQUIRE(source.ok());
    std::size_t n = 0;
    std::string last;
    for (;;) {
        auto r = (*source)->next();
        REQUIRE(r.ok());
        if (!r->has_value()) {
            break;
        }
        ++n;
        last = (*r)->where;
    }
    CHECK(n == 100'000);
    CHECK(last == "big.json: row 100000");
    CHECK((*source)->global_refs() == std::vector<std::string>{"https://e.com/g.png"});
}

TEST_CASE("batch: JSONL is one row object a line and a broken line is that row's problem",
          "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.jsonl",
                          "{\"scene_id\": \"A\", \"prompt\": \"p\", \"variants\": 2}\r\n"
                          "\n"
                          "{\"scene_id\": \"B\", \"prompt\": \n"
                          "[\"C\", \"q\"]\n"
                          "{\"prompt\": \"r\", \"scene_id\": \"D\", \"notes\": \"n\"}");
    auto r = read_all(path, Format::jsonl, "b.jsonl");
    REQUIRE(r.error.empty());
    REQUIRE(r.rows.size() == 4);
    CHECK(r.rows[0].where == "b.jsonl:1");
    CHECK(cell(r.rows[0], "variants") == "2");
    CHECK(r.rows[1].where == "b.jsonl:3");
    CHECK(r.rows[1].problem.find("invalid JSON at column ") == 0);
    CHECK(r.rows[2].where == "b.jsonl:4");
    CHECK(r.rows[2].problem ==
          "expected a row object {\"scene_id\": ..., ...} on each line, found an array");
    CHECK(r.rows[3].where == "b.jsonl:5");
    CHECK(r.rows[3].number == 4);
    CHECK(r.rows[3].cells.front().first == "scene_id");  // first-appearance order
    CHECK(r.columns == std::vector<std::string>{"scene_id", "prompt", "variants", "notes"});
}

TEST_CASE("batch: an empty JSONL is an error and binary JSONL is refused", "[batch]") {
    test::TempDir dir;
    CHECK(read_all(dir.write("e.jsonl", "\n\n"), Format::jsonl, "e.jsonl").error ==
          "e.jsonl: file is empty");
    auto r = read_all(
        dir.write("b.jsonl", std::string("{\"scene_id\":\"A\",\"prompt\":\"p\"}\n\0\0\0", 34)),
        Format::jsonl, "b.jsonl");
    CHECK(r.rows.size() == 1);
    CHECK(r.error.find("b.jsonl:2: not UTF-8 text (a NUL byte") == 0);
}
