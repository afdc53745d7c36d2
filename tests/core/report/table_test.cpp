#include <catch2/catch.hpp>

#include "report/table.hpp"

using assetgen::report::Align;
using assetgen::report::Table;

TEST_CASE("report: a table aligns text left and numbers right, and writes TSV", "[report]") {
    Table t({{"gate"}, {"value", Align::right}, {"verdict"}});
    t.add_row({"error_rate", "4.08%", "pass"});
    t.add_row({"p95_ms", "12345 ms", "fail"});
    t.add_rule();
    t.add_row({"caf\xc3\xa9", "1", "x\ty"});  // UTF-8 counts one column a character
    CHECK(t.rows() == 3);
    CHECK(t.render_aligned() ==
          "gate           value  verdict\n"
          "error_rate     4.08%  pass\n"
          "p95_ms      12345 ms  fail\n"
          "----------  --------  -------\n"
          "caf\xc3\xa9               1  x y\n");
    CHECK(t.render_tsv() ==
          "gate\tvalue\tverdict\n"
          "error_rate\t4.08%\tpass\n"
          "p95_ms\t12345 ms\tfail\n"
          "caf\xc3\xa9\t1\tx y\n");
}
