// The results CSV that the sheet imports.
//
// How this works: cells are quoted per RFC 4180 only when they must be (a comma, quote, CR
// or LF inside, or leading/trailing blanks that an importer would trim), with quotes doubled.
// Before quoting, every cell is checked for formula injection (OWASP "CSV injection"): a cell
// starting with = + - @ TAB or CR is prefixed with an apostrophe, which spreadsheets show as
// text and hide. One exception: a plain negative number ("-5", "-0.5") is what a sheet reads
// as a number anyway, never a formula, so escaping it would only turn numbers into text. "+1"
// is escaped, since Sheets and Excel evaluate a typed "+..." as a formula.

#include "report/results_csv.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "util/text.hpp"

namespace assetgen::report {
namespace {

constexpr std::array<std::string_view, 5> k_result_columns = {"status", "images", "cost_usd",
                                                              "error_code", "error"};

bool is_digit(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// "-5", "-0.5", "-.5", "-12.75": a minus sign, digits, at most one point, digits after it.
bool is_plain_negative_number(std::string_view s) {
    if (s.size() < 2 || s[0] != '-') {
        return false;
    }
    std::string_view rest = s.substr(1);
    auto point = rest.find('.');
    std::string_view whole = rest.substr(0, point);
    std::string_view frac =
        point == std::string_view::npos ? std::string_view() : rest.substr(point + 1);
    bool all_digits = std::all_of(whole.begin(), whole.end(), is_digit) &&
                      std::all_of(frac.begin(), frac.end(), is_digit);
    bool has_digits = !whole.empty() || !frac.empty();
    bool point_has_digits = point == std::string_view::npos || !frac.empty();
    return all_digits && has_digits && point_has_digits;
}

bool needs_quotes(std::string_view cell) {
    if (cell.empty()) {
        return false;
    }
    if (cell.find_first_of(",\"\r\n") != std::string_view::npos) {
        return true;
    }
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    return blank(cell.front()) || blank(cell.back());
}

// Header names compare as the batch reader reads them: trimmed, lower case, spaces as '_'.
std::string normalised(std::string_view name) {
    std::string n = util::to_lower(util::trim(name));
    std::replace(n.begin(), n.end(), ' ', '_');
    return n;
}

}  // namespace

std::string escape_formula(const std::string& cell) {
    if (cell.empty()) {
        return cell;
    }
    switch (cell.front()) {
        case '=':
        case '+':
        case '@':
        case '\t':
        case '\r':
            return "'" + cell;
        case '-':
            return is_plain_negative_number(cell) ? cell : "'" + cell;
        default:
            return cell;
    }
}

std::string csv_line(const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i > 0) {
            line.push_back(',');
        }
        const std::string& cell = cells[i];
        if (!needs_quotes(cell)) {
            line += cell;
            continue;
        }
        line.push_back('"');
        for (char c : cell) {
            if (c == '"') {
                line.push_back('"');
            }
            line.push_back(c);
        }
        line.push_back('"');
    }
    line.push_back('\n');
    return line;
}

ResultsCsvWriter::ResultsCsvWriter(std::ostream& out, std::vector<std::string> input_columns)
    : m_out(out) {
    std::vector<std::string> header;
    for (std::size_t i = 0; i < input_columns.size(); ++i) {
        std::string name = normalised(input_columns[i]);
        if (std::find(k_result_columns.begin(), k_result_columns.end(), name) !=
            k_result_columns.end()) {
            continue;  // a stale result column from an earlier run; ours replaces it
        }
        m_kept.push_back(i);
        header.push_back(escape_formula(input_columns[i]));
    }
    for (std::string_view name : k_result_columns) {
        header.emplace_back(name);
    }
    m_out << csv_line(header);
}

void ResultsCsvWriter::write(const ResultRow& row) {
    std::vector<std::string> cells;
    cells.reserve(m_kept.size() + k_result_columns.size());
    for (std::size_t i : m_kept) {
        cells.push_back(i < row.input.size() ? escape_formula(row.input[i]) : std::string());
    }
    std::string images;
    for (const std::string& image : row.images) {
        if (!images.empty()) {
            images.push_back(' ');
        }
        images += image;
    }
    cells.push_back(escape_formula(row.status));
    cells.push_back(escape_formula(images));
    cells.push_back(escape_formula(row.cost_usd));
    cells.push_back(escape_formula(row.error_code));
    cells.push_back(escape_formula(util::redact(row.error)));
    m_out << csv_line(cells);
}

}  // namespace assetgen::report
