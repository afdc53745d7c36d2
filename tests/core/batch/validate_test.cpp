#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "batch/validate.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using batch::Problem;
using batch::RawRow;
using batch::Validator;

namespace {

RawRow raw(std::size_t line, std::vector<std::pair<std::string, std::string>> cells) {
    RawRow r;
    r.number = line - 1;
    r.where = "batch.csv:" + std::to_string(line);
    r.cells = std::move(cells);
    return r;
}

RawRow row_with(std::size_t line, const std::string& column, const std::string& value) {
    return raw(line, {{"scene_id", "S-" + std::to_string(line)}, {"prompt", "p"}, {column, value}});
}

std::vector<std::string> texts(const Validator& v) {
    std::vector<std::string> out;
    for (const auto& p : v.problems()) {
        out.push_back(p.text());
    }
    return out;
}

// The one problem a single cell causes, or "" when it causes none.
std::string problem_for(const std::string& column, const std::string& value, int max_variants = 3) {
    Validator v({max_variants});
    auto row = v.check(row_with(17, column, value));
    CHECK(row.has_value() == v.problems().empty());
    return v.problems().empty() ? "" : v.problems().front().text();
}

}  // namespace

TEST_CASE("batch: a problem reads <where>: <column>: <message>", "[batch]") {
    CHECK(Problem{"batch.csv:17", "variants", "\"4\" is above the maximum 3"}.text() ==
          "batch.csv:17: variants: \"4\" is above the maximum 3");
    CHECK(Problem{"batch.csv", "", "no rows"}.text() == "batch.csv: no rows");
    // A reader error that already names its place is not prefixed twice.
    CHECK(Problem{"batch.csv", "", "batch.csv:12: unterminated quoted field"}.text() ==
          "batch.csv:12: unterminated quoted field");
    CHECK(Problem{"", "", "x"}.text() == "x");
}

TEST_CASE("batch: variants must be a whole number from 1 to the maximum", "[batch]") {
    CHECK(problem_for("variants", "4") == "batch.csv:17: variants: \"4\" is above the maximum 3");
    CHECK(problem_for("variants", "0") == "batch.csv:17: variants: \"0\" is below the minimum 1");
    CHECK(problem_for("variants", "-2") == "batch.csv:17: variants: \"-2\" is below the minimum 1");
    CHECK(problem_for("variants", "two") ==
          "batch.csv:17: variants: \"two\" is not a whole number");
    CHECK(problem_for("variants", "1.5") ==
          "batch.csv:17: variants: \"1.5\" is not a whole number");
    CHECK(problem_for("variants", "99999999999999999999") ==
          "batch.csv:17: variants: \"99999999999999999999\" is above the maximum 3");
    CHECK(problem_for("variants", "5", 8).empty());
    for (const char* ok : {"", "1", " 3 ", "+2", "2.0"}) {
        INFO(ok);
        CHECK(problem_for("variants", ok).empty());
    }
    Validator v({3});
    CHECK(v.check(row_with(2, "variants", "2.0"))->variants == 2);
    CHECK(v.check(row_with(3, "variants", ""))->variants == 1);
}

TEST_CASE("batch: a repeated scene_id names the row it repeats", "[batch]") {
    Validator v({});
    CHECK(v.check(raw(4, {{"scene_id", "A-1"}, {"prompt", "p"}})).has_value());
    CHECK(v.check(raw(5, {{"scene_id", "A-2"}, {"prompt", "p"}})).has_value());
    CHECK_FALSE(v.check(raw(9, {{"scene_id", " A-1 "}, {"prompt", "q"}})).has_value());
    CHECK(texts(v) ==
          std::vector<std::string>{"batch.csv:9: scene_id: \"A-1\" repeats row at batch.csv:4"});
    CHECK(v.rows_seen() == 3);
}

TEST_CASE("batch: two scene ids that sanitise alike are an error naming both", "[batch]") {
    Validator v({});
    auto first = v.check(raw(2, {{"scene_id", "shoes/red 1"}, {"prompt", "p"}}));
    REQUIRE(first.has_value());
    CHECK(first->safe_id == "shoes_red_1");
    CHECK_FALSE(v.check(raw(3, {{"scene_id", "shoes_red_1"}, {"prompt", "p"}})).has_value());
    CHECK(texts(v) ==
          std::vector<std::string>{
              "batch.csv:3: scene_id: \"shoes_red_1\" and \"shoes/red 1\" at batch.csv:2 "
              "both become the file name \"shoes_red_1\"; rename one"});
}

