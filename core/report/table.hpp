#pragma once
// A small text table for reports (the canary's stages and gates; `ledger show|sum` in the CLI
// has the same shape): a header, rows and rule lines, rendered either aligned for a person or
// tab-separated for a pipe. It only lays out text; callers format their numbers and money first.
// It lives in core so that core's reports can be rendered without the CLI.

#include <string>
#include <vector>

namespace assetgen::report {

// How a column's cells line up: text to the left, numbers and money to the right.
enum class Align { left, right };

struct Column {
    std::string title;
    Align align = Align::left;
};

class Table {
public:
    explicit Table(std::vector<Column> columns);

    // Adds a row; missing cells are empty and cells beyond the columns are dropped.
    void add_row(std::vector<std::string> cells);
    // Adds a line of dashes under every column (e.g. above a TOTAL row); aligned output only.
    void add_rule();
    // Rows added so far (rules not counted).
    std::size_t rows() const;

    // Header, rows and rules, each column as wide as its widest cell (in UTF-8 characters),
    // two spaces apart, no trailing spaces; every line ends in '\n'.
    std::string render_aligned() const;
    // Header and rows, cells separated by '\t' (tabs and newlines inside a cell become spaces,
    // so every row stays one line with the same number of fields); rules are left out.
    std::string render_tsv() const;
    // One row as render_tsv writes it, for streaming rows without keeping them.
    static std::string tsv_row(const std::vector<std::string>& cells);

private:
    struct Line {
        bool rule = false;
        std::vector<std::string> cells;
    };
    std::vector<Column> m_columns;
    std::vector<Line> m_lines;
};

}  // namespace assetgen::report
