#pragma once
// The contact sheet (--report out.html): one self-contained HTML page with a card per image
// (thumbnail, scene, variant, status, cost, error, prompt) under a header with the totals. No
// script, no external stylesheet or font: it opens offline from a folder, an artifact store or
// a bucket. Thumbnails are <img loading="lazy"> pointing at the images themselves: a path
// relative to the report's folder for local images, the signed URL when there is one. Filters by
// status work without JavaScript (radio buttons and CSS), and each card carries
// class="card status-<status>" and data-* attributes for anyone who wants to script it.

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "report/summary.hpp"
#include "util/status.hpp"
#include "util/text.hpp"

namespace assetgen::report {

// One image (row × variant) of the batch: every image gets a card, made or not.
struct ReportCard {
    std::string scene_id;
    int variant = 0;
    // "ok" (made by this run), "skipped" (made by an earlier run of the job), "failed",
    // "not_run" (budget, interruption, circuit), or another word; it becomes a CSS class after
    // folding to [a-z0-9_-].
    std::string status;
    util::Micros cost = 0;
    std::string error_code;  // stable name such as "BLOCKED"; "" when none
    std::string error;       // message; shown after util::redact
    std::string image;       // local path, https:// URL or gs:// URI; "" when there is no image
    std::string signed_url;  // shown instead of image when set
    std::string prompt;
};

struct HtmlReportOptions {
    std::string title;  // default "assetgen · <job_id>"
    std::string job_id;
    std::string mode;
    std::string model;
    // The folder the report will be read from: local image paths become relative to it. Empty:
    // the current folder. write_html_report sets it to the report's own folder.
    std::string report_dir;
    // HtmlReportStream: where its nameless temp files go ($TMPDIR, from the Context).
    std::string temp_dir = "/tmp";
    std::int64_t generated_ms = 0;  // shown in the header when non-zero
    const Summary* summary =
        nullptr;  // optional: requests, retries, latency and wall time in the header
};

// What a card's <img src> (and link) is: the signed URL when set (if it is http(s)); an http(s)
// URL as it is; a local path (anything without "://") made relative to report_dir and
// percent-encoded, so that even "javascript:x" stays a file name; "" for a gs:// URI without a
// signed URL (a browser cannot read it) and for any other scheme.
std::string thumbnail_src(const ReportCard& card, const std::string& report_dir);

// What the page's header and footer count: cards per status class and per error code, and the
// cost of the cards. add() each card once.
struct HtmlReportTotals {
    std::uint64_t cards = 0;
    std::map<std::string, std::uint64_t> by_status;  // by status_class
    std::map<std::string, std::uint64_t> by_code;
    util::Micros cost = 0;
    void add(const ReportCard& card);
};

// The page in three pieces, for writers that stream cards (html_report_stream.hpp): the head
// (up to <main>, with the totals of every card), one card, and the tail. The head, each card in
// order and the tail are exactly render_html_report's page.
void render_html_head(std::ostream& out, const HtmlReportTotals& totals,
                      const HtmlReportOptions& options);
void render_html_card(std::ostream& out, const ReportCard& card, const HtmlReportOptions& options);
void render_html_tail(std::ostream& out, const HtmlReportTotals& totals);

// Writes the page to out. Never fails (the stream's state tells whether it was written).
void render_html_report(std::ostream& out, const std::vector<ReportCard>& cards,
                        const HtmlReportOptions& options);
// The page as a string.
std::string render_html_report(const std::vector<ReportCard>& cards,
                               const HtmlReportOptions& options);

// Renders the page for a local path and writes it atomically; options.report_dir is replaced
// by the path's folder. STORAGE_IO on failure.
util::Status write_html_report(const std::string& path, const std::vector<ReportCard>& cards,
                               HtmlReportOptions options);

// Text safe inside HTML elements and quoted attributes: & < > " ' become entities.
std::string html_escape(std::string_view text);

}  // namespace assetgen::report
