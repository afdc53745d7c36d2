#include <catch2/catch.hpp>

#include <string>

#include "batch/reader.hpp"
#include "core/batch/batch_test_support.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using batch::Format;
using test::cell;
using test::read_all;

TEST_CASE("batch: CSV headers are normalised and rows keep their physical line", "[batch]") {
    test::TempDir dir;
    auto path = dir.write(
        "b.csv", " Scene ID ,PROMPT,Aspect   Ratio\nA-1,red shoe,1:1\nA-2,blue shoe,16:9\n");
    auto r = read_all(path, Format::csv, "batch.csv");
    REQUIRE(r.error.empty());
    CHECK(r.columns == std::vector<std::string>{"scene_id", "prompt", "aspect_ratio"});
    CHECK(r.header_where == "batch.csv:1");
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0].number == 1);
    CHECK(r.rows[0].where == "batch.csv:2");
    CHECK(r.rows[1].number == 2);
    CHECK(r.rows[1].where == "batch.csv:3");
    CHECK(cell(r.rows[1], "prompt") == "blue shoe");
    CHECK(cell(r.rows[1], "aspect_ratio") == "16:9");
}

TEST_CASE("batch: a quoted field may hold newlines and \"\"", "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.csv",
                          "scene_id,prompt\n"
                          "A-1,\"a \"\"red\"\" shoe,\non two lines\"\n"
                          "A-2,\"x\"\n");
    auto r = read_all(path, Format::csv, "b.csv");
    REQUIRE(r.error.empty());
    REQUIRE(r.rows.size() == 2);
    CHECK(cell(r.rows[0], "prompt") == "a \"red\" shoe,\non two lines");
    CHECK(r.rows[0].where == "b.csv:2");
    CHECK(r.rows[1].where == "b.csv:4");  // the record above spans lines 2 and 3
    CHECK(cell(r.rows[1], "prompt") == "x");
}

TEST_CASE("batch: CSV with a BOM and CRLF reads like plain LF", "[batch]") {
    test::TempDir dir;
    auto path = dir.write(
        "b.csv", "\xEF\xBB\xBFscene_id,prompt\r\nA-1,\"two\r\nlines\"\r\nA-2,caf\xC3\xA9\r\n");
    auto r = read_all(path, Format::csv, "b.csv");
    REQUIRE(r.error.empty());
    CHECK(r.columns == std::vector<std::string>{"scene_id", "prompt"});
    REQUIRE(r.rows.size() == 2);
    CHECK(cell(r.rows[0], "scene_id") == "A-1");
    CHECK(cell(r.rows[0], "prompt") == "two\nlines");
    CHECK(r.rows[1].where == "b.csv:4");
    CHECK(cell(r.rows[1], "prompt") == "caf\xC3\xA9");
}

TEST_CASE("batch: a lone CR ends a CSV line and the last line needs no line break", "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.csv", "scene_id,prompt\rA-1,p1\rA-2,p2");
    auto r = read_all(path, Format::csv, "b.csv");
    REQUIRE(r.error.empty());
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[1].where == "b.csv:3");
    CHECK(cell(r.rows[1], "prompt") == "p2");
}

TEST_CASE("batch: blank CSV lines and rows of empty cells are skipped", "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.csv", "\nscene_id,prompt,variants\n\nA-1,p,2\n,,\n  ,\t,\nA-2,q\n\n");
    auto r = read_all(path, Format::csv, "b.csv");
    REQUIRE(r.error.empty());
    CHECK(r.header_where == "b.csv:2");
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0].where == "b.csv:4");
    CHECK(r.rows[1].where == "b.csv:7");
    CHECK(r.rows[1].number == 2);
    CHECK(cell(r.rows[1], "variants") == "");  // fewer cells: empty values
}

TEST_CASE("batch: more non-empty CSV cells than the header is the record's problem", "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.csv", "scene_id,prompt,\nA-1,p,,\nA-2,red, shoe\nA-3,p\n");
    auto r = read_all(path, Format::csv, "b.csv");
    REQUIRE(r.error.empty());
    CHECK(r.columns ==
          std::vector<std::string>{"scene_id", "prompt"});  // trailing empty header cell dropped
    REQUIRE(r.rows.size() == 3);
    CHECK(r.rows[0].problem.empty());  // trailing empty cells are harmless
    CHECK(
        r.rows[1].problem ==
        "the record has 3 cells but the header has 2 (quote cells that contain commas: \"a, b\")");
    CHECK(r.rows[2].problem.empty());
}

