#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "report/results_csv.hpp"

using namespace assetgen::report;

TEST_CASE("report: csv_line quotes only where RFC 4180 needs it", "[report]") {
    CHECK(csv_line({"a", "b c", ""}) == "a,b c,\n");
    CHECK(csv_line({}) == "\n");
    CHECK(csv_line({"x,y"}) == "\"x,y\"\n");
    CHECK(csv_line({"say \"hi\""}) == "\"say \"\"hi\"\"\"\n");
    CHECK(csv_line({"two\nlines", "cr\rhere"}) == "\"two\nlines\",\"cr\rhere\"\n");
    CHECK(csv_line({" padded", "trailing ", "\ttab"}) == "\" padded\",\"trailing \",\"\ttab\"\n");
    CHECK(csv_line({"ünïcödé", "日本"}) == "ünïcödé,日本\n");
}

TEST_CASE("report: cells a spreadsheet would evaluate are escaped, plain numbers are not",
          "[report]") {
    CHECK(escape_formula("=HYPERLINK(\"http://evil\",\"click\")") ==
          "'=HYPERLINK(\"http://evil\",\"click\")");
    CHECK(escape_formula("+1") == "'+1");
    CHECK(escape_formula("@SUM(A1:A9)") == "'@SUM(A1:A9)");
    CHECK(escape_formula("-2+3+cmd|' /C calc'!A0") == "'-2+3+cmd|' /C calc'!A0");
    CHECK(escape_formula("\t=1") == "'\t=1");
    CHECK(escape_formula("\r=1") == "'\r=1");
    CHECK(escape_formula("-") == "'-");
    CHECK(escape_formula("--5") == "'--5");
    CHECK(escape_formula("-5.") == "'-5.");
    CHECK(escape_formula("-1e5") == "'-1e5");

    // Plain negative numbers stay numbers.
    CHECK(escape_formula("-5") == "-5");
    CHECK(escape_formula("-0.5") == "-0.5");
    CHECK(escape_formula("-.5") == "-.5");
    CHECK(escape_formula("-12.75") == "-12.75");

    // Ordinary text is untouched.
    CHECK(escape_formula("") == "");
    CHECK(escape_formula("product on clean bg #1") == "product on clean bg #1");
    CHECK(escape_formula("a=b") == "a=b");
    CHECK(escape_formula("0.039000") == "0.039000");
    CHECK(escape_formula("gs://b/assets/j/S1/S1_v1.png") == "gs://b/assets/j/S1/S1_v1.png");
}

TEST_CASE("report: the results CSV has a header, input cells, then our columns", "[report]") {
    std::ostringstream out;
    {
        ResultsCsvWriter w(out, {"scene_id", "prompt", "variants", "notes"});
        ResultRow ok;
        ok.input = {"S1", "a cat, sitting", "2", "=IMPORTXML(A1)"};
        ok.status = "ok";
        ok.images = {"gs://b/o/S1_v1.png",
                     "https://storage.googleapis.com/b/o/S1_v2.png?X-Goog-Signature=abc"};
        ok.cost_usd = "0.078000";
        w.write(ok);

        ResultRow failed;
        failed.input = {"S2", "-5"};  // fewer cells than columns: the rest are empty
        failed.status = "failed";
        failed.cost_usd = "0.000000";
        failed.error_code = "MODEL_RATE_LIMIT";
        failed.error = "429 after 4 attempts; url ...?key=AIzaSyA1234567890abcdefghijklmnopqrstu";
        w.write(failed);
    }
    std::string text = out.str();
    INFO(text);
    std::string expected =
        "scene_id,prompt,variants,notes,status,images,cost_usd,error_code,error\n"
        "S1,\"a cat, sitting\",2,'=IMPORTXML(A1),ok,"
        "gs://b/o/S1_v1.png https://storage.googleapis.com/b/o/S1_v2.png?X-Goog-Signature=abc,"
        "0.078000,,\n"
        "S2,-5,,,failed,,0.000000,MODEL_RATE_LIMIT,";
    CHECK(text.substr(0, expected.size()) == expected);
    CHECK(text.find("AIzaSy") == std::string::npos);  // the error message is redacted
    CHECK(text.back() == '\n');
}

TEST_CASE(
    "report: the results header is written once even with no rows, and stale result "
    "columns are replaced",
    "[report]") {
    std::ostringstream empty;
    { ResultsCsvWriter w(empty, {"scene_id", "prompt"}); }
    CHECK(empty.str() == "scene_id,prompt,status,images,cost_usd,error_code,error\n");

    std::ostringstream out;
    ResultsCsvWriter w(out, {"scene_id", "Status", "prompt", "Cost USD", "+bonus"});
    ResultRow row;
    row.input = {"S1", "failed", "p", "0.1", "x"};
    row.status = "ok";
    row.cost_usd = "0.039000";
    w.write(row);
    CHECK(out.str() ==
          "scene_id,prompt,'+bonus,status,images,cost_usd,error_code,error\n"
          "S1,p,x,ok,,0.039000,,\n");
}
