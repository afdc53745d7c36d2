// The HTML contact sheet.
//
// How this works: the page is written in one pass after counting cards per status. Everything
// that came from a user, a model or a file (scene ids, prompts, messages, paths) goes through
// html_escape; image addresses go through thumbnail_src first, which lets only http(s) URLs and
// local paths through, and percent-encodes local paths so that a path like "a:b" cannot turn
// into a URL scheme. The status filter needs no script: one hidden radio button per status
// precedes <header> and <main> as their sibling, the labels in the header select them, and one
// CSS rule per status hides the other cards (`#s-ok:checked ~ main .card:not(.status-ok)`).
// A Content-Security-Policy allows no scripts and no fetches but images, which keeps the page
// self-contained by construction.

#include "report/html_report.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>

#include "util/atomic_file.hpp"

namespace assetgen::report {
namespace {

namespace fs = std::filesystem;

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && util::to_lower(s.substr(0, prefix.size())) == prefix;
}

bool is_http_url(std::string_view s) {
    return starts_with_nocase(s, "https://") || starts_with_nocase(s, "http://");
}

// Percent-encodes every byte of a relative path except unreserved characters and '/'.
std::string encode_path(std::string_view path) {
    static const char* k_hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(path.size());
    for (char ch : path) {
        auto c = static_cast<unsigned char>(ch);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            out += ch;
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

// The path of `image` as seen from `dir`, both made absolute against the current folder.
std::string relative_to(const std::string& image, const std::string& dir) {
    std::error_code ec;
    fs::path base = dir.empty() ? fs::path(".") : fs::path(dir);
    base = fs::absolute(base, ec).lexically_normal();
    if (ec) {
        return image;
    }
    if (!base.has_filename() && base.has_relative_path()) {
        base = base.parent_path();  // "/a/b/" → "/a/b"
    }
    fs::path img = fs::absolute(fs::path(image), ec).lexically_normal();
    if (ec) {
        return image;
    }
    fs::path rel = img.lexically_relative(base);
    return rel.empty() ? img.string() : rel.string();
}

// A status as a CSS class and id fragment: lower case, [a-z0-9_-] only.
std::string status_class(std::string_view status) {
    std::string out;
    for (char ch : status) {
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        out += ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') ? c : '-';
    }
    return out.empty() ? "unknown" : out;
}

// Statuses in the order the header shows them: the usual ones first, then any other by name.
int status_rank(const std::string& cls) {
    static const char* k_order[] = {"ok", "skipped", "failed", "blocked", "not_run"};
    for (int i = 0; i < 5; ++i) {
        if (cls == k_order[i]) {
            return i;
        }
    }
    return 5;
}

constexpr const char* k_style = R"css(
:root{color-scheme:light dark;--bg:#f6f6f4;--fg:#1d1d1f;--muted:#6b6b70;--card:#fff;
--line:#deded9;
--ok:#1f7a3a;--skipped:#52616b;--failed:#b3261e;--not_run:#8a5a00;--other:#5b3e96}
@media (prefers-color-scheme:dark){:root{--bg:#161618;--fg:#ececef;--muted:#a0a0a8;--card:#212125;
--line:#34343a;
--ok:#5cc47a;--skipped:#9aa9b3;--failed:#ff7a70;--not_run:#e0b050;--other:#b79cf0}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:var(--bg);color:var(--fg)}
header{padding:16px 20px;border-bottom:1px solid var(--line);background:var(--card)}
h1{margin:0 0 4px;font-size:20px}
.meta{margin:0 0 12px;color:var(--muted)}
.totals{display:flex;flex-wrap:wrap;gap:8px 24px;margin:0 0 12px}
.totals div{display:flex;flex-direction:column}
.totals dt{color:var(--muted);font-size:12px}
.totals dd{margin:0;font-size:18px;font-weight:600}
.filter{position:absolute;opacity:0;pointer-events:none}
.filters{display:flex;flex-wrap:wrap;gap:6px}
.filters label{cursor:pointer;padding:3px 10px;border:1px solid var(--line);border-radius:999px;
user-select:none}
.codes{margin:10px 0 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:6px 16px;
color:var(--muted)}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px;
padding:16px 20px}
.card{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--other);
border-radius:6px;overflow:hidden;display:flex;flex-direction:column}
.thumb{display:block;aspect-ratio:1/1;
background:repeating-conic-gradient(var(--line) 0 25%,transparent 0 50%) 0 0/16px 16px}
.thumb img{display:block;width:100%;height:100%;object-fit:contain}
.thumb.none{display:flex;align-items:center;justify-content:center;color:var(--muted);
font-size:12px;padding:8px;text-align:center;word-break:break-all;background:var(--bg)}
.body{padding:8px 10px 10px}
.card h2{margin:0;font-size:13px;font-weight:600;word-break:break-all}
.variant{color:var(--muted);font-weight:400}
.line{margin:4px 0 0;display:flex;justify-content:space-between;gap:8px}
.badge{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.03em;
color:var(--other)}
.cost{font-variant-numeric:tabular-nums;color:var(--muted)}
.error{margin:6px 0 0;font-size:12px;color:var(--failed);word-break:break-word}
.prompt{margin:6px 0 0;font-size:12px;color:var(--muted);display:-webkit-box;-webkit-line-clamp:3;
-webkit-box-orient:vertical;overflow:hidden}
.status-ok{border-left-color:var(--ok)}.status-ok .badge{color:var(--ok)}
.status-skipped{border-left-color:var(--skipped)}.status-skipped .badge{color:var(--skipped)}
.status-failed,.status-blocked{border-left-color:var(--failed)}.status-failed .badge,
.status-blocked .badge{color:var(--failed)}
.status-not_run{border-left-color:var(--not_run)}.status-not_run .badge{color:var(--not_run)}
footer{padding:8px 20px 20px;color:var(--muted);font-size:12px}
)css";

}  // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string thumbnail_src(const ReportCard& card, const std::string& report_dir) {
    if (!card.signed_url.empty()) {
        return is_http_url(card.signed_url) ? card.signed_url : "";
    }
    if (card.image.empty()) {
        return "";
    }
    if (is_http_url(card.image)) {
        return card.image;
    }
    if (card.image.find("://") != std::string::npos) {
        return "";  // gs:// and other schemes a browser cannot (or must not) load
    }
    return encode_path(relative_to(card.image, report_dir));
}

void HtmlReportTotals::add(const ReportCard& c) {
    ++cards;
    ++by_status[status_class(c.status)];
    if (!c.error_code.empty()) {
        ++by_code[c.error_code];
    }
    cost += c.cost;
}

void render_html_head(std::ostream& out, const HtmlReportTotals& totals,
                      const HtmlReportOptions& o) {
    const auto& by_code = totals.by_code;
    const util::Micros cost = totals.cost;
    const std::uint64_t n_cards = totals.cards;
    // Counts per status class, in header order.
    std::vector<std::pair<std::string, std::uint64_t>> statuses(totals.by_status.begin(),
                                                                totals.by_status.end());
    std::stable_sort(statuses.begin(), statuses.end(), [](const auto& a, const auto& b) {
        return status_rank(a.first) < status_rank(b.first);
    });

    const std::string title =
        o.title.empty() ? "assetgen · " + (o.job_id.empty() ? "report" : o.job_id) : o.title;

    out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<meta name=\"referrer\" content=\"no-referrer\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src * "
           "data: blob: file:; "
           "style-src 'unsafe-inline'\">\n"
           "<meta name=\"generator\" content=\"assetgen\">\n"
        << "<title>" << html_escape(title) << "</title>\n<style>" << k_style;
    for (const auto& [cls, n] : statuses) {
        out << "#s-" << cls << ":checked~main .card:not(.status-" << cls << "){display:none}"
            << "#s-" << cls << ":checked~header label[for=\"s-" << cls << "\"]";
        out << "{background:var(--fg);color:var(--bg)}\n";
    }
    out << "#f-all:checked~header "
           "label[for=\"f-all\"]{background:var(--fg);color:var(--bg)}\n</style>\n</head>\n"
        << "<body data-cards=\"" << n_cards << "\">\n";

    // The filter radios come first: CSS reaches the header and main only as later siblings.
    out << "<input type=\"radio\" name=\"filter\" class=\"filter\" id=\"f-all\" checked "
           "aria-label=\"all\">\n";
    for (const auto& [cls, n] : statuses) {
        out << "<input type=\"radio\" name=\"filter\" class=\"filter\" id=\"s-" << cls
            << "\" aria-label=\"" << cls << "\">\n";
    }

    out << "<header>\n<h1>" << html_escape(title) << "</h1>\n<p class=\"meta\">";
    std::vector<std::string> meta;
    if (!o.job_id.empty()) {
        meta.push_back("job <code>" + html_escape(o.job_id) + "</code>");
    }
    if (!o.mode.empty()) {
        meta.push_back("mode " + html_escape(o.mode));
    }
    if (!o.model.empty()) {
        meta.push_back("model " + html_escape(o.model));
    }
    if (o.generated_ms != 0) {
        meta.push_back("written " + html_escape(util::utc_timestamp(o.generated_ms)));
    }
    for (std::size_t i = 0; i < meta.size(); ++i) {
        out << (i ? " · " : "") << meta[i];
    }
    out << "</p>\n<dl class=\"totals\">\n";
    auto total = [&out](std::string_view name, const std::string& value,
                        std::string_view cls = "") {
        out << "<div" << (cls.empty() ? "" : " class=\"t-" + std::string(cls) + "\"") << "><dt>"
            << name << "</dt><dd>" << value << "</dd></div>\n";
    };
    total("images", std::to_string(n_cards), "images");
    for (const auto& [cls, n] : statuses) {
        total(cls, std::to_string(n), cls);
    }
    total("cost of these images", html_escape(util::format_usd(cost)), "cost");
    if (o.summary) {
        const Summary& s = *o.summary;
        total("spent by this run", html_escape(util::format_usd(s.actual_cost)), "spent");
        total("requests", std::to_string(s.requests), "requests");
        total("retries", std::to_string(s.retries), "retries");
        total("latency p50 / p95",
              html_escape(
                  util::format_duration(std::chrono::milliseconds(s.latency_ms.percentile(50))) +
                  " / " +
                  util::format_duration(std::chrono::milliseconds(s.latency_ms.percentile(95)))),
              "latency");
        total("wall time",
              html_escape(util::format_duration(
                  std::chrono::milliseconds(static_cast<std::int64_t>(s.wall_seconds * 1000)))),
              "wall");
    }
    out << "</dl>\n<nav class=\"filters\" aria-label=\"filter by status\">\n<label "
           "for=\"f-all\">all "
        << n_cards << "</label>\n";
    for (const auto& [cls, n] : statuses) {
        out << "<label for=\"s-" << cls << "\">" << cls << " " << n << "</label>\n";
    }
    out << "</nav>\n";
    if (!by_code.empty()) {
        out << "<ul class=\"codes\">\n";
        for (const auto& [code, n] : by_code) {
            out << "<li><code>" << html_escape(code) << "</code> " << n << "</li>\n";
        }
        out << "</ul>\n";
    }
    out << "</header>\n<main>\n";
}

void render_html_card(std::ostream& out, const ReportCard& c, const HtmlReportOptions& o) {
    {
        const std::string cls = status_class(c.status);
        const std::string src = thumbnail_src(c, o.report_dir);
        const std::string name = c.scene_id + " v" + std::to_string(c.variant);
        out << "<article class=\"card status-" << cls << "\" data-scene=\""
            << html_escape(c.scene_id) << "\" data-variant=\"" << c.variant << "\" data-status=\""
            << cls << "\" data-cost=\"" << html_escape(util::format_usd(c.cost).substr(1)) << "\"";
        if (!c.error_code.empty()) {
            out << " data-code=\"" << html_escape(c.error_code) << "\"";
        }
        out << ">\n";
        if (!src.empty()) {
            const std::string esrc = html_escape(src);
            out << "<a class=\"thumb\" href=\"" << esrc
                << "\" target=\"_blank\" rel=\"noopener noreferrer\">"
                << "<img src=\"" << esrc << "\" alt=\"" << html_escape(name)
                << "\" loading=\"lazy\" decoding=\"async\"></a>\n";
        } else {
            out << "<div class=\"thumb none\">"
                << (c.image.empty() ? std::string("no image") : html_escape(c.image)) << "</div>\n";
        }
        out << "<div class=\"body\">\n<h2><span class=\"scene\">" << html_escape(c.scene_id)
            << "</span> <span class=\"variant\">v" << c.variant << "</span></h2>\n"
            << "<p class=\"line\"><span class=\"badge\">"
            << html_escape(c.status.empty() ? cls : c.status) << "</span> <span class=\"cost\">"
            << html_escape(util::format_usd(c.cost)) << "</span></p>\n";
        if (!c.error_code.empty() || !c.error.empty()) {
            out << "<p class=\"error\">";
            if (!c.error_code.empty()) {
                out << "<code>" << html_escape(c.error_code) << "</code> ";
            }
            out << html_escape(util::redact(c.error)) << "</p>\n";
        }
        if (!c.prompt.empty()) {
            const std::string p = html_escape(c.prompt);
            out << "<p class=\"prompt\" title=\"" << p << "\">" << p << "</p>\n";
        }
        out << "</div>\n</article>\n";
    }
}

void render_html_tail(std::ostream& out, const HtmlReportTotals& totals) {
    out << "</main>\n<footer>" << totals.cards
        << " images · written by assetgen</footer>\n</body>\n</html>\n";
}

void render_html_report(std::ostream& out, const std::vector<ReportCard>& cards,
                        const HtmlReportOptions& o) {
    HtmlReportTotals totals;
    for (const auto& c : cards) {
        totals.add(c);
    }
    render_html_head(out, totals, o);
    for (const auto& c : cards) {
        render_html_card(out, c, o);
    }
    render_html_tail(out, totals);
}

std::string render_html_report(const std::vector<ReportCard>& cards,
                               const HtmlReportOptions& options) {
    std::ostringstream out;
    render_html_report(out, cards, options);
    return std::move(out).str();
}

util::Status write_html_report(const std::string& path, const std::vector<ReportCard>& cards,
                               HtmlReportOptions options) {
    const std::string dir = fs::path(path).parent_path().string();
    options.report_dir = dir.empty() ? "." : dir;
    return util::write_file_atomic(path, render_html_report(cards, options));
}

}  // namespace assetgen::report