TEST_CASE("batch: text after a closing quote is the record's problem", "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.csv", "scene_id,prompt\n\"A-1\"x,p\nA-2,p\n");
    auto r = read_all(path, Format::csv, "b.csv");
    REQUIRE(r.error.empty());
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0].problem.find("text after the closing quote of cell 1") == 0);
    CHECK(r.rows[1].problem.empty());
}

TEST_CASE("batch: an unterminated quote is reported where it opened and stops reading", "[batch]") {
    test::TempDir dir;
    auto path = dir.write("b.csv", "scene_id,prompt\nA-1,ok\nA-2,\"never closed\nA-3,x\nA-4,y\n");
    auto source = batch::open_rows(path, Format::csv, "batch.csv");
    REQUIRE(source.ok());
    auto first = (*source)->next();
    REQUIRE(first.ok());
    REQUIRE(first->has_value());
    auto second = (*source)->next();
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == util::Code::invalid_input);
    CHECK(second.status().message() ==
          "batch.csv:3: unterminated quoted field (the quote opened on this line is never closed)");
    auto again = (*source)->next();  // the error sticks
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().message() == second.status().message());
}

TEST_CASE("batch: a quote left open in a large file is reported where it opened", "[batch]") {
    test::TempDir dir;
    std::string text = "scene_id,prompt\nA-1,\"";
    text.append(1'200'000, 'x');
    text += "\nA-2,q\n";
    auto r = read_all(dir.write("b.csv", text), Format::csv, "b.csv");
    CHECK(r.error ==
          "b.csv:2: unterminated quoted field (the quote opened on this line is never closed)");
}

TEST_CASE("batch: a properly quoted cell over 1 MiB is refused as too long, not as unterminated",
          "[batch]") {
    test::TempDir dir;
    std::string text = "scene_id,prompt\nA-1,\"";
    for (int i = 0; i < 300'000; ++i) {
        text += "ab\"\"\ncd";  // escaped quotes and newlines inside the cell
    }
    text += "\"\nA-2,q\n";
    auto r = read_all(dir.write("b.csv", text), Format::csv, "b.csv");
    CHECK(r.error.find(
              "b.csv:2: cell 2 is over 1 MiB, the limit of one row (its quote opened on line 2 "
              "and is closed properly)") == 0);
    CHECK(r.error.find("unterminated") == std::string::npos);
}

TEST_CASE("batch: records that straddle the reader's 64 KiB chunks read whole", "[batch]") {
    test::TempDir dir;
    std::string text = "scene_id,prompt\r\n";
    std::string big(65536 - text.size() - 7, 'p');  // puts the CRLF of row 1 across the boundary
    text += "A-1,\"" + big + "\"\r\nA-2,q\r\n";
    REQUIRE(text.substr(65535, 2) == "\r\n");
    auto r = read_all(dir.write("b.csv", text), Format::csv, "b.csv");
    REQUIRE(r.error.empty());
    REQUIRE(r.rows.size() == 2);
    CHECK(cell(r.rows[0], "prompt") == big);
    CHECK(r.rows[1].where == "b.csv:3");
}

