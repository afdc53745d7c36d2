#pragma once
// The results file (--results): the input rows plus status, image URIs (or signed URLs), cost
// and error, as CSV for the sheet to import. Cells a spreadsheet would read as a formula
// (starting with = + - @, tab or CR) are escaped with a leading apostrophe.

#include <ostream>
#include <string>
#include <vector>

namespace assetgen::report {

// One CSV line (RFC 4180 quoting where needed), ending in "\n".
std::string csv_line(const std::vector<std::string>& cells);
// Escapes a cell that a spreadsheet would evaluate as a formula.
std::string escape_formula(const std::string& cell);

struct ResultRow {
    std::vector<std::string> input;   // the input row's cells, in `input_columns` order
    std::string status;               // "ok", "failed", "blocked", "budget_exceeded", "skipped"...
    std::vector<std::string> images;  // URIs or signed URLs
    std::string cost_usd;             // "0.078000"
    std::string error_code;
    std::string error;                // message
};

// Streams results: header first, then rows as they are given.
class ResultsCsvWriter {
public:
    ResultsCsvWriter(std::ostream& out, std::vector<std::string> input_columns);
    void write(const ResultRow& row);

private:
    std::ostream& m_out;
    std::size_t m_input_columns;
};

}  // namespace assetgen::report
