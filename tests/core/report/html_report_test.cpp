#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/html_report.hpp"
#include "support/temp_dir.hpp"

using namespace assetgen;
using namespace assetgen::report;

namespace {

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

// The reference seed plan's shape: 100 rows, row i (0-based) with (i % 3) + 1 variants, 199
// images; a few failed
// and a few not run so that every status shows.
std::vector<ReportCard> seed_plan_cards(const std::string& out_dir) {
    std::vector<ReportCard> cards;
    for (int i = 1; i <= 100; ++i) {
        char scene[16];
        std::snprintf(scene, sizeof scene, "BATCH-%03d", i);
        for (int v = 1; v <= (i - 1) % 3 + 1; ++v) {
            ReportCard c;
            c.scene_id = scene;
            c.variant = v;
            c.prompt = "product on clean bg #" + std::to_string(i);
            if (i % 17 == 0) {
                c.status = "failed";
                c.error_code = "MODEL_RATE_LIMIT";
                c.error = "429 Too Many Requests after 4 attempts";
            } else if (i > 97) {
                c.status = "not_run";
                c.error_code = "BUDGET_EXCEEDED";
                c.error = "the daily budget has no room for this image";
            } else {
                c.status = i < 10 ? "skipped" : "ok";
                c.cost = 39'000;
                c.image =
                    out_dir + "/job/" + scene + "/" + scene + "_v" + std::to_string(v) + ".png";
            }
            cards.push_back(std::move(c));
        }
    }
    return cards;
}

}  // namespace

