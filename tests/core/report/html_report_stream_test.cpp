// The contact sheet streamed card by card (HtmlReportStream) is byte for byte the page that was
// rendered from cards held in memory: tests/data/report/*-golden.html were written from the
// fixed cards below by render_html_report as it was at commit b258231, before it was split into
// head, card and tail.

#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "report/html_report.hpp"
#include "report/html_report_stream.hpp"
#include "report/summary.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::ostringstream out;
    out << in.rdbuf();
    return std::move(out).str();
}

const std::string k_golden = ASSETGEN_SOURCE_DIR "/tests/data/report/cards-golden.html";
const std::string k_empty_golden = ASSETGEN_SOURCE_DIR "/tests/data/report/empty-golden.html";

// The fixed cards and options of the golden report (tests/data/report/cards-golden.html).
std::vector<report::ReportCard> golden_cards() {
    std::vector<report::ReportCard> cards;
    auto card = [&](std::string scene, int variant, std::string status, util::Micros cost,
                    std::string code, std::string error, std::string image, std::string signed_url,
                    std::string prompt) {
        report::ReportCard c;
        c.scene_id = std::move(scene);
        c.variant = variant;
        c.status = std::move(status);
        c.cost = cost;
        c.error_code = std::move(code);
        c.error = std::move(error);
        c.image = std::move(image);
        c.signed_url = std::move(signed_url);
        c.prompt = std::move(prompt);
        cards.push_back(std::move(c));
    };
    card("A1", 1, "ok", 67'200, "", "", "out/job/A1/A1_v1.png", "", "a red chair on white");
    card("A1", 2, "ok", 67'200, "", "", "out/job/A1/A1_v2.png", "", "a red chair on white");
    card("B<2>", 1, "skipped", 0, "", "", "out/job/B_2_/B_2__v1.png", "",
         "quotes \"and\" <tags> & 'apostrophes'");
    card("C3", 1, "blocked", 0, "BLOCKED", "the model refused: SAFETY", "", "", "something odd");
    card("D4", 1, "failed", 1'000, "MODEL_ERROR",
         "HTTP 500 at https://x?key=AIzaSyA1234567890abcdefghijklmnopqrstu", "", "", "");
    card("E5", 1, "not_run", 0, "BUDGET_EXCEEDED", "the daily budget has no room for this image",
         "", "", "p");
    card("F6", 1, "ok", 134'000, "", "", "gs://bkt/out/job/F6/F6_v1.png",
         "https://storage.googleapis.com/bkt/out/job/F6/F6_v1.png?X-Goog-Signature=ab", "signed");
    card("G7", 1, "ok", 67'200, "", "", "gs://bkt/out/job/G7/G7_v1.png", "", "unsigned gs");
    card("H8", 1, "ok", 67'200, "", "", "https://cdn.example.com/h8.png", "", "http image");
    card("I9 é", 1, "Weird Status!", 5, "", "", "javascript:alert(1)", "", "ünïcode ✓");
    return cards;
}

report::HtmlReportOptions golden_options(const report::Summary& summary) {
    report::HtmlReportOptions o;
    o.job_id = "job-0123456789abcdef";
    o.mode = "dry_run";
    o.model = "gemini-3.1-flash-image";
    o.report_dir = "out/reports";
    o.generated_ms = 1'795'611'053'306;
    o.summary = &summary;
    return o;
}

report::Summary golden_summary() {
    report::Summary s;
    s.requests = 12;
    s.retries = 3;
    s.actual_cost = 402'805;
    s.wall_seconds = 12.5;
    for (int ms : {120, 340, 560, 800, 1'200, 2'500}) {
        s.latency_ms.record(ms);
    }
    return s;
}

}  // namespace

TEST_CASE("html report: the page rendered from cards in memory is still the golden page",
          "[report]") {
    const auto summary = golden_summary();
    CHECK(report::render_html_report(golden_cards(), golden_options(summary)) == slurp(k_golden));
    CHECK(report::render_html_report({}, report::HtmlReportOptions{}) == slurp(k_empty_golden));
}

TEST_CASE("html report: cards streamed through a temp file make the same page, byte for byte",
          "[report]") {
    const auto summary = golden_summary();
    report::HtmlReportOptions card_options;
    card_options.report_dir = "out/reports";  // as golden_options
    auto stream = report::HtmlReportStream::create("--report test", card_options);
    REQUIRE(stream.ok());
    for (const auto& c : golden_cards()) {
        (*stream)->add(c);
    }
    CHECK((*stream)->cards() == golden_cards().size());
    auto page = (*stream)->page(golden_options(summary));
    REQUIRE(page.ok());
    CHECK(*page == slurp(k_golden));

    auto empty = report::HtmlReportStream::create("--report test", {});
    REQUIRE(empty.ok());
    auto empty_page = (*empty)->page({});
    REQUIRE(empty_page.ok());
    CHECK(*empty_page == slurp(k_empty_golden));
}

TEST_CASE("html report: a streamed local report is the file write_html_report writes", "[report]") {
    test::TempDir dir;
    const auto summary = golden_summary();
    const std::string streamed = dir.file("streamed.html");
    const std::string whole = dir.file("whole.html");
    report::HtmlReportOptions card_options;
    card_options.report_dir = report::report_dir_for(streamed);
    auto stream = report::HtmlReportStream::create("--report " + streamed, card_options);
    REQUIRE(stream.ok());
    for (const auto& c : golden_cards()) {
        (*stream)->add(c);
    }
    REQUIRE((*stream)->write_file(streamed, golden_options(summary)).ok());
    REQUIRE(report::write_html_report(whole, golden_cards(), golden_options(summary)).ok());
    CHECK(slurp(streamed) == slurp(whole));
    CHECK(slurp(streamed).find("A1_v1.png") != std::string::npos);
    // A place that cannot be written (below a regular file) is an error, not a crash.
    const std::string file = dir.write("a-file", "x");
    CHECK_FALSE((*stream)->write_file(file + "/r.html", golden_options(summary)).ok());
}

TEST_CASE("html report: the page file a gs:// report is uploaded from is the golden page",
          "[report]") {
    const auto summary = golden_summary();
    report::HtmlReportOptions card_options;
    card_options.report_dir = "out/reports";  // as golden_options
    auto stream = report::HtmlReportStream::create("--report test", card_options);
    REQUIRE(stream.ok());
    for (const auto& c : golden_cards()) {
        (*stream)->add(c);
    }
    auto file = (*stream)->page_file("--report gs://b/r.html", golden_options(summary));
    REQUIRE(file.ok());
    const std::string golden = slurp(k_golden);
    REQUIRE(file->size == golden.size());
    std::string back(golden.size(), '\0');
    REQUIRE(::pread(file->fd.get(), back.data(), back.size(), 0) ==
            static_cast<ssize_t>(back.size()));
    CHECK(back == golden);
}