TEST_CASE("batch: scene ids that name folders or escape the output are refused", "[batch]") {
    auto id_problem = [](const std::string& id) {
        Validator v({});
        v.check(raw(2, {{"scene_id", id}, {"prompt", "p"}}));
        return v.problems().empty() ? std::string() : v.problems().front().text();
    };
    CHECK(id_problem("..") ==
          "batch.csv:2: scene_id: \"..\" names a folder, not a scene; use letters, digits, '.', "
          "'_' and '-'");
    CHECK(id_problem(".") ==
          "batch.csv:2: scene_id: \".\" names a folder, not a scene; use letters, digits, '.', '_' "
          "and '-'");
    CHECK(id_problem("../../etc/passwd") ==
          "batch.csv:2: scene_id: \"../../etc/passwd\" contains \"..\", a path out of the output "
          "folder; "
          "use letters, digits, '.', '_' and '-'");
    CHECK(id_problem("a\\..\\b").find("contains \"..\"") != std::string::npos);
    CHECK(id_problem("///") ==
          "batch.csv:2: scene_id: \"///\" has no letter or digit to name its files by; use "
          "letters, digits, '.', '_' and '-'");
    CHECK(id_problem("") == "batch.csv:2: scene_id: is empty (every row needs a unique scene_id)");
    CHECK(id_problem(std::string(101, 'a')).find("is 101 bytes long; the most is 100") !=
          std::string::npos);
    CHECK(id_problem("a..b").empty());       // not a path component
    CHECK(id_problem("/abs/path").empty());  // sanitised to _abs_path
}

TEST_CASE("batch: sanitised ids are safe file names", "[batch]") {
    CHECK(batch::sanitise_id("BATCH-001") == "BATCH-001");
    CHECK(batch::sanitise_id("a b/c\\d") == "a_b_c_d");
    CHECK(batch::sanitise_id("caf\xC3\xA9") == "caf_");  // one '_' per character
    CHECK(batch::sanitise_id("") == "_");
    CHECK(batch::sanitise_id(".") == "_");
    CHECK(batch::sanitise_id("..") == "_.");
    CHECK(batch::sanitise_id(".hidden") == "_hidden");
    CHECK(batch::sanitise_id("../x") == "_._x");
}

TEST_CASE("batch: every row needs a prompt", "[batch]") {
    Validator v({});
    CHECK_FALSE(v.check(raw(3, {{"scene_id", "A"}, {"prompt", "  "}})).has_value());
    CHECK_FALSE(v.check(raw(4, {{"scene_id", "B"}})).has_value());  // a JSON row without the key
    CHECK(texts(v) ==
          std::vector<std::string>{"batch.csv:3: prompt: is empty (every row needs a prompt)",
                                   "batch.csv:4: prompt: is missing (every row needs a prompt)"});
}

TEST_CASE("batch: a missing required column is reported once, not on every row", "[batch]") {
    Validator v({});
    v.check_columns({"scene_id", "promt", "promt"}, "batch.csv:1");
    v.check(raw(2, {{"scene_id", "A"}, {"promt", "p"}}));
    v.check(raw(3, {{"scene_id", "B"}, {"promt", "p"}}));
    CHECK(texts(v) == std::vector<std::string>{
                          "batch.csv:1: prompt: required column is missing (the header has: "
                          "scene_id, promt, promt)",
                          "batch.csv:1: promt: the column appears twice in the header; keep one"});
    Validator empty({});
    empty.check_columns({}, "x.csv:1");
    CHECK(texts(empty) == std::vector<std::string>{
                              "x.csv:1: scene_id: required column is missing (the header is empty)",
                              "x.csv:1: prompt: required column is missing (the header is empty)"});
}

