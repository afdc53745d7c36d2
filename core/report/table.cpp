#include "report/table.hpp"

#include <algorithm>
#include <utility>

namespace assetgen::report {
namespace {

// Cells come from files anyone could have written (a ledger line's jobId, userId): control
// characters would break the row into lines or, on a terminal, be taken as escape sequences.
std::string printable(const std::string& cell) {
    std::string out = cell;
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            c = ' ';
        }
    }
    return out;
}

// Characters as a terminal counts them, near enough: UTF-8 continuation bytes take no column.
std::size_t display_width(const std::string& text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

void strip_trailing_spaces(std::string& line) {
    while (!line.empty() && line.back() == ' ') {
        line.pop_back();
    }
}

}  // namespace

Table::Table(std::vector<Column> columns) : m_columns(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(m_columns.size());
    for (auto& cell : cells) {
        cell = printable(cell);
    }
    m_lines.push_back(Line{false, std::move(cells)});
}

void Table::add_rule() {
    m_lines.push_back(Line{true, {}});
}

std::size_t Table::rows() const {
    return static_cast<std::size_t>(
        std::count_if(m_lines.begin(), m_lines.end(), [](const Line& l) { return !l.rule; }));
}

std::string Table::render_aligned() const {
    std::vector<std::size_t> widths(m_columns.size(), 0);
    for (std::size_t i = 0; i < m_columns.size(); ++i) {
        widths[i] = display_width(m_columns[i].title);
    }
    for (const auto& line : m_lines) {
        for (std::size_t i = 0; i < line.cells.size(); ++i) {
            widths[i] = std::max(widths[i], display_width(line.cells[i]));
        }
    }

    std::string out;
    auto emit = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (std::size_t i = 0; i < m_columns.size(); ++i) {
            if (i > 0) {
                text += "  ";
            }
            const std::string pad(widths[i] - display_width(cells[i]), ' ');
            if (m_columns[i].align == Align::right) {
                text += pad + cells[i];
            } else {
                text += cells[i] + pad;
            }
        }
        strip_trailing_spaces(text);
        out += text;
        out += '\n';
    };

    std::vector<std::string> header;
    for (const auto& column : m_columns) {
        header.push_back(printable(column.title));
    }
    emit(header);
    for (const auto& line : m_lines) {
        if (line.rule) {
            std::vector<std::string> dashes;
            for (std::size_t width : widths) {
                dashes.emplace_back(width, '-');
            }
            emit(dashes);
        } else {
            emit(line.cells);
        }
    }
    return out;
}

std::string Table::tsv_row(const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i > 0) {
            out += '\t';
        }
        out += printable(cells[i]);
    }
    out += '\n';
    return out;
}

std::string Table::render_tsv() const {
    std::vector<std::string> header;
    for (const auto& column : m_columns) {
        header.push_back(column.title);
    }
    std::string out = tsv_row(header);
    for (const auto& line : m_lines) {
        if (!line.rule) {
            out += tsv_row(line.cells);
        }
    }
    return out;
}

}  // namespace assetgen::report
