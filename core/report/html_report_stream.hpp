#pragma once
// The contact sheet of a run, written as rows finish: each card is rendered at once into a
// nameless temp file in $TMPDIR (util::TempStream), and only the totals stay in memory, so a
// run of a million rows holds no card. At the end the page is put together as the head (which
// counts every card), the cards in the order they came, and the tail: byte for byte the page
// that render_html_report makes from the same cards.

#include <cstdint>
#include <memory>
#include <string>

#include "report/html_report.hpp"
#include "util/safe_dir.hpp"
#include "util/status.hpp"
#include "util/temp_stream.hpp"

namespace assetgen::report {

class HtmlReportStream {
public:
    // options.report_dir is what the cards' local image paths are made relative to (the
    // report's folder; empty for a gs:// report): cards are rendered with it as they come.
    // STORAGE_IO naming `what` when the temp file cannot be made.
    static util::Result<std::unique_ptr<HtmlReportStream>> create(const std::string& what,
                                                                  HtmlReportOptions options);

    // Renders the card into the temp file. A write failure shows in write_file()/page().
    void add(const ReportCard& card);
    std::uint64_t cards() const { return m_totals.cards; }

    // The page written atomically to a local path; head_options gives the header's title,
    // summary and time (its report_dir is not used: the cards are rendered already).
    // STORAGE_IO on failure.
    util::Status write_file(const std::string& path, const HtmlReportOptions& head_options);
    // The whole page as a nameless temp file of `size` bytes, for a destination that is sent
    // from a file (a gs:// object, uploaded a chunk at a time). STORAGE_IO naming `where`.
    struct PageFile {
        util::UniqueFd fd;
        std::uint64_t size = 0;
    };
    util::Result<PageFile> page_file(const std::string& where,
                                     const HtmlReportOptions& head_options);
    // The whole page in memory (tests; small pages).
    util::Result<std::string> page(const HtmlReportOptions& head_options);

private:
    // Head, cards and tail written to fd at its current offset.
    util::Status write_page(int fd, const HtmlReportOptions& head_options,
                            const std::string& where);
    HtmlReportStream(std::unique_ptr<util::TempStream> file, HtmlReportOptions options)
        : m_file(std::move(file)), m_options(std::move(options)) {}
    std::unique_ptr<util::TempStream> m_file;
    HtmlReportOptions m_options;
    HtmlReportTotals m_totals;
};

// The folder write_html_report makes local image paths relative to, for a report at path.
std::string report_dir_for(const std::string& path);

}  // namespace assetgen::report