TEST_CASE("batch: refs are split on white space, commas and semicolons and checked", "[batch]") {
    Validator v({});
    auto row = v.check(row_with(
        2, "refs",
        "https://a.com/1.png, gs://b/2.png;refs/3.png\n http://c/4.png\t/abs/5.png C:\\x\\6.png"));
    REQUIRE(row.has_value());
    CHECK(row->refs == std::vector<std::string>{"https://a.com/1.png", "gs://b/2.png", "refs/3.png",
                                                "http://c/4.png", "/abs/5.png", "C:\\x\\6.png"});
    CHECK(problem_for("refs", "ftp://example.com/a.png") ==
          "batch.csv:17: refs: \"ftp://example.com/a.png\" uses \"ftp:\", which is not supported; "
          "use "
          "https://, http://, gs:// or a local path");
    CHECK(problem_for("refs", "javascript:alert(1)")
              .find("uses \"javascript:\", which is not supported") != std::string::npos);
    CHECK(problem_for("refs", "file:///tmp/a.png").find("(for a local file write its path") !=
          std::string::npos);
    CHECK(problem_for("refs", "data:image/png;base64,AAAA").find("uses \"data:\"") !=
          std::string::npos);
    CHECK(problem_for("refs", "https:/a.com/x.png") ==
          "batch.csv:17: refs: \"https:/a.com/x.png\" is not a valid URL; write "
          "https://host/path/to/image.png");
    CHECK(
        problem_for("refs", "gs://bucket") ==
        "batch.csv:17: refs: \"gs://bucket\" names no object; write gs://bucket/path/to/image.png");
    CHECK(problem_for("refs", "HTTPS://A.COM/X.PNG").empty());
    CHECK(problem_for("refs", "").empty());
}

TEST_CASE("batch: ref_mode takes either mode, in any case and with hyphens", "[batch]") {
    Validator v({3, batch::RefMode::style_and_composition});
    CHECK(v.check(row_with(2, "ref_mode", ""))->ref_mode == batch::RefMode::style_and_composition);
    CHECK(v.check(row_with(3, "ref_mode", "Style-Only"))->ref_mode == batch::RefMode::style_only);
    CHECK(v.check(row_with(4, "ref_mode", "STYLE_AND_COMPOSITION"))->ref_mode ==
          batch::RefMode::style_and_composition);
    CHECK(problem_for("ref_mode", "composition") ==
          "batch.csv:17: ref_mode: \"composition\" is not style_only or style_and_composition");
}

TEST_CASE("batch: aspect_ratio is one of the Gemini ratios", "[batch]") {
    for (const char* ok : {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
                           "1:4", "4:1", "1:8", "8:1", "", " 16 : 9 "}) {
        INFO(ok);
        CHECK(problem_for("aspect_ratio", ok).empty());
    }
    Validator v({});
    CHECK(v.check(row_with(2, "aspect_ratio", " 16 : 9 "))->aspect_ratio == "16:9");
    CHECK(problem_for("aspect_ratio", "16:10") ==
          "batch.csv:17: aspect_ratio: \"16:10\" is not one of 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, "
          "9:16, 16:9, 21:9, 1:4, 4:1, 1:8, 8:1");
    CHECK(problem_for("aspect_ratio", "16:09:00") ==
          "batch.csv:17: aspect_ratio: \"16:09:00\" is a time the sheet made of 16:9; format the "
          "column "
          "as plain text (Format > Number > Plain text) and type it again");
}

TEST_CASE("batch: model is a plain model id when given", "[batch]") {
    CHECK(problem_for("model", "").empty());
    CHECK(problem_for("model", "gemini-2.5-flash-image").empty());
    CHECK(
        problem_for("model", "gemini 2.5/flash") ==
        "batch.csv:17: model: \"gemini 2.5/flash\" may only hold letters, digits, '.', '_' and '-' "
        "(e.g. gemini-2.5-flash-image)");
    Validator v({});
    CHECK(v.check(row_with(2, "model", "gemini-3-pro-image"))->model == "gemini-3-pro-image");
}

TEST_CASE("batch: unknown columns are kept in order and a good row comes back whole", "[batch]") {
    Validator v({});
    auto row = v.check(raw(2, {{"notes", "n1"},
                               {"scene_id", "A-1"},
                               {"prompt", " red shoe "},
                               {"variants", "2"},
                               {"owner", "kim"},
                               {"aspect_ratio", "4:5"}}));
    REQUIRE(row.has_value());
    CHECK(row->number == 1);
    CHECK(row->where == "batch.csv:2");
    CHECK(row->scene_id == "A-1");
    CHECK(row->safe_id == "A-1");
    CHECK(row->prompt == "red shoe");
    CHECK(row->variants == 2);
    CHECK(row->aspect_ratio == "4:5");
    CHECK(row->extra ==
          std::vector<std::pair<std::string, std::string>>{{"notes", "n1"}, {"owner", "kim"}});
}