TEST_CASE("report: html_escape turns the five special characters into entities", "[report]") {
    CHECK(html_escape("plain text ünï") == "plain text ünï");
    CHECK(html_escape(R"(<a href="x" title='y'>&</a>)") ==
          "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST_CASE("report: thumbnails point at local images relative to the report, or at URLs",
          "[report]") {
    ReportCard c;
    c.image = "/srv/out/job/BATCH-001/BATCH-001_v1.png";
    CHECK(thumbnail_src(c, "/srv/out") == "job/BATCH-001/BATCH-001_v1.png");
    CHECK(thumbnail_src(c, "/srv/out/") == "job/BATCH-001/BATCH-001_v1.png");
    CHECK(thumbnail_src(c, "/srv/reports") == "../out/job/BATCH-001/BATCH-001_v1.png");
    CHECK(thumbnail_src(c, "/srv/out/job/BATCH-001") == "BATCH-001_v1.png");

    // Relative paths are taken from the current folder, like the CLI's --out.
    c.image = "out/job/a.png";
    CHECK(thumbnail_src(c, ".") == "out/job/a.png");
    CHECK(thumbnail_src(c, "") == "out/job/a.png");
    CHECK(thumbnail_src(c, "reports") == "../out/job/a.png");
    CHECK(thumbnail_src(c, "./out/../out/job") == "a.png");

    // Anything that is not unreserved is percent-encoded, so a path cannot become a scheme.
    c.image = "/srv/my out/100%/a#b?.png";
    CHECK(thumbnail_src(c, "/srv") == "my%20out/100%25/a%23b%3F.png");
    c.image = "javascript:alert(1)";
    CHECK(thumbnail_src(c, ".") == "javascript%3Aalert%281%29");

    c.image = "https://example.com/i/a.png?x=1&y=2";
    CHECK(thumbnail_src(c, "/srv") == "https://example.com/i/a.png?x=1&y=2");
    c.image = "gs://bucket/job/a.png";
    CHECK(thumbnail_src(c, "/srv").empty());
    c.signed_url =
        "https://storage.googleapis.com/bucket/job/a.png?X-Goog-Signature=abc&X-Goog-Expires=3600";
    CHECK(thumbnail_src(c, "/srv") == c.signed_url);
    c.signed_url = "javascript:alert(1)";
    CHECK(thumbnail_src(c, "/srv").empty());
    c = ReportCard{};
    c.image = "file:///etc/passwd";
    CHECK(thumbnail_src(c, "/srv").empty());
    c.image = "";
    CHECK(thumbnail_src(c, "/srv").empty());
}

TEST_CASE("report: the contact sheet has one card per image and totals for the seed plan",
          "[report]") {
    const auto cards = seed_plan_cards("/data/out");
    REQUIRE(cards.size() == 199);
    HtmlReportOptions o;
    o.job_id = "job-1";
    o.mode = "dry_run";
    o.model = "gemini-2.5-flash-image";
    o.report_dir = "/data/out";
    o.generated_ms = 1'764'000'000'000;
    const std::string html = render_html_report(cards, o);

    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(count_of(html, "<article class=\"card ") == 199);
    CHECK(count_of(html, "</article>") == 199);
    CHECK(html.find("<body data-cards=\"199\">") != std::string::npos);
    std::size_t failed = 0, not_run = 0, skipped = 0;
    for (const auto& c : cards) {
        failed += c.status == "failed";
        not_run += c.status == "not_run";
        skipped += c.status == "skipped";
    }
    CHECK(count_of(html, "class=\"card status-failed\"") == failed);
    CHECK(count_of(html, "class=\"card status-not_run\"") == not_run);
    CHECK(count_of(html, "class=\"card status-skipped\"") == skipped);
    CHECK(count_of(html, "class=\"card status-ok\"") == 199 - failed - not_run - skipped);
    // Thumbnails only for images that exist, lazily, relative to the report's folder.
    CHECK(count_of(html, "<img ") == 199 - failed - not_run);
    CHECK(count_of(html, "loading=\"lazy\"") == 199 - failed - not_run);
    CHECK(html.find("<img src=\"job/BATCH-012/BATCH-012_v3.png\" alt=\"BATCH-012 v3\"") !=
          std::string::npos);
    CHECK(html.find("/data/out/job") == std::string::npos);
    // The header: totals per status, the cost, errors by code, filters that need no script.
    CHECK(html.find("<dt>images</dt><dd>199</dd>") != std::string::npos);
    CHECK(html.find("<dt>failed</dt><dd>" + std::to_string(failed) + "</dd>") != std::string::npos);
    const std::size_t made = 199 - failed - not_run;
    CHECK(html.find("<dd>" + util::format_usd(static_cast<util::Micros>(made) * 39'000) +
                    "</dd>") != std::string::npos);
    CHECK(html.find("<code>MODEL_RATE_LIMIT</code> " + std::to_string(failed)) !=
          std::string::npos);
    CHECK(html.find("<code>BUDGET_EXCEEDED</code> " + std::to_string(not_run)) !=
          std::string::npos);
    CHECK(html.find("#s-failed:checked~main .card:not(.status-failed){display:none}") !=
          std::string::npos);
    CHECK(html.find("<label for=\"s-failed\">failed " + std::to_string(failed) + "</label>") !=
          std::string::npos);
    CHECK(
        html.find("job <code>job-1</code> · mode dry_run · model gemini-2.5-flash-image · written "
                  "2025-11-24T16:00:00.000Z") != std::string::npos);
    // Statuses in the usual order: ok, skipped, failed, not_run.
    CHECK(html.find("id=\"s-ok\"") < html.find("id=\"s-skipped\""));
    CHECK(html.find("id=\"s-skipped\"") < html.find("id=\"s-failed\""));
    CHECK(html.find("id=\"s-failed\"") < html.find("id=\"s-not_run\""));
}

TEST_CASE("report: the contact sheet is self-contained and escapes everything it was given",
          "[report]") {
    ReportCard evil;
    evil.scene_id = "<script>alert('scene')</script>";
    evil.variant = 1;
    evil.status = "BLOCKED <b>";
    evil.error_code = "BLOCKED";
    evil.error =
        "refused: key=AIzaSyA1234567890abcdefghijklmnopqrstu \"quoted\" <img src=x "
        "onerror=alert(1)>";
    evil.prompt = "a prompt with </p><script>alert(2)</script> & \"quotes\"";
    evil.image = "out/\"><script>alert(3)</script>.png";
    ReportCard url;
    url.scene_id = "S2";
    url.variant = 2;
    url.status = "ok";
    url.signed_url =
        "https://storage.googleapis.com/b/o.png?X-Goog-Signature=abc&X-Goog-Expires=60";
    HtmlReportOptions o;
    o.title = "</title><script>alert(4)</script>";
    const std::string html = render_html_report({evil, url}, o);

    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("<img src=x") == std::string::npos);
    CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
    CHECK(html.find("AIzaSyA1234567890") == std::string::npos);  // messages go through redact
    CHECK(html.find("&lt;script&gt;alert(&#39;scene&#39;)&lt;/script&gt;") != std::string::npos);
    CHECK(html.find("&lt;/p&gt;&lt;script&gt;alert(2)") != std::string::npos);
    CHECK(html.find("class=\"card status-blocked--b-\"") != std::string::npos);
    // A signed URL keeps its signature (it is what makes the thumbnail load); & is an entity.
    CHECK(html.find("<img "
                    "src=\"https://storage.googleapis.com/b/"
                    "o.png?X-Goog-Signature=abc&amp;X-Goog-Expires=60\"") != std::string::npos);
    // No fetches but images: no stylesheet, font, script or frame from anywhere.
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
    CHECK(html.find("url(") == std::string::npos);
    CHECK(html.find("<iframe") == std::string::npos);
    CHECK(html.find("default-src 'none'") != std::string::npos);
    std::regex src(R"re(\b(?:src|href)="([^"]*)")re");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), src);
         it != std::sregex_iterator(); ++it) {
        const std::string v = (*it)[1];
        INFO(v);
        CHECK((v.rfind("https://storage.googleapis.com/", 0) == 0 || v.rfind("out/", 0) == 0));
    }
}

TEST_CASE("report: an empty batch still makes a valid page; write_html_report uses its own folder",
          "[report]") {
    CHECK(render_html_report({}, {}).find("<dt>images</dt><dd>0</dd>") != std::string::npos);

    test::TempDir dir;
    std::vector<ReportCard> cards(1);
    cards[0].scene_id = "A";
    cards[0].variant = 1;
    cards[0].status = "ok";
    cards[0].image = dir.file("out/job/A/A_v1.png");
    Summary s;
    s.actual_cost = 39'000;
    s.requests = 3;
    s.retries = 2;
    s.latency_ms.record(1500);
    s.wall_seconds = 2;
    HtmlReportOptions o;
    o.summary = &s;
    o.report_dir = "/somewhere/else";  // replaced by the report's folder
    REQUIRE(write_html_report(dir.file("reports/report.html"), cards, o).ok());
    const std::string html = dir.read("reports/report.html");
    CHECK(html.find("src=\"../out/job/A/A_v1.png\"") != std::string::npos);
    CHECK(html.find("<dt>retries</dt><dd>2</dd>") != std::string::npos);
    CHECK(html.find("<dt>latency p50 / p95</dt><dd>1.5s / 1.5s</dd>") != std::string::npos);

    dir.write("file", "x");
    CHECK(write_html_report(dir.file("file/report.html"), cards, o).code() ==
          util::Code::storage_io);
}

// Not a test: tests/e2e/report-screenshot.sh runs it (hidden tag) to write a report from cards
// it built as JSON lines: ASSETGEN_REPORT_FIXTURE_CARDS (input) → ASSETGEN_REPORT_FIXTURE_OUT.
TEST_CASE("report fixture: write an HTML report from cards in JSON lines", "[.][report-fixture]") {
    const char* in = std::getenv("ASSETGEN_REPORT_FIXTURE_CARDS");
    const char* out = std::getenv("ASSETGEN_REPORT_FIXTURE_OUT");
    if (in == nullptr || out == nullptr || *in == '\0' || *out == '\0') {
        WARN(
            "ASSETGEN_REPORT_FIXTURE_CARDS and ASSETGEN_REPORT_FIXTURE_OUT are not set; nothing "
            "written");
        return;
    }
    std::ifstream f(in);
    REQUIRE(f);
    std::vector<ReportCard> cards;
    HtmlReportOptions o;
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty()) {
            continue;
        }
        const auto j = nlohmann::json::parse(line);
        if (j.contains("job_id")) {  // the header line
            o.job_id = j.value("job_id", "");
            o.mode = j.value("mode", "");
            o.model = j.value("model", "");
            continue;
        }
        ReportCard c;
        c.scene_id = j.value("scene_id", "");
        c.variant = j.value("variant", 0);
        c.status = j.value("status", "");
        c.cost = util::to_micros(j.value("cost_usd", 0.0));
        c.error_code = j.value("error_code", "");
        c.error = j.value("error", "");
        c.image = j.value("image", "");
        c.signed_url = j.value("signed_url", "");
        c.prompt = j.value("prompt", "");
        cards.push_back(std::move(c));
    }
    REQUIRE(write_html_report(out, cards, o).ok());
}
