#include "report/html_report_stream.hpp"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>

#include "util/atomic_file.hpp"

namespace assetgen::report {
namespace {

util::Status write_all(int fd, std::string_view data, const std::string& path) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return util::io_error(path + ": write failed", errno);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return util::ok_status();
}

}  // namespace

std::string report_dir_for(const std::string& path) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    return dir.empty() ? "." : dir;
}

util::Result<std::unique_ptr<HtmlReportStream>> HtmlReportStream::create(
    const std::string& what, HtmlReportOptions options) {
    TRY_ASSIGN(auto file, util::TempStream::create(what, options.temp_dir));
    return std::unique_ptr<HtmlReportStream>(
        new HtmlReportStream(std::move(file), std::move(options)));
}

void HtmlReportStream::add(const ReportCard& card) {
    m_totals.add(card);
    render_html_card(m_file->stream(), card, m_options);
}

util::Status HtmlReportStream::write_page(int fd, const HtmlReportOptions& head_options,
                                          const std::string& where) {
    TRY(m_file->flush());
    std::ostringstream head;
    render_html_head(head, m_totals, head_options);
    TRY(write_all(fd, head.view(), where));
    const int from = m_file->fd();
    std::string buf(1 << 16, '\0');
    for (off_t at = 0;;) {
        const ssize_t n = ::pread(from, buf.data(), buf.size(), at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return util::io_error(where + ": reading its cards' temp file failed", errno);
        }
        if (n == 0) {
            break;
        }
        TRY(write_all(fd, std::string_view(buf.data(), static_cast<std::size_t>(n)), where));
        at += n;
    }
    std::ostringstream tail;
    render_html_tail(tail, m_totals);
    return write_all(fd, tail.view(), where);
}

util::Status HtmlReportStream::write_file(const std::string& path,
                                          const HtmlReportOptions& head_options) {
    return util::write_file_atomic_with(path,
                                        [&](int fd) { return write_page(fd, head_options, path); });
}

util::Result<HtmlReportStream::PageFile> HtmlReportStream::page_file(
    const std::string& where, const HtmlReportOptions& head_options) {
    TRY_ASSIGN(int fd, util::anonymous_temp_file(where, m_options.temp_dir));
    PageFile page;
    page.fd = util::UniqueFd(fd);
    TRY(write_page(fd, head_options, where));
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) {
        return util::io_error(where + ": cannot size the page's temp file", errno);
    }
    page.size = static_cast<std::uint64_t>(end);
    return page;
}

util::Result<std::string> HtmlReportStream::page(const HtmlReportOptions& head_options) {
    TRY(m_file->flush());
    TRY_ASSIGN(std::string cards, m_file->read_all());
    std::ostringstream out;
    render_html_head(out, m_totals, head_options);
    out << cards;
    render_html_tail(out, m_totals);
    return std::move(out).str();
}

}  // namespace assetgen::report