TEST_CASE("batch: binary data in a CSV is refused with its line", "[batch]") {
    test::TempDir dir;
    SECTION("a NUL byte") {
        auto r = read_all(dir.write("b.csv", std::string("scene_id,prompt\nA-1,p\nA-2,\0x\n", 27)),
                          Format::csv, "b.csv");
        CHECK(r.rows.size() == 1);
        CHECK(r.error ==
              "b.csv:3: not UTF-8 text (a NUL byte; is this a spreadsheet file rather than a CSV "
              "export? save or export it as UTF-8)");
    }
    SECTION("Latin-1 text") {
        auto r =
            read_all(dir.write("b.csv", "scene_id,prompt\nA-1,caf\xE9\n"), Format::csv, "b.csv");
        CHECK(r.error.find("b.csv:2: not UTF-8 text (byte 0xe9;") == 0);
    }
    SECTION("an overlong encoding") {
        auto r =
            read_all(dir.write("b.csv", "scene_id,prompt\nA-1,\xC0\xAF\n"), Format::csv, "b.csv");
        CHECK(r.error.find("b.csv:2: not UTF-8 text") == 0);
    }
    SECTION("a character cut off by the end of the file") {
        auto r =
            read_all(dir.write("b.csv", "scene_id,prompt\nA-1,\xE2\x82"), Format::csv, "b.csv");
        CHECK(r.error.find(
                  "b.csv:2: not UTF-8 text (the file ends inside a multi-byte character") == 0);
    }
    SECTION("an .xlsx renamed to .csv") {
        auto r = read_all(dir.write("b.csv", std::string("PK\x03\x04\x14\0\x06\0", 8)), Format::csv,
                          "b.csv");
        CHECK(r.error.find("b.csv:1: this is a ZIP archive (an .xlsx or .ods spreadsheet?)") == 0);
    }
    SECTION("UTF-16") {
        auto r =
            read_all(dir.write("b.csv", std::string("\xFF\xFEs\0c\0", 6)), Format::csv, "b.csv");
        CHECK(r.error == "b.csv:1: this is UTF-16 text; save or export it as UTF-8");
    }
}

TEST_CASE("batch: an empty CSV is an error, a header alone is no rows", "[batch]") {
    test::TempDir dir;
    CHECK(read_all(dir.write("e.csv", ""), Format::csv, "e.csv").error == "e.csv: file is empty");
    CHECK(read_all(dir.write("e2.csv", "\xEF\xBB\xBF\r\n \n"), Format::csv, "e2.csv").error ==
          "e2.csv: file is empty");
    auto r = read_all(dir.write("h.csv", "scene_id,prompt\n"), Format::csv, "h.csv");
    CHECK(r.error.empty());
    CHECK(r.rows.empty());
    CHECK(r.header_where == "h.csv:1");
    CHECK(r.columns == std::vector<std::string>{"scene_id", "prompt"});
}

TEST_CASE("batch: a missing file is NOT_FOUND and a folder is refused", "[batch]") {
    test::TempDir dir;
    auto missing = batch::open_rows(dir.file("nope.csv"), Format::csv, "nope.csv");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.status().code() == util::Code::not_found);
    CHECK(missing.status().message() == "nope.csv: no such file");
    auto folder = batch::open_rows(dir.path(), Format::csv, "x");
    REQUIRE_FALSE(folder.ok());
    CHECK(folder.status().code() == util::Code::invalid_input);
}

TEST_CASE("batch: a large CSV streams row by row", "[batch]") {
    test::TempDir dir;
    std::string text = "scene_id,prompt,variants\n";
    for (int i = 1; i <= 20'000; ++i) {
        text += "S-" + std::to_string(i) + ",\"prompt, number " + std::to_string(i) + "\",2\n";
    }
    auto source = batch::open_rows(dir.write("big.csv", text), Format::csv, "big.csv");
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
    CHECK(n == 20'000);
    CHECK(last == "big.csv:20001");
}

TEST_CASE("batch: formats come from the file name or the --format flag", "[batch]") {
    CHECK(batch::format_from_path("a/b.CSV").value() == Format::csv);
    CHECK(batch::format_from_path("b.json").value() == Format::json);
    CHECK(batch::format_from_path("b.jsonl").value() == Format::jsonl);
    CHECK(batch::format_from_path("b.ndjson").value() == Format::jsonl);
    auto bad = batch::format_from_path("batch.xlsx");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().code() == util::Code::invalid_input);
    CHECK(bad.status().message().find("pass --format csv|json|jsonl") != std::string::npos);
    CHECK_FALSE(batch::format_from_path("batch").ok());
    CHECK(batch::parse_format("csv").value() == Format::csv);
    CHECK(batch::parse_format("JSON").value() == Format::json);
    CHECK(batch::parse_format("jsonl").value() == Format::jsonl);
    CHECK_FALSE(batch::parse_format("xlsx").ok());
}

TEST_CASE("batch: column names are trimmed, lower-cased and spaces become _", "[batch]") {
    CHECK(batch::normalise_column("Scene ID") == "scene_id");
    CHECK(batch::normalise_column("  Aspect \t  Ratio ") == "aspect_ratio");
    CHECK(batch::normalise_column("REF_MODE") == "ref_mode");
    CHECK(batch::normalise_column("") == "");
}