TEST_CASE("batch: every problem of a row is collected and the reader's problem stands alone",
          "[batch]") {
    Validator v({});
    CHECK_FALSE(
        v.check(
             raw(5, {{"scene_id", ""}, {"prompt", ""}, {"variants", "9"}, {"refs", "ftp://x/y"}}))
            .has_value());
    CHECK(v.problems().size() == 4);
    RawRow broken = raw(6, {});
    broken.problem = "invalid JSON at column 3: x";
    CHECK_FALSE(v.check(broken).has_value());
    CHECK(v.problems().back().text() == "batch.csv:6: invalid JSON at column 3: x");
    CHECK(v.problems().size() == 5);
}

TEST_CASE("batch: validate_all checks the header, every row, and an empty batch", "[batch]") {
    test::TempDir dir;
    SECTION("a good batch hands every row on") {
        auto path = dir.write("b.csv", "scene_id,prompt,variants\nA,p,2\nB,q,3\n");
        auto source = batch::open_rows(path, batch::Format::csv, "b.csv");
        REQUIRE(source.ok());
        Validator v({});
        std::vector<std::string> ids;
        CHECK(batch::validate_all(**source, v, "b.csv",
                                  [&](batch::Row&& r) { ids.push_back(r.scene_id); }) == 2);
        CHECK(v.problems().empty());
        CHECK(ids == std::vector<std::string>{"A", "B"});
    }
    SECTION("a header alone is no rows") {
        auto source =
            batch::open_rows(dir.write("h.csv", "scene_id,prompt\n"), batch::Format::csv, "h.csv");
        Validator v({});
        CHECK(batch::validate_all(**source, v, "h.csv") == 0);
        CHECK(texts(v) ==
              std::vector<std::string>{"h.csv: no rows (the file has a header but no data rows)"});
    }
    SECTION("an empty JSON array is no rows") {
        auto source = batch::open_rows(dir.write("e.json", "[]"), batch::Format::json, "e.json");
        Validator v({});
        batch::validate_all(**source, v, "e.json");
        CHECK(texts(v) == std::vector<std::string>{"e.json: no rows"});
    }
    SECTION("a reader error ends the pass as one more problem") {
        auto source = batch::open_rows(dir.write("u.csv", "scene_id,prompt\nA,\"p\nB,q\n"),
                                       batch::Format::csv, "u.csv");
        Validator v({});
        batch::validate_all(**source, v, "u.csv");
        CHECK(texts(v) == std::vector<std::string>{"u.csv:2: unterminated quoted field (the quote "
                                                   "opened on this line is never closed)"});
    }
    SECTION("JSON rows without a required key are blamed one by one") {
        auto source = batch::open_rows(
            dir.write("j.json", R"([{"scene_id":"A","prompt":"p"},{"scene_id":"B"}])"),
            batch::Format::json, "j.json");
        Validator v({});
        batch::validate_all(**source, v, "j.json");
        CHECK(texts(v) == std::vector<std::string>{
                              "j.json: row 2: prompt: is missing (every row needs a prompt)"});
    }
}

TEST_CASE("batch: samples/every-column.csv uses every column and is valid", "[batch]") {
    const std::string path = ASSETGEN_SOURCE_DIR "/samples/every-column.csv";
    auto source = batch::open_rows(path, batch::Format::csv, "every-column.csv");
    REQUIRE(source.ok());
    Validator v({});
    std::vector<batch::Row> rows;
    batch::validate_all(**source, v, "every-column.csv",
                        [&](batch::Row&& r) { rows.push_back(std::move(r)); });
    CHECK(texts(v).empty());
    CHECK((*source)->columns() == std::vector<std::string>{"scene_id", "prompt", "variants", "refs",
                                                           "ref_mode", "aspect_ratio", "model",
                                                           "notes"});
    REQUIRE(rows.size() == 6);
    CHECK(rows[1].prompt.find('\n') != std::string::npos);
    CHECK(rows[1].where == "every-column.csv:3");
    CHECK(rows[2].where == "every-column.csv:6");
    CHECK(rows[2].refs.size() == 3);
    CHECK(rows[2].ref_mode == batch::RefMode::style_and_composition);
    CHECK(rows[2].model == "gemini-2.5-flash-image");
    CHECK(rows[3].prompt == "leather tote bag, \"heritage\" collection, on a marble table");
    CHECK(rows[3].refs.size() == 2);
    CHECK(rows[4].refs.size() == 2);
    CHECK(rows[5].aspect_ratio == "21:9");
    CHECK(rows[0].extra == std::vector<std::pair<std::string, std::string>>{
                               {"notes", "plain row: defaults everywhere else"}});
}
